//! Result blocks and files: bench_serving's keys and labels in order, a printed result block
//! parsed into (label, value) rows, the JSON lines of a result file.

use std::path::Path;

use serde_json::Value;

/// bench_serving's result keys in order (spec §7).
pub const RESULT_KEYS: &[&str] = &[
    "tag",
    "backend",
    "dataset_name",
    "request_rate",
    "max_concurrency",
    "sharegpt_output_len",
    "random_input_len",
    "random_output_len",
    "random_range_ratio",
    "server_info",
    "duration",
    "completed",
    "total_input_tokens",
    "total_input_text_tokens",
    "total_input_vision_tokens",
    "total_output_tokens",
    "total_output_tokens_retokenized",
    "request_throughput",
    "input_throughput",
    "output_throughput",
    "total_throughput",
    "mean_e2e_latency_ms",
    "median_e2e_latency_ms",
    "std_e2e_latency_ms",
    "p90_e2e_latency_ms",
    "p95_e2e_latency_ms",
    "p99_e2e_latency_ms",
    "mean_ttft_ms",
    "median_ttft_ms",
    "std_ttft_ms",
    "p90_ttft_ms",
    "p95_ttft_ms",
    "p99_ttft_ms",
    "mean_tpot_ms",
    "median_tpot_ms",
    "std_tpot_ms",
    "p90_tpot_ms",
    "p95_tpot_ms",
    "p99_tpot_ms",
    "mean_itl_ms",
    "median_itl_ms",
    "std_itl_ms",
    "p90_itl_ms",
    "p95_itl_ms",
    "p99_itl_ms",
    "concurrency",
    "accept_length",
    "max_output_tokens_per_s",
    "max_concurrent_requests",
];

/// The `--goodput` keys, after `max_concurrent_requests`.
pub const GOODPUT_KEYS: &[&str] = &[
    "goodput_slos_ms",
    "request_goodput",
    "slo_attainment",
    "slo_attainment_by_metric",
];

/// The `--output-details` arrays, after those.
pub const DETAIL_KEYS: &[&str] = &[
    "input_lens",
    "output_lens",
    "ttfts",
    "itls",
    "generated_texts",
    "errors",
];

/// The labels of the full result block of a text-generation run, in order (spec §6).
pub const BLOCK_LABELS: &[&str] = &[
    "Backend:",
    "Traffic request rate:",
    "Max request concurrency:",
    "Successful requests:",
    "Benchmark duration (s):",
    "Total input tokens:",
    "Total input text tokens:",
    "Total generated tokens:",
    "Total generated tokens (retokenized):",
    "Request throughput (req/s):",
    "Input token throughput (tok/s):",
    "Output token throughput (tok/s):",
    "Peak output token throughput (tok/s):",
    "Peak concurrent requests:",
    "Total token throughput (tok/s):",
    "Concurrency:",
    "----------------End-to-End Latency----------------",
    "Mean E2E Latency (ms):",
    "Median E2E Latency (ms):",
    "P90 E2E Latency (ms):",
    "P95 E2E Latency (ms):",
    "P99 E2E Latency (ms):",
    "---------------Time to First Token----------------",
    "Mean TTFT (ms):",
    "Median TTFT (ms):",
    "P90 TTFT (ms):",
    "P95 TTFT (ms):",
    "P99 TTFT (ms):",
    "-----Time per Output Token (excl. 1st token)------",
    "Mean TPOT (ms):",
    "Median TPOT (ms):",
    "P90 TPOT (ms):",
    "P95 TPOT (ms):",
    "P99 TPOT (ms):",
    "---------------Inter-Token Latency----------------",
    "Mean ITL (ms):",
    "Median ITL (ms):",
    "P90 ITL (ms):",
    "P95 ITL (ms):",
    "P99 ITL (ms):",
    "Max ITL (ms):",
];

/// The rows of every result block in `stdout`: (label, value) with the value trimmed;
/// section titles come as (title, "").
pub fn blocks(stdout: &str) -> Vec<Vec<(String, String)>> {
    let mut out = Vec::new();
    let mut current: Option<Vec<(String, String)>> = None;
    for line in stdout.lines() {
        if line == "============ Serving Benchmark Result ============" {
            current = Some(Vec::new());
            continue;
        }
        let Some(rows) = current.as_mut() else {
            continue;
        };
        if line == "=".repeat(50) {
            out.push(current.take().unwrap());
            continue;
        }
        if line.starts_with('-') && line.len() == 50 {
            rows.push((line.to_owned(), String::new()));
            continue;
        }
        assert!(line.len() >= 41, "not a block row: {line:?}");
        let (label, value) = line.split_at(41);
        rows.push((label.trim_end().to_owned(), value.trim().to_owned()));
    }
    assert!(current.is_none(), "unterminated block in\n{stdout}");
    out
}

/// The single block of `stdout`.
pub fn block(stdout: &str) -> Vec<(String, String)> {
    let mut b = blocks(stdout);
    assert_eq!(b.len(), 1, "{stdout}");
    b.pop().unwrap()
}

/// A row's value.
pub fn value<'a>(rows: &'a [(String, String)], label: &str) -> &'a str {
    rows.iter()
        .find(|(l, _)| l == label)
        .map(|(_, v)| v.as_str())
        .unwrap_or_else(|| panic!("no `{label}` in {rows:?}"))
}

/// The labels of a block, in order.
pub fn labels(rows: &[(String, String)]) -> Vec<&str> {
    rows.iter().map(|(l, _)| l.as_str()).collect()
}

/// The JSON lines of a file.
pub fn json_lines(path: &Path) -> Vec<serde_json::Map<String, Value>> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| match serde_json::from_str(l).unwrap() {
            Value::Object(m) => m,
            v => panic!("not an object: {v}"),
        })
        .collect()
}
