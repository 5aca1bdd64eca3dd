//! Scenario files: the typed model of what to send, where, and how hard.
//!
//! In: a YAML or TOML file (see [`load`]). Out: a [`Scenario`], the one configuration struct
//! every later stage reads. The JSON Schema (`runner schema`) is generated from these types,
//! so the doc comments here are also the schema's descriptions.

mod axis;
mod dataset;
pub mod load;
pub mod locate;
pub mod validate;

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use axis::{Axis, Concurrency, Rate};
pub use dataset::*;
pub use load::{LoadError, Loaded, load, load_str};

use crate::sim::SimConfig;

/// A benchmark scenario: targets × datasets × load levels, run one after another.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    title = "runner scenario",
    extend("patternProperties" = { "^x-": {} })
)]
pub struct Scenario {
    /// Scenario name; names the results and is written into every result line.
    pub name: String,
    /// Model name sent in each request's `model` field (a target may override it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Tokenizer used to build prompts and count tokens: `builtin` (the small tokenizer shipped
    /// with runner, the default), a path to a Hugging Face `tokenizer.json` or model directory,
    /// a Hugging Face id (`org/name`: the local HF cache, else a download when online),
    /// `server:URL` (the server's `/tokenize` and `/detokenize`), or `server` (the first
    /// target with a `base_url`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tokenizer: Option<String>,
    /// Seed for every random choice (prompt tokens, lengths, arrival times). The same seed gives
    /// the same requests and the same schedule.
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// Servers to benchmark. A sweep axis.
    #[schemars(length(min = 1))]
    pub targets: Vec<Target>,
    /// Workloads to send. A sweep axis.
    #[schemars(length(min = 1))]
    pub datasets: Vec<Dataset>,
    /// Load shape. `request_rate` and `max_concurrency` are sweep axes.
    #[serde(default)]
    pub load: Load,
    /// How the sweep axes combine into runs.
    #[serde(default)]
    pub sweep: Sweep,
    /// What goes into each request.
    #[serde(default)]
    pub request: RequestOptions,
    /// Where results are written.
    #[serde(default)]
    pub output: OutputOptions,
}

fn default_seed() -> u64 {
    42
}

/// One server to benchmark.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Target {
    /// Short name used in run ids (letters, digits, `.`, `_`, `-`).
    #[schemars(regex(pattern = r"^[A-Za-z0-9._-]+$"))]
    pub name: String,
    /// Request protocol, as bench_serving's `--backend`.
    pub backend: Backend,
    /// Base URL of the server, e.g. `http://127.0.0.1:30000`. Required unless `embedded` is set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
    /// Model name for this target; overrides the scenario's `model`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Extra HTTP headers sent with every request. Values may use `${ENV}`; they are never
    /// written to results.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    /// Start runner's embedded simulated server in-process (on 127.0.0.1, a free port) and
    /// benchmark it instead of a remote server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub embedded: Option<SimConfig>,
    /// Body template for this target; wins over `request.template`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
    /// Wait up to this many seconds for the server to answer `GET /v1/models` with 200
    /// before the first run (bench_serving's `--ready-check-timeout-sec`); 0 skips the check.
    #[serde(default = "default_ready_timeout")]
    #[schemars(range(min = 0.0))]
    pub ready_timeout_s: f64,
}

fn default_ready_timeout() -> f64 {
    60.0
}

/// Request protocol of a target (bench_serving's `--backend` choices).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Backend {
    /// SGLang native `/generate`.
    Sglang,
    /// SGLang native `/generate`.
    SglangNative,
    /// SGLang's OpenAI-compatible `/v1/completions`.
    SglangOai,
    /// SGLang's OpenAI-compatible `/v1/chat/completions`.
    SglangOaiChat,
    /// SGLang `/v1/embeddings`.
    SglangEmbedding,
    /// vLLM `/v1/completions`.
    Vllm,
    /// vLLM `/v1/chat/completions`.
    VllmChat,
    /// vLLM `/v1/embeddings`.
    VllmEmbedding,
    /// LMDeploy `/v1/completions`.
    Lmdeploy,
    /// LMDeploy `/v1/chat/completions`.
    LmdeployChat,
    /// TensorRT-LLM `/v2/models/ensemble/generate_stream`.
    Trt,
    /// gRPC gserver (not supported).
    Gserver,
    /// Truss `/v1/models/model:predict`.
    Truss,
}

