//! Settings of the embedded server: one struct that is both a scenario's `embedded:` block and
//! the `runner serve` flags.
//!
//! In: a [`SimConfig`] (a preset plus optional overrides). Out: [`Params`], every parameter
//! resolved against the preset and checked, or the list of everything wrong with it.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::fault::Fault;

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

/// The engine model's parameters, resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct EngineParams {
    /// Most requests running at once.
    pub max_batch: u32,
    /// KV cache size in tokens.
    pub kv_tokens: u64,
    /// Prompt tokens prefilled per step.
    pub prefill_chunk: u32,
    /// Fixed step cost, ms.
    pub step_ms: f64,
    /// Cost per prefilled token, ms.
    pub prefill_token_ms: f64,
    /// Cost per decoding request, ms.
    pub decode_token_ms: f64,
    /// Prefix cache size in tokens (0: off).
    pub prefix_cache_tokens: u64,
    /// Mean tokens per decode step per request.
    pub spec_accept_length: f64,
}

impl EngineParams {
    /// Saturated throughput in requests/s for prompts of `input` uncached tokens and `output`
    /// output tokens, when the batch limit binds:
    /// `1 / ((1 + (O-1)/a) * step_ms / B + I * prefill_token_ms + (O-1)/a * decode_token_ms)`
    /// (ms), with `a` the accept length and `B` the batch limit. Each request holds a batch
    /// slot for one prefill step and `(O-1)/a` decode steps.
    pub fn capacity_rps(&self, input: u32, output: u32) -> f64 {
        let decode_steps = f64::from(output.saturating_sub(1)) / self.spec_accept_length;
        let per_request_ms = (1.0 + decode_steps) * self.step_ms / f64::from(self.max_batch)
            + f64::from(input) * self.prefill_token_ms
            + decode_steps * self.decode_token_ms;
        1000.0 / per_request_ms
    }
}

/// How token times are decided.
#[derive(Debug, Clone, PartialEq)]
pub enum Timing {
    /// Per request: first token at `ttft`, then one every `itl`.
    Fixed {
        /// Time to first token, ms.
        ttft_ms: f64,
        /// Inter-token latency, ms.
        itl_ms: f64,
    },
    /// The step-based engine model.
    Engine(EngineParams),
}

/// Every parameter of a server, resolved from preset and overrides.
#[derive(Debug, Clone, PartialEq)]
pub struct Params {
    /// The timing model.
    pub timing: Timing,
    /// Per-token EOS chance when EOS is not ignored.
    pub eos_probability: f64,
    /// Longest prompt + output.
    pub context_len: u32,
}

impl Params {
    /// The engine parameters, when the preset runs the engine model.
    pub fn engine(&self) -> Option<&EngineParams> {
        match &self.timing {
            Timing::Engine(e) => Some(e),
            Timing::Fixed { .. } => None,
        }
    }
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

    /// Resolve the preset and overrides; every problem is reported, one per line.
    pub fn resolve(&self) -> Result<Params, String> {
        let mut errors = Vec::new();
        let p = self.preset;
        let engine_only = [
            ("max_batch", self.max_batch.is_some()),
            ("kv_tokens", self.kv_tokens.is_some()),
            ("prefill_chunk", self.prefill_chunk.is_some()),
            ("step_ms", self.step_ms.is_some()),
            ("prefill_token_ms", self.prefill_token_ms.is_some()),
            ("decode_token_ms", self.decode_token_ms.is_some()),
            ("prefix_cache_tokens", self.prefix_cache_tokens.is_some()),
            ("spec_accept_length", self.spec_accept_length.is_some()),
        ];
        let timing = if p.is_engine() {
            for (name, set) in [
                ("ttft_ms", self.ttft_ms.is_some()),
                ("itl_ms", self.itl_ms.is_some()),
            ] {
                if set {
                    errors.push(format!(
                        "`{name}` applies to presets `fixed` and `instant`; preset `{}` runs the engine model (set step_ms, prefill_token_ms, decode_token_ms instead)",
                        p.as_str()
                    ));
                }
            }
            let base = engine_defaults(p);
            let e = EngineParams {
                max_batch: self.max_batch.unwrap_or(base.max_batch),
                kv_tokens: self.kv_tokens.unwrap_or(base.kv_tokens),
                prefill_chunk: self.prefill_chunk.unwrap_or(base.prefill_chunk),
                step_ms: self.step_ms.unwrap_or(base.step_ms),
                prefill_token_ms: self.prefill_token_ms.unwrap_or(base.prefill_token_ms),
                decode_token_ms: self.decode_token_ms.unwrap_or(base.decode_token_ms),
                prefix_cache_tokens: self.prefix_cache_tokens.unwrap_or(base.prefix_cache_tokens),
                spec_accept_length: self.spec_accept_length.unwrap_or(1.0),
            };
            check_engine(&e, &mut errors);
            Timing::Engine(e)
        } else {
            for (name, set) in engine_only {
                if set {
                    errors.push(format!(
                        "`{name}` applies to the engine presets (`tiny`, `llama-8b-h100`); preset `{}` times each request on its own with ttft_ms and itl_ms",
                        p.as_str()
                    ));
                }
            }
            let zero = p == Preset::Instant;
            let ttft_ms = self.ttft_ms.unwrap_or(if zero { 0.0 } else { 50.0 });
            let itl_ms = self.itl_ms.unwrap_or(if zero { 0.0 } else { 10.0 });
            for (name, v) in [("ttft_ms", ttft_ms), ("itl_ms", itl_ms)] {
                if !(v.is_finite() && v >= 0.0) {
                    errors.push(format!("`{name}` must be a finite number ≥ 0, got {v}"));
                }
            }
            Timing::Fixed { ttft_ms, itl_ms }
        };
        let eos_probability = self.eos_probability.unwrap_or(0.005);
        if !(0.0..=1.0).contains(&eos_probability) {
            errors.push(format!(
                "`eos_probability` must be in [0, 1], got {eos_probability}"
            ));
        }
        let context_len = self.context_len.unwrap_or(match p {
            Preset::Tiny => 8192,
            _ => 131_072,
        });
        if context_len == 0 {
            errors.push("`context_len` must be at least 1".into());
        }
        for (i, f) in self.faults.iter().enumerate() {
            if let Err(e) = f.check() {
                errors.push(format!("faults[{i}]: {e}"));
            }
        }
        if errors.is_empty() {
            Ok(Params {
                timing,
                eos_probability,
                context_len,
            })
        } else {
            Err(errors.join("\n"))
        }
    }
}

