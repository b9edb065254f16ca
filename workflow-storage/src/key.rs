//! Order-preserving composite keys.

/// Builds a composite key segment by segment.
///
/// Stores compare keys as bytes. The builder lays out a tuple of segments so that the byte
/// order of the keys equals the order of the tuples, and so that a key built from the first
/// segments of a tuple is a byte prefix of exactly the keys that start with those segments:
///
/// - strings are written as their bytes followed by a `0x00` terminator, so `"a"` sorts
///   before `"ab"`, and the prefix for `"a"` (`a\x00`) does not match keys of `"ab"`;
/// - integers are written big-endian at full width, so numeric and byte order agree.
///
/// Strings must not contain NUL (`\0`): the terminator would become ambiguous and the order
/// and prefix guarantees would break. Debug builds check this.
///
/// # Examples
///
/// ```
/// use workflow_storage::KeyBuilder;
///
/// let run_prefix = KeyBuilder::new().str("orders").str("run-1").build();
/// let step_key = KeyBuilder::new().str("orders").str("run-1").u32(2).build();
/// assert!(step_key.starts_with(&run_prefix));
///
/// let other_run = KeyBuilder::new().str("orders").str("run-10").u32(0).build();
/// assert!(!other_run.starts_with(&run_prefix));
/// ```
#[derive(Debug, Default, Clone)]
pub struct KeyBuilder(Vec<u8>);

impl KeyBuilder {
    /// An empty key.
    ///
    /// # Examples
    ///
    /// ```
    /// use workflow_storage::KeyBuilder;
    ///
    /// assert!(KeyBuilder::new().build().is_empty());
    /// ```
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty key with room for `capacity` bytes.
    ///
    /// # Examples
    ///
    /// ```
    /// use workflow_storage::KeyBuilder;
    ///
    /// let key = KeyBuilder::with_capacity(16).u64(1).build();
    /// assert_eq!(key.len(), 8);
    /// ```
    #[must_use]
    pub fn with_capacity(capacity: usize) -> Self {
        Self(Vec::with_capacity(capacity))
    }

    /// Appends a string segment: its bytes, then a `0x00` terminator. `s` must not contain
    /// NUL.
    ///
    /// # Examples
    ///
    /// ```
    /// use workflow_storage::KeyBuilder;
    ///
    /// assert_eq!(KeyBuilder::new().str("ab").build(), b"ab\x00");
    /// ```
    #[must_use]
    pub fn str(mut self, s: &str) -> Self {
        debug_assert!(
            !s.contains('\0'),
            "key string segments must not contain NUL: {s:?}"
        );
        self.0.reserve(s.len() + 1);
        self.0.extend_from_slice(s.as_bytes());
        self.0.push(0);
        self
    }

    /// Appends a `u32` segment, big-endian.
    ///
    /// # Examples
    ///
    /// ```
    /// use workflow_storage::KeyBuilder;
    ///
    /// assert_eq!(KeyBuilder::new().u32(258).build(), [0, 0, 1, 2]);
    /// ```
    #[must_use]
    pub fn u32(mut self, v: u32) -> Self {
        self.0.extend_from_slice(&v.to_be_bytes());
        self
    }

    /// Appends a `u64` segment, big-endian.
    ///
    /// # Examples
    ///
    /// ```
    /// use workflow_storage::KeyBuilder;
    ///
    /// assert_eq!(KeyBuilder::new().u64(1).build(), [0, 0, 0, 0, 0, 0, 0, 1]);
    /// ```
    #[must_use]
    pub fn u64(mut self, v: u64) -> Self {
        self.0.extend_from_slice(&v.to_be_bytes());
        self
    }

