//! Live counters of the server and their Prometheus text form (`/metrics`).
//!
//! In: updates from the engine thread (engine presets) or from the response writers (fixed
//! timing). Out: SGLang's metric names (`sglang:num_running_reqs`, …) plus vLLM's prefix-cache
//! counters, in the Prometheus text exposition format.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use super::batcher::Totals;

/// Gauges and counters, updated lock-free.
#[derive(Debug, Default)]
pub struct Stats {
    /// Requests running (fixed timing: in flight).
    pub running: AtomicU64,
    /// Requests waiting for admission.
    pub waiting: AtomicU64,
    /// KV tokens in use.
    pub kv_used: AtomicU64,
    /// Prefix-cache tokens held.
    pub cache_tokens: AtomicU64,
    /// Requests finished.
    pub finished: AtomicU64,
    /// Prompt tokens processed.
    pub prompt_tokens: AtomicU64,
    /// Prompt tokens found in the prefix cache.
    pub cached_tokens: AtomicU64,
    /// Output tokens generated.
    pub generated: AtomicU64,
    /// Decode steps summed over requests.
    pub decode_steps: AtomicU64,
    /// Tokens those decode steps emitted.
    pub decode_tokens: AtomicU64,
    /// Output tokens per second over the last second or so (f64 bits).
    pub gen_throughput: AtomicU64,
}

impl Stats {
    /// Copy the engine's totals and gauges.
    pub fn publish(&self, t: &Totals, running: usize, waiting: usize, kv: u64, cache: u64) {
        self.running.store(running as u64, Relaxed);
        self.waiting.store(waiting as u64, Relaxed);
        self.kv_used.store(kv, Relaxed);
        self.cache_tokens.store(cache, Relaxed);
        self.finished.store(t.finished, Relaxed);
        self.prompt_tokens.store(t.prompt_tokens, Relaxed);
        self.cached_tokens.store(t.cached_tokens, Relaxed);
        self.generated.store(t.generated, Relaxed);
        self.decode_steps.store(t.decode_steps, Relaxed);
        self.decode_tokens.store(t.decode_tokens, Relaxed);
    }

    /// Mean tokens per decode step so far, if any step ran.
    pub fn avg_accept_length(&self) -> Option<f64> {
        let steps = self.decode_steps.load(Relaxed);
        (steps > 0).then(|| self.decode_tokens.load(Relaxed) as f64 / steps as f64)
    }

    /// Recent generation throughput, tokens/s.
    pub fn gen_throughput(&self) -> f64 {
        f64::from_bits(self.gen_throughput.load(Relaxed))
    }

    /// The Prometheus text exposition of every metric.
    pub fn prometheus(&self, model: &str, kv_capacity: u64, spec: bool) -> String {
        let l = format!("{{model_name=\"{}\"}}", model.replace('"', "\\\""));
        let kv = self.kv_used.load(Relaxed);
        let prompt = self.prompt_tokens.load(Relaxed);
        let cached = self.cached_tokens.load(Relaxed);
        let hit_rate = if prompt > 0 {
            cached as f64 / prompt as f64
        } else {
            0.0
        };
        let usage = if kv_capacity > 0 {
            kv as f64 / kv_capacity as f64
        } else {
            0.0
        };
        let mut rows: Vec<(&str, &str, &str, String)> = vec![
            (
                "sglang:num_running_reqs",
                "gauge",
                "The number of running requests.",
                self.running.load(Relaxed).to_string(),
            ),
            (
                "sglang:num_queue_reqs",
                "gauge",
                "The number of requests in the waiting queue.",
                self.waiting.load(Relaxed).to_string(),
            ),
            (
                "sglang:num_used_tokens",
                "gauge",
                "The number of used tokens.",
                kv.to_string(),
            ),
            (
                "sglang:max_total_num_tokens",
                "gauge",
                "Maximum total number of tokens in the KV cache pool.",
                kv_capacity.to_string(),
            ),
            (
                "sglang:token_usage",
                "gauge",
                "The token usage.",
                format!("{usage}"),
            ),
            (
                "sglang:gen_throughput",
                "gauge",
                "The generation throughput (token/s).",
                format!("{}", self.gen_throughput()),
            ),
            (
                "sglang:cache_hit_rate",
                "gauge",
                "The prefix cache hit rate.",
                format!("{hit_rate}"),
            ),
            (
                "sglang:prompt_tokens_total",
                "counter",
                "Number of prefill tokens processed.",
                prompt.to_string(),
            ),
            (
                "sglang:generation_tokens_total",
                "counter",
                "Number of generation tokens processed.",
                self.generated.load(Relaxed).to_string(),
            ),
            (
                "sglang:cached_tokens_total",
                "counter",
                "Number of cached prompt tokens.",
                cached.to_string(),
            ),
            (
                "sglang:num_requests_total",
                "counter",
                "Number of requests processed.",
                self.finished.load(Relaxed).to_string(),
            ),
            (
                "vllm:prefix_cache_queries_total",
                "counter",
                "Prefix cache queries, in terms of number of queried tokens.",
                prompt.to_string(),
            ),
            (
                "vllm:prefix_cache_hits_total",
                "counter",
                "Prefix cache hits, in terms of number of cached tokens.",
                cached.to_string(),
            ),
        ];
        if spec {
            let v = self.avg_accept_length().unwrap_or(0.0);
            rows.push((
                "sglang:spec_accept_length",
                "gauge",
                "The average acceptance length of speculative decoding.",
                format!("{v}"),
            ));
        }
        let mut out = String::new();
        for (name, kind, help, value) in rows {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name}{l} {value}"
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exposition_lines_parse() {
        let s = Stats::default();
        s.running.store(3, Relaxed);
        let text = s.prometheus("m", 100, false);
        assert!(text.contains(
            "# TYPE sglang:num_running_reqs gauge\nsglang:num_running_reqs{model_name=\"m\"} 3\n"
        ));
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let (name, value) = line.rsplit_once(' ').unwrap();
            assert!(name.ends_with("{model_name=\"m\"}"), "{line}");
            value.parse::<f64>().unwrap();
        }
    }
}