impl Backend {
    /// The name as written in scenario files and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Sglang => "sglang",
            Backend::SglangNative => "sglang-native",
            Backend::SglangOai => "sglang-oai",
            Backend::SglangOaiChat => "sglang-oai-chat",
            Backend::SglangEmbedding => "sglang-embedding",
            Backend::Vllm => "vllm",
            Backend::VllmChat => "vllm-chat",
            Backend::VllmEmbedding => "vllm-embedding",
            Backend::Lmdeploy => "lmdeploy",
            Backend::LmdeployChat => "lmdeploy-chat",
            Backend::Trt => "trt",
            Backend::Gserver => "gserver",
            Backend::Truss => "truss",
        }
    }
}

/// Load shape of every run.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Load {
    /// Mean request rate in requests per second, or `inf` to send everything at once.
    /// A value or a list (a sweep axis).
    #[serde(default = "default_rates")]
    pub request_rate: Axis<Rate>,
    /// Maximum requests in flight; `0` means no limit. A value or a list (a sweep axis).
    #[serde(default)]
    pub max_concurrency: Axis<Concurrency>,
    /// Arrival process for finite rates.
    #[serde(default)]
    pub arrival: Arrival,
    /// Shape of the gamma arrival process: below 1 is burstier than Poisson, above 1 is
    /// smoother. Only with `arrival: gamma`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0.0))]
    pub burstiness: Option<f64>,
    /// Requests sent (through the concurrency cap) before each measured run; not measured.
    #[serde(default = "default_warmup")]
    pub warmup_requests: u32,
    /// Flush the server's prefix cache after warmup, before each measured run: vLLM
    /// `POST /reset_prefix_cache`, SGLang `POST /flush_cache?timeout=…`, others
    /// `POST /flush_cache`.
    #[serde(default)]
    pub flush_cache: bool,
    /// `timeout` query parameter of SGLang's `/flush_cache`, in seconds.
    #[serde(default = "default_flush_timeout")]
    #[schemars(range(min = 0.001))]
    pub flush_cache_timeout_s: f64,
    /// Profile the server during each measured run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<ProfileOptions>,
}

fn default_flush_timeout() -> f64 {
    60.0
}

impl Default for Load {
    fn default() -> Self {
        Load {
            request_rate: default_rates(),
            max_concurrency: Axis::default(),
            arrival: Arrival::default(),
            burstiness: None,
            warmup_requests: default_warmup(),
            flush_cache: false,
            flush_cache_timeout_s: default_flush_timeout(),
            profile: None,
        }
    }
}

fn default_rates() -> Axis<Rate> {
    Axis::One(Rate::Infinite)
}

fn default_warmup() -> u32 {
    1
}

/// Arrival process: when each request is due.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Arrival {
    /// Exponential gaps with mean 1/rate (bench_serving's only process).
    #[default]
    Poisson,
    /// Gamma-distributed gaps with mean 1/rate and shape `burstiness`.
    Gamma,
    /// Evenly spaced: one request every 1/rate seconds.
    Constant,
    /// Each request at its dataset timestamp (`mooncake`), whatever the rate.
    Trace,
}

/// How sweep axes combine.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Sweep {
    /// `product`: every combination of targets, datasets, rates and concurrencies.
    /// `zip`: the i-th entry of each axis together; lists must have equal lengths
    /// (an axis with a single entry is used for every run).
    #[serde(default)]
    pub mode: SweepMode,
}