    /// Appends raw bytes without a terminator. Use it only for the last segment: nothing
    /// after it could be told apart.
    ///
    /// # Examples
    ///
    /// ```
    /// use workflow_storage::KeyBuilder;
    ///
    /// assert_eq!(KeyBuilder::new().str("a").bytes(&[9, 9]).build(), b"a\x00\x09\x09");
    /// ```
    #[must_use]
    pub fn bytes(mut self, b: &[u8]) -> Self {
        self.0.extend_from_slice(b);
        self
    }

    /// The finished key.
    ///
    /// # Examples
    ///
    /// ```
    /// use workflow_storage::KeyBuilder;
    ///
    /// let key: Vec<u8> = KeyBuilder::new().str("x").build();
    /// assert_eq!(key, b"x\x00");
    /// ```
    #[must_use]
    pub fn build(self) -> Vec<u8> {
        self.0
    }

    /// The key built so far.
    ///
    /// # Examples
    ///
    /// ```
    /// use workflow_storage::KeyBuilder;
    ///
    /// let builder = KeyBuilder::new().u32(1);
    /// assert_eq!(builder.as_slice(), [0, 0, 0, 1]);
    /// ```
    #[must_use]
    pub fn as_slice(&self) -> &[u8] {
        &self.0
    }
}

impl From<KeyBuilder> for Vec<u8> {
    /// Lets a builder be passed wherever a key is expected, such as
    /// [`Batch::put`](crate::Batch::put).
    ///
    /// # Examples
    ///
    /// ```
    /// use workflow_storage::{Batch, KeyBuilder, Keyspace};
    ///
    /// let mut batch = Batch::new();
    /// batch.put(Keyspace::new("runs"), KeyBuilder::new().str("run-1"), "v");
    /// assert_eq!(batch.len(), 1);
    /// ```
    fn from(builder: KeyBuilder) -> Self {
        builder.0
    }
}

/// Reads back the segments of a key built by [`KeyBuilder`], in the order they were written.
///
/// Every read returns `None`, and consumes nothing, when the remaining bytes do not hold the
/// requested segment.
///
/// # Examples
///
/// ```
/// use workflow_storage::{KeyBuilder, KeyReader};
///
/// let key = KeyBuilder::new().str("run-1").u32(7).bytes(b"tail").build();
/// let mut reader = KeyReader::new(&key);
/// assert_eq!(reader.str(), Some("run-1"));
/// assert_eq!(reader.u32(), Some(7));
/// assert_eq!(reader.rest(), b"tail");
/// ```
#[derive(Debug, Clone)]
pub struct KeyReader<'a> {
    rest: &'a [u8],
}

impl<'a> KeyReader<'a> {
    /// A reader positioned at the start of `key`.
    ///
    /// # Examples
    ///
    /// ```
    /// use workflow_storage::KeyReader;
    ///
    /// assert_eq!(KeyReader::new(b"abc").rest(), b"abc");
    /// ```
    #[must_use]
    pub fn new(key: &'a [u8]) -> Self {
        Self { rest: key }
    }

