//! `runner bench --cache-report` against the embedded engine's prefix cache: the "Cache Hit
//! Details" section, the `cache_report` object and the per-request arrays, checked against
//! what the server says it served from its cache.

mod support;

use runner::sim::{Preset, SimConfig};
use support::*;

#[test]
fn cache_report_counts_the_servers_prefix_hits() {
    for backend in ["sglang", "sglang-oai"] {
        let sim = Sim::start(SimConfig::preset(Preset::Tiny));
        let dir = tempfile::tempdir().unwrap();
        let (out, _) = bench_ok(
            dir.path(),
            &[
                "--backend",
                backend,
                "--base-url",
                &sim.url(),
                "--tokenizer",
                "builtin",
                "--dataset-name",
                "generated-shared-prefix",
                "--gsp-num-groups",
                "2",
                "--gsp-prompts-per-group",
                "6",
                "--gsp-system-prompt-len",
                "256",
                "--gsp-question-len",
                "16",
                "--gsp-output-len",
                "4",
                "--max-concurrency",
                "1",
                "--warmup-requests",
                "0",
                "--cache-report",
                "--output-details",
                "--output-file",
                "c.jsonl",
            ],
        );
        let rows = block(&out);
        let lines = json_lines(&dir.path().join("c.jsonl"));
        let line = &lines[0];
        let report = &line["cache_report"];
        let cached = report["total_cached_tokens"].as_u64().unwrap();
        let prompt = report["total_prompt_tokens"].as_u64().unwrap();
        // The server's own account of what it served from cache.
        let served: u64 = sim.truth().iter().map(|t| u64::from(t.cached_tokens)).sum();
        let served_prompt: u64 = sim.truth().iter().map(|t| u64::from(t.prompt_tokens)).sum();
        println!(
            "{backend}: {cached} of {prompt} prompt tokens cached ({}%), server says {served} of {served_prompt}",
            report["cache_hit_rate_pct"]
        );
        assert_eq!(cached, served, "{backend}");
        assert_eq!(prompt, served_prompt, "{backend}");
        assert!(cached > 0, "the shared system prompts hit the cache");
        let rate = (cached as f64 / prompt as f64 * 100.0 * 100.0).round() / 100.0;
        assert_eq!(report["cache_hit_rate_pct"].as_f64().unwrap(), rate);
        assert_eq!(value(&rows, "Total cached tokens:"), cached.to_string());
        assert_eq!(value(&rows, "Total prompt tokens:"), prompt.to_string());
        assert_eq!(
            value(&rows, "Cache hit rate:"),
            format!("{:.1}%", cached as f64 / prompt as f64 * 100.0)
        );
        // bench_serving's order: result keys, `cache_report`, then the details arrays.
        let keys: Vec<&str> = line.keys().map(String::as_str).collect();
        let at = keys.iter().position(|k| *k == "cache_report").unwrap();
        assert_eq!(keys[at - 1], "max_concurrent_requests");
        assert_eq!(keys[at + 1], "input_lens");
        let per_request: u64 = line["cached_tokens"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap())
            .sum();
        assert_eq!(per_request, cached);
        let details = line["cached_tokens_details"].as_array().unwrap();
        assert_eq!(details.len(), 12);
        if backend == "sglang-oai" {
            // Asked with return_cached_tokens_details, SGLang splits the hits by tier.
            assert!(details.iter().all(|d| d["device"].is_u64()), "{details:?}");
            assert_eq!(report["device_cached_tokens"].as_u64(), Some(cached));
            assert_eq!(value(&rows, "  Device:"), cached.to_string());
        }
    }
}
