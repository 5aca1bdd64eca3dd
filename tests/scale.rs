//! 10,000 concurrent streams: `runner run` against an external `runner serve` (fixed preset;
//! a separate process, so client and server each have their own open-file limit), every
//! request at once. Prints the wall time and the client's peak RSS. Heavy: run by hand with
//! `cargo test --release --test scale -- --ignored --nocapture`.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const STREAMS: usize = 10_000;

#[test]
#[ignore = "heavy (10,000 sockets each side, ~1 GB): run by hand"]
fn ten_thousand_concurrent_streams_complete() {
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
         request: {{ timeouts: {{ connect_s: 60, first_byte_s: 120 }} }}\n\
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
    let rss_mb = unsafe {
        let mut u: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_CHILDREN, &mut u);
        u.ru_maxrss as f64 / 1024.0
    };
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
         peak concurrency {}, client peak RSS {rss_mb:.0} MB",
        line["completed"],
        line["failed"],
        line["duration"].as_f64().unwrap(),
        line["max_concurrent_requests"]
    );
    assert_eq!(line["completed"], STREAMS, "{}\n{stderr}", line["failures"]);
}
