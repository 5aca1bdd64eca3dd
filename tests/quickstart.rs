//! The README's quick start: the shipped scenario against the embedded server.

use assert_cmd::Command;

/// bench_serving's result keys (spec §7), all of which every runs.jsonl line carries.
const BENCH_SERVING_KEYS: &[&str] = &[
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
    "concurrency",
    "accept_length",
    "max_output_tokens_per_s",
    "max_concurrent_requests",
];

#[test]
fn quickstart_prints_a_block_per_run_and_writes_results() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(assert_cmd::cargo::cargo_bin!("runner"))
        .args(["run", "scenarios/quickstart.yaml", "--output"])
        .arg(dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}\n{}",
        stdout,
        String::from_utf8_lossy(&out.stderr)
    );
    let blocks = stdout
        .matches("============ Serving Benchmark Result ============")
        .count();
    assert_eq!(blocks, 4, "{stdout}");
    assert_eq!(
        stdout
            .matches("Successful requests:                     60")
            .count(),
        4,
        "{stdout}"
    );

    let runs = std::fs::read_to_string(dir.path().join("runs.jsonl")).unwrap();
    let lines: Vec<serde_json::Value> = runs
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 4);
    for v in &lines {
        for k in BENCH_SERVING_KEYS {
            assert!(v.get(*k).is_some(), "missing {k}");
        }
        for stat in ["mean", "median", "std", "p90", "p95", "p99"] {
            for m in ["e2e_latency", "ttft", "tpot", "itl"] {
                assert!(
                    v.get(format!("{stat}_{m}_ms")).is_some(),
                    "missing {stat}_{m}_ms"
                );
            }
        }
        assert_eq!(v["completed"], 60);
        assert_eq!(v["scenario"], "quickstart");
    }
    assert_eq!(lines[1]["request_rate"], "inf");
    assert_eq!(lines[0]["request_rate"], 20.0);
    assert_eq!(lines[0]["run_id"], "fast/rand/rate=20/conc=16");

    let csv = std::fs::read_to_string(dir.path().join("summary.csv")).unwrap();
    let rows: Vec<&str> = csv.lines().collect();
    assert_eq!(rows.len(), 5, "{csv}");
    insta::assert_snapshot!("summary_csv_header", rows[0]);
    assert!(
        rows[2].starts_with(
            "fast/rand/rate=inf/conc=16,quickstart,fast,sglang-oai,rand,inf,16,42,60,0,"
        ),
        "{}",
        rows[2]
    );
}
