//! Every fact a [`Backend`] name implies, in one table: [`Backend::facts`] gives its row
//! (name, server family, API, readiness path, auth from the environment, bench_serving's
//! default port, …), [`Api::facts`] the facts of the API it speaks (request path, token-id
//! prompts, the backends to suggest when the endpoint is missing). Both are a `match` without
//! a `_ =>` arm, so a new backend is one row and the compiler names every place to fill in.
//!
//! In: a backend. Out: its [`BackendFacts`], or why it cannot be used.

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

/// A request API; `crate::protocol` has one adapter per API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    /// SGLang's native `/generate`.
    Generate,
    /// OpenAI-compatible `/v1/completions`.
    Completions,
    /// OpenAI-compatible `/v1/chat/completions`: chat messages, multi-turn conversations.
    Chat,
    /// OpenAI-compatible `/v1/embeddings`: no tokens generated.
    Embeddings,
    /// TensorRT-LLM's `/v2/models/ensemble/generate_stream`.
    Trt,
    /// Truss `/v1/models/model:predict`.
    Truss,
}

/// What an API implies.
#[derive(Debug)]
pub struct ApiFacts {
    /// Path of its requests under the base URL.
    pub path: &'static str,
    /// Whether it takes a prompt as token ids (`--tokenize-prompt`).
    pub token_ids: bool,
    /// The backends of other APIs to try when the server answers 404 (the wrong-backend hint).
    pub instead: &'static str,
}

impl Api {
    /// The facts of this API.
    pub const fn facts(self) -> &'static ApiFacts {
        match self {
            Api::Generate => &ApiFacts {
                path: "/generate",
                token_ids: true,
                instead: "an OpenAI-style one: vllm or sglang-oai (/v1/completions), vllm-chat or \
                          sglang-oai-chat (/v1/chat/completions)",
            },
            Api::Completions => &ApiFacts {
                path: "/v1/completions",
                token_ids: true,
                instead: "vllm-chat or sglang-oai-chat (/v1/chat/completions), or sglang \
                          (SGLang's native /generate)",
            },
            Api::Chat => &ApiFacts {
                path: "/v1/chat/completions",
                token_ids: false,
                instead: "vllm or sglang-oai (/v1/completions), or sglang (SGLang's native \
                          /generate)",
            },
            Api::Embeddings => &ApiFacts {
                path: "/v1/embeddings",
                token_ids: false,
                instead: ANOTHER,
            },
            Api::Trt => &ApiFacts {
                path: "/v2/models/ensemble/generate_stream",
                token_ids: false,
                instead: ANOTHER,
            },
            Api::Truss => &ApiFacts {
                path: "/v1/models/model:predict",
                token_ids: false,
                instead: ANOTHER,
            },
        }
    }
}

/// The hint's suggestion for the APIs no other backend stands in for.
const ANOTHER: &str = "another backend whose endpoint the server serves";

/// What `--cache-report` does with a backend (bench_serving's rule).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheReport {
    /// SGLang's OpenAI APIs: ask for the per-tier counts (`return_cached_tokens_details`).
    AskDetails,
    /// SGLang's native API: it reports them unasked.
    Native,
    /// Any other: a note; `usage.prompt_tokens_details.cached_tokens` counts when sent.
    Note,
}

/// Why runner cannot use a backend.
#[derive(Debug)]
pub struct Unsupported {
    /// For a scenario file, after "backend `NAME` is not supported: ".
    pub why: &'static str,
    /// For `runner bench --backend NAME`, after "… is not supported by runner bench: ".
    pub bench_why: &'static str,
}