/// Sweep combination mode.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum SweepMode {
    /// Cartesian product of all axes.
    #[default]
    Product,
    /// Element-wise combination of equal-length axes.
    Zip,
}

/// What goes into each request.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RequestOptions {
    /// Stream the response (`stream: true`); TTFT and ITL need it. `false` is bench_serving's
    /// `--disable-stream`: TTFT then equals the whole latency.
    #[serde(default = "yes")]
    pub stream: bool,
    /// Send `ignore_eos: true` so every request generates its full output length (`false` is
    /// bench_serving's `--disable-ignore-eos`).
    #[serde(default = "yes")]
    pub ignore_eos: bool,
    /// Ask OpenAI-compatible servers for token usage in the stream
    /// (`stream_options.include_usage`), so output lengths are measured, not assumed.
    #[serde(default = "yes")]
    pub include_usage: bool,
    /// Sampling temperature, sent to every backend (bench_serving sends its `--temperature`
    /// to the native backend only). Default: each backend's bench_serving default (0.0; trt
    /// 0.000001). A `temperature` in `extra_body` wins on OpenAI-style backends.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0.0))]
    pub temperature: Option<f64>,
    /// Top-p, sent to every backend when below 1.0 (trt always sends it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0.0, max = 1.0))]
    pub top_p: Option<f64>,
    /// JSON object merged into every request body (bench_serving's `--extra-request-body`);
    /// a dataset row's own extra body is merged over it.
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub extra_body: serde_json::Map<String, serde_json::Value>,
    /// A minijinja template that renders the whole JSON request body, replacing the
    /// backend's default body (a target's `template` wins over this). See the README for the
    /// context variables.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
    /// Log-probability options.
    #[serde(default)]
    pub logprobs: LogprobOptions,
    /// Ask SGLang's native API for routed experts (`return_routed_experts`).
    #[serde(default)]
    pub return_routed_experts: bool,
    /// LoRA adapters to spread the requests over.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lora: Option<LoraOptions>,
    /// Time limits of one request.
    #[serde(default)]
    pub timeouts: Timeouts,
    /// `pooled` (default): keep-alive connections are reused. `per-request`: every request
    /// opens a new connection, as bench_serving does (one aiohttp session per request); use it
    /// for servers that close connections they advertise as keep-alive, or for parity runs.
    #[serde(default)]
    pub connection: ConnectionMode,
}

/// How requests use TCP connections.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ConnectionMode {
    /// Reuse keep-alive connections from one shared pool.
    #[default]
    Pooled,
    /// A new connection for every request (its connect time lands in TTFT).
    PerRequest,
}

impl Default for RequestOptions {
    fn default() -> Self {
        RequestOptions {
            stream: true,
            ignore_eos: true,
            include_usage: true,
            temperature: None,
            top_p: None,
            extra_body: serde_json::Map::new(),
            template: None,
            logprobs: LogprobOptions::default(),
            return_routed_experts: false,
            lora: None,
            timeouts: Timeouts::default(),
            connection: ConnectionMode::default(),
        }
    }
}

fn yes() -> bool {
    true
}

/// Log-probability options (bench_serving's `--return-logprob`, `--top-logprobs-num`,
/// `--token-ids-logprob`, `--logprob-start-len`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LogprobOptions {
    /// Ask for log-probabilities.
    #[serde(default)]
    pub enabled: bool,
    /// Top log-probabilities per token (OpenAI `logprobs`/`top_logprobs`, native
    /// `top_logprobs_num`); 0 = none.
    #[serde(default)]
    pub top_n: u32,
    /// Token ids whose log-probabilities to return (native API only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_ids: Option<Vec<u32>>,
    /// First prompt position to return log-probabilities for; -1 = none (native API only).
    #[serde(default = "default_logprob_start")]
    pub start_len: i64,
}

impl Default for LogprobOptions {
    fn default() -> Self {
        LogprobOptions {
            enabled: false,
            top_n: 0,
            token_ids: None,
            start_len: default_logprob_start(),
        }
    }
}

