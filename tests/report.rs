//! `runner report DIR` and `runner run --report`: the files a results directory gets (SVG
//! with the expected series, PNG of the stated size, report.md with its tables), with and
//! without SLO and capacity data, and the errors for a missing or empty directory.

mod support;

use std::path::Path;

use serde_json::{Value, json};
use support::runner;

/// One run line with the keys the report reads (bench_serving's names).
fn run_line(target: &str, rate: Value, conc: u32, rps: f64, ttft: (f64, f64)) -> Value {
    let rate_id = rate.as_f64().map_or("inf".to_owned(), |r| format!("{r}"));
    json!({
        "backend": "sglang", "dataset_name": "random", "request_rate": rate,
        "max_concurrency": conc, "completed": 100, "failed": 0,
        "request_throughput": rps, "output_throughput": rps * 30.0,
        "mean_ttft_ms": ttft.0 * 1.1, "median_ttft_ms": ttft.0, "p99_ttft_ms": ttft.1,
        "mean_tpot_ms": 4.0, "median_tpot_ms": 4.0, "p99_tpot_ms": 6.5, "p99_itl_ms": 9.0,
        "run_id": format!("{target}/rand/rate={rate_id}/conc={conc}"),
        "scenario": "knee", "target": target, "dataset": "rand",
    })
}

/// A 3 rates × 2 concurrencies sweep of one target, with a knee past 50 req/s.
fn sweep() -> Vec<Value> {
    let mut v = Vec::new();
    for conc in [8, 64] {
        v.push(run_line("tiny", json!(20.0), conc, 19.6, (5.0, 12.0)));
        v.push(run_line("tiny", json!(50.0), conc, 48.3, (6.0, 40.0)));
        v.push(run_line("tiny", json!(100.0), conc, 73.0, (350.0, 720.0)));
    }
    v
}

fn write_jsonl(path: &Path, rows: &[Value]) {
    let text: String = rows.iter().map(|r| format!("{r}\n")).collect();
    std::fs::write(path, text).unwrap();
}

/// Every text node of an SVG file (which must parse as XML).
fn svg_texts(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap();
    let doc = roxmltree::Document::parse(&text)
        .unwrap_or_else(|e| panic!("{} is not XML: {e}", path.display()));
    assert_eq!(doc.root_element().tag_name().name(), "svg");
    doc.descendants()
        .filter(|n| n.has_tag_name("text"))
        .filter_map(|n| n.text().map(|t| t.trim().to_owned()))
        .collect()
}

fn assert_png(path: &Path) {
    let img = image::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(
        (img.width(), img.height()),
        (1200, 800),
        "{}",
        path.display()
    );
}

fn report(dir: &Path) -> std::process::Output {
    runner().arg("report").arg(dir).output().unwrap()
}

#[test]
fn a_sweep_without_slo_gets_three_charts_and_a_run_table() {
    let dir = tempfile::tempdir().unwrap();
    write_jsonl(&dir.path().join("runs.jsonl"), &sweep());
    let out = report(dir.path());
    assert!(out.status.success(), "{out:?}");
    let plots = dir.path().join("plots");
    for name in ["rand-ttft", "rand-tpot", "rand-goodput"] {
        assert_png(&plots.join(format!("{name}.png")));
    }
    let ttft = svg_texts(&plots.join("rand-ttft.svg"));
    for want in [
        "tiny conc=8 p50",
        "tiny conc=8 p99",
        "tiny conc=64 p50",
        "tiny conc=64 p99",
        "achieved throughput (req/s)",
        "TTFT (ms, log scale)",
    ] {
        assert!(ttft.iter().any(|t| t == want), "{want} not in {ttft:?}");
    }
    assert!(!ttft.iter().any(|t| t.starts_with("SLO")), "{ttft:?}");
    let goodput = svg_texts(&plots.join("rand-goodput.svg"));
    for want in [
        "tiny conc=8 throughput",
        "tiny conc=64 throughput",
        "ideal: achieved = offered",
        "offered request rate (req/s)",
        "no goodput: the runs have no request_goodput",
    ] {
        assert!(
            goodput.iter().any(|t| t == want),
            "{want} not in {goodput:?}"
        );
    }
    let md = std::fs::read_to_string(dir.path().join("report.md")).unwrap();
    assert!(
        md.contains("![rand: TTFT vs throughput](plots/rand-ttft.png)"),
        "{md}"
    );
    assert!(!md.contains("## Capacity"), "{md}");
    let rows: Vec<&str> = md.lines().filter(|l| l.starts_with("| tiny/")).collect();
    assert_eq!(rows.len(), 6, "{md}");
    // run id, completed / failed, req/s, output tok/s, mean and p99 TTFT, mean TPOT, p99 ITL
    assert_eq!(
        rows[2],
        "| tiny/rand/rate=100/conc=8 | 100 / 0 | 73 | 2190 | 385 | 720 | 4 | 9 |"
    );
}

