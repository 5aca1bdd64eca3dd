//! Long sweeps through the binary: error budget, duration runs, saturation stop, repeats with
//! aggregate lines, Ctrl-C (exit 130) and `--resume`.

mod support;

use std::path::Path;
use std::process::{Command as Process, Stdio};
use std::time::{Duration, Instant};

use runner::engine::stop::Saturation;
use serde_json::Value;
use support::runner;

/// A one-target scenario against the embedded server with `embedded` settings, one dataset
/// of `prompts` random requests, and `rest` (load, repeat…) appended.
fn scenario(dir: &Path, embedded: &str, prompts: u32, rest: &str) -> std::path::PathBuf {
    let text = format!(
        "name: long\nseed: 42\ntargets:\n  - name: sim\n    backend: vllm\n    embedded: {embedded}\n\
         datasets:\n  - {{name: rand, kind: random, num_prompts: {prompts}, input_len: 64, \
         output_len: 16}}\n{rest}"
    );
    let p = dir.join("s.yaml");
    std::fs::write(&p, text).unwrap();
    p
}

fn lines(dir: &Path) -> Vec<Value> {
    std::fs::read_to_string(dir.join("runs.jsonl"))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn run(file: &Path, out: &Path, extra: &[&str]) -> std::process::Output {
    runner()
        .arg("run")
        .arg(file)
        .arg("--output")
        .arg(out)
        .args(extra)
        .output()
        .unwrap()
}

#[test]
fn half_the_requests_fail_and_the_error_budget_stops_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let file = scenario(
        dir.path(),
        "{preset: fixed, ttft_ms: 20, itl_ms: 5, faults: [{kind: http, status: 503, probability: 0.5}]}",
        400,
        "load: {request_rate: 50, max_errors: 10, warmup_requests: 0}\n",
    );
    let out = run(&file, &dir.path().join("r"), &[]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(
        stdout.contains("Run stopped early: error budget spent"),
        "{stdout}"
    );
    let l = &lines(&dir.path().join("r"))[0];
    assert_eq!(l["stopped"], "error_budget");
    let failed = l["failed"].as_u64().unwrap();
    let finished = failed + l["completed"].as_u64().unwrap();
    // At 50/s with ~100 ms requests, a few are in flight when the tenth failure stops it.
    assert!((10..=20).contains(&failed), "{failed} failed");
    assert!(finished < 60, "{finished} finished of 400");
    assert_eq!(l["failures"]["http_503"], failed);
}

#[test]
fn a_duration_run_recycles_prompts_for_its_time() {
    let dir = tempfile::tempdir().unwrap();
    let file = scenario(
        dir.path(),
        "{preset: fixed, ttft_ms: 20, itl_ms: 5}",
        10,
        "load: {request_rate: 40, duration_s: 3, warmup_requests: 0}\n",
    );
    let out = run(&file, &dir.path().join("r"), &["--quiet"]);
    assert!(out.status.success());
    let l = &lines(&dir.path().join("r"))[0];
    assert_eq!(l["stopped"], "duration");
    let d = l["duration"].as_f64().unwrap();
    assert!((2.9..4.0).contains(&d), "duration {d}");
    // 40/s for 3 s from 10 prompts: about 120 requests.
    let n = l["completed"].as_u64().unwrap();
    assert!((80..=160).contains(&n), "{n} completed");
}

#[test]
fn a_closed_loop_duration_run_keeps_the_cap_full() {
    let dir = tempfile::tempdir().unwrap();
    let file = scenario(
        dir.path(),
        "{preset: fixed, ttft_ms: 20, itl_ms: 5}",
        5,
        "load: {max_concurrency: 4, duration_s: 2, warmup_requests: 0}\n",
    );
    let out = run(&file, &dir.path().join("r"), &[]);
    assert!(out.status.success());
    let l = &lines(&dir.path().join("r"))[0];
    // Requests take 20 ms + 5 ms per output token (1 to 16): 4 at a time for 2 s is
    // somewhere between 2 · 4 / 0.095 = 84 and 2 · 4 / 0.025 = 320.
    let n = l["completed"].as_u64().unwrap();
    assert!((60..=320).contains(&n), "{n} completed");
    assert_eq!(l["stopped"], "duration");
    let d = l["duration"].as_f64().unwrap();
    assert!((1.9..2.6).contains(&d), "duration {d}");
    // Average requests in flight: the cap is kept full, never exceeded.
    let c = l["concurrency"].as_f64().unwrap();
    assert!((3.0..=4.01).contains(&c), "concurrency {c}");
}

#[test]
fn an_overloaded_server_stops_as_saturated() {
    let dir = tempfile::tempdir().unwrap();
    // Batches of 8, 8 ms steps, 16 output tokens: about 60 requests/s at most; 200 are due
    // each second.
    let file = scenario(
        dir.path(),
        "{preset: tiny, step_ms: 8}",
        3000,
        "load: {request_rate: 200, stop_on_saturation: true, warmup_requests: 0}\n",
    );
    let out = run(&file, &dir.path().join("r"), &[]);
    assert!(out.status.success());
    let l = &lines(&dir.path().join("r"))[0];
    assert_eq!(l["stopped"], "saturated");
    // It stops once the rule has its evidence: six one-second samples after the first
    // request finished, by when about 1,200 of the 3,000 were dispatched. A busy machine can
    // only dispatch fewer in that time, never more, so the count holds where a wall-clock
    // bound would measure the machine.
    let dispatched = ["completed", "failed"]
        .iter()
        .map(|k| l[k].as_u64().unwrap())
        .sum::<u64>();
    let window = Saturation::WINDOW as u64 + 1;
    assert!(
        dispatched < 200 * (window + 2),
        "{dispatched} dispatched before the saturation stop"
    );
}

#[test]
fn repeats_write_each_run_and_an_aggregate() {
    let dir = tempfile::tempdir().unwrap();
    let file = scenario(
        dir.path(),
        "{preset: fixed, ttft_ms: 10, itl_ms: 2}",
        8,
        "repeat: 3\nload: {warmup_requests: 0}\n",
    );
    let out = run(&file, &dir.path().join("r"), &[]);
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("Repeats of sim/rand/rate=inf/conc=none (3)"));
    let l = lines(&dir.path().join("r"));
    let ids: Vec<&str> = l.iter().map(|v| v["run_id"].as_str().unwrap()).collect();
    assert_eq!(
        ids,
        [
            "sim/rand/rate=inf/conc=none/rep=1",
            "sim/rand/rate=inf/conc=none/rep=2",
            "sim/rand/rate=inf/conc=none/rep=3",
            "sim/rand/rate=inf/conc=none",
        ]
    );
    assert_eq!(l[2]["repeat"], 3);
    let agg = &l[3];
    assert_eq!(agg["record"], "aggregate");
    assert_eq!(agg["repeats"], 3);
    assert_eq!(agg["mean"]["completed"], 8.0);
    let tput: Vec<f64> = l[..3]
        .iter()
        .map(|v| v["output_throughput"].as_f64().unwrap())
        .collect();
    let mean = tput.iter().sum::<f64>() / 3.0;
    assert!((agg["mean"]["output_throughput"].as_f64().unwrap() - mean).abs() < 1e-9);
    let lo = agg["ci95"]["output_throughput"][0].as_f64().unwrap();
    let hi = agg["ci95"]["output_throughput"][1].as_f64().unwrap();
    assert!(lo <= mean && mean <= hi);
    let csv = std::fs::read_to_string(dir.path().join("r/summary.csv")).unwrap();
    let rows: Vec<&str> = csv.lines().map(|r| r.split(',').next().unwrap()).collect();
    assert_eq!(
        &rows[4..],
        [
            "sim/rand/rate=inf/conc=none",
            "sim/rand/rate=inf/conc=none/ci95=lo",
            "sim/rand/rate=inf/conc=none/ci95=hi"
        ]
    );
}

