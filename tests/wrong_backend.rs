//! A wrong backend for the server: `runner run` says so on stderr once, right after the first
//! requests got 404 Not Found, while the run goes on; and again at the end when every request
//! failed alike.

use std::io::BufRead;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Run `scenario` (in a temporary directory) and return its exit code, its stderr lines with
/// the time each arrived, and the total time.
fn run_timed(scenario: &str) -> (i32, Vec<(Duration, String)>, Duration) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("s.yaml"), scenario).unwrap();
    let start = Instant::now();
    let mut child = Command::new(assert_cmd::cargo::cargo_bin!("runner"))
        .current_dir(dir.path())
        .args(["run", "s.yaml"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = std::io::BufReader::new(child.stderr.take().unwrap());
    let lines: Vec<(Duration, String)> = stderr
        .lines()
        .map(|l| (start.elapsed(), l.unwrap()))
        .collect();
    let code = child.wait().unwrap().code().unwrap();
    (code, lines, start.elapsed())
}

/// Five requests one at a time against the embedded server with `faults`.
fn scenario(backend: &str, faults: &str) -> String {
    format!(
        "name: wb\ntargets:\n  - {{ name: sim, backend: {backend}, embedded: {{ preset: fixed, ttft_ms: 5, itl_ms: 2, faults: [{faults}] }} }}\n\
         datasets:\n  - {{ name: r, kind: random, num_prompts: 5, input_len: 16, output_len: 4, range_ratio: 1.0 }}\n\
         load: {{ request_rate: inf, max_concurrency: 1, warmup_requests: 0 }}\n\
         output: {{ dir: out }}\n"
    )
}

fn hints(lines: &[(Duration, String)]) -> Vec<&(Duration, String)> {
    lines
        .iter()
        .filter(|(_, l)| l.contains("requests got 404 Not Found"))
        .collect()
}

#[test]
fn first_404s_warn_once_while_the_run_goes_on() {
    // Requests 0-2 get 404; 3 and 4 hold their headers 2 s each, then succeed: the warning
    // must come out before them, not at the end of the run.
    let (code, lines, total) = run_timed(&scenario(
        "sglang",
        "{ kind: http, status: 404, requests: [0, 1, 2] }, { kind: slow_headers, seconds: 2, probability: 1.0 }",
    ));
    assert_eq!(code, 0, "{lines:?}");
    let h = hints(&lines);
    assert_eq!(h.len(), 1, "once: {lines:?}");
    let (at, text) = h[0];
    assert!(
        text.starts_with(
            "warning: the first 3 requests got 404 Not Found from POST http://127.0.0.1:"
        ) && text.contains("/generate: the server may not serve the `sglang` backend's endpoint")
            && text.contains("try an OpenAI-style one: vllm or sglang-oai"),
        "{text}"
    );
    assert!(
        total.saturating_sub(*at) >= Duration::from_millis(3500),
        "the warning came at {at:?}, the run ended at {total:?}"
    );
    assert!(
        !lines
            .iter()
            .any(|(_, l)| l.contains("every request got 404")),
        "{lines:?}"
    );
}

#[test]
fn every_request_404_warns_early_and_errors_at_the_end() {
    let (code, lines, _) = run_timed(&scenario(
        "vllm-chat",
        "{ kind: http, status: 404, probability: 1.0 }",
    ));
    assert_eq!(code, 1, "{lines:?}");
    assert_eq!(hints(&lines).len(), 1, "{lines:?}");
    let end: Vec<_> = lines
        .iter()
        .filter(|(_, l)| l.starts_with("error: every request got 404 Not Found from POST"))
        .collect();
    assert_eq!(end.len(), 1, "{lines:?}");
    assert!(
        end[0].1.contains("/v1/chat/completions")
            && end[0]
                .1
                .contains("try vllm or sglang-oai (/v1/completions)"),
        "{}",
        end[0].1
    );
}

#[test]
fn a_404_after_a_success_is_no_wrong_backend() {
    let (code, lines, _) = run_timed(&scenario(
        "vllm",
        "{ kind: http, status: 404, requests: [1, 2, 3, 4] }",
    ));
    assert_eq!(code, 0, "{lines:?}");
    assert!(hints(&lines).is_empty(), "{lines:?}");
}
