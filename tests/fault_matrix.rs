//! The whole program under faults: `runner run` of a scenario through the binary, one case
//! per way a server or the results disk can fail. Each case checks that every request has
//! an outcome, the failure counts by kind (in runs.jsonl, and the same from the per-request
//! details), that the run finishes or stops with a message saying what happened, that the
//! finished runs stay on disk and parse, and the exit code (0 ok, 1 runtime failure).
//! Each case prints one row of the matrix: case, exit code, failures by kind.

mod support;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use std::time::Duration;
use support::runner_process as runner;

use serde_json::Value;

const N: usize = 12;

/// What one `runner run` left behind.
struct Done {
    code: i32,
    stderr: String,
    /// Lines of runs.jsonl (each parsed).
    runs: Vec<Value>,
    /// Per run: outcome kinds of its requests, from requests/*.jsonl.
    kinds: Vec<BTreeMap<String, usize>>,
    /// Size in bytes of the largest results file the first run wrote.
    largest_first: u64,
}

fn lines(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{}: {e}: {l}", path.display())))
        .collect()
}

/// A details record's outcome as runs.jsonl names it (`http_503`, `stream_malformed`, …).
fn kind(outcome: &Value) -> String {
    let class = outcome["kind"].as_str().unwrap();
    match class {
        "http" => format!("http_{}", outcome["status"]),
        "stream" => format!("stream_{}", outcome["problem"].as_str().unwrap()),
        "timeout" => format!("timeout_{}", outcome["phase"].as_str().unwrap()),
        _ => class.to_owned(),
    }
}

/// Run `cmd` (a `runner run` of `dir/s.yaml` into `dir/out`) and read its results.
fn finish(case: &str, dir: &Path, mut cmd: Command) -> Done {
    let out = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let code = out
        .status
        .code()
        .unwrap_or_else(|| panic!("{case}: killed by a signal\n{stderr}"));
    let runs = lines(&dir.join("out/runs.jsonl"));
    let mut kinds = Vec::new();
    for r in &runs {
        let name = r["run_id"].as_str().unwrap().replace(['/', '='], "_");
        let recs = lines(&dir.join(format!("out/requests/{name}.jsonl")));
        let mut k = BTreeMap::new();
        for rec in &recs {
            *k.entry(kind(&rec["outcome"])).or_insert(0) += 1;
        }
        // Every request has an outcome, and runs.jsonl counts the failures the details show.
        assert_eq!(recs.len(), N, "{case}: {k:?}");
        let ok = k.get("ok").copied().unwrap_or(0);
        assert_eq!(r["completed"], ok, "{case}");
        assert_eq!(r["failed"], N - ok, "{case}");
        let mut failures = k.clone();
        failures.remove("ok");
        assert_eq!(r["failures"], serde_json::json!(failures), "{case}");
        kinds.push(failures);
    }
    println!(
        "| {case:<28} | exit {code} | {} |",
        kinds
            .iter()
            .map(|k| format!("{k:?}"))
            .collect::<Vec<_>>()
            .join(" ; ")
    );
    let largest_first = runs.first().map_or(0, |r| {
        let name = r["run_id"].as_str().unwrap().replace(['/', '='], "_");
        let details = std::fs::metadata(dir.join(format!("out/requests/{name}.jsonl")))
            .map_or(0, |m| m.len());
        let line = serde_json::to_string(r).unwrap().len() as u64 + 1;
        details.max(line).max(4096)
    });
    Done {
        code,
        stderr,
        runs,
        kinds,
        largest_first,
    }
}

/// A scenario of `N` requests (16 tokens in, 8 out) at 4 concurrent against `target`, one
/// run per entry of `concurrency`, with details.
fn scenario(target: &str, concurrency: &str, timeouts: &str) -> String {
    format!(
        "name: fm\nseed: 1\ntargets:\n  - {target}\n\
         datasets:\n  - {{ name: r, kind: random, num_prompts: {N}, input_len: 16, output_len: 8, range_ratio: 1.0 }}\n\
         load: {{ request_rate: inf, max_concurrency: {concurrency}, warmup_requests: 0 }}\n\
         request: {{ timeouts: {{ {timeouts} }} }}\n\
         output: {{ dir: out, details: true }}\n"
    )
}

