//! `runner diff` end to end: results of a fast and a slower embedded server, repeats judged by
//! Welch's test, bench_serving result files, a summary.csv from an older runner, provenance
//! on every run line.

mod support;

use std::path::Path;

use runner::sim::SimConfig;
use serde_json::{Value, json};
use support::{Sim, runner_in, texts};

/// A one-target scenario against the embedded server with `itl_ms` between tokens.
fn scenario(dir: &Path, name: &str, itl_ms: f64, extra: &str) -> String {
    let path = dir.join(format!("{name}.yaml"));
    std::fs::write(
        &path,
        format!(
            "name: {name}\ntargets:\n  - name: sim\n    backend: sglang-oai\n    embedded: \
             {{ preset: fixed, ttft_ms: 20, itl_ms: {itl_ms} }}\ndatasets:\n  - name: rand\n    \
             kind: random\n    num_prompts: 24\n    input_len: 64\n    output_len: 24\n\
             load:\n  request_rate: inf\n  max_concurrency: 8\n  warmup_requests: 1\n{extra}"
        ),
    )
    .unwrap();
    path.display().to_string()
}

fn run_ok(dir: &Path, args: &[&str]) -> String {
    let out = runner_in(dir, args);
    let (stdout, stderr) = texts(&out);
    assert!(out.status.success(), "runner {args:?}\n{stdout}\n{stderr}");
    stdout
}

