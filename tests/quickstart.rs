//! The README's quick start: the shipped scenario against the embedded server.

mod support;

use support::RESULT_KEYS;

#[test]
fn quickstart_prints_a_block_per_run_and_writes_results() {
    let dir = tempfile::tempdir().unwrap();
    let out = support::runner()
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

    // Each block names its run; the sweep table ends the output and is summary.md.
    let named: Vec<&str> = stdout
        .lines()
        .filter_map(|l| l.strip_prefix("Run: "))
        .collect();
    assert_eq!(
        named,
        [
            "fast/rand/rate=20/conc=16",
            "fast/rand/rate=inf/conc=16",
            "slow/rand/rate=20/conc=16",
            "slow/rand/rate=inf/conc=16"
        ]
    );
    let table = std::fs::read_to_string(dir.path().join("summary.md")).unwrap();
    assert!(stdout.ends_with(&table), "{stdout}");
    let table_lines: Vec<&str> = table.lines().collect();
    assert_eq!(table_lines.len(), 6, "{table}");
    assert!(table_lines[0].starts_with("| run "), "{table}");
    assert!(
        table_lines[2].starts_with("| fast/rand/rate=20/conc=16  |             60 / 0 |"),
        "{table}"
    );
    let width = table_lines[0].chars().count();
    assert!(
        table_lines.iter().all(|l| l.chars().count() == width),
        "{table}"
    );
    assert!(
        rows[2].starts_with(
            "fast/rand/rate=inf/conc=16,quickstart,fast,sglang-oai,rand,inf,16,42,60,0,"
        ),
        "{}",
        rows[2]
    );
}

#[test]
fn two_invocations_append_details_that_match_their_rows() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string("scenarios/quickstart.yaml")
        .unwrap()
        .replace("  dir: results/quickstart", "  details: true")
        .replace("num_prompts: 60", "num_prompts: 6");
    let scenario = dir.path().join("q.yaml");
    std::fs::write(&scenario, text).unwrap();
    let out_dir = dir.path().join("out");
    for _ in 0..2 {
        let out = support::runner()
            .arg("run")
            .arg(&scenario)
            .arg("--output")
            .arg(&out_dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let runs = std::fs::read_to_string(out_dir.join("runs.jsonl")).unwrap();
    let rows: Vec<serde_json::Value> = runs
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 8);
    for (i, row) in rows.iter().enumerate() {
        let d = &row["details"];
        let file = std::fs::read_to_string(out_dir.join(d["file"].as_str().unwrap())).unwrap();
        let lines: Vec<&str> = file.lines().collect();
        assert_eq!(lines.len(), 12, "both invocations' details are kept");
        let first = d["first_line"].as_u64().unwrap() as usize;
        assert_eq!(first, if i < 4 { 1 } else { 7 });
        assert_eq!(d["lines"], 6);
        // The rows' counts are the counts of their own detail lines.
        let mine = &lines[first - 1..first - 1 + 6];
        let ok = mine
            .iter()
            .filter(|l| l.contains(r#""outcome":{"kind":"ok"}"#))
            .count();
        assert_eq!(
            row["completed"].as_u64().unwrap() as usize,
            ok,
            "{}",
            mine[0]
        );
    }
}
