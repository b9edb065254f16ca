/// The name of a keyspace: an independent, ordered key-value namespace inside one store.
///
/// Keyspaces are declared as constants by the code that owns them, so a name is a
/// `&'static str`. By convention names use lowercase ASCII letters, digits and `_`
/// (for example `task_runs`); they name folders and metadata entries of the backend, so
/// they are kept short and plain. The backend itself accepts any name of 1 to 255 bytes,
/// and [`Keyspace::new`] enforces exactly that.
///
/// Two `Keyspace` values with the same name refer to the same keyspace.
///
/// # Examples
///
/// ```
/// use workflow_storage::Keyspace;
///
/// const RUNS: Keyspace = Keyspace::new("runs");
/// assert_eq!(RUNS.name(), "runs");
/// assert!(Keyspace::new("a") < Keyspace::new("b"));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Keyspace(&'static str);

/// Longest keyspace name the backend accepts, in bytes.
const MAX_NAME_LEN: usize = 255;

impl Keyspace {
    /// Names a keyspace.
    ///
    /// # Panics
    ///
    /// Panics if `name` is empty or longer than 255 bytes, the limits of the embedded
    /// backend. In a `const` item this is a compile error rather than a runtime panic,
    /// which is why keyspaces are best declared as constants.
    ///
    /// # Examples
    ///
    /// ```
    /// use workflow_storage::Keyspace;
    ///
    /// const CHECKPOINTS: Keyspace = Keyspace::new("checkpoints");
    /// assert_eq!(CHECKPOINTS.name(), "checkpoints");
    /// ```
    #[must_use]
    pub const fn new(name: &'static str) -> Self {
        assert!(
            !name.is_empty() && name.len() <= MAX_NAME_LEN,
            "a keyspace name must be 1 to 255 bytes long"
        );
        Self(name)
    }

    /// The keyspace's name.
    ///
    /// # Examples
    ///
    /// ```
    /// use workflow_storage::Keyspace;
    ///
    /// assert_eq!(Keyspace::new("runs").name(), "runs");
    /// ```
    #[must_use]
    pub const fn name(self) -> &'static str {
        self.0
    }
}

impl std::fmt::Display for Keyspace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::Keyspace;

    #[test]
    fn name_round_trips_and_displays() {
        let ks = Keyspace::new("task_runs");
        assert_eq!(ks.name(), "task_runs");
        assert_eq!(ks.to_string(), "task_runs");
    }

    #[test]
    #[should_panic(expected = "1 to 255 bytes")]
    fn empty_name_is_refused() {
        let name = String::new().leak();
        let _ = Keyspace::new(name);
    }

    #[test]
    #[should_panic(expected = "1 to 255 bytes")]
    fn overlong_name_is_refused() {
        let name = "a".repeat(256).leak();
        let _ = Keyspace::new(name);
    }
}
