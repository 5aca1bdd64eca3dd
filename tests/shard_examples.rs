//! examples/kubernetes and examples/slurm rendered, and their commands run here as plain
//! processes against `runner serve` on 127.0.0.1 port 0: two shards of the two-run example
//! scenario (the second run behind the shard barrier), then the merge step.

use std::path::Path;
use std::process::{Child, Command, Stdio};

use serde_json::Value;

mod support;

use support::{Serve, bin_path as bin};

/// A small workload for the example scenario (24 requests per run, two runs).
const SMALL: [(&str, &str); 5] = [
    ("NUM_PROMPTS", "24"),
    ("INPUT_LEN", "32"),
    ("OUTPUT_LEN", "4"),
    ("RATE", "100"),
    ("RATE2", "200"),
];

fn start_at() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    (now + 4).to_string()
}

fn wait_ok(children: Vec<(String, Child)>) {
    for (what, c) in children {
        let o = c.wait_with_output().unwrap();
        assert!(
            o.status.success(),
            "{what}: {:?}\n{}\n{}",
            o.status,
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
    }
}

/// The merged results: two runs of 24 requests, each from 2 shards.
fn check_merged(dir: &Path) {
    let text = std::fs::read_to_string(dir.join("runs.jsonl")).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "{text}");
    for l in &lines {
        assert_eq!(l["completed"], 24, "{l}");
        assert_eq!(l["failed"], 0, "{l}");
        assert_eq!(l["provenance"]["shards"]["count"], 2, "{l}");
    }
    // The second run started after both shards finished the first (the barrier).
    let first_end: f64 = lines[0]["provenance"]["shards"]["start_unix_s"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_f64().unwrap())
        .fold(f64::MIN, f64::max)
        + lines[0]["duration"].as_f64().unwrap();
    let second: Vec<f64> = lines[1]["provenance"]["shards"]["start_unix_s"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_f64().unwrap())
        .collect();
    assert!(
        second.iter().all(|s| *s > first_end),
        "{first_end} {second:?}"
    );
    assert!(
        std::fs::read_to_string(dir.join("summary.csv"))
            .unwrap()
            .lines()
            .count()
            == 3
    );
}

/// The container of the document of `kind` in rendered manifests.
fn container<'a>(docs: &'a [serde_yaml_ng::Value], kind: &str) -> &'a serde_yaml_ng::Value {
    let job = docs
        .iter()
        .find(|d| d["kind"] == kind && d["metadata"]["name"].as_str().is_some())
        .unwrap_or_else(|| panic!("no {kind}"));
    &job["spec"]["template"]["spec"]["containers"][0]
}

/// A container's command with `runner` and the mount paths mapped to this machine.
fn local_command(c: &serde_yaml_ng::Value, root: &Path) -> Command {
    let args: Vec<String> = c["command"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|a| {
            let a = a.as_str().unwrap();
            for mount in ["/scenario", "/results"] {
                if let Some(rest) = a.strip_prefix(mount) {
                    return format!("{}{rest}", root.join(&mount[1..]).display());
                }
            }
            a.to_owned()
        })
        .collect();
    assert_eq!(args[0], "runner");
    let mut cmd = Command::new(bin());
    cmd.args(&args[1..])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for e in c["env"].as_sequence().into_iter().flatten() {
        cmd.env(e["name"].as_str().unwrap(), e["value"].as_str().unwrap());
    }
    cmd
}

fn render(part: &str, url: &str, start: &str) -> Vec<serde_yaml_ng::Value> {
    let o = Command::new("sh")
        .args(["examples/kubernetes/render.sh", part])
        .env("SHARDS", "2")
        .env("TARGET_URL", url)
        .env("START_AT", start)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = String::from_utf8(o.stdout).unwrap();
    serde_yaml_ng::Deserializer::from_str(&text)
        .map(|d| serde::Deserialize::deserialize(d).unwrap())
        .collect()
}

