//! The README's quick start: the shipped scenario against the embedded server.

mod bench_support;

use assert_cmd::Command;
use bench_support::RESULT_KEYS;

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
        // bench_serving's result keys (spec §7), in its order, lead every line.
        let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(&keys[..RESULT_KEYS.len()], RESULT_KEYS);
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
