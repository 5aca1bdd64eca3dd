//! The flagship scenario, offline: with no environment set it skips the remote targets,
//! searches the embedded H100 model's capacity for each dataset, writes the table and, as
//! its `output.report` asks, the report (plots and report.md).

mod support;

#[test]
fn llama8b_runs_offline_against_the_embedded_target() {
    let dir = tempfile::tempdir().unwrap();
    let started = std::time::Instant::now();
    let out = support::runner()
        .env_remove("SGLANG_URL")
        .env_remove("VLLM_URL")
        .env_remove("TOKENIZER")
        .env("RUNNER_OFFLINE", "1")
        .args(["run", "scenarios/llama8b.yaml", "--output"])
        .arg(dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!(
        "llama8b.yaml offline: {:.0} s",
        started.elapsed().as_secs_f64()
    );
    assert!(out.status.success(), "{stdout}\n{stderr}");
    for var in ["SGLANG_URL", "VLLM_URL"] {
        assert!(
            stderr.contains(&format!("skipped: {var} is not set")),
            "{stderr}"
        );
    }
    assert!(stdout.contains("=== Capacity ==="), "{stdout}");
    let table = std::fs::read_to_string(dir.path().join("capacity.jsonl")).unwrap();
    let rows: Vec<serde_json::Value> = table
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let datasets: Vec<&str> = rows
        .iter()
        .map(|r| r["dataset"].as_str().unwrap())
        .collect();
    assert_eq!(datasets, ["chat", "random-1k-1k", "shared-prefix"]);
    let runs = std::fs::read_to_string(dir.path().join("runs.jsonl")).unwrap();
    let total: u64 = rows.iter().map(|r| r["runs"].as_u64().unwrap()).sum();
    assert_eq!(runs.lines().count() as u64, total);
    for r in &rows {
        assert_eq!(r["target"], "h100-sim");
        assert!(r["runs"].as_u64().unwrap() <= 5, "{r}");
        println!("{r}");
    }
    let csv = std::fs::read_to_string(dir.path().join("capacity.csv")).unwrap();
    assert_eq!(csv.lines().count(), 4, "{csv}");
    // The report, written without --report: three charts per dataset, SVG and PNG.
    assert!(stdout.contains("report: "), "{stdout}");
    for d in ["chat", "random-1k-1k", "shared-prefix"] {
        for chart in ["ttft", "tpot", "goodput"] {
            for ext in ["svg", "png"] {
                let f = dir.path().join(format!("plots/{d}-{chart}.{ext}"));
                assert!(std::fs::metadata(&f).unwrap().len() > 1000, "{f:?}");
            }
        }
    }
    let md = std::fs::read_to_string(dir.path().join("report.md")).unwrap();
    assert!(md.contains("![chat: TTFT"), "{md}");
    assert!(md.contains("| h100-sim | random-1k-1k |"), "{md}");
}
