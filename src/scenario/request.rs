//! What goes into each request and how it travels: body options (stream, EOS, usage,
//! sampling, extra body, template, logprobs, LoRA), connections and time limits.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// What goes into each request.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct RequestOptions {
    /// Stream the response (`stream: true`); TTFT and ITL need it. `false` is bench_serving's
    /// `--disable-stream`: TTFT then equals the whole latency.
    pub stream: bool,
    /// Send `ignore_eos: true` so every request generates its full output length (`false` is
    /// bench_serving's `--disable-ignore-eos`).
    pub ignore_eos: bool,
    /// Ask OpenAI-compatible servers for token usage in the stream
    /// (`stream_options.include_usage`), so output lengths are measured, not assumed.
    pub include_usage: bool,
    /// Sampling temperature, sent to every backend (bench_serving sends its `--temperature`
    /// to the native backend only). Default: each backend's bench_serving default (0.0; trt
    /// 0.000001). A `temperature` in `extra_body` wins on OpenAI-style backends.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0.0))]
    pub temperature: Option<f64>,
    /// Top-p, sent to every backend when below 1.0 (trt always sends it).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0.0, max = 1.0))]
    pub top_p: Option<f64>,
    /// JSON object merged into every request body (bench_serving's `--extra-request-body`);
    /// a dataset row's own extra body is merged over it.
    #[serde(skip_serializing_if = "serde_json::Map::is_empty")]
    pub extra_body: serde_json::Map<String, serde_json::Value>,
    /// A minijinja template that renders the whole JSON request body, replacing the
    /// backend's default body (a target's `template` wins over this). See docs/scenarios.md
    /// ("Body templates") for the context variables.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
    /// Log-probability options.
    pub logprobs: LogprobOptions,
    /// Ask SGLang's native API for routed experts (`return_routed_experts`).
    pub return_routed_experts: bool,
    /// LoRA adapters to spread the requests over.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lora: Option<LoraOptions>,
    /// Time limits of one request.
    pub timeouts: Timeouts,
    /// `pooled` (default): keep-alive connections are reused. `per-request`: every request
    /// opens a new connection, as bench_serving does (one aiohttp session per request); use it
    /// for servers that close connections they advertise as keep-alive, or for parity runs.
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

/// Log-probability options (bench_serving's `--return-logprob`, `--top-logprobs-num`,
/// `--token-ids-logprob`, `--logprob-start-len`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct LogprobOptions {
    /// Ask for log-probabilities.
    pub enabled: bool,
    /// Top log-probabilities per token (OpenAI `logprobs`/`top_logprobs`, native
    /// `top_logprobs_num`); 0 = none.
    pub top_n: u32,
    /// Token ids whose log-probabilities to return (native API only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_ids: Option<Vec<u32>>,
    /// First prompt position to return log-probabilities for; -1 = none (native API only).
    pub start_len: i64,
}

impl Default for LogprobOptions {
    fn default() -> Self {
        LogprobOptions {
            enabled: false,
            top_n: 0,
            token_ids: None,
            start_len: -1,
        }
    }
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
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema, clap::ValueEnum,
)]
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
#[serde(default, deny_unknown_fields)]
pub struct Timeouts {
    /// Establishing the TCP connection.
    #[schemars(range(min = 0.001))]
    pub connect_s: f64,
    /// From sending the request to the response headers (servers that queue requests
    /// answer only when a slot frees, so this includes server-side queueing).
    #[schemars(range(min = 0.001))]
    pub first_byte_s: f64,
    /// Longest silence between two chunks of a response body.
    #[schemars(range(min = 0.001))]
    pub idle_s: f64,
    /// The whole request, from sending to the end of the response.
    #[schemars(range(min = 0.001))]
    pub total_s: f64,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            connect_s: 10.0,
            first_byte_s: 600.0,
            idle_s: 120.0,
            total_s: 3600.0,
        }
    }
}