fn embedded(faults: &str) -> String {
    format!(
        "{{ name: sim, backend: vllm, embedded: {{ preset: fixed, ttft_ms: 5, itl_ms: 2, faults: [{faults}] }} }}"
    )
}

fn run_case(case: &str, text: &str) -> (tempfile::TempDir, Done) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("s.yaml"), text).unwrap();
    let mut cmd = runner();
    cmd.current_dir(dir.path()).args(["run", "s.yaml"]);
    let done = finish(case, dir.path(), cmd);
    (dir, done)
}

/// One run against the embedded server with `faults`; it finishes (exit 0) and fails
/// exactly `want`.
fn fault_case(case: &str, faults: &str, timeouts: &str, want: &[(&str, usize)]) {
    let text = scenario(&embedded(faults), "4", timeouts);
    let (_dir, done) = run_case(case, &text);
    assert_eq!(done.code, 0, "{case}: {}", done.stderr);
    assert_eq!(done.runs.len(), 1);
    let want: BTreeMap<String, usize> = want.iter().map(|(k, n)| ((*k).to_owned(), *n)).collect();
    assert_eq!(done.kinds[0], want, "{case}: {}", done.stderr);
}

#[test]
fn http_4xx() {
    fault_case(
        "4xx",
        "{ kind: http, status: 400, requests: [1, 5] }",
        "",
        &[("http_400", 2)],
    );
}

#[test]
fn http_5xx() {
    fault_case(
        "5xx",
        "{ kind: http, status: 500, requests: [2] }",
        "",
        &[("http_500", 1)],
    );
}

#[test]
fn http_429_with_retry_after() {
    fault_case(
        "429 + Retry-After",
        "{ kind: http, status: 429, retry_after_s: 1, requests: [0, 3, 4] }",
        "",
        &[("http_429", 3)],
    );
}

#[test]
fn connection_reset() {
    fault_case(
        "reset",
        "{ kind: reset, requests: [6] }",
        "",
        &[("transport", 1)],
    );
}

#[test]
fn mid_stream_disconnect() {
    fault_case(
        "mid-stream disconnect",
        "{ kind: disconnect, after_tokens: 3, requests: [1, 2] }",
        "",
        &[("stream_disconnect", 2)],
    );
}

#[test]
fn malformed_frame() {
    fault_case(
        "malformed frame",
        "{ kind: malformed, after_tokens: 2, requests: [7] }",
        "",
        &[("stream_malformed", 1)],
    );
}

#[test]
fn in_band_error() {
    fault_case(
        "in-band error",
        "{ kind: in_band_error, after_tokens: 2, requests: [0] }",
        "",
        &[("stream_in_band_error", 1)],
    );
}

#[test]
fn stall_past_the_idle_timeout() {
    fault_case(
        "stall > idle_s",
        "{ kind: stall, after_tokens: 2, seconds: 3, requests: [4] }",
        "idle_s: 0.4",
        &[("timeout_idle", 1)],
    );
}

#[test]
fn stall_past_the_total_timeout() {
    // The pause (1.5 s) is shorter than idle_s, but the request outlives total_s.
    fault_case(
        "stall > total_s",
        "{ kind: stall, after_tokens: 2, seconds: 1.5, requests: [5] }",
        "idle_s: 5, total_s: 0.8",
        &[("timeout_total", 1)],
    );
}

#[test]
fn truncated_stream() {
    fault_case(
        "stream ends without [DONE]",
        "{ kind: truncate, after_tokens: 3, requests: [8, 10] }",
        "",
        &[("stream_early_close", 2)],
    );
}

