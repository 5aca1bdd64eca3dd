//! Hints for failures that point at a setup mistake rather than at the server's health.
//!
//! In: a run's requests as they finish ([`Watch`], which warns once, early, when the first
//! ones all got 404) or a finished run's summary ([`wrong_backend`]), with the backend and
//! the target's base URL. Out: one line for stderr saying what is wrong and what to try, or
//! nothing.

use crate::metrics::Summary;
use crate::record::{Outcome, RequestRecord};
use crate::scenario::Backend;

/// Finished requests that must all have got 404 before [`Watch`] warns.
pub const EARLY_404: u32 = 3;

/// Watches a run's requests as they finish: when the first [`EARLY_404`] all got 404 Not
/// Found, it prints one warning on stderr naming the endpoint and the backends to try, while
/// the run goes on (the run's end still says so again if every request failed alike).
#[derive(Debug)]
pub struct Watch {
    backend: Backend,
    base_url: String,
    not_found: u32,
    /// Set once a request did not get 404, or the warning went out.
    settled: bool,
}

impl Watch {
    /// A watch for a run of `backend` against `base_url`.
    pub fn new(backend: Backend, base_url: &str) -> Watch {
        Watch {
            backend,
            base_url: base_url.to_owned(),
            not_found: 0,
            settled: false,
        }
    }

    /// Take one finished request; returns the warning the first time it is due.
    pub fn see(&mut self, r: &RequestRecord) -> Option<String> {
        if self.settled {
            return None;
        }
        if r.outcome != (Outcome::Http { status: 404 }) {
            self.settled = true;
            return None;
        }
        self.not_found += 1;
        if self.not_found < EARLY_404 {
            return None;
        }
        self.settled = true;
        let (url, advice) = advice(self.backend, &self.base_url)?;
        Some(format!(
            "warning: the first {EARLY_404} requests got 404 Not Found from POST {url}: \
             the server may not serve the `{}` backend's endpoint; {advice}",
            self.backend.as_str()
        ))
    }

    /// [`Watch::see`], printing the warning on stderr.
    pub fn observe(&mut self, r: &RequestRecord) {
        if let Some(w) = self.see(r) {
            eprintln!("{w}");
        }
    }
}

/// The endpoint URL `backend` posts to under `base_url` (redacted), and the backends of
/// the other APIs to try instead.
fn advice(backend: Backend, base_url: &str) -> Option<(String, String)> {
    let api = backend.api()?.facts();
    Some((
        format!("{}{}", crate::scenario::secrets::redact(base_url), api.path),
        format!("try {}", api.instead),
    ))
}

/// When every request of a run got 404 Not Found, the server most likely does not serve
/// the backend's endpoint (e.g. `/generate` against an OpenAI-only server): name the
/// endpoint and suggest the backends of the other APIs.
pub fn wrong_backend(s: &Summary, backend: Backend, base_url: &str) -> Option<String> {
    let not_found = s.failures.get("http_404").copied().unwrap_or(0);
    if s.completed > 0 || not_found == 0 || not_found < s.failed {
        return None;
    }
    let (url, advice) = advice(backend, base_url)?;
    Some(format!(
        "every request got 404 Not Found from POST {url}: the server does not serve the \
         `{}` backend's endpoint; {advice}",
        backend.as_str()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_404_names_the_endpoint_and_other_backends() {
        let mut s = Summary {
            failed: 5,
            ..Summary::default()
        };
        s.failures.insert("http_404", 5);
        let h = wrong_backend(&s, Backend::Sglang, "http://h:1").unwrap();
        assert!(h.contains("POST http://h:1/generate"), "{h}");
        assert!(h.contains("vllm-chat"), "{h}");
        s.completed = 1;
        assert_eq!(wrong_backend(&s, Backend::Sglang, "http://h:1"), None);
        s.completed = 0;
        s.failures.insert("http_500", 1);
        s.failed = 6;
        assert_eq!(wrong_backend(&s, Backend::Sglang, "http://h:1"), None);
    }

    #[test]
    fn the_advice_names_each_api_s_endpoint_and_the_others() {
        let advice = |b| advice(b, "http://h:1");
        assert_eq!(
            advice(Backend::SglangNative),
            Some((
                "http://h:1/generate".into(),
                "try an OpenAI-style one: vllm or sglang-oai (/v1/completions), vllm-chat or \
                 sglang-oai-chat (/v1/chat/completions)"
                    .into()
            ))
        );
        assert_eq!(
            advice(Backend::Lmdeploy),
            Some((
                "http://h:1/v1/completions".into(),
                "try vllm-chat or sglang-oai-chat (/v1/chat/completions), or sglang (SGLang's \
                 native /generate)"
                    .into()
            ))
        );
        assert_eq!(
            advice(Backend::VllmChat),
            Some((
                "http://h:1/v1/chat/completions".into(),
                "try vllm or sglang-oai (/v1/completions), or sglang (SGLang's native /generate)"
                    .into()
            ))
        );
        assert_eq!(
            advice(Backend::Truss),
            Some((
                "http://h:1/v1/models/model:predict".into(),
                "try another backend whose endpoint the server serves".into()
            ))
        );
        assert_eq!(advice(Backend::Gserver), None);
    }

    fn finished(outcome: Outcome) -> RequestRecord {
        let mut r = RequestRecord::new(0, 0.0, 8);
        r.outcome = outcome;
        r
    }

    #[test]
    fn watch_warns_once_after_the_first_three_404s() {
        let not_found = finished(Outcome::Http { status: 404 });
        let mut w = Watch::new(Backend::Sglang, "http://h:1");
        assert_eq!(w.see(&not_found), None);
        assert_eq!(w.see(&not_found), None);
        let h = w.see(&not_found).unwrap();
        assert!(
            h.starts_with("warning: the first 3 requests got 404"),
            "{h}"
        );
        assert!(h.contains("POST http://h:1/generate"), "{h}");
        assert!(h.contains("try an OpenAI-style one"), "{h}");
        assert_eq!(w.see(&not_found), None, "once");
    }

    #[test]
    fn watch_stays_quiet_when_an_early_request_did_not_get_404() {
        let mut w = Watch::new(Backend::Vllm, "http://h:1");
        assert_eq!(w.see(&finished(Outcome::Http { status: 404 })), None);
        assert_eq!(w.see(&finished(Outcome::Ok)), None);
        for _ in 0..5 {
            assert_eq!(w.see(&finished(Outcome::Http { status: 404 })), None);
        }
        let mut w = Watch::new(Backend::Vllm, "http://h:1");
        assert_eq!(w.see(&finished(Outcome::Http { status: 500 })), None);
        for _ in 0..5 {
            assert_eq!(w.see(&finished(Outcome::Http { status: 404 })), None);
        }
    }
}
