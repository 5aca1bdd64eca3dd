//! Mooncake trace replay against the embedded server: with `arrival: trace` every request is
//! sent at its scaled trace time, for native and OpenAI backends alike.

mod support;

use rand::{RngExt, SeedableRng};
use runner::engine;
use runner::scenario::{Arrival, Backend, Rate, RequestOptions};
use runner::schedule;
use runner::sim::{self, SimConfig};
use serde_json::json;
use support::{build, dataset, jsonl};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mooncake_requests_go_out_at_their_trace_time() {
    let dir = tempfile::tempdir().unwrap();
    // 40 records over 2 s of trace time, bursts included, replayed at slowdown 0.5 (1 s).
    let mut rng = rand::rngs::ChaCha8Rng::seed_from_u64(1);
    let mut t = 5_000u64;
    let rows: Vec<_> = (0..40)
        .map(|i| {
            t += if i % 7 == 0 {
                0
            } else {
                rng.random_range(10..100)
            };
            json!({"timestamp": t, "input_length": rng.random_range(20..200),
                   "output_length": 4, "hash_ids": [i % 5, 100 + i]})
        })
        .collect();
    let path = jsonl(dir.path(), "trace.jsonl", &rows);
    let d = dataset(
        json!({"kind": "mooncake", "name": "mc", "num_prompts": 40, "path": path,
        "slowdown_factor": 0.5, "block_size": 64}),
    );
    let requests = build(&d, 42, dir.path());
    let offsets = schedule::for_requests(&requests, Rate::Infinite, Arrival::Trace, None, 42);
    let expected: Vec<f64> = rows
        .iter()
        .map(|r| (r["timestamp"].as_f64().unwrap() - 5000.0) / 1000.0 * 0.5)
        .collect();
    assert_eq!(
        offsets, expected,
        "(ts - ts0) / 1000 × slowdown, rate ignored"
    );

    let server = sim::start_local(SimConfig {
        ttft_ms: Some(5.0),
        itl_ms: Some(1.0),
        ..SimConfig::default()
    })
    .await
    .unwrap();
    for backend in [Backend::Sglang, Backend::VllmChat] {
        let target = support::target_at(&server.base_url(), backend, RequestOptions::default());
        engine::warmup(target.clone(), &requests[0], 2, None)
            .await
            .unwrap();
        let done = engine::execute(target, &requests, &offsets, None).await;
        assert_eq!(done.records.len(), 40);
        let mut lags = Vec::new();
        for (rec, due) in done.records.iter().zip(&expected) {
            assert!(rec.outcome.is_ok(), "{:?}", rec.error);
            assert_eq!(rec.intended_s, *due);
            lags.push((rec.sent_s - due).abs() * 1e3);
        }
        lags.sort_by(f64::total_cmp);
        let (median, p90, worst) = (lags[20], lags[36], lags[39]);
        println!(
            "{}: 40 trace requests over {:.3} s, |sent - trace time| median {median:.3} ms, \
             p90 {p90:.3} ms, worst {worst:.3} ms",
            backend.as_str(),
            expected.last().unwrap(),
        );
        // Never early; a timer wakes late when other work holds both cores, so the median
        // shows the schedule, the tail only the machine.
        let early = done
            .records
            .iter()
            .zip(&expected)
            .map(|(r, due)| r.sent_s - due)
            .fold(f64::MAX, f64::min);
        assert!(
            early > -50e-6,
            "a request went out {early} s before its trace time"
        );
        assert!(median < 2.0, "{lags:?} ms");
    }
    server.stop().await;
}