    /// Reads a string segment up to its `0x00` terminator. `None` if there is no terminator or
    /// the bytes are not UTF-8.
    ///
    /// # Examples
    ///
    /// ```
    /// use workflow_storage::KeyReader;
    ///
    /// let mut reader = KeyReader::new(b"ab\x00cd");
    /// assert_eq!(reader.str(), Some("ab"));
    /// assert_eq!(reader.str(), None); // "cd" has no terminator
    /// ```
    pub fn str(&mut self) -> Option<&'a str> {
        let end = self.rest.iter().position(|&b| b == 0)?;
        let s = std::str::from_utf8(&self.rest[..end]).ok()?;
        self.rest = &self.rest[end + 1..];
        Some(s)
    }

    /// Reads a big-endian `u32` segment.
    ///
    /// # Examples
    ///
    /// ```
    /// use workflow_storage::KeyReader;
    ///
    /// let mut reader = KeyReader::new(&[0, 0, 1, 2, 3]);
    /// assert_eq!(reader.u32(), Some(258));
    /// assert_eq!(reader.u32(), None);
    /// ```
    pub fn u32(&mut self) -> Option<u32> {
        self.take::<4>().map(u32::from_be_bytes)
    }

    /// Reads a big-endian `u64` segment.
    ///
    /// # Examples
    ///
    /// ```
    /// use workflow_storage::{KeyBuilder, KeyReader};
    ///
    /// let key = KeyBuilder::new().u64(u64::MAX - 1).build();
    /// assert_eq!(KeyReader::new(&key).u64(), Some(u64::MAX - 1));
    /// ```
    pub fn u64(&mut self) -> Option<u64> {
        self.take::<8>().map(u64::from_be_bytes)
    }

    /// The bytes not read yet, such as a final [`KeyBuilder::bytes`] segment.
    ///
    /// # Examples
    ///
    /// ```
    /// use workflow_storage::KeyReader;
    ///
    /// let mut reader = KeyReader::new(b"a\x00rest");
    /// reader.str();
    /// assert_eq!(reader.rest(), b"rest");
    /// ```
    #[must_use]
    pub fn rest(self) -> &'a [u8] {
        self.rest
    }

    fn take<const N: usize>(&mut self) -> Option<[u8; N]> {
        let (head, tail) = self.rest.split_first_chunk::<N>()?;
        self.rest = tail;
        Some(*head)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(id: &str, n: u32) -> Vec<u8> {
        KeyBuilder::new().str(id).u32(n).build()
    }

    #[test]
    fn byte_order_matches_tuple_order() {
        let mut tuples = vec![
            ("ab", 0),
            ("a", 2),
            ("", 5),
            ("b", 0),
            ("a", 1),
            ("a", u32::MAX),
            ("a", 256),
            ("ab", 1),
            ("a\u{e9}", 0),
            ("az", 3),
        ];
        let mut keys: Vec<Vec<u8>> = tuples.iter().map(|&(id, n)| key(id, n)).collect();
        tuples.sort();
        keys.sort();
        let decoded: Vec<(String, u32)> = keys
            .iter()
            .map(|k| {
                let mut reader = KeyReader::new(k);
                let id = reader.str().unwrap().to_owned();
                let n = reader.u32().unwrap();
                assert!(reader.rest().is_empty());
                (id, n)
            })
            .collect();
        let expected: Vec<(String, u32)> =
            tuples.iter().map(|&(id, n)| (id.to_owned(), n)).collect();
        assert_eq!(decoded, expected);
    }

    #[test]
    fn u64_order_matches_numeric_order() {
        let values = [0u64, 1, 255, 256, 1 << 32, u64::MAX - 1, u64::MAX];
        for pair in values.windows(2) {
            assert!(
                KeyBuilder::new().u64(pair[0]).build() < KeyBuilder::new().u64(pair[1]).build()
            );
        }
    }

    #[test]
    fn prefix_of_one_id_does_not_match_a_longer_id() {
        let prefix = KeyBuilder::new().str("a").build();
        assert!(key("a", 0).starts_with(&prefix));
        assert!(key("a", u32::MAX).starts_with(&prefix));
        assert!(!key("ab", 0).starts_with(&prefix));
        assert!(!key("", 0).starts_with(&prefix));
    }

    #[test]
    fn reader_refuses_malformed_segments_without_consuming() {
        let mut reader = KeyReader::new(&[0xff, 0xfe, 0x00, 1]);
        assert_eq!(reader.str(), None);
        assert_eq!(reader.u64(), None);
        assert_eq!(reader.u32(), Some(0xfffe_0001));
        assert_eq!(reader.u32(), None);
        assert!(reader.rest().is_empty());
    }

    #[test]
    fn builder_clones_share_a_prefix() {
        let base = KeyBuilder::with_capacity(32).str("run");
        let a = base.clone().u32(1).build();
        let b = base.u32(2).build();
        assert_eq!(&a[..4], b"run\x00");
        assert!(a < b);
    }
}