#[test]
fn connect_past_the_connect_timeout() {
    // A server that does not accept: its accept queue (backlog 0, holding one connection)
    // is full, so the kernel drops new handshakes and every connect runs into connect_s.
    use std::os::fd::AsRawFd;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    // SAFETY: listen() on a socket this test owns; a listening socket may listen again
    // with another backlog.
    assert_eq!(unsafe { libc::listen(listener.as_raw_fd(), 0) }, 0);
    let addr = listener.local_addr().unwrap();
    let mut held = Vec::new();
    while let Ok(c) = std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(200)) {
        held.push(c);
        assert!(held.len() < 16, "the accept queue never filled");
    }
    let target = format!(
        "{{ name: full, backend: vllm, base_url: \"http://{addr}\", model: m, ready_timeout_s: 0 }}"
    );
    let (_dir, done) = run_case(
        "connect > connect_s",
        &scenario(&target, "4", "connect_s: 0.3"),
    );
    assert_eq!(done.code, 1, "{}", done.stderr);
    assert!(
        done.stderr.contains("every request failed in 1 of 1 runs"),
        "{}",
        done.stderr
    );
    assert_eq!(
        done.kinds[0],
        BTreeMap::from([("timeout_connect".to_owned(), N)])
    );
    drop(held);
}

#[test]
fn slow_headers_past_first_byte() {
    fault_case(
        "slow headers > first_byte_s",
        "{ kind: slow_headers, seconds: 3, requests: [3, 9] }",
        "first_byte_s: 0.4",
        &[("timeout_first_byte", 2)],
    );
}

#[test]
fn refused_connection_dead_port() {
    // Readiness check off (`ready_timeout_s: 0`): every request is refused.
    let port = support::dead_port();
    let target = format!(
        "{{ name: dead, backend: vllm, base_url: \"http://127.0.0.1:{port}\", model: m, ready_timeout_s: 0 }}"
    );
    let (_dir, done) = run_case("refused (dead port)", &scenario(&target, "4", ""));
    assert_eq!(done.code, 1, "{}", done.stderr);
    assert!(
        done.stderr.contains("every request failed in 1 of 1 runs"),
        "{}",
        done.stderr
    );
    assert_eq!(done.kinds[0], BTreeMap::from([("connect".to_owned(), N)]));
}

#[test]
fn dead_port_fails_the_readiness_check_naming_the_url() {
    let port = support::dead_port();
    let url = format!("http://127.0.0.1:{port}");
    let target =
        format!("{{ name: dead, backend: vllm, base_url: \"{url}\", ready_timeout_s: 0.5 }}");
    let (_dir, done) = run_case("not ready (dead port)", &scenario(&target, "4", ""));
    assert_eq!(done.code, 1, "{}", done.stderr);
    assert!(done.stderr.contains(&url), "names the URL: {}", done.stderr);
    assert!(done.runs.is_empty());
}

#[test]
fn server_goes_down_mid_run() {
    // The embedded server closes its port for 1 s at the 5th request: the requests in
    // flight and those sent while it is down fail, the others succeed.
    let text = scenario(
        &embedded("{ kind: refuse, seconds: 1, requests: [4] }"),
        "2",
        "",
    );
    let (_dir, done) = run_case("server down 1 s (refuse)", &text);
    assert_eq!(done.code, 0, "{}", done.stderr);
    let k = &done.kinds[0];
    assert!(k.values().sum::<usize>() >= 1, "{k:?}");
    for kind in k.keys() {
        assert!(
            ["connect", "transport", "stream_disconnect"].contains(&kind.as_str()),
            "{kind}"
        );
    }
}

