//! What `runner bench` prints and writes: the console block against the result line (every
//! key of spec §7, in order, with goodput and details), strict JSON for an infinite rate,
//! append mode, auto file names, the embeddings block, exit codes.

mod support;

use runner::sim::SimConfig;
use support::*;

/// Printed rows and the result keys they show (two decimals for floats).
const ROW_KEYS: &[(&str, &str)] = &[
    ("Successful requests:", "completed"),
    ("Benchmark duration (s):", "duration"),
    ("Total input tokens:", "total_input_tokens"),
    ("Total input text tokens:", "total_input_text_tokens"),
    ("Total generated tokens:", "total_output_tokens"),
    (
        "Total generated tokens (retokenized):",
        "total_output_tokens_retokenized",
    ),
    ("Request throughput (req/s):", "request_throughput"),
    ("Input token throughput (tok/s):", "input_throughput"),
    ("Output token throughput (tok/s):", "output_throughput"),
    (
        "Peak output token throughput (tok/s):",
        "max_output_tokens_per_s",
    ),
    ("Peak concurrent requests:", "max_concurrent_requests"),
    ("Total token throughput (tok/s):", "total_throughput"),
    ("Concurrency:", "concurrency"),
    ("Mean E2E Latency (ms):", "mean_e2e_latency_ms"),
    ("Median E2E Latency (ms):", "median_e2e_latency_ms"),
    ("P90 E2E Latency (ms):", "p90_e2e_latency_ms"),
    ("P95 E2E Latency (ms):", "p95_e2e_latency_ms"),
    ("P99 E2E Latency (ms):", "p99_e2e_latency_ms"),
    ("Mean TTFT (ms):", "mean_ttft_ms"),
    ("Median TTFT (ms):", "median_ttft_ms"),
    ("P90 TTFT (ms):", "p90_ttft_ms"),
    ("P95 TTFT (ms):", "p95_ttft_ms"),
    ("P99 TTFT (ms):", "p99_ttft_ms"),
    ("Mean TPOT (ms):", "mean_tpot_ms"),
    ("Median TPOT (ms):", "median_tpot_ms"),
    ("P90 TPOT (ms):", "p90_tpot_ms"),
    ("P95 TPOT (ms):", "p95_tpot_ms"),
    ("P99 TPOT (ms):", "p99_tpot_ms"),
    ("Mean ITL (ms):", "mean_itl_ms"),
    ("Median ITL (ms):", "median_itl_ms"),
    ("P90 ITL (ms):", "p90_itl_ms"),
    ("P95 ITL (ms):", "p95_itl_ms"),
    ("P99 ITL (ms):", "p99_itl_ms"),
    ("Request goodput (req/s):", "request_goodput"),
];

