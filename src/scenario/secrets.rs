//! Values that must never be printed or written: request header values and the environment
//! values a scenario's `${VAR}` put into a URL, a header or `extra_body`.
//!
//! In: the values, registered by the loader (and `runner bench` for `--header`). Out: any
//! text with each of them replaced by a placeholder (`${VAR}`, `<header NAME>`), for every
//! message, report line and results file.

use std::borrow::Cow;
use std::sync::{Mutex, MutexGuard};

use super::Scenario;

/// Shorter values are not treated as secrets (they would blank ordinary numbers and words).
const MIN_LEN: usize = 6;

static SECRETS: Mutex<Vec<(String, String)>> = Mutex::new(Vec::new());

fn secrets() -> MutexGuard<'static, Vec<(String, String)>> {
    SECRETS.lock().unwrap_or_else(|e| e.into_inner())
}

/// Never show `value`; show `placeholder` instead.
pub fn register(value: &str, placeholder: String) {
    if value.len() < MIN_LEN {
        return;
    }
    let mut s = secrets();
    if !s.iter().any(|(v, _)| v == value) {
        s.push((value.to_owned(), placeholder));
        // Longest first, so a value containing another is replaced whole.
        s.sort_by_key(|(v, _)| std::cmp::Reverse(v.len()));
    }
}

/// `text` with every registered value replaced by its placeholder.
pub fn redact(text: &str) -> Cow<'_, str> {
    let s = secrets();
    if !s.iter().any(|(v, _)| text.contains(v.as_str())) {
        return Cow::Borrowed(text);
    }
    let mut out = text.to_owned();
    for (v, p) in s.iter() {
        out = out.replace(v.as_str(), p);
    }
    Cow::Owned(out)
}

/// Register a loaded scenario's secrets: every header value, and each environment value
/// (`env`: name and value of every `${VAR}` taken from the environment) found in a target's
/// URL or headers or in `request.extra_body`.
pub fn register_scenario(s: &Scenario, env: &[(String, String)]) {
    let body = serde_json::Value::Object(s.request.extra_body.clone()).to_string();
    for t in &s.targets {
        for (name, value) in &t.headers {
            register(value, format!("<header {name}>"));
        }
        let url = t.base_url.as_deref().unwrap_or("");
        for (name, value) in env {
            let in_headers = t.headers.values().any(|h| h.contains(value.as_str()));
            if url.contains(value.as_str()) || in_headers || body.contains(value.as_str()) {
                register(value, format!("${{{name}}}"));
            }
        }
    }
}

/// Register every environment value of a scenario that did not load (its messages may
/// quote any of them).
pub fn register_env(env: &[(String, String)]) {
    for (name, value) in env {
        register(value, format!("${{{name}}}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registered_values_are_replaced_short_ones_are_not() {
        register("sk-test-0123456789", "${API_KEY}".into());
        register("abc", "${SHORT}".into());
        assert_eq!(
            redact("Authorization: Bearer sk-test-0123456789; abc"),
            "Authorization: Bearer ${API_KEY}; abc"
        );
        assert!(matches!(redact("nothing here"), Cow::Borrowed(_)));
    }
}
