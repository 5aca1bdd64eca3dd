//! One problem found by a check of scenario data (embedded-server settings, faults, datasets,
//! request options, the whole scenario). In: nothing. Out: [`Problem`], which the loader turns
//! into a located [`super::validate::Diagnostic`].

/// A problem at a field: a JSON pointer relative to the checked value, what is wrong, and
/// what to do about it.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    /// JSON pointer of the field, relative to the value checked (`/probability`).
    pub pointer: String,
    /// What is wrong.
    pub message: String,
    /// What to do about it, when there is something useful to say.
    pub hint: Option<String>,
}

impl Problem {
    /// A problem at `pointer` without a hint.
    pub fn new(pointer: impl Into<String>, message: impl Into<String>) -> Problem {
        Problem {
            pointer: pointer.into(),
            message: message.into(),
            hint: None,
        }
    }

    /// Adds a hint.
    pub fn hint(mut self, hint: impl Into<String>) -> Problem {
        self.hint = Some(hint.into());
        self
    }

    /// The same problem with its pointer under `prefix` (`/targets/0/embedded`).
    pub fn under(mut self, prefix: &str) -> Problem {
        self.pointer = format!("{prefix}{}", self.pointer);
        self
    }
}
