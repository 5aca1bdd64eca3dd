//! Scenario files: the typed model of what to send, where, and how hard.
//!
//! In: a YAML or TOML file (see [`load`]). Out: a [`Scenario`], the one configuration struct
//! every later stage reads. The JSON Schema (`runner schema`) is generated from these types,
//! so the doc comments here are also the schema's descriptions.

mod axis;
mod backend;
mod checks;
mod dataset;
mod dupkey;
pub mod embedded;
pub mod fault;
pub mod load;
pub mod locate;
mod long;
pub mod optional;
mod problem;
mod raw;
pub mod regress;
mod request;
mod search;
pub mod secrets;
mod semantic;
mod slo;
pub mod template;
pub mod validate;

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use axis::{Axis, Concurrency, Rate, zip_len};
pub use backend::{Api, ApiFacts, BackendFacts, CacheReport, Family, Unsupported};
pub use dataset::*;
pub use embedded::{Preset, SimConfig};
pub use fault::{Fault, FaultKind};
pub use load::{LoadError, Loaded, load, load_str};
pub use long::{ERROR_RATE_MIN_FINISHED, Ramp, RampShape};
pub use problem::Problem;
pub use regress::{Gate, GateRule};
pub use request::*;
pub use search::{Probe, Search, SearchAxis};
pub use slo::{SLO_DISTRIBUTIONS, Slo, summary_metric_names};

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
    /// Labels written on every run (`labels` in runs.jsonl and summary.csv), e.g.
    /// `{ server: sglang-0.5.3, gpu: h100 }`; `runner run --label KEY=VALUE` adds or replaces.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// Regression gate applied by `runner diff --scenario FILE` (exit 4 when crossed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gate: Option<Gate>,
    /// Run every point of the sweep this many times (run ids gain `/rep=K`); after the last
    /// repeat of a point an aggregate line gives each metric's mean and 95 % confidence
    /// interval.
    #[serde(default = "default_repeat", skip_serializing_if = "is_one")]
    #[schemars(range(min = 1))]
    pub repeat: u32,
    /// Service-level objectives: every run records goodput, attainment and a verdict;
    /// `runner run` exits 3 when a run fails them (runs of a search excepted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slo: Option<Slo>,
    /// Capacity search: the highest load meeting `slo`, for each target × dataset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub search: Option<Search>,
    /// Notes on targets left out by `when_env` (filled when loading).
    #[serde(skip)]
    pub skipped_targets: Vec<String>,
}

fn default_repeat() -> u32 {
    1
}

fn is_one(n: &u32) -> bool {
    *n == 1
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
    /// Optional target: used only when this environment variable is set and not empty,
    /// else skipped with a note. Pair it with `base_url: "${VAR:-}"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when_env: Option<String>,
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
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema, clap::ValueEnum,
)]
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
    #[value(hide = true)]
    Gserver,
    /// Truss `/v1/models/model:predict`.
    Truss,
}

/// Load shape of every run.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Load {
    /// Mean request rate in requests per second, or `inf` to send everything at once.
    /// A value or a list (a sweep axis).
    pub request_rate: Axis<Rate>,
    /// Maximum requests in flight; `0` means no limit. A value or a list (a sweep axis).
    pub max_concurrency: Axis<Concurrency>,
    /// Arrival process for finite rates.
    pub arrival: Arrival,
    /// Shape of the gamma arrival process: below 1 is burstier than Poisson, above 1 is
    /// smoother. Only with `arrival: gamma`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0.0))]
    pub burstiness: Option<f64>,
    /// Requests sent (through the concurrency cap) before each measured run; not measured.
    pub warmup_requests: u32,
    /// Flush the server's prefix cache after warmup, before each measured run: vLLM
    /// `POST /reset_prefix_cache`, SGLang `POST /flush_cache?timeout=…`, others
    /// `POST /flush_cache`.
    pub flush_cache: bool,
    /// `timeout` query parameter of SGLang's `/flush_cache`, in seconds.
    #[schemars(range(min = 0.001))]
    pub flush_cache_timeout_s: f64,
    /// Profile the server during each measured run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profile: Option<ProfileOptions>,
    /// The rate ramp of `arrival: ramp` (then `request_rate` is not used).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ramp: Option<Ramp>,
    /// Run for this many seconds instead of until the dataset's prompts are sent: prompts are
    /// recycled, nothing is dispatched after this time, and in-flight requests finish.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0.001))]
    pub duration_s: Option<f64>,
    /// Stop dispatching once this many requests have failed; in-flight requests finish and
    /// the run is marked `"stopped": "error_budget"`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub max_errors: Option<u64>,
    /// Stop dispatching once the failed fraction of finished requests exceeds this (0..1),
    /// checked from the 20th finished request on; marked `"stopped": "error_budget"`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0.0, max = 1.0))]
    pub max_error_rate: Option<f64>,
    /// Stop a run once the server is saturated: over the last 5 s the backlog (requests due
    /// but not finished) grew on every 1 s sample by 10 % or more in total, while requests
    /// completed slower than they came due. Marked `"stopped": "saturated"`.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub stop_on_saturation: bool,
}

impl Default for Load {
    fn default() -> Self {
        Load {
            request_rate: Axis::One(Rate::Infinite),
            max_concurrency: Axis::default(),
            arrival: Arrival::default(),
            burstiness: None,
            warmup_requests: 1,
            flush_cache: false,
            flush_cache_timeout_s: 60.0,
            profile: None,
            ramp: None,
            duration_s: None,
            max_errors: None,
            max_error_rate: None,
            stop_on_saturation: false,
        }
    }
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
    /// Poisson (gamma with `burstiness`) arrivals whose rate follows `load.ramp`.
    Ramp,
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
    /// Report the prefix-cache hits the server returns with each response (SGLang's
    /// `cached_tokens`, OpenAI's `prompt_tokens_details.cached_tokens`): a "Cache Hit
    /// Details" section and a `cache_report` object, as bench_serving's `--cache-report`.
    #[serde(default)]
    pub cache_report: bool,
    /// When the runs end, draw the plots (`plots/`, SVG and PNG) and write `report.md` in the
    /// results directory, as `runner report DIR` (or `runner run --report`) does.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub report: bool,
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