fn engine_defaults(p: Preset) -> EngineParams {
    match p {
        Preset::Llama8bH100 => EngineParams {
            max_batch: 256,
            kv_tokens: 450_000,
            prefill_chunk: 8192,
            step_ms: 6.0,
            prefill_token_ms: 0.03,
            decode_token_ms: 0.06,
            prefix_cache_tokens: 450_000,
            spec_accept_length: 1.0,
        },
        _ => EngineParams {
            max_batch: 8,
            kv_tokens: 65_536,
            prefill_chunk: 512,
            step_ms: 2.0,
            prefill_token_ms: 0.01,
            decode_token_ms: 0.25,
            prefix_cache_tokens: 65_536,
            spec_accept_length: 1.0,
        },
    }
}

fn check_engine(e: &EngineParams, errors: &mut Vec<String>) {
    if e.max_batch == 0 {
        errors.push("`max_batch` must be at least 1".into());
    }
    if e.kv_tokens == 0 {
        errors.push("`kv_tokens` must be at least 1".into());
    }
    if e.prefill_chunk == 0 {
        errors.push("`prefill_chunk` must be at least 1".into());
    }
    if !(e.step_ms.is_finite() && e.step_ms > 0.0) {
        errors.push(format!(
            "`step_ms` must be > 0 (a step with no cost would spin), got {}",
            e.step_ms
        ));
    }
    for (name, v) in [
        ("prefill_token_ms", e.prefill_token_ms),
        ("decode_token_ms", e.decode_token_ms),
    ] {
        if !(v.is_finite() && v >= 0.0) {
            errors.push(format!("`{name}` must be a finite number ≥ 0, got {v}"));
        }
    }
    if !(e.spec_accept_length.is_finite() && e.spec_accept_length >= 1.0) {
        errors.push(format!(
            "`spec_accept_length` must be ≥ 1 (1 = no speculative decoding), got {}",
            e.spec_accept_length
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_fixed_50_10() {
        let p = SimConfig::default().resolve().unwrap();
        assert_eq!(
            p.timing,
            Timing::Fixed {
                ttft_ms: 50.0,
                itl_ms: 10.0
            }
        );
        assert_eq!(p.context_len, 131_072);
    }

    #[test]
    fn presets_take_overrides() {
        let cfg = SimConfig {
            max_batch: Some(4),
            ..SimConfig::preset(Preset::Tiny)
        };
        let e = cfg.resolve().unwrap().engine().unwrap().clone();
        assert_eq!((e.max_batch, e.step_ms, e.prefill_chunk), (4, 2.0, 512));
        let big = SimConfig::preset(Preset::Llama8bH100).resolve().unwrap();
        assert_eq!(big.engine().unwrap().max_batch, 256);
    }

    #[test]
    fn mismatched_overrides_are_all_reported() {
        let cfg = SimConfig {
            max_batch: Some(4),
            step_ms: Some(1.0),
            ..SimConfig::fixed(10.0, 1.0)
        };
        let e = cfg.resolve().unwrap_err();
        assert!(
            e.contains("`max_batch` applies to the engine presets"),
            "{e}"
        );
        assert!(e.contains("`step_ms` applies"), "{e}");
        let cfg = SimConfig {
            ttft_ms: Some(5.0),
            step_ms: Some(0.0),
            ..SimConfig::preset(Preset::Tiny)
        };
        let e = cfg.resolve().unwrap_err();
        assert!(e.contains("`ttft_ms` applies to presets"), "{e}");
        assert!(e.contains("`step_ms` must be > 0"), "{e}");
    }

    #[test]
    fn capacity_formula() {
        let e = engine_defaults(Preset::Tiny);
        // (1 + 15) * 2 / 8 + 32 * 0.01 + 15 * 0.25 = 4 + 0.32 + 3.75 = 8.07 ms per request.
        let c = e.capacity_rps(32, 16);
        assert!((c - 1000.0 / 8.07).abs() < 1e-9, "{c}");
    }

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
