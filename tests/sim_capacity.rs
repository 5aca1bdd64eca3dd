//! A sweep of request rates against the `tiny` engine shows the knee where its own
//! parameters put it.
//!
//! Predicted capacity (batch limit binding; see `EngineParams::capacity_rps`):
//! `1 / ((1 + (O-1)) · step_ms / max_batch + I · prefill_token_ms + (O-1) · decode_token_ms)`
//! = 1 / (16 · 2 / 8 + 32 · 0.01 + 15 · 0.25) ms = 1 / 8.07 ms ≈ 124 requests/s for 32-token
//! prompts and 16-token outputs. Unloaded TTFT: one prefill step, `step_ms + I ·
//! prefill_token_ms` = 2.32 ms.
//!
//! The knee's position is the engine model's, checked in model time where no machine load
//! can move it (`sim::batcher`'s `a_rate_sweep_shows_the_knee_at_the_predicted_capacity`).
//! Over HTTP in real time, this test holds what a busy machine cannot change: the server is
//! never faster than its model (unloaded TTFT, saturated throughput), and past the capacity
//! requests queue and TTFT grows along the run. The table it prints is the real-time figure.

mod support;

use runner::engine;
use runner::scenario::{Arrival, Backend, Rate, RequestOptions};
use runner::schedule;
use runner::sim::{self, Preset, SimConfig};
use runner::workload::RequestSpec;
use support::{mean, percentile, prompts, target};

const INPUT: u32 = 32;
const OUTPUT: u32 = 16;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_sweep_shows_the_knee_at_the_predicted_capacity() {
    let server = sim::start_local(SimConfig::preset(Preset::Tiny))
        .await
        .unwrap();
    let e = server.params().engine().unwrap().clone();
    let capacity = e.capacity_rps(INPUT, OUTPUT);
    let unloaded_ms = e.step_ms + f64::from(INPUT) * e.prefill_token_ms;
    let t = target(&server, Backend::Sglang, RequestOptions::default());

    // Unloaded: one request at a time.
    let mut alone = Vec::new();
    for p in prompts(5, INPUT as usize, 0, 100) {
        let done = engine::execute(
            t.clone(),
            &[RequestSpec::text(p, INPUT, OUTPUT)],
            &[0.0],
            None,
        )
        .await;
        alone.push(done.records[0].ttft_s().unwrap() * 1e3);
    }
    let alone = mean(&alone);
    println!(
        "tiny: predicted capacity {capacity:.1} req/s, unloaded TTFT {unloaded_ms:.2} ms predicted, {alone:.2} ms measured"
    );
    assert!(alone > unloaded_ms - 0.05, "unloaded TTFT {alone} ms");

    println!(
        "load  rate/s  requests  mean TTFT ms  p90 TTFT ms  first-quarter / last-quarter TTFT ms  throughput req/s"
    );
    let mut rows = Vec::new();
    for (i, (load, n)) in [(0.3, 60), (0.6, 90), (1.5, 200), (2.5, 200)]
        .into_iter()
        .enumerate()
    {
        let rate = load * capacity;
        let specs: Vec<RequestSpec> = prompts(n, INPUT as usize, 0, i as u64)
            .into_iter()
            .map(|p| RequestSpec::text(p, INPUT, OUTPUT))
            .collect();
        let offsets = schedule::offsets(
            n,
            Rate::PerSecond(rate),
            Arrival::Poisson,
            None,
            42 + i as u64,
        );
        let done = engine::execute(t.clone(), &specs, &offsets, None).await;
        assert!(done.records.iter().all(|r| r.outcome.is_ok()));
        let ttft: Vec<f64> = done
            .records
            .iter()
            .map(|r| r.ttft_s().unwrap() * 1e3)
            .collect();
        let q = n / 4;
        let (first, last) = (mean(&ttft[..q]), mean(&ttft[n - q..]));
        let mut ends: Vec<f64> = done.records.iter().map(|r| r.end_s).collect();
        ends.sort_by(f64::total_cmp);
        let (k1, k2) = (n / 5, n * 4 / 5);
        let throughput = (k2 - k1) as f64 / (ends[k2] - ends[k1]);
        println!(
            "{load:>4}  {rate:>6.1}  {n:>8}  {:>12.2}  {:>11.2}  {first:>18.2} / {last:<18.2}  {throughput:>8.1}",
            mean(&ttft),
            percentile(&ttft, 90.0)
        );
        rows.push((load, mean(&ttft), first, last, throughput));
    }
    server.stop().await;

    // Above the capacity, requests queue: TTFT is many times the unloaded value and grows
    // along the run (a busy machine only lowers the capacity, so this holds the more).
    for &(load, m, first, last, _) in &rows[2..] {
        assert!(m > 20.0 * alone, "load {load}: mean TTFT {m:.2} ms");
        assert!(
            last > 4.0 * first,
            "load {load}: TTFT {first:.1} → {last:.1} ms"
        );
    }
    // Saturated throughput is at most what the parameters predict (as much, on an idle
    // machine: the printed figure).
    for &(load, .., throughput) in &rows[2..] {
        let err = (throughput - capacity) / capacity;
        println!(
            "load {load}: measured capacity {throughput:.1} req/s, {:+.1} % from predicted",
            err * 100.0
        );
        assert!(
            err < 0.10,
            "load {load}: {throughput:.1} vs predicted {capacity:.1} req/s"
        );
    }
}