#[test]
fn kubernetes_indexed_job_renders_and_its_commands_run_locally() {
    let serve = Serve::start("20", "5");
    let tmp = tempfile::tempdir().unwrap();
    let start = start_at();
    let docs = render("shards", &serve.1, &start);
    let kinds: Vec<&str> = docs.iter().map(|d| d["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["ConfigMap", "PersistentVolumeClaim", "Job"]);
    let job = &docs[2]["spec"];
    assert_eq!(job["completionMode"], "Indexed");
    assert_eq!(job["completions"], 2);
    // The ConfigMap holds the scenario, mounted at /scenario.
    let scenario = docs[0]["data"]["scenario.yaml"].as_str().unwrap();
    assert_eq!(
        scenario,
        std::fs::read_to_string("examples/kubernetes/scenario.yaml").unwrap()
    );
    std::fs::create_dir_all(tmp.path().join("scenario")).unwrap();
    std::fs::write(tmp.path().join("scenario/scenario.yaml"), scenario).unwrap();
    let c = container(&docs, "Job");
    let shards = (0..2)
        .map(|i| {
            let mut cmd = local_command(c, tmp.path());
            cmd.env("JOB_COMPLETION_INDEX", i.to_string()).envs(SMALL);
            (format!("shard {i}"), cmd.spawn().unwrap())
        })
        .collect();
    wait_ok(shards);
    let merge = render("merge", "", &start);
    let mut cmd = local_command(container(&merge, "Job"), tmp.path());
    wait_ok(vec![("merge".into(), cmd.spawn().unwrap())]);
    check_merged(&tmp.path().join("results/merged"));
}

#[test]
fn slurm_array_and_dependent_merge_run_locally() {
    let serve = Serve::start("20", "5");
    let tmp = tempfile::tempdir().unwrap();
    let results = tmp.path().join("results");
    // submit.sh, with an `sbatch` that records its arguments: the merge depends on the array.
    let fake = tmp.path().join("bin");
    std::fs::create_dir_all(&fake).unwrap();
    let log = tmp.path().join("sbatch.log");
    std::fs::write(
        fake.join("sbatch"),
        format!("#!/bin/sh\necho \"$*\" >> {}\necho 4242\n", log.display()),
    )
    .unwrap();
    let mut perm = std::fs::metadata(fake.join("sbatch"))
        .unwrap()
        .permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perm, 0o755);
    std::fs::set_permissions(fake.join("sbatch"), perm).unwrap();
    let path = format!("{}:{}", fake.display(), std::env::var("PATH").unwrap());
    let o = Command::new("sh")
        .arg("examples/slurm/submit.sh")
        .env("PATH", path)
        .env("TARGET_URL", &serve.1)
        .env("SHARDS", "2")
        .env("RESULTS", &results)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let calls = std::fs::read_to_string(&log).unwrap();
    let calls: Vec<&str> = calls.lines().collect();
    assert!(
        calls[0].contains("--array=0-1") && calls[0].ends_with("shards.sbatch"),
        "{calls:?}"
    );
    assert!(calls[1].contains("--dependency=afterok:4242") && calls[1].ends_with("merge.sbatch"));
    // The array's tasks and the merge as the batch scripts run them.
    let start = start_at();
    let task = |i: u32| {
        let child = Command::new("bash")
            .arg("examples/slurm/shards.sbatch")
            .env("SLURM_ARRAY_TASK_ID", i.to_string())
            .env("SLURM_ARRAY_TASK_COUNT", "2")
            .env("SLURM_ARRAY_TASK_MIN", "0")
            .env("START_AT", &start)
            .env("RESULTS", &results)
            .env("RUNNER", bin())
            .env("SCENARIO", "examples/slurm/scenario.yaml")
            .env("TARGET_URL", &serve.1)
            .envs(SMALL)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        (format!("task {i}"), child)
    };
    wait_ok(vec![task(0), task(1)]);
    let merge = Command::new("bash")
        .arg("examples/slurm/merge.sbatch")
        .env("RESULTS", &results)
        .env("RUNNER", bin())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_ok(vec![("merge".into(), merge)]);
    check_merged(&results.join("merged"));
}