/// What a backend implies: one row of the table.
#[derive(Debug)]
pub struct BackendFacts {
    /// The name as written in scenario files and on the command line.
    pub name: &'static str,
    /// The server family.
    pub family: Family,
    /// The API it speaks; `None` when runner cannot send to it ([`BackendFacts::unsupported`]).
    pub api: Option<Api>,
    /// Why it cannot be used; `None` when it is supported.
    pub unsupported: Option<Unsupported>,
    /// Path polled until it answers 200 before the first run; empty: the base URL itself.
    pub ready_path: &'static str,
    /// Whether requests carry the environment's key: `OPENAI_API_KEY` as a bearer token,
    /// else `API_KEY` verbatim, in `Authorization`.
    pub env_auth: bool,
    /// bench_serving's port when `--port` is not given.
    pub default_port: u16,
    /// Whether its server lists its models, so `runner bench` can do without `--model`.
    pub lists_models: bool,
    /// What `--cache-report` does.
    pub cache_report: CacheReport,
}

impl Backend {
    /// The backend's row of the table.
    pub const fn facts(self) -> &'static BackendFacts {
        use {Api::*, CacheReport::*};
        match self {
            Backend::Sglang => &BackendFacts {
                name: "sglang",
                family: Family::Sglang,
                api: Some(Generate),
                unsupported: None,
                ready_path: "/v1/models",
                env_auth: true,
                default_port: 30000,
                lists_models: true,
                cache_report: Native,
            },
            Backend::SglangNative => &BackendFacts {
                name: "sglang-native",
                family: Family::Sglang,
                api: Some(Generate),
                unsupported: None,
                ready_path: "/v1/models",
                env_auth: true,
                default_port: 30000,
                lists_models: true,
                cache_report: Native,
            },
            Backend::SglangOai => &BackendFacts {
                name: "sglang-oai",
                family: Family::Sglang,
                api: Some(Completions),
                unsupported: None,
                ready_path: "/v1/models",
                env_auth: true,
                default_port: 30000,
                lists_models: true,
                cache_report: AskDetails,
            },
            Backend::SglangOaiChat => &BackendFacts {
                name: "sglang-oai-chat",
                family: Family::Sglang,
                api: Some(Chat),
                unsupported: None,
                ready_path: "/v1/models",
                env_auth: true,
                default_port: 30000,
                lists_models: true,
                cache_report: AskDetails,
            },
            Backend::SglangEmbedding => &BackendFacts {
                name: "sglang-embedding",
                family: Family::Sglang,
                api: Some(Embeddings),
                unsupported: None,
                ready_path: "/v1/models",
                env_auth: true,
                default_port: 30000,
                lists_models: true,
                cache_report: Note,
            },
            Backend::Vllm => &BackendFacts {
                name: "vllm",
                family: Family::Vllm,
                api: Some(Completions),
                unsupported: None,
                ready_path: "/v1/models",
                env_auth: true,
                default_port: 8000,
                lists_models: true,
                cache_report: Note,
            },
            Backend::VllmChat => &BackendFacts {
                name: "vllm-chat",
                family: Family::Vllm,
                api: Some(Chat),
                unsupported: None,
                ready_path: "/v1/models",
                env_auth: true,
                default_port: 30000,
                lists_models: true,
                cache_report: Note,
            },
            Backend::VllmEmbedding => &BackendFacts {
                name: "vllm-embedding",
                family: Family::Vllm,
                api: Some(Embeddings),
                unsupported: None,
                ready_path: "/v1/models",
                env_auth: true,
                default_port: 8000,
                lists_models: true,
                cache_report: Note,
            },
            Backend::Lmdeploy => &BackendFacts {
                name: "lmdeploy",
                family: Family::Other,
                api: Some(Completions),
                unsupported: None,
                ready_path: "/v1/models",
                env_auth: true,
                default_port: 23333,
                lists_models: true,
                cache_report: Note,
            },
            Backend::LmdeployChat => &BackendFacts {
                name: "lmdeploy-chat",
                family: Family::Other,
                api: Some(Chat),
                unsupported: None,
                ready_path: "/v1/models",
                env_auth: true,
                default_port: 30000,
                lists_models: true,
                cache_report: Note,
            },
            Backend::Trt => &BackendFacts {
                name: "trt",
                family: Family::Other,
                api: Some(Trt),
                unsupported: None,
                ready_path: "",
                env_auth: false,
                default_port: 8000,
                lists_models: false,
                cache_report: Note,
            },
            Backend::Gserver => &BackendFacts {
                name: "gserver",
                family: Family::Other,
                api: None,
                unsupported: Some(Unsupported {
                    why: "bench_serving's gserver client is an unimplemented stub, so there is \
                          no request format to reproduce",
                    bench_why: "bench_serving's gserver is an unimplemented stub that crashes \
                                the run",
                }),
                ready_path: "",
                env_auth: true,
                default_port: 9988,
                lists_models: true,
                cache_report: Note,
            },
            Backend::Truss => &BackendFacts {
                name: "truss",
                family: Family::Other,
                api: Some(Truss),
                unsupported: None,
                ready_path: "/v1/models",
                env_auth: true,
                default_port: 8080,
                lists_models: false,
                cache_report: Note,
            },
        }
    }

    /// The name as written in scenario files and on the command line.
    pub const fn as_str(self) -> &'static str {
        self.facts().name
    }

    /// The backend of that name, if there is one.
    pub fn from_name(name: &str) -> Option<Backend> {
        <Backend as clap::ValueEnum>::value_variants()
            .iter()
            .copied()
            .find(|b| b.as_str() == name)
    }

    /// The server family this backend talks to.
    pub const fn family(self) -> Family {
        self.facts().family
    }

    /// The API it speaks; `None` when runner cannot send to it.
    pub const fn api(self) -> Option<Api> {
        self.facts().api
    }

    /// Whether it sends chat messages (and can replay multi-turn conversations).
    pub fn is_chat(self) -> bool {
        self.api() == Some(Api::Chat)
    }

    /// Whether it speaks an embeddings API (no tokens are generated).
    pub fn is_embedding(self) -> bool {
        self.api() == Some(Api::Embeddings)
    }

    /// Why the backend cannot be used, for validation; `None` when it is supported.
    pub fn unsupported(self) -> Option<String> {
        let why = self.facts().unsupported.as_ref()?.why;
        Some(format!(
            "backend `{}` is not supported: {why}",
            self.as_str()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all() -> &'static [Backend] {
        <Backend as clap::ValueEnum>::value_variants()
    }

    #[test]
    fn families_follow_the_names() {
        for b in all() {
            let want = match b.as_str() {
                n if n.starts_with("sglang") => Family::Sglang,
                n if n.starts_with("vllm") => Family::Vllm,
                _ => Family::Other,
            };
            assert_eq!(b.family(), want, "{}", b.as_str());
        }
    }

    #[test]
    fn names_are_the_scenario_and_command_line_names() {
        for &b in all() {
            let serde = serde_json::to_value(b).unwrap();
            assert_eq!(serde.as_str(), Some(b.as_str()));
            let clap = clap::ValueEnum::to_possible_value(&b).unwrap();
            assert_eq!(clap.get_name(), b.as_str());
            assert_eq!(Backend::from_name(b.as_str()), Some(b));
        }
        assert_eq!(Backend::from_name("nope"), None);
    }

    #[test]
    fn a_backend_without_an_api_says_why() {
        for &b in all() {
            let f = b.facts();
            assert_eq!(f.api.is_none(), f.unsupported.is_some(), "{}", f.name);
        }
        assert_eq!(
            Backend::Gserver.unsupported().unwrap(),
            "backend `gserver` is not supported: bench_serving's gserver client is an \
             unimplemented stub, so there is no request format to reproduce"
        );
        assert_eq!(Backend::Vllm.unsupported(), None);
    }

    #[test]
    fn chat_and_embedding_backends_are_named_so() {
        for &b in all() {
            assert_eq!(b.is_chat(), b.as_str().ends_with("-chat"), "{}", b.as_str());
            let embedding = b.as_str().ends_with("-embedding");
            assert_eq!(b.is_embedding(), embedding, "{}", b.as_str());
        }
    }
}
