//! Against a real llama.cpp server (scripts/llamacpp-install.sh, scripts/llamacpp-start.sh):
//! `scenarios/llamacpp.yaml` — completions and chat — streaming and not. Every request must
//! succeed and, with `ignore_eos`, the server's output token count must equal the requested
//! one.
//!
//! Ignored by default (a plain `cargo test` lists it as ignored, never as passed): run it with
//! `cargo test --locked --test llamacpp -- --ignored` after scripts/llamacpp-install.sh, as
//! `.ci/run` does. Run that way, a missing install is a failure that says what to do.

mod support;

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

fn home() -> PathBuf {
    match std::env::var_os("RUNNER_LLAMACPP_HOME") {
        Some(h) => h.into(),
        None => PathBuf::from(std::env::var_os("HOME").expect("HOME is set"))
            .join(".cache/runner/llamacpp"),
    }
}

/// The server process started for the test; stopped (SIGTERM) when dropped.
struct Server {
    pid: String,
    url: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = Command::new("kill").arg(&self.pid).status();
    }
}

/// Start the installed server; a missing install fails the test, saying what to do.
fn start() -> Server {
    let status = std::fs::read_to_string(home().join("status")).unwrap_or_default();
    let status = status.trim();
    if let Some(why) = status.strip_prefix("unavailable: ") {
        panic!("llama.cpp cannot be installed on this machine: {why}");
    }
    assert!(
        status.starts_with("ok "),
        "llama.cpp is not installed in {} (run scripts/llamacpp-install.sh)",
        home().display()
    );
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = Command::new("scripts/llamacpp-start.sh")
        .arg(port.to_string())
        .output()
        .expect("scripts/llamacpp-start.sh runs");
    let pid = std::fs::read_to_string(home().join(format!("server-{port}.pid")))
        .unwrap_or_default()
        .trim()
        .to_owned();
    let server = Server {
        pid,
        url: String::from_utf8_lossy(&out.stdout).trim().to_owned(),
    };
    assert!(
        out.status.success(),
        "llama.cpp server did not start ({status}):\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    server
}

fn run_scenario(url: &str, text: &str) -> (Vec<Value>, Vec<Value>, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("llamacpp.yaml");
    std::fs::write(&path, text).unwrap();
    let out = support::runner()
        .env("LLAMACPP_URL", url)
        .arg("run")
        .arg(&path)
        .arg("--output")
        .arg(dir.path().join("out"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines = |p: PathBuf| -> Vec<Value> {
        std::fs::read_to_string(p)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    };
    let runs = lines(dir.path().join("out/runs.jsonl"));
    let mut records = Vec::new();
    for e in std::fs::read_dir(dir.path().join("out/requests")).unwrap() {
        records.extend(lines(e.unwrap().path()));
    }
    (runs, records, stdout)
}

#[test]
#[ignore = "needs llama.cpp: scripts/llamacpp-install.sh"]
fn llamacpp_quick_scenario_completions_and_chat_streaming_and_not() {
    let server = start();
    let scenario = std::fs::read_to_string("scenarios/llamacpp.yaml").unwrap();
    assert!(scenario.contains("  stream: true\n"));
    for stream in [true, false] {
        let text = scenario.replace("  stream: true\n", &format!("  stream: {stream}\n"));
        let (runs, records, stdout) = run_scenario(&server.url, &text);
        assert_eq!(runs.len(), 2, "{stdout}");
        for r in &runs {
            println!(
                "llama.cpp {} stream={stream}: {} ok / {} failed in {:.2} s, output {} tokens \
                 (retokenized {}, chunks {}), {:.1} tok/s, mean TTFT {:.1} ms, mean TPOT {:.2} ms, \
                 mean ITL {:.2} ms, resent {}",
                r["backend"],
                r["completed"],
                r["failed"],
                r["duration"].as_f64().unwrap(),
                r["total_output_tokens"],
                r["total_output_tokens_retokenized"],
                r["total_output_chunks"],
                r["output_throughput"].as_f64().unwrap(),
                r["mean_ttft_ms"].as_f64().unwrap(),
                r["mean_tpot_ms"].as_f64().unwrap(),
                r["mean_itl_ms"].as_f64().unwrap(),
                r["retried_requests"],
            );
            assert_eq!(
                (r["completed"].as_u64(), r["failed"].as_u64()),
                (Some(12), Some(0))
            );
            assert_eq!(r["output_len_assumed"], 0);
        }
        assert_eq!(records.len(), 24);
        for rec in &records {
            assert_eq!(rec["outcome"]["kind"], "ok", "{rec}");
            assert_eq!(
                rec["reported_output_len"], rec["requested_output_len"],
                "{rec}"
            );
            assert!(rec["reported_prompt_len"].as_u64().unwrap() > 0, "{rec}");
            if stream {
                // llama.cpp streams one token per chunk.
                assert_eq!(rec["chunks"], rec["reported_output_len"], "{rec}");
            }
        }
    }
}