fn lines(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn slower_decode_is_worse_and_crosses_the_gate() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let gate = "labels: { gpu: none }\ngate: { fail_on: [\"mean_tpot_ms:+10%\"] }\n";
    let fast = scenario(d, "fast", 10.0, gate);
    let slow = scenario(d, "slow", 13.0, gate);
    run_ok(d, &["run", &fast, "-o", "a", "--label", "build=base"]);
    run_ok(d, &["run", &slow, "-o", "b", "--label", "gpu=sim"]);

    // Every line says when, which invocation, what labels and which server.
    let a = lines(&d.join("a/runs.jsonl"));
    let b = lines(&d.join("b/runs.jsonl"));
    assert_eq!(a[0]["labels"], json!({"gpu": "none", "build": "base"}));
    assert_eq!(b[0]["labels"], json!({"gpu": "sim"}), "--label wins");
    assert_ne!(a[0]["invocation_id"], b[0]["invocation_id"]);
    assert!(a[0]["started_at"].as_str().unwrap().ends_with('Z'));
    let server = &a[0]["provenance"]["server"];
    assert_eq!(server["kind"], "sglang");
    assert_eq!(server["model"], "runner-sim");
    assert_eq!(server["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(
        a[0]["provenance"]["runner_version"],
        env!("CARGO_PKG_VERSION")
    );

    let out = runner_in(d, &["diff", "a", "b", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "no gate without rules");
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let verdict = |m: &str| {
        let c = doc["comparisons"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["metric"] == m)
            .unwrap();
        c["new"][0]["verdict"].as_str().unwrap().to_owned()
    };
    for m in ["mean_tpot_ms", "median_itl_ms", "mean_e2e_latency_ms"] {
        assert_eq!(verdict(m), "worse", "{m}");
    }
    assert_eq!(verdict("output_throughput"), "worse");

    let out = runner_in(
        d,
        &[
            "diff",
            "a",
            "b",
            "--scenario",
            &slow,
            "--format",
            "markdown",
        ],
    );
    let (md, err) = texts(&out);
    assert_eq!(out.status.code(), Some(4), "{md}\n{err}");
    assert!(
        md.contains("| run | metric | base | new | Δ | Δ % | verdict |"),
        "{md}"
    );
    assert!(md.contains("| --- | --- | ---: |"), "{md}");
    assert!(
        md.contains("| `sim/rand/rate=inf/conc=8` | mean_tpot_ms |"),
        "{md}"
    );
    assert!(md.contains("**worse**"), "{md}");
    assert!(
        err.contains("regression: run sim/rand/rate=inf/conc=8: mean_tpot_ms"),
        "{err}"
    );
    // The gate from the flag alone, and one that is not crossed.
    let out = runner_in(d, &["diff", "a", "b", "--fail-on", "mean_itl_ms:+2ms"]);
    assert_eq!(out.status.code(), Some(4));
    let out = runner_in(d, &["diff", "a", "b", "--fail-on", "mean_itl_ms:+50%"]);
    assert_eq!(out.status.code(), Some(0), "{}", texts(&out).0);
    let out = runner_in(d, &["diff", "a", "b", "--fail-on", "mean_itl_ms"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        texts(&out)
            .1
            .contains("--fail-on: gate rule `mean_itl_ms` has no `:`")
    );
}

/// A runs.jsonl with the repeats of one point (as `repeat: N` writes them) and its aggregate.
fn repeats(path: &Path, values: &[f64]) {
    let mut text = String::new();
    for (k, v) in values.iter().enumerate() {
        let line = json!({"run_id": format!("sim/rand/rate=inf/conc=8/rep={}", k + 1),
            "repeat": k + 1, "mean_ttft_ms": v, "output_throughput": 100.0 + v});
        text.push_str(&format!("{line}\n"));
    }
    let agg = json!({"record": "aggregate", "run_id": "sim/rand/rate=inf/conc=8",
        "mean_ttft_ms": 1e9});
    text.push_str(&format!("{agg}\n"));
    std::fs::write(path, text).unwrap();
}

#[test]
fn repeats_are_judged_by_welch_test() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    repeats(&d.join("a.jsonl"), &[10.0, 11.0, 12.0, 13.0, 14.0]);
    repeats(&d.join("b.jsonl"), &[11.0, 12.0, 13.0, 14.0, 15.0]);
    repeats(&d.join("c.jsonl"), &[20.0, 21.0, 22.0, 23.0, 24.0]);
    let args = ["--metrics", "mean_ttft_ms", "--fail-on", "mean_ttft_ms:+5%"];
    // a → b: +1 ms (+8.3 %, past the rule) but t = 1/1 = 1, df = 8, p = 0.3466.
    let mut all = vec!["diff", "a.jsonl", "b.jsonl"];
    all.extend(args);
    let out = runner_in(d, &all);
    let (text, _) = texts(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    // mean 12 ± 2.776445·√(2.5/5) = 1.963.
    assert!(text.contains("12.00 ± 1.96"), "{text}");
    assert!(text.contains("13.00 ± 1.96"), "{text}");
    assert!(text.contains("no significant change (p=0.347)"), "{text}");
    assert!(text.contains("1 aggregate line(s) skipped"), "{text}");
    // a → c: +10 ms, t = 10, p < 0.001: worse, and the gate fails.
    let mut all = vec!["diff", "a.jsonl", "c.jsonl"];
    all.extend(args);
    let out = runner_in(d, &all);
    let (text, _) = texts(&out);
    assert_eq!(out.status.code(), Some(4), "{text}");
    assert!(text.contains("worse (p=0.000)"), "{text}");
    // Three inputs: one wide table, the first as baseline.
    let out = runner_in(
        d,
        &[
            "diff",
            "a.jsonl",
            "b.jsonl",
            "c.jsonl",
            "--metrics",
            "mean_*",
        ],
    );
    let (text, _) = texts(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains("new #1") && text.contains("verdict #2"),
        "{text}"
    );
}

#[test]
fn bench_serving_files_join_on_their_keys() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let sim = Sim::start(SimConfig::fixed(5.0, 2.0));
    let port = sim.port().to_string();
    let out = runner_in(
        d,
        &[
            "bench",
            "--backend",
            "sglang",
            "--port",
            &port,
            "--dataset-name",
            "random",
            "--num-prompts",
            "10",
            "--random-input-len",
            "32",
            "--random-output-len",
            "8",
            "--max-concurrency",
            "4",
            "--output-file",
            "ours.jsonl",
            "--tag",
            "v2",
        ],
    );
    assert!(out.status.success(), "{:?}", texts(&out));
    let ours = lines(&d.join("ours.jsonl"));
    assert_eq!(ours[0]["labels"], json!({"tag": "v2"}), "--tag is a label");
    // bench_serving's own line: its keys, bare Infinity, no run id, twice ITL.
    let mut theirs = serde_json::Map::new();
    for (k, v) in ours[0].as_object().unwrap() {
        if support::RESULT_KEYS.contains(&k.as_str()) {
            theirs.insert(k.clone(), v.clone());
        }
    }
    let itl = ours[0]["mean_itl_ms"].as_f64().unwrap();
    theirs.insert("mean_itl_ms".into(), json!(itl * 2.0));
    theirs.insert("request_rate".into(), json!("__INF__"));
    theirs.insert("max_concurrency".into(), json!(4));
    let text = Value::Object(theirs)
        .to_string()
        .replace("\"__INF__\"", "Infinity");
    std::fs::write(d.join("theirs.jsonl"), format!("{text}\n")).unwrap();

    let out = runner_in(
        d,
        &["diff", "theirs.jsonl", "ours.jsonl", "--format", "csv"],
    );
    let (csv, err) = texts(&out);
    assert_eq!(out.status.code(), Some(0), "{csv}\n{err}");
    let mut r = csv::Reader::from_reader(csv.as_bytes());
    let rows: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
    let key = "backend=sglang dataset_name=random request_rate=inf max_concurrency=4";
    assert!(rows.iter().all(|row| &row[0] == key), "{csv}");
    let itl_row = rows.iter().find(|row| &row[1] == "mean_itl_ms").unwrap();
    assert_eq!(&itl_row[13], "better", "{csv}");
    assert!(
        (itl_row[12].parse::<f64>().unwrap() + 50.0).abs() < 1e-6,
        "{csv}"
    );
    let same = rows.iter().find(|row| &row[1] == "p99_ttft_ms").unwrap();
    assert_eq!(&same[13], "same", "{csv}");
}

/// The columns summary.csv had before started_at, invocation_id and labels.
const OLD_COLUMNS: &str = "run_id,scenario,target,backend,dataset,request_rate,max_concurrency,\
seed,completed,failed,duration,request_throughput,input_throughput,output_throughput,\
total_throughput,concurrency,mean_ttft_ms,median_ttft_ms,p99_ttft_ms,mean_tpot_ms,\
median_tpot_ms,p99_tpot_ms,mean_itl_ms,median_itl_ms,p99_itl_ms,mean_e2e_latency_ms,\
median_e2e_latency_ms,p99_e2e_latency_ms,p99_ttft_from_schedule_ms,p99_queue_wait_ms,\
max_output_tokens_per_s,max_concurrent_requests,runner_version";

#[test]
fn an_older_summary_csv_is_migrated_and_still_diffable() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let fast = scenario(d, "fast", 10.0, "");
    std::fs::create_dir_all(d.join("r")).unwrap();
    // An older run of another point, and one of the same point the new run replaces.
    let old = format!(
        "{OLD_COLUMNS}\nsim/rand/rate=1/conc=8,fast,sim,sglang-oai,rand,1,8,42,24,0,1,1,1,1,1,1,\
         9,9,9,9,9,9,9,9,9,9,9,9,9,9,9,9,0.0.9\nsim/rand/rate=inf/conc=8,fast,sim,sglang-oai,\
         rand,inf,8,42,24,0,1,1,1,1,1,1,9,9,9,9,9,9,9,9,9,9,9,9,9,9,9,9,0.0.9\n"
    );
    std::fs::write(d.join("r/summary.csv"), &old).unwrap();
    let out = runner_in(d, &["run", &fast, "-o", "r"]);
    let (_, err) = texts(&out);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("rewritten with this version's"), "{err}");
    assert_eq!(
        std::fs::read_to_string(d.join("r/summary.csv.bak")).unwrap(),
        old
    );
    let csv = std::fs::read_to_string(d.join("r/summary.csv")).unwrap();
    assert_eq!(csv.lines().count(), 4, "{csv}");
    assert!(
        csv.lines().next().unwrap().starts_with(OLD_COLUMNS),
        "{csv}"
    );

    // The migrated CSV against the run's own runs.jsonl: the newest row of the rerun point
    // wins, so every metric is the same; the older point is listed as unmatched.
    let out = runner_in(
        d,
        &["diff", "r/summary.csv", "r/runs.jsonl", "--metrics", "*_ms"],
    );
    let (text, err) = texts(&out);
    assert_eq!(out.status.code(), Some(0), "{text}\n{err}");
    assert!(text.contains("newest wins"), "{text}");
    assert!(
        text.contains("unmatched: sim/rand/rate=1/conc=8: only in r/summary.csv"),
        "{text}"
    );
    assert!(
        !text.contains("worse") && !text.contains("better"),
        "{text}"
    );
}