#[test]
fn slo_fields_and_capacity_draw_thresholds_capacity_and_tables() {
    let dir = tempfile::tempdir().unwrap();
    let runs: Vec<Value> = sweep()
        .into_iter()
        .map(|mut r| {
            let ok = r["p99_ttft_ms"].as_f64().unwrap() < 200.0;
            let rps = r["request_throughput"].as_f64().unwrap();
            r["slo_passed"] = json!(ok);
            r["slo_failed"] = if ok {
                json!([])
            } else {
                json!(["p99_ttft_ms"])
            };
            r["slo_attainment"] = json!(if ok { 1.0 } else { 0.5 });
            r["request_goodput"] = json!(if ok { rps } else { rps / 2.0 });
            r
        })
        .collect();
    write_jsonl(&dir.path().join("runs.jsonl"), &runs);
    let capacity = json!({
        "scenario": "knee", "target": "tiny", "dataset": "rand", "axis": "request_rate",
        "capacity": 50.0, "goodput_at_capacity": 48.3, "binding_slo": "p99_ttft_ms",
        "runs": 3, "run_ids": ["tiny/rand/rate=50/conc=8"], "precision": 0.05,
        "lower": 50.0, "upper": 100.0, "status": "found",
        "slo": {"ttft_ms": 100, "p99_ttft_ms": 200, "mean_tpot_ms": 10}
    });
    write_jsonl(&dir.path().join("capacity.jsonl"), &[capacity]);
    let out = report(dir.path());
    assert!(out.status.success(), "{out:?}");
    let plots = dir.path().join("plots");
    let ttft = svg_texts(&plots.join("rand-ttft.svg"));
    for want in [
        "SLO ttft_ms = 100 ms (per request)",
        "SLO p99_ttft_ms = 200 ms",
        "capacity tiny: 50 req/s",
        "tiny p99 at capacity",
    ] {
        assert!(ttft.iter().any(|t| t == want), "{want} not in {ttft:?}");
    }
    let tpot = svg_texts(&plots.join("rand-tpot.svg"));
    assert!(
        tpot.iter().any(|t| t == "SLO mean_tpot_ms = 10 ms"),
        "{tpot:?}"
    );
    assert!(!tpot.iter().any(|t| t.contains("ttft")), "{tpot:?}");
    let goodput = svg_texts(&plots.join("rand-goodput.svg"));
    for want in [
        "tiny conc=8 goodput",
        "tiny conc=64 goodput",
        "capacity tiny: 50 req/s",
        "tiny goodput at capacity: 48.3 req/s",
    ] {
        assert!(
            goodput.iter().any(|t| t == want),
            "{want} not in {goodput:?}"
        );
    }
    for name in ["rand-ttft", "rand-tpot", "rand-goodput"] {
        assert_png(&plots.join(format!("{name}.png")));
    }
    let md = std::fs::read_to_string(dir.path().join("report.md")).unwrap();
    assert!(md.contains("## Capacity"), "{md}");
    assert!(
        md.contains(
            "| tiny | rand | request_rate | 50 | 48.3 | p99_ttft_ms | found | 3 | [50, 100] |"
        ),
        "{md}"
    );
    assert!(
        md.contains("SLO thresholds: `ttft_ms` 100, `p99_ttft_ms` 200"),
        "{md}"
    );
    assert!(
        md.contains("| tiny/rand/rate=100/conc=64 | 100 / 0 | 73 | 2190 | 385 | 720 | 4 | 9 | 36.5 | fail: p99_ttft_ms |"),
        "{md}"
    );
}

