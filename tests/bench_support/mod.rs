//! Helpers of the `runner bench` tests: an embedded server in the test process, the binary
//! run in a temp dir, the result block parsed into rows, small dataset fixtures.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Output;

use runner::sim::{self, Server, SimConfig, Truth};
use serde_json::{Value, json};

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

/// An embedded server running in the test process, on its own threads.
pub struct Sim {
    rt: tokio::runtime::Runtime,
    server: Option<Server>,
}

impl Sim {
    /// Start with `cfg`.
    pub fn start(cfg: SimConfig) -> Sim {
        let rt = tokio::runtime::Runtime::new().unwrap();
        let server = rt.block_on(sim::start_local(cfg)).unwrap();
        Sim {
            rt,
            server: Some(server),
        }
    }

    /// Fixed timing: first token after 5 ms, then one every 1 ms.
    pub fn fast() -> Sim {
        Sim::start(SimConfig::fixed(5.0, 1.0))
    }

    /// Its base URL.
    pub fn url(&self) -> String {
        self.server.as_ref().unwrap().base_url()
    }

    /// Its port.
    pub fn port(&self) -> u16 {
        self.server.as_ref().unwrap().addr().port()
    }

    /// Ground truth so far.
    pub fn truth(&self) -> Vec<Truth> {
        self.server.as_ref().unwrap().truth()
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        if let Some(s) = self.server.take() {
            self.rt.block_on(s.stop());
        }
    }
}

/// Run `runner` with `args` in `dir`.
pub fn runner(dir: &Path, args: &[&str]) -> Output {
    assert_cmd::Command::new(assert_cmd::cargo::cargo_bin!("runner"))
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap()
}

/// Run `runner bench` with `args` in `dir`; panics with its output unless it exits 0.
pub fn bench_ok(dir: &Path, args: &[&str]) -> (String, String) {
    let mut all = vec!["bench"];
    all.extend_from_slice(args);
    let out = runner(dir, &all);
    let (stdout, stderr) = texts(&out);
    assert!(
        out.status.success(),
        "runner {all:?} failed ({:?})\n{stdout}\n{stderr}",
        out.status.code()
    );
    (stdout, stderr)
}

/// stdout and stderr as text.
pub fn texts(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

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

/// Words for fixtures.
const WORDS: &[&str] = &[
    "the", "of", "and", "to", "in", "is", "was", "for", "that", "with", "on", "as", "it", "by",
    "this", "from", "are", "be", "at", "or", "have", "an", "which", "not", "but", "they",
];

fn sentence(seed: usize, n: usize) -> String {
    (0..n)
        .map(|k| WORDS[(seed * 7 + k * 13 + k * k) % WORDS.len()])
        .collect::<Vec<_>>()
        .join(" ")
}

/// A ShareGPT-format file of `n` two-turn conversations.
pub fn sharegpt_file(dir: &Path, n: usize) -> PathBuf {
    let convs: Vec<Value> = (0..n)
        .map(|i| {
            json!({"id": format!("c{i}"), "conversations": [
                {"from": "human", "value": sentence(i, 5 + i % 17)},
                {"from": "gpt", "value": sentence(i + 3, 4 + i % 11)},
            ]})
        })
        .collect();
    let path = dir.join("sharegpt.json");
    std::fs::write(&path, serde_json::to_string(&convs).unwrap()).unwrap();
    path
}

/// A Mooncake trace of `n` records 40 ms apart, sharing their first hash block in pairs.
pub fn mooncake_file(dir: &Path, n: usize) -> PathBuf {
    let text: String = (0..n)
        .map(|i| {
            format!(
                "{}\n",
                json!({"timestamp": 1000 + 40 * i, "input_length": 600, "output_length": 8,
                       "hash_ids": [i / 2, 100 + i]})
            )
        })
        .collect();
    let path = dir.join("trace.jsonl");
    std::fs::write(&path, text).unwrap();
    path
}
