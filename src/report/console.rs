//! The console block, line for line as bench_serving prints it (spec §6): rows are
//! `"{:<40} {:<10}"`, floats with two decimals, section titles centred in 50 characters.

use std::fmt::Write as _;

use super::RunInfo;
use crate::metrics::{Dist, Summary};

fn row(out: &mut String, label: &str, value: impl std::fmt::Display) {
    let _ = writeln!(out, "{label:<40} {value:<10}");
}

fn rowf(out: &mut String, label: &str, value: f64) {
    let _ = writeln!(out, "{label:<40} {value:<10.2}");
}

fn section(out: &mut String, title: &str) {
    let _ = writeln!(out, "{title:-^50}");
}

fn dist(out: &mut String, name: &str, d: &Dist) {
    rowf(out, &format!("Mean {name} (ms):"), d.mean);
    rowf(out, &format!("Median {name} (ms):"), d.median);
    rowf(out, &format!("P90 {name} (ms):"), d.p90);
    rowf(out, &format!("P95 {name} (ms):"), d.p95);
    rowf(out, &format!("P99 {name} (ms):"), d.p99);
}

/// The result block of one run, starting with a blank line, ending with a `=` rule.
pub fn block(info: &RunInfo, s: &Summary) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "\n{:=^50}", " Serving Benchmark Result ");
    row(&mut out, "Backend:", &info.backend);
    row(&mut out, "Traffic request rate:", info.request_rate.python_str());
    match info.max_concurrency.limit() {
        Some(n) => row(&mut out, "Max request concurrency:", n),
        None => row(&mut out, "Max request concurrency:", "not set"),
    }
    row(&mut out, "Successful requests:", s.completed);
    rowf(&mut out, "Benchmark duration (s):", s.duration_s);
    row(&mut out, "Total input tokens:", s.total_input);
    row(&mut out, "Total input text tokens:", s.total_input_text);
    row(&mut out, "Total generated tokens:", s.total_output);
    row(&mut out, "Total generated tokens (retokenized):", s.total_output_retokenized);
    rowf(&mut out, "Request throughput (req/s):", s.request_throughput);
    rowf(&mut out, "Input token throughput (tok/s):", s.input_throughput);
    rowf(&mut out, "Output token throughput (tok/s):", s.output_throughput);
    rowf(&mut out, "Peak output token throughput (tok/s):", s.max_output_tokens_per_s);
    row(&mut out, "Peak concurrent requests:", s.max_concurrent_requests);
    rowf(&mut out, "Total token throughput (tok/s):", s.total_throughput);
    rowf(&mut out, "Concurrency:", s.concurrency);
    section(&mut out, "End-to-End Latency");
    dist(&mut out, "E2E Latency", &s.e2e_ms);
    section(&mut out, "Time to First Token");
    dist(&mut out, "TTFT", &s.ttft_ms);
    section(&mut out, "Time per Output Token (excl. 1st token)");
    dist(&mut out, "TPOT", &s.tpot_ms);
    section(&mut out, "Inter-Token Latency");
    dist(&mut out, "ITL", &s.itl_ms);
    rowf(&mut out, "Max ITL (ms):", s.max_itl_ms);
    let _ = writeln!(out, "{}", "=".repeat(50));
    out
}