fn default_logprob_start() -> i64 {
    -1
}

/// LoRA adapter names and how requests are spread over them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LoraOptions {
    /// Adapter names (sent as `lora_path`, and as `model` on OpenAI-style backends).
    #[schemars(length(min = 1))]
    pub names: Vec<String>,
    /// How each request picks its adapter.
    #[serde(default)]
    pub distribution: LoraDistribution,
    /// Skew of `skewed`: adapter `i` is picked with probability proportional to
    /// `zipf_alpha^-i`. Must be greater than 1.
    #[serde(default = "default_zipf_alpha")]
    pub zipf_alpha: f64,
}

fn default_zipf_alpha() -> f64 {
    1.5
}

/// How requests pick a LoRA adapter.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum LoraDistribution {
    /// Uniformly at random (seeded).
    #[default]
    Uniform,
    /// Round-robin in list order.
    Distinct,
    /// The first adapters more often (`zipf_alpha`).
    Skewed,
}

/// Time limits of one request, in seconds. A request that exceeds one fails with
/// `timeout_<phase>`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Timeouts {
    /// Establishing the TCP connection.
    #[serde(default = "default_connect_s")]
    #[schemars(range(min = 0.001))]
    pub connect_s: f64,
    /// From sending the request to the response headers (servers that queue requests
    /// answer only when a slot frees, so this includes server-side queueing).
    #[serde(default = "default_first_byte_s")]
    #[schemars(range(min = 0.001))]
    pub first_byte_s: f64,
    /// Longest silence between two chunks of a response body.
    #[serde(default = "default_idle_s")]
    #[schemars(range(min = 0.001))]
    pub idle_s: f64,
    /// The whole request, from sending to the end of the response.
    #[serde(default = "default_total_s")]
    #[schemars(range(min = 0.001))]
    pub total_s: f64,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            connect_s: default_connect_s(),
            first_byte_s: default_first_byte_s(),
            idle_s: default_idle_s(),
            total_s: default_total_s(),
        }
    }
}

fn default_connect_s() -> f64 {
    10.0
}

fn default_first_byte_s() -> f64 {
    600.0
}

fn default_idle_s() -> f64 {
    120.0
}

fn default_total_s() -> f64 {
    3600.0
}

/// Profiling on the server during each measured run (SGLang `/start_profile`,
/// `/stop_profile`; bench_serving's `--profile*` options).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfileOptions {
    /// Activities to record.
    #[serde(default = "default_activities")]
    pub activities: Vec<String>,
    /// Directory on the server; a per-run subdirectory (the Unix time) is appended.
    /// Default: `$SGLANG_TORCH_PROFILER_DIR`, else `/tmp`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_dir: Option<String>,
    /// Stop by itself after this many steps (then no stop call is sent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub num_steps: Option<u32>,
    /// Step to start at.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_step: Option<u32>,
    /// Profile prefill and decode separately.
    #[serde(default)]
    pub by_stage: bool,
    /// Stages to profile when `by_stage`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stages: Option<Vec<String>>,
    /// File name prefix.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
}

fn default_activities() -> Vec<String> {
    vec!["CPU".into(), "GPU".into()]
}

/// Where results are written.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OutputOptions {
    /// Results directory; default `results/<scenario name>`. Relative paths are taken from the
    /// current directory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dir: Option<String>,
    /// Also write one line per request to `requests/<run>.jsonl` in the results directory.
    #[serde(default)]
    pub details: bool,
}

impl Scenario {
    /// The results directory.
    pub fn output_dir(&self) -> std::path::PathBuf {
        match &self.output.dir {
            Some(d) => d.into(),
            None => std::path::Path::new("results").join(&self.name),
        }
    }

    /// The JSON Schema of scenario files, as `runner schema` prints it.
    pub fn json_schema() -> serde_json::Value {
        serde_json::to_value(schemars::schema_for!(Scenario)).expect("schema serializes")
    }
}
