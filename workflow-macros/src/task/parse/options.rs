//! The options of `#[task(...)]`, read through one table of names and value kinds.

use std::time::Duration;

use proc_macro2::TokenStream;
use syn::{parse::Parser, punctuated::Punctuated, Expr, Ident, Lit, LitStr, Meta, Token};

use crate::errors::Errors;

/// The options written on the attribute; `None` means "not given, use the default".
#[derive(Default)]
pub(crate) struct Options {
    /// `name = "..."`: the durable name.
    pub(crate) name: Option<LitStr>,
    /// `version = N`.
    pub(crate) version: Option<u32>,
    /// `max_retries = N`.
    pub(crate) max_retries: Option<u32>,
    /// `retry_errors = bool`.
    pub(crate) retry_errors: Option<bool>,
    /// `retry_backoff = "100ms"`.
    pub(crate) retry_backoff: Option<Duration>,
    /// `checkpoint = bool`.
    pub(crate) checkpoint: Option<bool>,
    /// `timeout = "30s"`.
    pub(crate) timeout: Option<Duration>,
    /// `blocking` or `blocking = bool`.
    pub(crate) blocking: Option<bool>,
    /// The value tokens of each option given, by key, for errors found by later passes.
    given: Vec<(&'static str, TokenStream)>,
}

impl Options {
    /// The tokens of option `key` as written (`key = value`), if it was given.
    pub(crate) fn written(&self, key: &str) -> Option<&TokenStream> {
        self.given.iter().find(|(k, _)| *k == key).map(|(_, t)| t)
    }
}

/// How an option's value is written, and which field it sets.
enum Setter {
    Str(fn(&mut Options, LitStr)),
    U32(fn(&mut Options, u32)),
    Bool(fn(&mut Options, bool)),
    /// A bool that may also be written as the bare key, meaning `true`.
    Flag(fn(&mut Options, bool)),
    /// A humantime string, parsed here at compile time.
    Duration(fn(&mut Options, Duration)),
}

/// One option: its key, an example of its use for error messages, and its setter.
struct Spec {
    key: &'static str,
    example: &'static str,
    setter: Setter,
}

/// Every option of `#[task]`. Adding one is one line here and one field in [`Options`].
const TABLE: &[Spec] = &[
    Spec {
        key: "name",
        example: "name = \"billing.charge\"",
        setter: Setter::Str(|o, v| o.name = Some(v)),
    },
    Spec {
        key: "version",
        example: "version = 2",
        setter: Setter::U32(|o, v| o.version = Some(v)),
    },
    Spec {
        key: "max_retries",
        example: "max_retries = 5",
        setter: Setter::U32(|o, v| o.max_retries = Some(v)),
    },
    Spec {
        key: "retry_errors",
        example: "retry_errors = true",
        setter: Setter::Bool(|o, v| o.retry_errors = Some(v)),
    },
    Spec {
        key: "retry_backoff",
        example: "retry_backoff = \"100ms\"",
        setter: Setter::Duration(|o, v| o.retry_backoff = Some(v)),
    },
    Spec {
        key: "checkpoint",
        example: "checkpoint = false",
        setter: Setter::Bool(|o, v| o.checkpoint = Some(v)),
    },
    Spec {
        key: "timeout",
        example: "timeout = \"30s\"",
        setter: Setter::Duration(|o, v| o.timeout = Some(v)),
    },
    Spec {
        key: "blocking",
        example: "blocking = true",
        setter: Setter::Flag(|o, v| o.blocking = Some(v)),
    },
];

/// Parses the attribute's arguments, recording every problem in `errors`.
///
/// Each option is read independently, so one bad option does not hide the others.
pub(crate) fn parse_options(attr: TokenStream, errors: &mut Errors) -> Options {
    let mut options = Options::default();
    match Punctuated::<Meta, Token![,]>::parse_terminated.parse2(attr) {
        Ok(metas) => {
            for meta in &metas {
                if let Err(error) = apply(&mut options, meta) {
                    errors.push(error);
                }
            }
        }
        Err(error) => errors.push(syn::Error::new(
            error.span(),
            format!("{error}; write options as `key = value`, e.g. `#[task(max_retries = 5)]`"),
        )),
    }
    options
}

fn apply(options: &mut Options, meta: &Meta) -> syn::Result<()> {
    let path = meta.path();
    let Some(key) = path.get_ident() else {
        return Err(syn::Error::new_spanned(
            path,
            format!("expected an option name; {}", valid_keys()),
        ));
    };
    let Some(spec) = TABLE.iter().find(|spec| key == spec.key) else {
        return Err(unknown_key(key));
    };
    if options.written(spec.key).is_some() {
        return Err(syn::Error::new_spanned(
            key,
            format!("`{key}` is given twice; keep one of them"),
        ));
    }
    options.given.push((spec.key, quote::quote!(#meta)));

    let value = match meta {
        Meta::Path(_) => None,
        Meta::NameValue(pair) => Some(&pair.value),
        Meta::List(list) => {
            return Err(syn::Error::new_spanned(
                &list.tokens,
                format!("write `{}`", spec.example),
            ))
        }
    };
    let wrong = |tokens: &dyn quote::ToTokens, kind: &str| {
        syn::Error::new_spanned(tokens, format!("`{key}` takes {kind}: `{}`", spec.example))
    };
    let Some(value) = value else {
        return match spec.setter {
            Setter::Flag(set) => {
                set(options, true);
                Ok(())
            }
            _ => Err(wrong(key, "a value")),
        };
    };
    let lit = literal(value);
    match (&spec.setter, lit) {
        (Setter::Str(set), Some(Lit::Str(s))) => set(options, s.clone()),
        (Setter::U32(set), Some(Lit::Int(int))) if matches!(int.suffix(), "" | "u32") => {
            let n = int.base10_parse::<u32>().map_err(|_| {
                syn::Error::new_spanned(int, format!("`{key}` must fit in a `u32`"))
            })?;
            set(options, n);
        }
        (Setter::Bool(set) | Setter::Flag(set), Some(Lit::Bool(b))) => set(options, b.value),
        (Setter::Duration(set), Some(Lit::Str(s))) => set(options, parse_duration(s)?),
        (Setter::Str(_), _) => return Err(wrong(value, "a string")),
        (Setter::U32(_), _) => return Err(wrong(value, "a non-negative integer")),
        (Setter::Bool(_) | Setter::Flag(_), _) => return Err(wrong(value, "`true` or `false`")),
        (Setter::Duration(_), _) => return Err(wrong(value, "a duration string")),
    }
    Ok(())
}

/// The literal of `value`, looking through the invisible groups of `macro_rules!` fragments.
fn literal(value: &Expr) -> Option<&Lit> {
    match value {
        Expr::Lit(lit) => Some(&lit.lit),
        Expr::Group(group) => literal(&group.expr),
        _ => None,
    }
}

/// Parses a humantime duration such as `"100ms"` or `"1m 30s"`.
pub(crate) fn parse_duration(text: &LitStr) -> syn::Result<Duration> {
    humantime::parse_duration(&text.value()).map_err(|error| {
        syn::Error::new(
            text.span(),
            format!(
                "invalid duration {:?} ({error}); write it like \"100ms\", \"30s\" or \"1m 30s\"",
                text.value()
            ),
        )
    })
}

fn valid_keys() -> String {
    let keys: Vec<String> = TABLE.iter().map(|spec| format!("`{}`", spec.key)).collect();
    format!("the options are {}", keys.join(", "))
}

fn unknown_key(key: &Ident) -> syn::Error {
    let hint = match closest_key(&key.to_string()) {
        Some(close) => format!("; did you mean `{close}`?"),
        None => String::new(),
    };
    syn::Error::new(
        key.span(),
        format!("unknown option `{key}`{hint} ({})", valid_keys()),
    )
}

/// The option a misspelled key most likely meant, if one is close enough.
pub(crate) fn closest_key(given: &str) -> Option<&'static str> {
    let given = normalize(given);
    TABLE
        .iter()
        .map(|spec| (spec.key, normalize(spec.key)))
        .filter_map(|(key, norm)| {
            let distance = edit_distance(&given, &norm);
            let contained = given.len() >= 4 && norm.contains(&given);
            (distance <= given.len().div_ceil(3) || contained).then_some((distance, key))
        })
        .min()
        .map(|(_, key)| key)
}

/// Lowercase without separators, so that `maxRetries` and `max-retries` match `max_retries`.
fn normalize(key: &str) -> String {
    key.chars()
        .filter(|c| *c != '_' && *c != '-')
        .flat_map(char::to_lowercase)
        .collect()
}

/// Levenshtein distance over chars.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1)
                .min(row[j] + 1)
                .min(diagonal + usize::from(ca != *cb));
            diagonal = above;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use quote::quote;

    use super::*;

    fn parse(tokens: TokenStream) -> (Options, Vec<String>) {
        let mut errors = Errors::default();
        let options = parse_options(tokens, &mut errors);
        let messages = errors
            .into_error()
            .map(|e| e.into_iter().map(|e| e.to_string()).collect())
            .unwrap_or_default();
        (options, messages)
    }

    #[test]
    fn every_option_is_read() {
        let (o, errors) = parse(quote!(
            name = "billing.charge",
            version = 2,
            max_retries = 5,
            retry_errors = true,
            retry_backoff = "100ms",
            checkpoint = false,
            timeout = "1m 30s",
            blocking
        ));
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(o.name.map(|n| n.value()).as_deref(), Some("billing.charge"));
        assert_eq!(o.version, Some(2));
        assert_eq!(o.max_retries, Some(5));
        assert_eq!(o.retry_errors, Some(true));
        assert_eq!(o.retry_backoff, Some(Duration::from_millis(100)));
        assert_eq!(o.checkpoint, Some(false));
        assert_eq!(o.timeout, Some(Duration::from_secs(90)));
        assert_eq!(o.blocking, Some(true));
    }

    #[test]
    fn no_options_means_defaults() {
        let (o, errors) = parse(TokenStream::new());
        assert!(errors.is_empty());
        assert!(o.name.is_none() && o.version.is_none() && o.blocking.is_none());
    }

    #[test]
    fn flag_takes_an_explicit_bool() {
        let (o, errors) = parse(quote!(blocking = false));
        assert!(errors.is_empty());
        assert_eq!(o.blocking, Some(false));
    }

    #[test]
    fn every_bad_option_is_reported() {
        let (_, errors) = parse(quote!(
            max_retry = 1,
            version = 1,
            version = 2,
            timeout = "soon",
            checkpoint = 1,
            max_retries = -1,
            name,
            retry_backoff(1)
        ));
        assert_eq!(errors.len(), 7, "{errors:?}");
        assert!(errors[0].starts_with("unknown option `max_retry`; did you mean `max_retries`?"));
        assert!(errors[0].contains("`retry_backoff`"));
        assert_eq!(errors[1], "`version` is given twice; keep one of them");
        assert!(errors[2].starts_with("invalid duration \"soon\""));
        assert_eq!(
            errors[3],
            "`checkpoint` takes `true` or `false`: `checkpoint = false`"
        );
        assert_eq!(
            errors[4],
            "`max_retries` takes a non-negative integer: `max_retries = 5`"
        );
        assert_eq!(
            errors[5],
            "`name` takes a value: `name = \"billing.charge\"`"
        );
        assert_eq!(errors[6], "write `retry_backoff = \"100ms\"`");
    }

    #[test]
    fn integers_must_fit_a_u32() {
        let (_, errors) = parse(quote!(version = 4294967296, max_retries = 3i64));
        assert_eq!(errors[0], "`version` must fit in a `u32`");
        assert_eq!(
            errors[1],
            "`max_retries` takes a non-negative integer: `max_retries = 5`"
        );
    }

    #[test]
    fn unparsable_arguments_are_one_error() {
        let (_, errors) = parse(quote!(max_retries = , 5));
        assert_eq!(errors.len(), 1);
        assert!(errors[0].contains("write options as `key = value`"));
    }

    #[test]
    fn close_keys_get_a_hint() {
        assert_eq!(closest_key("timout"), Some("timeout"));
        assert_eq!(closest_key("maxRetries"), Some("max_retries"));
        assert_eq!(closest_key("retries"), Some("max_retries"));
        assert_eq!(closest_key("backoff"), Some("retry_backoff"));
        assert_eq!(closest_key("blocked"), Some("blocking"));
        assert_eq!(closest_key("priority"), None);
        assert_eq!(closest_key("x"), None);
    }

    #[test]
    fn durations_are_humantime() {
        let text: LitStr = syn::parse_quote!("1s 500ms");
        assert_eq!(
            parse_duration(&text).ok(),
            Some(Duration::from_millis(1500))
        );
        let text: LitStr = syn::parse_quote!("10 parsecs");
        assert!(parse_duration(&text).is_err());
    }
}
