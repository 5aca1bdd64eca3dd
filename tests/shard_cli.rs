//! `runner run --shard` and `runner merge` on the command line: usage errors and refusals
//! exit 2 and say what is wrong.

use std::process::Command;

fn runner(args: &[&str]) -> (i32, String) {
    let out = Command::new(assert_cmd::cargo::cargo_bin!("runner"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn bad_shard_flags_are_usage_errors() {
    let (code, err) = runner(&[
        "run",
        "scenarios/quickstart.yaml",
        "--shard",
        "4/4",
        "--start-at",
        "1",
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--shard 4/4: expected I/N"), "{err}");
    let (code, err) = runner(&["run", "scenarios/quickstart.yaml", "--shard", "0/2"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--start-at"), "{err}");
    let tmp = tempfile::tempdir().unwrap();
    let search = tmp.path().join("search.yaml");
    std::fs::write(
        &search,
        "name: s\n\
         targets: [{ name: t, backend: sglang-oai, embedded: {} }]\n\
         datasets: [{ name: d, kind: random, num_prompts: 4, input_len: 8, output_len: 4 }]\n\
         slo: { ttft_ms: 1000 }\n\
         search: { axis: request_rate }\n",
    )
    .unwrap();
    let search = search.to_str().unwrap();
    let (code, err) = runner(&["run", search, "--shard", "0/2", "--start-at", "1"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("`search:` block cannot be sharded"), "{err}");
}

#[test]
fn merge_refuses_a_missing_shard_with_exit_2() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("shard-0-of-2");
    std::fs::create_dir_all(&dir).unwrap();
    let line = serde_json::json!({
        "run_id": "t/d/rate=inf/conc=none",
        "scenario_hash": "0123456789abcdef",
        "provenance": {"shard": {"index": 0, "count": 2, "start_at": 1.0, "start_unix_s": 1.0}},
    });
    std::fs::write(dir.join("runs.jsonl"), format!("{line}\n")).unwrap();
    let out = tmp.path().join("merged");
    let (code, err) = runner(&[
        "merge",
        tmp.path().to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("run t/d/rate=inf/conc=none: shard 1 of 2 is missing (have 0)"),
        "{err}"
    );
    assert!(!out.exists());
}