#[test]
fn inf_rates_single_runs_and_missing_fields_do_not_break_the_report() {
    let dir = tempfile::tempdir().unwrap();
    let mut bare = run_line("solo", json!("inf"), 16, 30.0, (20.0, 90.0));
    bare.as_object_mut().unwrap().remove("p99_ttft_ms");
    let rows = [
        bare,
        json!({"run_id": "only-an-id"}),
        json!({"run_id": "wrong types", "request_rate": [1], "median_ttft_ms": "fast"}),
    ];
    let mut text: String = rows.iter().map(|r| format!("{r}\n")).collect();
    text.push_str("{truncated\n");
    std::fs::write(dir.path().join("runs.jsonl"), text).unwrap();
    let out = report(dir.path());
    assert!(out.status.success(), "{out:?}");
    let goodput = svg_texts(&dir.path().join("plots/rand-goodput.svg"));
    assert!(goodput.iter().any(|t| t == "inf"), "{goodput:?}");
    assert!(
        goodput.iter().any(|t| t == "solo throughput"),
        "{goodput:?}"
    );
    let ttft = svg_texts(&dir.path().join("plots/rand-ttft.svg"));
    assert!(ttft.iter().any(|t| t == "solo p50"), "{ttft:?}");
    // The p99 series has no point: it is left out, not drawn empty.
    assert!(!ttft.iter().any(|t| t == "solo p99"), "{ttft:?}");
    let md = std::fs::read_to_string(dir.path().join("report.md")).unwrap();
    assert!(
        md.contains("| only-an-id | – / – | – | – | – | – | – | – |"),
        "{md}"
    );
    assert!(
        md.contains("1 line(s) that were not JSON objects were skipped."),
        "{md}"
    );
}

#[test]
fn a_missing_directory_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope");
    let out = report(&missing);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("does not exist"), "{err}");
    assert!(err.contains("nope"), "{err}");

    let out = report(dir.path());
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("has no runs.jsonl"), "{err}");
}

#[test]
fn a_directory_without_runs_says_so() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("runs.jsonl"), "\n").unwrap();
    let out = report(dir.path());
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no runs in"), "{err}");
    assert!(!dir.path().join("report.md").exists());
}

#[test]
fn run_with_report_draws_a_three_by_two_sweep_of_the_embedded_server() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("knee.yaml");
    std::fs::write(
        &scenario,
        "name: knee\nseed: 1\n\
         targets: [{ name: tiny, backend: sglang, embedded: { preset: tiny } }]\n\
         datasets: [{ name: rand, kind: random, num_prompts: 24, input_len: 64, output_len: 8 }]\n\
         load: { request_rate: [50, 100, inf], max_concurrency: [4, 16] }\n",
    )
    .unwrap();
    let results = dir.path().join("out");
    let out = runner()
        .arg("run")
        .arg(&scenario)
        .arg("--output")
        .arg(&results)
        .arg("--report")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let md = std::fs::read_to_string(results.join("report.md")).unwrap();
    let rows = md.lines().filter(|l| l.starts_with("| tiny/rand/")).count();
    assert_eq!(rows, 6, "{md}");
    for name in ["rand-ttft", "rand-tpot", "rand-goodput"] {
        assert_png(&results.join(format!("plots/{name}.png")));
    }
    let goodput = svg_texts(&results.join("plots/rand-goodput.svg"));
    for want in ["tiny conc=4 throughput", "tiny conc=16 throughput", "inf"] {
        assert!(
            goodput.iter().any(|t| t == want),
            "{want} not in {goodput:?}"
        );
    }
}

#[test]
fn the_knee_scenario_of_the_readme_is_valid() {
    let out = runner()
        .args(["validate", "scenarios/knee.yaml"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("ok (6 runs)"), "{stdout}");
}
