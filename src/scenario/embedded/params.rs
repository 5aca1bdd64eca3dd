//! The server's parameters resolved from a [`SimConfig`]: its preset's values with the
//! overrides applied, every one checked.
//!
//! In: a [`SimConfig`]. Out: [`Params`] (a timing model, EOS chance, context length), or
//! every problem with the settings at once.

use super::{Preset, SimConfig};
use crate::scenario::Problem;

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
    /// Resolve the preset and overrides; every problem is reported, one per line.
    pub fn resolve(&self) -> Result<Params, String> {
        self.resolve_checked().map_err(|problems| {
            let lines: Vec<String> = problems.iter().map(line).collect();
            lines.join("\n")
        })
    }

    /// Resolve the preset and overrides, or every problem (pointers relative to the block).
    pub fn resolve_checked(&self) -> Result<Params, Vec<Problem>> {
        let mut errors: Vec<Problem> = Vec::new();
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
                    errors.push(Problem::new(format!("/{name}"), format!(
                        "`{name}` applies to presets `fixed` and `instant`; preset `{}` runs the engine model (set step_ms, prefill_token_ms, decode_token_ms instead)",
                        p.as_str()
                    )));
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
                    errors.push(Problem::new(format!("/{name}"), format!(
                        "`{name}` applies to the engine presets (`tiny`, `llama-8b-h100`); preset `{}` times each request on its own with ttft_ms and itl_ms",
                        p.as_str()
                    )));
                }
            }
            let zero = p == Preset::Instant;
            let ttft_ms = self.ttft_ms.unwrap_or(if zero { 0.0 } else { 50.0 });
            let itl_ms = self.itl_ms.unwrap_or(if zero { 0.0 } else { 10.0 });
            for (name, v) in [("ttft_ms", ttft_ms), ("itl_ms", itl_ms)] {
                if !(v.is_finite() && v >= 0.0) {
                    errors.push(Problem::new(
                        format!("/{name}"),
                        format!("`{name}` must be a finite number ≥ 0, got {v}"),
                    ));
                }
            }
            Timing::Fixed { ttft_ms, itl_ms }
        };
        let eos_probability = self.eos_probability.unwrap_or(0.005);
        if !(0.0..=1.0).contains(&eos_probability) {
            errors.push(Problem::new(
                "/eos_probability",
                format!("`eos_probability` must be in [0, 1], got {eos_probability}"),
            ));
        }
        let context_len = self.context_len.unwrap_or(match p {
            Preset::Tiny => 8192,
            _ => 131_072,
        });
        if context_len == 0 {
            errors.push(Problem::new(
                "/context_len",
                "`context_len` must be at least 1",
            ));
        }
        for (i, f) in self.faults.iter().enumerate() {
            errors.extend(
                f.check()
                    .into_iter()
                    .map(|e| e.under(&format!("/faults/{i}"))),
            );
        }
        if errors.is_empty() {
            Ok(Params {
                timing,
                eos_probability,
                context_len,
            })
        } else {
            Err(errors)
        }
    }
}

/// A problem as one line of `runner serve`'s message: fault problems name their rule
/// (`faults[0]: …`).
fn line(p: &Problem) -> String {
    let rule = p
        .pointer
        .strip_prefix("/faults/")
        .and_then(|r| r.split('/').next());
    match rule {
        Some(i) => format!("faults[{i}]: {}", p.message),
        None => p.message.clone(),
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

fn check_engine(e: &EngineParams, errors: &mut Vec<Problem>) {
    if e.max_batch == 0 {
        errors.push(Problem::new("/max_batch", "`max_batch` must be at least 1"));
    }
    if e.kv_tokens == 0 {
        errors.push(Problem::new("/kv_tokens", "`kv_tokens` must be at least 1"));
    }
    if e.prefill_chunk == 0 {
        errors.push(Problem::new(
            "/prefill_chunk",
            "`prefill_chunk` must be at least 1",
        ));
    }
    if !(e.step_ms.is_finite() && e.step_ms > 0.0) {
        errors.push(Problem::new(
            "/step_ms",
            format!(
                "`step_ms` must be > 0 (a step with no cost would spin), got {}",
                e.step_ms
            ),
        ));
    }
    for (name, v) in [
        ("prefill_token_ms", e.prefill_token_ms),
        ("decode_token_ms", e.decode_token_ms),
    ] {
        if !(v.is_finite() && v >= 0.0) {
            errors.push(Problem::new(
                format!("/{name}"),
                format!("`{name}` must be a finite number ≥ 0, got {v}"),
            ));
        }
    }
    if !(e.spec_accept_length.is_finite() && e.spec_accept_length >= 1.0) {
        errors.push(Problem::new(
            "/spec_accept_length",
            format!(
                "`spec_accept_length` must be ≥ 1 (1 = no speculative decoding), got {}",
                e.spec_accept_length
            ),
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
}
