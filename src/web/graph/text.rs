//! The words written into the SVG: escaped, shortened to fit a node, numbers grouped.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::web::state::TaskState;

/// `text` made safe inside XML text and attribute values: `&`, `<`, `>`, `"` and `'` become
/// entities, and control characters XML cannot hold become U+FFFD. HTML pages use it too.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if c.is_control() => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// A task's durable name without its module path: `my_crate::math::add` gives `add`.
pub(super) fn short_name(name: &str) -> &str {
    name.rsplit("::").next().unwrap_or(name)
}

/// `text` cut to at most `max` characters, ending in `…` when cut.
pub(super) fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// A group's label, `step ×10,000`, with the name cut so the whole fits in `max` characters.
pub(super) fn group_label(name: &str, tasks: u64, max: usize) -> String {
    let suffix = format!(" ×{}", thousands(tasks));
    let room = max.saturating_sub(suffix.chars().count()).max(1);
    format!("{}{suffix}", truncate(short_name(name), room))
}

/// `n` with commas between groups of three digits: `9870` gives `9,870`.
pub(super) fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A group's counts in the order of [`TaskState::ALL`]: `9,870 done · 130 running`.
pub(super) fn counts_line(counts: &BTreeMap<TaskState, u64>) -> String {
    counts_parts(counts).join(" · ")
}

/// [`counts_line`] with only as many whole counts as fit in `max` characters, followed by
/// ` …` when some were left out.
pub(super) fn fit_counts(counts: &BTreeMap<TaskState, u64>, max: usize) -> String {
    let parts = counts_parts(counts);
    let mut line = String::new();
    for (i, part) in parts.iter().enumerate() {
        let sep = if i == 0 { "" } else { " · " };
        // Unless this is the last count, leave room for the ` …` saying more follow.
        let room = if i + 1 == parts.len() {
            max
        } else {
            max.saturating_sub(2)
        };
        if line.chars().count() + sep.chars().count() + part.chars().count() > room {
            if line.is_empty() {
                return truncate(part, max);
            }
            line.push_str(" …");
            return line;
        }
        line.push_str(sep);
        line.push_str(part);
    }
    line
}

/// Each state's count, as `9,870 done`, in the order of [`TaskState::ALL`].
fn counts_parts(counts: &BTreeMap<TaskState, u64>) -> Vec<String> {
    TaskState::ALL
        .into_iter()
        .filter_map(|state| {
            let n = *counts.get(&state)?;
            (n > 0).then(|| format!("{} {}", thousands(n), state.name()))
        })
        .collect()
}

/// A single task's second line: its state, and its attempt when it ran more than once.
pub(super) fn task_line(state: TaskState, attempts: u32) -> String {
    if attempts > 1 {
        format!("{} · attempt {attempts}", state.name())
    } else {
        state.name().to_owned()
    }
}

/// A coordinate written with at most one decimal; anything not finite is written as `0`.
pub(super) fn num(out: &mut String, value: f64) {
    let value = if value.is_finite() { value } else { 0.0 };
    let tenths = (value * 10.0).round() / 10.0;
    if tenths.fract() == 0.0 {
        let _ = write!(out, "{}", tenths as i64);
    } else {
        let _ = write!(out, "{tenths:.1}");
    }
}
