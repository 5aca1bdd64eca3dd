//! The error of a `runner bench` command line runner cannot honour (exit code 2), shared by
//! every step that turns flags into the scenario.
//!
//! In: a flag's bad value or combination. Out: [`UsageError`], whose message names the flag.

/// A flag (or combination) runner cannot honour: exit code 2.
#[derive(Debug, thiserror::Error)]
pub enum UsageError {
    /// A bad value or combination, named by its flag.
    #[error("{0}")]
    Invalid(String),
    /// A bench_serving flag runner does not implement.
    #[error("{flag} is not supported by runner bench: {why}")]
    Unsupported {
        /// The flag.
        flag: String,
        /// Why, and what to do instead.
        why: &'static str,
    },
}

/// Shorthand for an [`UsageError::Invalid`].
pub(super) fn invalid(msg: impl Into<String>) -> UsageError {
    UsageError::Invalid(msg.into())
}
