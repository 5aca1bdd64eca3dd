//! Every line `runner run`, `runner bench` and `runner merge` write validates against the
//! committed `schema/result.schema.json`: run lines (with an SLO verdict, cache report,
//! details, repeats and their aggregate line), bench's line (tag, goodput, details arrays)
//! and merged shard lines, all against `runner serve` on 127.0.0.1 port 0.

use std::path::Path;
use std::process::{Child, Command, Stdio};

use serde_json::{Value, json};

mod support;

use support::{Serve, bin_path as bin};

fn run_ok(cmd: &mut Command) {
    let o = cmd.output().unwrap();
    assert!(
        o.status.success(),
        "{cmd:?}: {:?}\n{}\n{}",
        o.status,
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}

fn lines(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn validator() -> jsonschema::Validator {
    let schema: Value =
        serde_json::from_str(&std::fs::read_to_string("schema/result.schema.json").unwrap())
            .unwrap();
    jsonschema::validator_for(&schema).unwrap()
}

fn assert_valid(v: &jsonschema::Validator, what: &str, lines: &[Value]) {
    assert!(!lines.is_empty(), "{what}: no lines");
    for (n, l) in lines.iter().enumerate() {
        let errors: Vec<String> = v.iter_errors(l).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{what} line {}: {errors:?}", n + 1);
    }
}

#[test]
fn every_written_line_validates_against_the_result_schema() {
    let v = validator();
    let serve = Serve::start("5", "2");
    let tmp = tempfile::tempdir().unwrap();

    // runner run: an SLO verdict with goodput, the cache report, details, two repeats.
    let scenario = tmp.path().join("run.yaml");
    std::fs::write(
        &scenario,
        "name: schema\nseed: 7\nrepeat: 2\n\
         targets: [{ name: t, backend: sglang, embedded: { preset: fixed, ttft_ms: 5, itl_ms: 2 } }]\n\
         datasets: [{ name: d, kind: random, num_prompts: 8, input_len: 16, output_len: 4 }]\n\
         load: { request_rate: [100], max_concurrency: 4 }\n\
         slo: { ttft_ms: 500, p99_ttft_ms: 800, min_success_rate: 0.5 }\n\
         output: { details: true, cache_report: true }\n",
    )
    .unwrap();
    let out = tmp.path().join("run");
    run_ok(Command::new(bin()).args([
        "run",
        scenario.to_str().unwrap(),
        "--output",
        out.to_str().unwrap(),
        "--quiet",
    ]));
    let run = lines(&out.join("runs.jsonl"));
    assert_eq!(run.len(), 3, "two repeats and their aggregate");
    assert_eq!(run[2]["record"], "aggregate");
    assert!(run[0]["slo_passed"].is_boolean() && run[0]["cache_report"].is_object());
    assert_valid(&v, "runner run", &run);

    // runner bench: tag, goodput and the details arrays.
    let file = tmp.path().join("bench.jsonl");
    run_ok(Command::new(bin()).current_dir(tmp.path()).args([
        "bench",
        "--backend",
        "sglang",
        "--host",
        "127.0.0.1",
        "--port",
        serve.port(),
        "--dataset-name",
        "random",
        "--num-prompts",
        "6",
        "--random-input-len",
        "16",
        "--random-output-len",
        "4",
        "--tag",
        "t1",
        "--goodput",
        "ttft:500",
        "--output-details",
        "--output-file",
        file.to_str().unwrap(),
    ]));
    let bench = lines(&file);
    assert_eq!(bench[0]["tag"], "t1");
    assert!(bench[0]["goodput_slos_ms"].is_object() && bench[0]["ttfts"].is_array());
    assert_valid(&v, "runner bench", &bench);

    // runner run --shard on two processes, then runner merge.
    let sharded = tmp.path().join("shard.yaml");
    std::fs::write(
        &sharded,
        format!(
            "name: sharded\nseed: 1\n\
             targets: [{{ name: t, backend: sglang-oai, base_url: \"{}\" }}]\n\
             datasets: [{{ name: d, kind: random, num_prompts: 8, input_len: 16, output_len: 4 }}]\n\
             load: {{ request_rate: [200], max_concurrency: 0 }}\n",
            serve.1
        ),
    )
    .unwrap();
    let start = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 2;
    let shards = tmp.path().join("shards");
    let children: Vec<Child> = (0..2)
        .map(|i| {
            Command::new(bin())
                .args([
                    "run",
                    sharded.to_str().unwrap(),
                    "--shard",
                    &format!("{i}/2"),
                    "--start-at",
                    &start.to_string(),
                    "--output",
                    shards.to_str().unwrap(),
                    "--quiet",
                ])
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for c in children {
        let o = c.wait_with_output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    for i in 0..2 {
        let shard = lines(&shards.join(format!("shard-{i}-of-2/runs.jsonl")));
        assert_valid(&v, &format!("shard {i}"), &shard);
    }
    let merged = tmp.path().join("merged");
    run_ok(Command::new(bin()).args([
        "merge",
        shards.to_str().unwrap(),
        "-o",
        merged.to_str().unwrap(),
    ]));
    let merged = lines(&merged.join("runs.jsonl"));
    assert_eq!(merged[0]["completed"], 8);
    assert_valid(&v, "runner merge", &merged);
}

#[test]
fn the_schema_rejects_a_wrong_type_and_a_missing_key() {
    let v = validator();
    let tmp = tempfile::tempdir().unwrap();
    let scenario = tmp.path().join("s.yaml");
    std::fs::write(
        &scenario,
        "name: s\ntargets: [{ name: t, backend: sglang, embedded: {} }]\n\
         datasets: [{ name: d, kind: random, num_prompts: 2, input_len: 8, output_len: 2 }]\n",
    )
    .unwrap();
    let out = tmp.path().join("r");
    run_ok(Command::new(bin()).args([
        "run",
        scenario.to_str().unwrap(),
        "--output",
        out.to_str().unwrap(),
        "--quiet",
    ]));
    let line = lines(&out.join("runs.jsonl")).remove(0);
    assert!(v.is_valid(&line));
    let mut wrong = line.clone();
    wrong["completed"] = json!("8");
    assert!(!v.is_valid(&wrong));
    let mut missing = line.clone();
    missing.as_object_mut().unwrap().remove("p99_ttft_ms");
    assert!(!v.is_valid(&missing));
    let mut aggregate = json!({"record": "aggregate", "run_id": "a", "repeats": 2,
        "run_ids": ["a/rep=1", "a/rep=2"], "stopped_runs": [], "mean": {}, "ci95": {}, "std": {}});
    assert!(v.is_valid(&aggregate));
    aggregate["mean"] = json!({"completed": "x"});
    assert!(!v.is_valid(&aggregate));
}
