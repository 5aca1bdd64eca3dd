//! Hints for failures that point at a setup mistake rather than at the server's health.
//!
//! In: a finished run's summary, its backend and the target's base URL. Out: one line for
//! stderr saying what is wrong and what to try, or nothing.

use crate::metrics::Summary;
use crate::scenario::Backend;

/// When every request of a run got 404 Not Found, the server most likely does not serve
/// the backend's endpoint (e.g. `/generate` against an OpenAI-only server): name the
/// endpoint and suggest the backends of the other APIs.
pub fn wrong_backend(s: &Summary, backend: Backend, base_url: &str) -> Option<String> {
    let not_found = s.failures.get("http_404").copied().unwrap_or(0);
    if s.completed > 0 || not_found == 0 || not_found < s.failed {
        return None;
    }
    let path = crate::protocol::for_backend(backend)?.path();
    use Backend::*;
    let suggest = match backend {
        Sglang | SglangNative => {
            "an OpenAI-style one: vllm or sglang-oai (/v1/completions), vllm-chat or sglang-oai-chat (/v1/chat/completions)"
        }
        SglangOai | Vllm | Lmdeploy => {
            "vllm-chat or sglang-oai-chat (/v1/chat/completions), or sglang (SGLang's native /generate)"
        }
        SglangOaiChat | VllmChat | LmdeployChat => {
            "vllm or sglang-oai (/v1/completions), or sglang (SGLang's native /generate)"
        }
        _ => "another backend whose endpoint the server serves",
    };
    Some(format!(
        "every request got 404 Not Found from POST {}{path}: the server does not serve the \
         `{}` backend's endpoint; try {suggest}",
        crate::scenario::secrets::redact(base_url),
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
}