#[test]
fn sigint_mid_sweep_then_resume_runs_only_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r");
    // Six runs of about 1.5 s each (30 requests at 20 to 25 per second).
    let file = scenario(
        dir.path(),
        "{preset: fixed, ttft_ms: 20, itl_ms: 5}",
        30,
        "load: {request_rate: [20, 21, 22, 23, 24, 25], warmup_requests: 0}\n",
    );
    let child = support::runner_process()
        .arg("run")
        .arg(&file)
        .arg("--output")
        .arg(&out)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let t = Instant::now();
    while lines(&out).len() < 2 {
        assert!(
            t.elapsed() < Duration::from_secs(30),
            "two runs did not finish"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(500));
    let kill = Process::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let done = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&done.stderr);
    assert_eq!(done.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("--resume"), "{stderr}");
    let first = lines(&out);
    assert_eq!(first.len(), 3, "two finished runs and the interrupted one");
    assert!(first[..2].iter().all(|l| l["stopped"].is_null()));
    assert_eq!(first[2]["stopped"], "interrupted");
    assert_eq!(first[2]["run_id"], "sim/rand/rate=22/conc=none");
    assert!(first[2]["completed"].as_u64().unwrap() < 30);

    let resumed = run(&file, &out, &["--resume"]);
    let stderr = String::from_utf8_lossy(&resumed.stderr);
    assert!(resumed.status.success(), "{stderr}");
    assert_eq!(stderr.matches("skipped (--resume)").count(), 2, "{stderr}");
    let all = lines(&out);
    assert_eq!(all.len(), 7);
    let complete: Vec<&str> = all
        .iter()
        .filter(|l| l["stopped"].is_null())
        .map(|l| l["run_id"].as_str().unwrap())
        .collect();
    let want: Vec<String> = (20..=25)
        .map(|r| format!("sim/rand/rate={r}/conc=none"))
        .collect();
    assert_eq!(complete, want, "each run exactly once, in plan order");
    assert!(
        all.iter()
            .all(|l| l["scenario_hash"] == all[0]["scenario_hash"])
    );

    // Resuming a changed scenario is refused and says what changed.
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, text.replace("25]", "26]")).unwrap();
    let refused = run(&file, &out, &["--resume"]);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("load.request_rate[5]"), "{stderr}");
    assert_eq!(lines(&out).len(), 7);
}

#[test]
fn validate_explains_ramp_and_duration_mistakes() {
    let dir = tempfile::tempdir().unwrap();
    for (load, wanted) in [
        ("{arrival: ramp}", "`arrival: ramp` needs `load.ramp`"),
        (
            "{arrival: ramp, ramp: {from: 1, to: 5}, request_rate: 4}",
            "load.request_rate: `request_rate` is not used",
        ),
        (
            "{ramp: {from: 1, to: 2}}",
            "`ramp` only applies to `arrival: ramp`",
        ),
        ("{duration_s: 10}", "would send without end"),
    ] {
        let file = scenario(
            dir.path(),
            "{preset: fixed}",
            10,
            &format!("load: {load}\n"),
        );
        let out = runner().arg("validate").arg(&file).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{load}: {stderr}");
        assert!(stderr.contains(wanted), "{load}: {stderr}");
    }
}
