//! The binary as users run it: exit codes, messages, files.

mod support;

use std::path::Path;

use support::runner;

fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// (line, field) of each diagnostic in validate's output.
fn problems(stderr: &str) -> Vec<(usize, String)> {
    stderr
        .lines()
        .filter(|l| !l.starts_with(' ') && l.contains(": "))
        .filter_map(|l| {
            let mut parts = l.splitn(4, ':');
            let _file = parts.next()?;
            let line = parts.next()?.parse().ok()?;
            let _col = parts.next()?;
            let field = parts.next()?.trim().split(':').next()?.to_owned();
            Some((line, field))
        })
        .collect()
}

#[test]
fn validate_reports_every_problem_with_its_line_in_yaml_and_toml() {
    for (file, expected) in [
        (
            "tests/fixtures/three-problems.yaml",
            [
                (6usize, "targets[0].colour"),
                (10, "datasets[0].num_prompts"),
                (12, "sweep.mode"),
            ],
        ),
        (
            "tests/fixtures/three-problems.toml",
            [
                (7, "targets[0].colour"),
                (12, "datasets[0].num_prompts"),
                (15, "sweep.mode"),
            ],
        ),
    ] {
        let out = runner().args(["validate", file]).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{file}");
        let err = String::from_utf8_lossy(&out.stderr);
        let got = problems(&err);
        let want: Vec<(usize, String)> =
            expected.iter().map(|(l, f)| (*l, f.to_string())).collect();
        assert_eq!(got, want, "{file}:\n{err}");
        assert!(err.contains("unknown field `colour`"), "{err}");
        assert!(
            err.contains("expected an integer, got the string \"lots\""),
            "{err}"
        );
        assert!(err.contains("`zipp` is not one of: product, zip"), "{err}");
        assert!(err.contains("did you mean `zip`?"), "{err}");
        assert!(err.trim_end().ends_with("3 problems found"), "{err}");
    }
}

#[test]
fn validate_reports_embedded_settings_faults_and_dataset_options_at_their_lines() {
    let file = "tests/fixtures/embedded-problems.yaml";
    let out = runner().args(["validate", file]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    let want = [
        (7usize, "targets[0].embedded.max_batch"),
        (10, "targets[0].embedded.faults[0].status"),
        (11, "targets[0].embedded.faults[0].after_tokens"),
        (17, "datasets[0].zipf_alpha"),
    ];
    let want: Vec<(usize, String)> = want.iter().map(|(l, f)| (*l, f.to_string())).collect();
    assert_eq!(problems(&err), want, "{err}");
    assert!(err.contains(&format!("{file}:10:11: ")), "{err}");
    assert!(
        err.contains("`max_batch` applies to the engine presets"),
        "{err}"
    );
    assert!(err.contains("apply to kind `http`, not `refuse`"), "{err}");
    assert!(
        err.contains("`after_tokens` applies to disconnect"),
        "{err}"
    );
    assert!(err.contains("zipf_alpha is only used with"), "{err}");
    assert!(err.trim_end().ends_with("4 problems found"), "{err}");
}

#[test]
fn validate_accepts_every_shipped_scenario() {
    let mut files: Vec<String> = std::fs::read_dir("scenarios")
        .unwrap()
        .map(|e| e.unwrap().path().display().to_string())
        .collect();
    files.sort();
    assert!(!files.is_empty());
    let out = runner().arg("validate").args(&files).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        text.lines().filter(|l| l.contains(": ok (")).count(),
        files.len(),
        "{text}"
    );
}

#[test]
fn semantic_problems_are_reported_together() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(
        dir.path(),
        "s.yaml",
        "name: s\ntargets:\n  - {name: a, backend: vllm}\n  - {name: a, backend: gserver, base_url: 'http://x:1'}\ndatasets:\n  - {name: r, kind: random}\nload:\n  request_rate: [1, 2, 3]\n  max_concurrency: [1, 2]\nsweep: {mode: zip}\n",
    );
    let out = runner().arg("validate").arg(&f).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    for needle in [
        ":3:5: targets[0]: a target needs `base_url` or `embedded`",
        ":4:6: targets[1].name: target name `a` is used twice",
        ":4:15: targets[1].backend: backend `gserver` is not supported",
        ":10:9: sweep.mode: `sweep.mode: zip` needs lists of equal length (targets has 2, load.request_rate has 3, load.max_concurrency has 2)",
        "4 problems found",
    ] {
        assert!(err.contains(needle), "missing {needle:?} in:\n{err}");
    }
}