#[test]
fn server_killed_mid_run() {
    let port = support::dead_port();
    let mut server = runner()
        .args([
            "serve",
            "--port",
            &port.to_string(),
            "--ttft-ms",
            "5",
            "--itl-ms",
            "40",
        ])
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let url = format!("http://127.0.0.1:{port}");
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    // Two runs of 12 requests of 8 tokens (≈ 0.3 s each) 2 at a time: ≈ 2 s each. The
    // server dies (SIGKILL) 1 s into the first.
    let target = format!("{{ name: ext, backend: vllm, base_url: \"{url}\" }}");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("s.yaml"),
        scenario(&target, "[2, 3]", "connect_s: 1"),
    )
    .unwrap();
    let mut cmd = runner();
    cmd.current_dir(dir.path()).args(["run", "s.yaml"]);
    let killer = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(1000));
        server.kill().unwrap();
        server.wait().unwrap();
    });
    let done = finish("server killed (SIGKILL)", dir.path(), cmd);
    killer.join().unwrap();
    // The first run finishes with its failures counted; the second fails every request:
    // exit 1, saying so.
    assert_eq!(done.runs.len(), 2, "{}", done.stderr);
    assert!(done.runs[0]["completed"].as_u64().unwrap() > 0);
    assert!(done.runs[0]["failed"].as_u64().unwrap() > 0);
    assert_eq!(done.runs[1]["completed"], 0);
    assert_eq!(done.code, 1, "{}", done.stderr);
    assert!(
        done.stderr.contains("every request failed in 1 of 2 runs"),
        "{}",
        done.stderr
    );
}

/// A sweep of three runs; `prepare` gets the results directory before the binary starts and
/// `limit` is a file-size limit in bytes (RLIMIT_FSIZE, through `sh -c ulimit -f`).
fn sweep(case: &str, limit: Option<u64>, prepare: &dyn Fn(&Path)) -> Done {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("s.yaml"),
        scenario(&embedded(""), "[1, 2, 4]", ""),
    )
    .unwrap();
    prepare(&dir.path().join("out"));
    let bin = assert_cmd::cargo::cargo_bin!("runner");
    let mut cmd = match limit {
        Some(bytes) => {
            let mut c = Command::new("sh");
            c.arg("-c")
                .arg(format!(
                    "ulimit -f {} && exec \"$0\" run s.yaml",
                    bytes.div_ceil(512)
                ))
                .arg(bin);
            c
        }
        None => {
            let mut c = Command::new(bin);
            c.args(["run", "s.yaml"]);
            c
        }
    };
    cmd.current_dir(dir.path());
    let done = finish(case, dir.path(), cmd);
    // summary.csv holds whole rows: its header and one per finished run.
    let csv = std::fs::read_to_string(dir.path().join("out/summary.csv")).unwrap();
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let rows = reader.records().collect::<Result<Vec<_>, _>>().unwrap();
    assert_eq!(rows.len(), done.runs.len(), "{case}: {csv}");
    done
}

#[test]
fn results_file_size_limit_mid_sweep() {
    // Measure the largest results file after the first run, then allow a little more than
    // that: a later run does not fit.
    let full = sweep("sweep, no limit", None, &|_| {});
    assert_eq!((full.code, full.runs.len()), (0, 3));
    let done = sweep(
        "file-size limit (disk full)",
        Some(full.largest_first + 256),
        &|_| {},
    );
    assert_eq!(done.code, 1, "{}", done.stderr);
    assert!(
        (1..3).contains(&done.runs.len()),
        "the finished runs stay: {}",
        done.runs.len()
    );
    assert!(done.stderr.contains("File too large"), "{}", done.stderr);
}

#[test]
fn results_path_becomes_unwritable_mid_sweep() {
    // The second run's details file is in the way (a directory): root cannot write it either.
    let done = sweep("details path unwritable", None, &|out| {
        std::fs::create_dir_all(out.join("requests/sim_r_rate_inf_conc_2.jsonl")).unwrap();
    });
    assert_eq!(done.code, 1, "{}", done.stderr);
    assert_eq!(done.runs.len(), 1, "the finished run stays");
    assert!(
        done.stderr.contains("requests/sim_r_rate_inf_conc_2.jsonl"),
        "{}",
        done.stderr
    );
}
