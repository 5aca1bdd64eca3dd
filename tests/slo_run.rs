//! `slo:` end to end: the verdict under the block, the result fields, exit code 3; optional
//! targets skipped with a note; SLO names checked when the file loads.

mod support;

use assert_cmd::Command;

fn scenario(dir: &std::path::Path, extra: &str) -> std::path::PathBuf {
    let text = format!(
        "name: slo\n\
         targets:\n\
         \x20 - {{name: sim, backend: sglang-oai, embedded: {{ttft_ms: 50, itl_ms: 5}}}}\n\
         \x20 - {{name: remote, backend: vllm, base_url: \"${{RUNNER_TEST_REMOTE_URL:-}}\", \
         when_env: RUNNER_TEST_REMOTE_URL}}\n\
         datasets: [{{name: r, kind: random, num_prompts: 12, input_len: 16, output_len: 8, \
         range_ratio: 1.0}}]\n\
         load: {{warmup_requests: 0}}\n{extra}"
    );
    let path = dir.join("slo.yaml");
    std::fs::write(&path, text).unwrap();
    path
}

fn runner() -> Command {
    let mut c = support::runner();
    c.env_remove("RUNNER_TEST_REMOTE_URL");
    c
}

#[test]
fn a_failed_slo_exits_3_and_names_the_threshold() {
    let dir = tempfile::tempdir().unwrap();
    // Every TTFT is 50 ms or a little more: the per-request 1 s limit holds, the p99 20 ms
    // one fails.
    let file = scenario(dir.path(), "slo: {ttft_ms: 1000, p99_ttft_ms: 20}\n");
    let out = runner()
        .arg("run")
        .arg(&file)
        .arg("-o")
        .arg(dir.path().join("out"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("note: target `remote` skipped: RUNNER_TEST_REMOTE_URL is not set"),
        "{stderr}"
    );
    assert!(
        stderr
            .contains("error: SLO not met in 1 of 1 runs: sim/r/rate=inf/conc=none (p99_ttft_ms)"),
        "{stderr}"
    );
    // bench_serving's goodput section, then the verdict naming value and limit.
    assert!(
        stdout.contains("SLOs (ms):                               ttft:1000"),
        "{stdout}"
    );
    assert!(
        stdout.contains("SLO attainment (%):                      100.00"),
        "{stdout}"
    );
    let verdict = stdout
        .lines()
        .find(|l| l.starts_with("SLO not met: "))
        .unwrap();
    let value: f64 = verdict
        .strip_prefix("SLO not met: p99_ttft_ms ")
        .and_then(|v| v.strip_suffix(" > 20"))
        .unwrap_or_else(|| panic!("{verdict}"))
        .parse()
        .unwrap();
    assert!(value >= 50.0, "{verdict}");

    let runs = std::fs::read_to_string(dir.path().join("out/runs.jsonl")).unwrap();
    let v: serde_json::Value = serde_json::from_str(runs.lines().next().unwrap()).unwrap();
    assert_eq!(v["slo_passed"], false);
    assert_eq!(v["slo_failed"], serde_json::json!(["p99_ttft_ms"]));
    let p99 = v["p99_ttft_ms"].as_f64().unwrap();
    assert!(
        (p99 - value).abs() <= 0.005,
        "the verdict prints the run's value: {p99}"
    );
    assert_eq!(v["slo_attainment"], 1.0);
    let goodput = v["request_goodput"].as_f64().unwrap();
    let throughput = v["request_throughput"].as_f64().unwrap();
    assert!(
        (goodput - throughput).abs() < 1e-9,
        "every request was good"
    );
    assert!(v.get("search").is_none());
    let csv = std::fs::read_to_string(dir.path().join("out/summary.csv")).unwrap();
    let mut rows = csv.lines();
    assert!(
        rows.next()
            .unwrap()
            .ends_with(",slo_passed,slo_failed,slo_attainment,request_goodput")
    );
    assert!(
        rows.next().unwrap().contains(",false,p99_ttft_ms,1.0,"),
        "{csv}"
    );
}

#[test]
fn a_met_slo_exits_0_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let file = scenario(dir.path(), "slo: {p99_ttft_ms: 500, min_success_rate: 1}\n");
    let out = runner()
        .arg("run")
        .arg(&file)
        .arg("-o")
        .arg(dir.path().join("out"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    let verdict = stdout.lines().find(|l| l.starts_with("SLO met: ")).unwrap();
    assert!(
        verdict.starts_with("SLO met: min_success_rate 100.00 % ≥ 100 %, p99_ttft_ms "),
        "{verdict}"
    );
    assert!(verdict.ends_with(" ≤ 500"), "{verdict}");
}

#[test]
fn an_optional_target_is_kept_when_its_variable_is_set() {
    let dir = tempfile::tempdir().unwrap();
    let file = scenario(dir.path(), "");
    let out = runner().arg("plan").arg(&file).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("note: target `remote` skipped"), "{stdout}");
    assert!(!stdout.contains("remote/r"), "{stdout}");
    let out = runner()
        .env("RUNNER_TEST_REMOTE_URL", "http://127.0.0.1:9")
        .arg("plan")
        .arg(&file)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("remote/r/rate=inf/conc=none"), "{stdout}");
    assert!(!stdout.contains("skipped"), "{stdout}");
}

#[test]
fn slo_and_search_mistakes_are_reported_when_loading() {
    let dir = tempfile::tempdir().unwrap();
    let file = scenario(
        dir.path(),
        "slo: {p99_ttft: 500}\nsearch: {axis: request_rate}\n",
    );
    let out = runner().arg("validate").arg(&file).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("slo.p99_ttft: unknown SLO metric `p99_ttft`"),
        "{stderr}"
    );
    assert!(
        stderr.contains("hint: did you mean `p99_ttft_ms`?"),
        "{stderr}"
    );
    let file = scenario(dir.path(), "search: {}\n");
    let out = runner().arg("validate").arg(&file).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("`search` needs an `slo` block"), "{stderr}");
}