#[test]
fn console_block_and_result_line_agree_and_carry_every_key() {
    let sim = Sim::fast();
    let dir = tempfile::tempdir().unwrap();
    let (out, _) = bench_ok(
        dir.path(),
        &[
            "--base-url",
            &sim.url(),
            "--dataset-name",
            "random",
            "--num-prompts",
            "16",
            "--random-input-len",
            "64",
            "--random-output-len",
            "12",
            "--request-rate",
            "200",
            "--output-file",
            "out.jsonl",
            "--output-details",
            "--goodput",
            "ttft:2000",
            "tpot:50",
            "e2el:5000",
            "--tag",
            "t1",
        ],
    );
    let rows = block(&out);
    let goodput_rows = [
        "---------------------Goodput----------------------",
        "SLOs (ms):",
        "Request goodput (req/s):",
        "SLO attainment (%):",
        "TTFT SLO attainment (%):",
        "TPOT SLO attainment (%):",
        "E2EL SLO attainment (%):",
    ];
    let mut want: Vec<&str> = BLOCK_LABELS.to_vec();
    for (i, l) in goodput_rows.iter().enumerate() {
        want.insert(16 + i, l);
    }
    assert_eq!(labels(&rows), want, "{out}");
    assert_eq!(value(&rows, "SLOs (ms):"), "ttft:2000 tpot:50 e2el:5000");

    let lines = json_lines(&dir.path().join("out.jsonl"));
    assert_eq!(lines.len(), 1);
    let line = &lines[0];
    let keys: Vec<&str> = line.keys().map(String::as_str).collect();
    let n = RESULT_KEYS.len();
    assert_eq!(&keys[..n], RESULT_KEYS, "spec §7 keys in order");
    assert_eq!(&keys[n..n + 4], GOODPUT_KEYS);
    assert_eq!(&keys[n + 4..n + 10], DETAIL_KEYS);
    assert_eq!(keys[n + 10], "run_id", "runner's own keys follow");

    for (label, key) in ROW_KEYS {
        let printed = value(&rows, label);
        let v = &line[*key];
        let want = match v.as_u64() {
            Some(i) if !label.contains("(s)") && !label.contains('/') => i.to_string(),
            _ => format!("{:.2}", v.as_f64().unwrap()),
        };
        assert_eq!(printed, want, "{label} vs {key}");
    }
    assert_eq!(line["tag"], "t1");
    assert_eq!(line["backend"], "sglang");
    assert_eq!(line["dataset_name"], "random");
    assert_eq!(line["request_rate"], 200.0);
    assert_eq!(line["max_concurrency"], serde_json::Value::Null);
    assert_eq!(line["sharegpt_output_len"], serde_json::Value::Null);
    assert_eq!(
        (
            &line["random_input_len"],
            &line["random_output_len"],
            &line["random_range_ratio"]
        ),
        (
            &serde_json::json!(64),
            &serde_json::json!(12),
            &serde_json::json!(0.0)
        )
    );
    assert!(line["server_info"].is_object());
    assert_eq!(line["completed"], 16);
    assert_eq!(
        line["goodput_slos_ms"],
        serde_json::json!({"ttft": 2000.0, "tpot": 50.0, "e2el": 5000.0})
    );
    assert_eq!(line["slo_attainment"], 1.0);
    for k in DETAIL_KEYS {
        assert_eq!(line[*k].as_array().unwrap().len(), 16, "{k}");
    }
    let out_sum: u64 = line["output_lens"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert_eq!(line["total_output_tokens"], out_sum);
    assert!(line["errors"].as_array().unwrap().iter().all(|e| e == ""));
    let itls = line["itls"].as_array().unwrap();
    let lens = line["output_lens"].as_array().unwrap();
    for (itl, len) in itls.iter().zip(lens) {
        assert_eq!(
            itl.as_array().unwrap().len() as u64 + 1,
            len.as_u64().unwrap()
        );
    }
}

#[test]
fn infinite_rate_is_the_string_inf_and_lines_append() {
    let sim = Sim::fast();
    let dir = tempfile::tempdir().unwrap();
    let args = [
        "--base-url",
        &sim.url(),
        "--dataset-name",
        "random-ids",
        "--num-prompts",
        "5",
        "--random-input-len",
        "32",
        "--random-output-len",
        "8",
        "--max-concurrency",
        "2",
    ];
    bench_ok(dir.path(), &args);
    bench_ok(dir.path(), &args);
    let name = format!(
        "sglang_{}_5_32_8.jsonl",
        runner::bench::output::today_mmdd()
    );
    let path = dir.path().join(&name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert!(!text.contains("Infinity"));
    let lines = json_lines(&path);
    assert_eq!(lines.len(), 2, "appended, not replaced");
    for l in &lines {
        assert_eq!(l["request_rate"], "inf");
        assert_eq!(l["max_concurrency"], 2);
        assert_eq!(l["dataset_name"], "random-ids");
        assert!(
            !l.contains_key("input_lens"),
            "details only with --output-details"
        );
    }
}

#[test]
fn embeddings_print_no_generation_lines() {
    let sim = Sim::fast();
    let dir = tempfile::tempdir().unwrap();
    let (out, _) = bench_ok(
        dir.path(),
        &[
            "--backend",
            "vllm-embedding",
            "--base-url",
            &sim.url(),
            "--dataset-name",
            "random",
            "--num-prompts",
            "6",
            "--random-input-len",
            "32",
        ],
    );
    let rows = block(&out);
    let end = BLOCK_LABELS
        .iter()
        .position(|l| *l == "P99 E2E Latency (ms):")
        .unwrap();
    let generation = [
        "Total generated tokens:",
        "Total generated tokens (retokenized):",
        "Output token throughput (tok/s):",
        "Peak output token throughput (tok/s):",
        "Total token throughput (tok/s):",
    ];
    let want: Vec<&str> = BLOCK_LABELS[..=end]
        .iter()
        .copied()
        .filter(|l| !generation.contains(l))
        .collect();
    assert_eq!(labels(&rows), want, "{out}");
    assert_eq!(value(&rows, "Successful requests:"), "6");
}

#[test]
fn every_request_failing_exits_1_after_printing_the_block() {
    let mut cfg = SimConfig::fixed(5.0, 1.0);
    cfg.faults = vec![
        serde_json::from_value(
            serde_json::json!({"kind": "http", "status": 503, "probability": 1.0}),
        )
        .unwrap(),
    ];
    let sim = Sim::start(cfg);
    let dir = tempfile::tempdir().unwrap();
    let out = runner_in(
        dir.path(),
        &[
            "bench",
            "--base-url",
            &sim.url(),
            "--dataset-name",
            "random",
            "--num-prompts",
            "4",
            "--random-output-len",
            "8",
            "--output-file",
            "r.jsonl",
        ],
    );
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(stderr.contains("All requests failed. This is likely due to a misconfiguration"));
    assert_eq!(value(&block(&stdout), "Successful requests:"), "0");
    assert!(
        stdout.contains("Failed requests: 4 (http_503: 4)"),
        "{stdout}"
    );
    assert_eq!(json_lines(&dir.path().join("r.jsonl"))[0]["completed"], 0);
}

#[test]
fn unsupported_flags_and_bad_values_exit_2_naming_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    for (args, says) in [
        (&["--pd-separated"][..], "--pd-separated is not supported"),
        (
            &["--profile", "--profile-prefill-url", "http://p:1"],
            "--profile-prefill-url is not supported",
        ),
        (
            &["--profile-decode-url", "http://d:1"],
            "--profile-decode-url is not supported",
        ),
        (&["--plot-throughput"], "--plot-throughput is not supported"),
        (&["--print-requests"], "--print-requests is not supported"),
        (
            &["--backend", "gserver"],
            "--backend gserver is not supported",
        ),
        (&["--header", "nokey"], "--header `nokey`"),
        (&["--goodput", "itl:5"], "--goodput"),
        (&["--dataset-name", "mmmu"], "needs --dataset-path"),
        (&["--request-rate", "-1"], "--request-rate"),
        (&["--no-such-flag"], "unexpected argument"),
        (&["--random", "5"], "unexpected argument"),
        (&["--rust-worker-threads", "2"], "--rust-client"),
    ] {
        let mut all = vec!["bench"];
        all.extend_from_slice(args);
        let out = runner_in(dir.path(), &all);
        let (stdout, stderr) = texts(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}\n{stdout}\n{stderr}");
        assert!(stderr.contains(says), "{args:?}: {stderr}");
    }
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "nothing written"
    );
}

#[test]
fn rust_client_is_accepted_with_a_note() {
    let sim = Sim::fast();
    let dir = tempfile::tempdir().unwrap();
    let (out, err) = bench_ok(
        dir.path(),
        &[
            "--rust-client",
            "--rust-worker-threads",
            "2",
            "--base-url",
            &sim.url(),
            "--dataset-name",
            "random",
            "--num-prompts",
            "3",
            "--random-output-len",
            "4",
        ],
    );
    assert!(
        err.contains("note: --rust-client: runner is itself a Rust client"),
        "{err}"
    );
    assert_eq!(value(&block(&out), "Successful requests:"), "3");
}
