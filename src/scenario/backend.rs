//! What a [`Backend`] name implies beyond its request format: the server family it belongs
//! to and whether runner supports it. In: a backend. Out: its [`Family`], or why it cannot
//! be used.

use super::Backend;

/// The server software behind a backend, for the endpoints that differ between servers
/// (cache flush, accept-length reporting).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// SGLang (`sglang`, `sglang-native`, `sglang-oai`, …).
    Sglang,
    /// vLLM (`vllm`, `vllm-chat`, `vllm-embedding`).
    Vllm,
    /// Any other server.
    Other,
}

impl Backend {
    /// The server family this backend talks to.
    pub fn family(self) -> Family {
        match self {
            Backend::Sglang
            | Backend::SglangNative
            | Backend::SglangOai
            | Backend::SglangOaiChat
            | Backend::SglangEmbedding => Family::Sglang,
            Backend::Vllm | Backend::VllmChat | Backend::VllmEmbedding => Family::Vllm,
            Backend::Lmdeploy
            | Backend::LmdeployChat
            | Backend::Trt
            | Backend::Gserver
            | Backend::Truss => Family::Other,
        }
    }

    /// Whether it sends chat messages (and can replay multi-turn conversations).
    pub fn is_chat(self) -> bool {
        matches!(
            self,
            Backend::SglangOaiChat | Backend::VllmChat | Backend::LmdeployChat
        )
    }

    /// Why the backend cannot be used, for validation; `None` when it is supported.
    pub fn unsupported(self) -> Option<String> {
        match self {
            Backend::Gserver => Some(
                "backend `gserver` is not supported: bench_serving's gserver client is an \
                 unimplemented stub, so there is no request format to reproduce"
                    .to_owned(),
            ),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_follow_the_names() {
        for b in <Backend as clap::ValueEnum>::value_variants() {
            let want = match b.as_str() {
                n if n.starts_with("sglang") => Family::Sglang,
                n if n.starts_with("vllm") => Family::Vllm,
                _ => Family::Other,
            };
            assert_eq!(b.family(), want, "{}", b.as_str());
        }
    }
}
