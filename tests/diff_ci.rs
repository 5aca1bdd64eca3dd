//! examples/ci/regress.sh against two embedded servers in this process: a fast baseline, and
//! a candidate with the same first-token time and 30 % slower decode.

mod support;

use std::process::Command;

use runner::sim::SimConfig;
use support::Sim;

fn regress(baseline: &str, candidate: &str, out: &std::path::Path) -> (i32, String, String) {
    let o = Command::new("bash")
        .arg("examples/ci/regress.sh")
        .arg("examples/ci/scenario.yaml")
        .args([baseline, candidate])
        .arg(out)
        .env("RUNNER", assert_cmd::cargo::cargo_bin!("runner"))
        .env("CI_NUM_PROMPTS", "24")
        .env_remove("PR_NUMBER")
        .output()
        .unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn script_passes_same_against_same_and_fails_a_slower_candidate() {
    let tmp = tempfile::tempdir().unwrap();
    let fast = Sim::start(SimConfig::fixed(20.0, 10.0));
    let slow = Sim::start(SimConfig::fixed(20.0, 13.0));

    let (code, md, err) = regress(&fast.url(), &fast.url(), &tmp.path().join("same"));
    assert_eq!(code, 0, "{md}\n{err}");
    assert!(md.contains("gate: passed"), "{md}");
    assert!(err.contains("no regression"), "{err}");

    let out = tmp.path().join("slow");
    let (code, md, err) = regress(&fast.url(), &slow.url(), &out);
    assert_eq!(code, 4, "{md}\n{err}");
    assert!(md.starts_with("### runner diff"), "{md}");
    assert!(
        md.contains("| `server/rand/rate=inf/conc=8` | mean_tpot_ms |"),
        "{md}"
    );
    assert!(
        md.contains("- regression: run server/rand/rate=inf/conc=8: mean_tpot_ms"),
        "{md}"
    );
    assert_eq!(std::fs::read_to_string(out.join("diff.md")).unwrap(), md);
    let line = std::fs::read_to_string(out.join("candidate/runs.jsonl")).unwrap();
    let v: serde_json::Value = serde_json::from_str(line.lines().next().unwrap()).unwrap();
    assert_eq!(v["labels"]["role"], "candidate");
}
