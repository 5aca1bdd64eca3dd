//! One problem found by a check of scenario data (embedded-server settings, faults, datasets,
//! request options, the whole scenario), and the "did you mean" its hint may offer. In:
//! nothing. Out: [`Problem`], which the loader turns into a located
//! [`super::validate::Diagnostic`]; [`closest`], the likely intended name of a typo.

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

/// The closest candidate by edit distance, if it is close enough to be a likely typo.
pub fn closest(got: &str, candidates: &[String]) -> Option<String> {
    candidates
        .iter()
        .map(|c| (strsim::damerau_levenshtein(got, c), c))
        .filter(|(d, c)| *d <= (c.len() / 3).max(1))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c.clone())
}
