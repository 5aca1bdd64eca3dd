//! Failed tokenizer calls: counted per tokenizer, taken (and reset) once per dataset build
//! and per run, so that a failing `server:URL` tokenizer is reported instead of counting
//! zero tokens in silence.
//!
//! In: the results of encode/decode calls. Out: their values (or defaults, counted) and
//! [`TokenizerErrors`].

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::Tokenizer;

/// Failed encode/decode calls since the last [`Tokenizer::take_errors`].
#[derive(Debug, Default)]
pub(super) struct Errors {
    count: AtomicUsize,
    first: Mutex<Option<String>>,
}

/// Failed tokenizer calls (a server tokenizer's network or HTTP errors): their texts were
/// counted as 0 tokens.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TokenizerErrors {
    /// How many calls failed.
    pub count: usize,
    /// The first failure's message.
    pub first: Option<String>,
}

impl TokenizerErrors {
    /// Say on stderr that `what` (`run ID`, `dataset NAME`) had failures; the count.
    pub fn warn(self, what: &str) -> usize {
        if self.count > 0 {
            eprintln!("warning: {what}: {self}");
        }
        self.count
    }
}

impl std::fmt::Display for TokenizerErrors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} tokenizer call(s) failed and counted 0 tokens (first: {})",
            self.count,
            self.first.as_deref().unwrap_or("?")
        )
    }
}

impl Tokenizer {
    /// The value of a call, or its default (no tokens, no text) with the failure counted.
    pub(super) fn counted<T: Default>(&self, r: Result<T, String>) -> T {
        r.unwrap_or_else(|e| {
            if self.errors.count.fetch_add(1, Ordering::Relaxed) == 0 {
                *self.errors.first.lock().unwrap_or_else(|p| p.into_inner()) = Some(e);
            }
            T::default()
        })
    }

    /// The calls that failed since the last time this was asked, and the first failure.
    pub fn take_errors(&self) -> TokenizerErrors {
        let first = self
            .errors
            .first
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        TokenizerErrors {
            count: self.errors.count.swap(0, Ordering::Relaxed),
            first,
        }
    }
}
