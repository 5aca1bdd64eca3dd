//! 10,000 concurrent streams: `runner run` against an external `runner serve` (fixed preset;
//! a separate process, so client and server each have their own open-file limit), every
//! request at once, default timeouts. Every request must complete. Prints the wall time and
//! the peak RSS of client and server. About 20 s and 750 MB; needs an open-file hard limit
//! of at least 10,100 (both processes raise their soft limit to it). CI runs it
//! (`.ci/run`); by hand: `cargo test --test scale -- --ignored --nocapture`.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const STREAMS: usize = 10_000;

/// Peak resident set of a running process, MB (`VmHWM`).
fn peak_rss_mb(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

#[test]
#[ignore = "10,000 sockets each side (open-file hard limit >= 10,100), ~750 MB, ~20 s: CI runs it (.ci/run)"]
fn ten_thousand_concurrent_streams_complete() {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit only writes the struct passed to it.
    assert_eq!(unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) }, 0);
    assert!(
        lim.rlim_max >= STREAMS as u64 + 100,
        "the open-file hard limit is {}: raise it to at least {} (ulimit -Hn)",
        lim.rlim_max,
        STREAMS + 100
    );
    let bin = assert_cmd::cargo::cargo_bin!("runner");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut server = Command::new(bin)
        .args(["serve", "--port", &port.to_string(), "--preset", "fixed"])
        .args(["--ttft-ms", "200", "--itl-ms", "20"])
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    for _ in 0..200 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "name: scale\ntargets:\n  - {{ name: ext, backend: vllm, base_url: \"http://127.0.0.1:{port}\" }}\n\
         datasets:\n  - {{ name: r, kind: random, num_prompts: {STREAMS}, input_len: 32, output_len: 32, range_ratio: 1.0 }}\n\
         load: {{ request_rate: inf, max_concurrency: {STREAMS}, warmup_requests: 0 }}\n\
         output: {{ dir: out }}\n"
    );
    std::fs::write(dir.path().join("s.yaml"), text).unwrap();
    let start = Instant::now();
    let out = Command::new(bin)
        .current_dir(dir.path())
        .args(["run", "s.yaml"])
        .output()
        .unwrap();
    let wall = start.elapsed().as_secs_f64();
    // SAFETY: getrusage only writes the struct passed to it.
    let client_mb = unsafe {
        let mut u: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_CHILDREN, &mut u);
        u.ru_maxrss as f64 / 1024.0
    };
    let server_mb = peak_rss_mb(server.id());
    server.kill().unwrap();
    server.wait().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    // The failures' first error, when there are any.
    for l in String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.contains("fail"))
    {
        println!("{l}");
    }
    let line: serde_json::Value = serde_json::from_str(
        std::fs::read_to_string(dir.path().join("out/runs.jsonl"))
            .unwrap()
            .trim(),
    )
    .unwrap();
    println!(
        "{STREAMS} streams: {} ok, {} failed, wall {wall:.1} s (run duration {:.1} s), \
         peak concurrency {}, peak RSS client {client_mb:.0} MB, server {server_mb:.0} MB",
        line["completed"],
        line["failed"],
        line["duration"].as_f64().unwrap(),
        line["max_concurrent_requests"]
    );
    assert_eq!(line["completed"], STREAMS, "{}\n{stderr}", line["failures"]);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
}
