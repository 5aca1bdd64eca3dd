//! Settings of the embedded server: one struct that is both a scenario's `embedded:` block and
//! the `runner serve` flags (its runtime is `sim`).
//!
//! In: a [`SimConfig`] (a preset plus optional overrides). Out: [`Params`], every parameter
//! resolved against the preset and checked, or every [`super::Problem`] with it.

mod params;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::fault::Fault;
pub use params::{EngineParams, Params, Timing};

/// A starting point for the server's behaviour; every parameter can be overridden.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema, clap::ValueEnum,
)]
#[serde(rename_all = "kebab-case")]
pub enum Preset {
    /// Fixed timing, no capacity limit: each request gets its first token `ttft_ms` after it
    /// arrives and one more every `itl_ms`, however many run at once (default 50 ms / 10 ms).
    #[default]
    Fixed,
    /// No modelled latency: tokens are written as fast as the connection takes them.
    Instant,
    /// A small engine for tests and demos: batches of up to 8, 2 ms steps. With 32-token
    /// prompts and 16-token outputs it saturates near 120 requests/s.
    Tiny,
    /// Roughly Llama-3.1-8B (bf16) served by SGLang on one H100: batches of up to 256, 6 ms
    /// decode steps, about 33k prompt tokens/s of prefill, 450k tokens of KV cache.
    #[serde(rename = "llama-8b-h100")]
    #[value(name = "llama-8b-h100")]
    Llama8bH100,
}

impl Preset {
    /// The name as written in scenario files and flags.
    pub fn as_str(self) -> &'static str {
        match self {
            Preset::Fixed => "fixed",
            Preset::Instant => "instant",
            Preset::Tiny => "tiny",
            Preset::Llama8bH100 => "llama-8b-h100",
        }
    }

    fn is_engine(self) -> bool {
        matches!(self, Preset::Tiny | Preset::Llama8bH100)
    }
}

/// Settings of the embedded server: a preset, overrides of its parameters, and faults.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema, clap::Args)]
#[serde(deny_unknown_fields)]
pub struct SimConfig {
    /// Starting point for every parameter: `fixed` (default), `instant`, `tiny` or
    /// `llama-8b-h100`. `fixed` and `instant` time each request on its own; `tiny` and
    /// `llama-8b-h100` run an engine model with batching, a KV limit and a prefix cache.
    #[serde(default)]
    #[arg(long, value_enum, default_value_t)]
    pub preset: Preset,
    /// Time to first token in milliseconds, from the moment the request is read (`fixed`: 50,
    /// `instant`: 0; not used by the engine presets).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[arg(long)]
    #[schemars(range(min = 0.0))]
    pub ttft_ms: Option<f64>,
    /// Time between output tokens in milliseconds (`fixed`: 10, `instant`: 0; not used by the
    /// engine presets).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[arg(long)]
    #[schemars(range(min = 0.0))]
    pub itl_ms: Option<f64>,
    /// Engine: most requests running at once; later ones wait (`tiny`: 8, `llama-8b-h100`: 256).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[arg(long)]
    #[schemars(range(min = 1))]
    pub max_batch: Option<u32>,
    /// Engine: KV cache size in tokens. A request is admitted only when its prompt plus its
    /// maximum output fit (`tiny`: 65536, `llama-8b-h100`: 450000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[arg(long)]
    #[schemars(range(min = 1))]
    pub kv_tokens: Option<u64>,
    /// Engine: prompt tokens prefilled per step, shared by the requests being prefilled
    /// (chunked prefill; `tiny`: 512, `llama-8b-h100`: 8192).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[arg(long)]
    #[schemars(range(min = 1))]
    pub prefill_chunk: Option<u32>,
    /// Engine: fixed cost of one step in milliseconds (`tiny`: 2, `llama-8b-h100`: 6).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[arg(long)]
    #[schemars(range(min = 0.001))]
    pub step_ms: Option<f64>,
    /// Engine: step cost of each prompt token prefilled, in milliseconds (`tiny`: 0.01,
    /// `llama-8b-h100`: 0.03).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[arg(long)]
    #[schemars(range(min = 0.0))]
    pub prefill_token_ms: Option<f64>,
    /// Engine: step cost of each request decoding in the step, in milliseconds (`tiny`: 0.25,
    /// `llama-8b-h100`: 0.06).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[arg(long)]
    #[schemars(range(min = 0.0))]
    pub decode_token_ms: Option<f64>,
    /// Engine: prefix cache size in tokens; prompt prefixes seen before skip prefill. 0 turns
    /// it off (`tiny`: 65536, `llama-8b-h100`: 450000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[arg(long)]
    pub prefix_cache_tokens: Option<u64>,
    /// Engine: mean tokens accepted per decode step per request (speculative decoding); 1
    /// means none (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[arg(long)]
    #[schemars(range(min = 1.0))]
    pub spec_accept_length: Option<f64>,
    /// Chance that each output token is the end of sequence, for requests that do not ask to
    /// ignore EOS (default 0.005). Seeded: the same request stops at the same place.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[arg(long)]
    #[schemars(range(min = 0.0, max = 1.0))]
    pub eos_probability: Option<f64>,
    /// Longest prompt plus output a request may ask for; longer ones get HTTP 400 (`tiny`:
    /// 8192, others 131072).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[arg(long)]
    #[schemars(range(min = 1))]
    pub context_len: Option<u32>,
    /// Model name the server reports in `/v1/models` and responses.
    #[serde(default = "default_model")]
    #[arg(long = "served-model-name", default_value_t = default_model())]
    pub model: String,
    /// Seed of every random choice the server makes (output words, EOS, accept lengths,
    /// faults).
    #[serde(default)]
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Faults to inject, first match wins. On the command line: `--fault
    /// kind=http,status=503,probability=0.1` or `--fault disconnect,after_tokens=5,requests=3:7`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[arg(long = "fault", value_name = "SPEC")]
    pub faults: Vec<Fault>,
}

fn default_model() -> String {
    "runner-sim".into()
}

impl SimConfig {
    /// A config of `preset` with no overrides.
    pub fn preset(preset: Preset) -> SimConfig {
        SimConfig {
            preset,
            model: default_model(),
            ..SimConfig::default()
        }
    }

    /// Fixed timing with the given TTFT and ITL.
    pub fn fixed(ttft_ms: f64, itl_ms: f64) -> SimConfig {
        SimConfig {
            ttft_ms: Some(ttft_ms),
            itl_ms: Some(itl_ms),
            ..SimConfig::preset(Preset::Fixed)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_shape() {
        let cfg: SimConfig = serde_yaml_ng::from_str(
            "preset: tiny\nmax_batch: 4\nfaults:\n  - { kind: reset, requests: [2] }\n",
        )
        .unwrap();
        assert_eq!(cfg.preset, Preset::Tiny);
        assert_eq!(cfg.max_batch, Some(4));
        assert_eq!(cfg.faults.len(), 1);
        let e = serde_yaml_ng::from_str::<SimConfig>("preset: tiny\nmax_bach: 4\n").unwrap_err();
        assert!(e.to_string().contains("unknown field `max_bach`"), "{e}");
    }
}