#[test]
fn unset_environment_variable_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(
        dir.path(),
        "s.yaml",
        "name: s\ntargets:\n  - name: a\n    backend: vllm\n    base_url: ${RUNNER_TEST_UNSET_URL}\ndatasets:\n  - {name: r, kind: random}\n",
    );
    let out = runner()
        .arg("validate")
        .arg(&f)
        .env_remove("RUNNER_TEST_UNSET_URL")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(":5:15: environment variable `RUNNER_TEST_UNSET_URL` is not set"),
        "{err}"
    );
    let ok = runner()
        .arg("validate")
        .arg(&f)
        .env("RUNNER_TEST_UNSET_URL", "http://127.0.0.1:9")
        .output()
        .unwrap();
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
}

const MATRIX: &str = "name: m\ntargets:\n  - {name: a, backend: vllm, base_url: 'http://127.0.0.1:1'}\n  - {name: b, backend: sglang, base_url: 'http://127.0.0.1:2'}\n  - {name: c, backend: vllm-chat, embedded: {}}\ndatasets:\n  - {name: x, kind: random, num_prompts: 10}\n  - {name: y, kind: random, num_prompts: 10}\nload:\n  request_rate: [4, inf]\n  max_concurrency: 8\n";

#[test]
fn plan_prints_a_product_of_three_by_two_by_two() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(dir.path(), "m.yaml", MATRIX);
    let out = runner().arg("plan").arg(&f).output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    let ids: Vec<&str> = text
        .lines()
        .skip(1)
        .map(|l| l.split_whitespace().nth(1).unwrap())
        .collect();
    assert_eq!(ids.len(), 12, "{text}");
    assert_eq!(ids[0], "a/x/rate=4/conc=8");
    assert_eq!(ids[11], "c/y/rate=inf/conc=8");
    insta::assert_snapshot!("plan_product", text);
}

#[test]
fn plan_zips_equal_lists() {
    let dir = tempfile::tempdir().unwrap();
    let zipped = MATRIX.replace("request_rate: [4, inf]", "request_rate: [1, 2, 3]").replace(
        "  - {name: y, kind: random, num_prompts: 10}\n",
        "  - {name: y, kind: random, num_prompts: 10}\n  - {name: z, kind: random, num_prompts: 10}\n",
    ) + "sweep: {mode: zip}\n";
    let f = write(dir.path(), "z.yaml", &zipped);
    let out = runner().arg("plan").arg(&f).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ids: Vec<&str> = text
        .lines()
        .skip(1)
        .map(|l| l.split_whitespace().nth(1).unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "a/x/rate=1/conc=8",
            "b/y/rate=2/conc=8",
            "c/z/rate=3/conc=8"
        ]
    );
}

#[test]
fn schema_command_prints_the_committed_schema() {
    let out = runner().arg("schema").output().unwrap();
    let committed = std::fs::read_to_string("schema/scenario.schema.json").unwrap();
    assert!(
        String::from_utf8_lossy(&out.stdout).trim_end() == committed.trim_end(),
        "schema/scenario.schema.json is stale: run `cargo run -- schema > schema/scenario.schema.json`"
    );
}

#[test]
fn schema_result_prints_the_committed_result_schema() {
    let out = runner().args(["schema", "--result"]).output().unwrap();
    assert!(out.status.success());
    let committed = std::fs::read_to_string("schema/result.schema.json").unwrap();
    assert!(
        String::from_utf8_lossy(&out.stdout).trim_end() == committed.trim_end(),
        "schema/result.schema.json is stale: run `cargo run -- schema --result > schema/result.schema.json`"
    );
}

#[test]
fn every_scenario_declares_the_schema() {
    for e in std::fs::read_dir("scenarios").unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "yaml") {
            let first = std::fs::read_to_string(&p)
                .unwrap()
                .lines()
                .next()
                .unwrap_or("")
                .to_owned();
            assert_eq!(
                first,
                "# yaml-language-server: $schema=../schema/scenario.schema.json",
                "{}",
                p.display()
            );
        }
    }
}

