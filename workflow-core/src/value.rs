//! What a task may take and return, and how such values are encoded.

use serde::{de::DeserializeOwned, Serialize};

use crate::{Error, Result};

/// A value that can travel between tasks and be checkpointed.
///
/// Every argument and output of a task must implement it; it is implemented for every type that
/// is `Serialize + DeserializeOwned + Send + Sync + 'static`, so deriving serde's traits is all
/// it takes.
///
/// Values are stored with [postcard](https://docs.rs/postcard), which is compact but not
/// self-describing. It cannot carry these serde features: `#[serde(flatten)]`, untagged or
/// internally tagged enums (`#[serde(untagged)]`, `#[serde(tag = "..")]`),
/// `deserialize_any`-based types such as `serde_json::Value` held inside a value, and
/// `skip_serializing_if` (the field must always be written). A value that fails to encode or
/// decode is reported as [`Error::Codec`], never as a panic.
///
/// # Examples
///
/// ```
/// use serde::{Deserialize, Serialize};
/// use workflow::TaskValue;
///
/// #[derive(Serialize, Deserialize)]
/// struct Order { id: u64, items: Vec<String> }
///
/// fn accepts<T: TaskValue>() {}
/// accepts::<Order>();
/// accepts::<(i64, String)>();
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a task argument or output",
    label = "not storable by a task",
    note = "derive `serde::Serialize` and `serde::Deserialize` for `{Self}`, and make it an owned `Send + Sync + 'static` type"
)]
pub trait TaskValue: Serialize + DeserializeOwned + Send + Sync + 'static {}

#[diagnostic::do_not_recommend]
impl<T: Serialize + DeserializeOwned + Send + Sync + 'static> TaskValue for T {}

/// The name of `T` without module paths: `alloc::vec::Vec<my::Order>` is `Vec<Order>`.
///
/// Stored fingerprints are built from it, so that moving a type to another module does not make
/// stored values unreadable.
pub(crate) fn short_type_name<T: ?Sized>() -> String {
    shorten_type_name(std::any::type_name::<T>())
}

fn shorten_type_name(full: &str) -> String {
    let mut out = String::with_capacity(full.len());
    let mut ident_start = 0;
    let mut in_ident = false;
    let mut rest = full;
    while let Some(c) = rest.chars().next() {
        if rest.starts_with("::") {
            out.truncate(ident_start);
            in_ident = false;
            rest = &rest[2..];
            continue;
        }
        let is_ident = c.is_alphanumeric() || c == '_';
        if is_ident && !in_ident {
            ident_start = out.len();
        }
        in_ident = is_ident;
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// A stable 64-bit hash, the same in every process and every build.
pub(crate) fn stable_hash(bytes: &[u8]) -> u64 {
    xxhash_rust::xxh3::xxh3_64(bytes)
}

/// The fingerprint stored beside every value of type `T`.
pub(crate) fn fingerprint<T: ?Sized>() -> u64 {
    stable_hash(short_type_name::<T>().as_bytes())
}

/// Encodes a value with postcard.
pub(crate) fn encode_value<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>> {
    postcard::to_stdvec(value).map_err(|e| Error::Codec {
        message: format!(
            "cannot encode a value of type `{}`: {e}",
            short_type_name::<T>()
        ),
    })
}

/// Decodes a value stored with [`encode_value`]; `context` says where it came from.
pub(crate) fn decode_value<T: DeserializeOwned>(bytes: &[u8], context: &str) -> Result<T> {
    match postcard::take_from_bytes::<T>(bytes) {
        Ok((value, [])) => Ok(value),
        Ok((_, rest)) => Err(Error::Codec {
            message: format!(
                "{context}: {} bytes left over after decoding a `{}`",
                rest.len(),
                short_type_name::<T>()
            ),
        }),
        Err(e) => Err(Error::Codec {
            message: format!(
                "{context}: cannot decode a `{}`: {e}",
                short_type_name::<T>()
            ),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_names_drop_module_paths() {
        assert_eq!(
            shorten_type_name("alloc::vec::Vec<my::mod_a::Order>"),
            "Vec<Order>"
        );
        assert_eq!(
            shorten_type_name("core::result::Result<i64, a::TaskError>"),
            "Result<i64, TaskError>"
        );
        assert_eq!(shorten_type_name("(i64, &str)"), "(i64, &str)");
        assert_eq!(short_type_name::<Vec<String>>(), "Vec<String>");
    }

    #[test]
    fn fingerprints_differ_by_type() {
        assert_ne!(fingerprint::<i64>(), fingerprint::<u64>());
        assert_eq!(fingerprint::<Vec<i64>>(), fingerprint::<Vec<i64>>());
    }

    #[test]
    fn decode_reports_trailing_bytes_and_garbage() {
        let bytes = encode_value(&(1u8, 2u8)).unwrap();
        assert!(matches!(
            decode_value::<u8>(&bytes, "x"),
            Err(Error::Codec { .. })
        ));
        assert!(matches!(
            decode_value::<String>(&[5, 0xff], "x"),
            Err(Error::Codec { .. })
        ));
        assert_eq!(decode_value::<(u8, u8)>(&bytes, "x").unwrap(), (1, 2));
    }
}
