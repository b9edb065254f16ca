//! What one round of a scenario reports, and how it is read back by the parent.

use std::fmt::Write as _;

/// One round of one scenario in one process.
#[derive(Debug, Clone, Default)]
pub struct Measure {
    /// Wall time of the measured part, in seconds.
    pub secs: f64,
    /// Tasks (or calls, deliveries) done in it.
    pub tasks: u64,
    /// Peak resident memory of the process, in bytes.
    pub peak_rss: u64,
    /// Figures of the scenario's own: latencies, memory per item.
    pub extra: Vec<(String, f64)>,
}

impl Measure {
    /// One line of `key=value` pairs, as a child prints it.
    pub fn to_line(&self) -> String {
        let mut line = format!(
            "secs={} tasks={} peak_rss={}",
            self.secs, self.tasks, self.peak_rss
        );
        for (key, value) in &self.extra {
            let _ = write!(line, " {key}={value}");
        }
        line
    }

    /// Reads a line printed by [`to_line`](Measure::to_line).
    pub fn from_line(line: &str) -> Option<Measure> {
        let mut measure = Measure::default();
        for pair in line.split_whitespace() {
            let (key, value) = pair.split_once('=')?;
            let number: f64 = value.parse().ok()?;
            match key {
                "secs" => measure.secs = number,
                "tasks" => measure.tasks = number as u64,
                "peak_rss" => measure.peak_rss = number as u64,
                other => measure.extra.push((other.to_string(), number)),
            }
        }
        Some(measure)
    }

    pub fn extra(&self, key: &str) -> Option<f64> {
        self.extra.iter().find(|(k, _)| k == key).map(|(_, v)| *v)
    }
}

/// The peak resident memory of this process, in bytes (`VmHWM`).
pub fn peak_rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| {
            rest.trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<u64>()
                .ok()
        })
        .map_or(0, |kib| kib * 1024)
}

/// The resident memory of this process now, in bytes.
pub fn rss() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    statm
        .split_whitespace()
        .nth(1)
        .and_then(|pages| pages.parse::<u64>().ok())
        .map_or(0, |pages| pages * 4096)
}

pub fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// The `q` quantile of `values` (sorted here).
pub fn quantile(values: &mut [f64], q: f64) -> f64 {
    values.sort_by(f64::total_cmp);
    let index = ((values.len() as f64 - 1.0) * q).round() as usize;
    values[index]
}