#[test]
fn all_failed_run_exits_1_with_a_readable_summary() {
    let dir = tempfile::tempdir().unwrap();
    let port = support::dead_port();
    let f = write(
        dir.path(),
        "dead.yaml",
        &format!(
            "name: dead\nmodel: m\ntargets:\n  - {{name: dead, backend: vllm, base_url: 'http://127.0.0.1:{port}', ready_timeout_s: 0}}\ndatasets:\n  - {{name: r, kind: random, num_prompts: 5, input_len: 8, output_len: 4}}\nload: {{warmup_requests: 0}}\n"
        ),
    );
    let out = runner()
        .arg("run")
        .arg(&f)
        .arg("--output")
        .arg(dir.path().join("out"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("Successful requests:                     0"),
        "{stdout}"
    );
    assert!(
        stdout.contains("Failed requests: 5 (connect: 5)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("All requests failed in run dead/r/rate=inf/conc=none."),
        "{stdout}"
    );
    assert!(
        stdout.contains("Run: dead/r/rate=inf/conc=none\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains("Mean TTFT (ms):                          N/A"),
        "{stdout}"
    );
    assert!(
        stdout.contains("| dead/r/rate=inf/conc=none |              0 / 5 |"),
        "{stdout}"
    );
    let lines = std::fs::read_to_string(dir.path().join("out/runs.jsonl")).unwrap();
    let v: serde_json::Value = serde_json::from_str(lines.trim()).unwrap();
    assert_eq!(v["failures"]["connect"], 5);
    // Nothing was measured: null, not a perfect-looking 0.0.
    for k in [
        "mean_ttft_ms",
        "p99_itl_ms",
        "median_e2e_latency_ms",
        "max_itl_ms",
    ] {
        assert_eq!(v[k], serde_json::Value::Null, "{k}");
    }
    let csv = std::fs::read_to_string(dir.path().join("out/summary.csv")).unwrap();
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    let row: Vec<&str> = csv.lines().nth(1).unwrap().split(',').collect();
    let col = header.iter().position(|h| *h == "mean_ttft_ms").unwrap();
    assert_eq!(row[col], "");
}

#[test]
fn a_server_that_never_gets_ready_fails_readably() {
    let dir = tempfile::tempdir().unwrap();
    let port = support::dead_port();
    let f = write(
        dir.path(),
        "dead.yaml",
        &format!(
            "name: dead\ntargets:\n  - {{name: dead, backend: vllm, base_url: 'http://127.0.0.1:{port}', ready_timeout_s: 5}}\ndatasets:\n  - {{name: r, kind: random, num_prompts: 5}}\n"
        ),
    );
    let out = runner()
        .arg("run")
        .arg(&f)
        .arg("--output")
        .arg(dir.path().join("out"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!(
            "error: target `dead`: http://127.0.0.1:{port}/v1/models did not answer 200 within 5 s"
        )),
        "{err}"
    );
    // Said once, a few seconds in, with the cause; the final error keeps the cause too.
    assert_eq!(err.matches("still waiting for").count(), 1, "{err}");
    assert_eq!(
        err.to_lowercase().matches("connection refused").count(),
        2,
        "{err}"
    );
}

#[test]
fn inspecting_a_dataset_the_scenario_lacks_is_a_usage_error() {
    let out = runner()
        .args([
            "dataset",
            "inspect",
            "scenarios/quickstart.yaml",
            "--dataset",
            "nope",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(
            "--dataset nope: no dataset of that name; scenarios/quickstart.yaml has: rand"
        ),
        "{err}"
    );
}

#[test]
fn embedded_server_settings_are_checked_by_validate() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(
        dir.path(),
        "e.yaml",
        "name: e\ntargets:\n  - name: a\n    backend: vllm\n    embedded: { preset: tiny, ttft_ms: 5, faults: [{kind: stall}] }\ndatasets:\n  - {name: r, kind: random, num_prompts: 4}\n",
    );
    let out = runner().arg("validate").arg(&f).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(
            ":5:31: targets[0].embedded.ttft_ms: `ttft_ms` applies to presets `fixed` and `instant`"
        ),
        "{err}"
    );
    assert!(
        err.contains(":5:53: targets[0].embedded.faults[0].kind: fault `stall` never fires"),
        "{err}"
    );
    assert!(err.contains("2 problems found"), "{err}");
}

#[test]
fn a_missing_scenario_file_is_a_usage_error_that_says_why() {
    for cmd in ["run", "plan", "validate"] {
        let out = runner()
            .args([cmd, "no-such-scenario.yaml"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{cmd}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("cannot read scenario no-such-scenario.yaml: No such file or directory"),
            "{cmd}: {err}"
        );
        assert_eq!(
            err.matches("No such file").count(),
            1,
            "{cmd}: said once: {err}"
        );
    }
}

#[test]
fn ctrl_c_during_bench_says_so_and_leaves_no_empty_result_file() {
    let dir = tempfile::tempdir().unwrap();
    let port = support::dead_port();
    let out_file = dir.path().join("bench.jsonl");
    // Nothing listens: bench waits for readiness until interrupted.
    let child = support::runner_process()
        .args([
            "bench",
            "--backend",
            "vllm",
            "--host",
            "127.0.0.1",
            "--port",
        ])
        .arg(port.to_string())
        .args(["--dataset-name", "random", "--num-prompts", "2"])
        .args(["--random-input-len", "8", "--random-output-len", "4"])
        .args(["--ready-check-timeout-sec", "60", "--output-file"])
        .arg(&out_file)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let killed = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{err}");
    assert!(
        err.contains("interrupted before any run finished; no result written"),
        "{err}"
    );
    assert!(!out_file.exists());
}
