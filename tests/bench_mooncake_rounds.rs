//! bench_serving's multi-round Mooncake (spec §3.9) through `runner bench --backend sglang`:
//! every round of a session sent at once, counted at the embedded server.

mod support;

use support::{Sim, bench_ok, block, mooncake_file, value};

#[test]
fn sglang_backend_sends_rounds_times_sessions_requests() {
    let sim = Sim::fast();
    let dir = tempfile::tempdir().unwrap();
    let trace = mooncake_file(dir.path(), 4);
    let (out, err) = bench_ok(
        dir.path(),
        &[
            "--backend",
            "sglang",
            "--base-url",
            &sim.url(),
            "--dataset-name",
            "mooncake",
            "--mooncake-num-rounds",
            "3",
            "--num-prompts",
            "4",
            "--dataset-path",
            trace.to_str().unwrap(),
            "--output-file",
            "out.jsonl",
        ],
    );
    assert!(out.contains("Sessions: 4, Rounds per session: 3."), "{out}");
    assert!(
        err.contains("all rounds of a session are sent at once")
            && err.contains("rounds: turn-by-turn"),
        "{err}"
    );
    let rows = block(&out);
    assert_eq!(value(&rows, "Successful requests:"), "12");
    // The first request the server saw is the warmup; then 4 sessions × 3 rounds.
    let truth = sim.truth();
    assert_eq!(truth.len(), 1 + 12);
    assert!(truth.iter().all(|t| t.endpoint == "/generate"));
    // Round i carries i user turns and i-1 placeholder replies of 8 × "story": three
    // distinct prompt lengths per session, each longer than the round before.
    let mut lens: Vec<u32> = truth[1..].iter().map(|t| t.prompt_tokens).collect();
    lens.sort_unstable();
    lens.dedup();
    assert!(lens.len() >= 3, "{lens:?}");
}
