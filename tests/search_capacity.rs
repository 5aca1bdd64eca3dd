//! Capacity search against the engine model finds the capacity its parameters predict.
//!
//! Prediction, from the engine model of docs/embedded-server.md. A step lasts
//! `step_ms + prefilled tokens × prefill_token_ms + decoding requests × decode_token_ms`.
//! At a steady rate λ (requests/ms) with steps of mean length `d`, λ·d requests arrive per
//! step, each prefilling `I` tokens once and then decoding for `O − 1` steps, so on average
//! a step prefills `λ·d·I` tokens and decodes `λ·d·(O − 1)` requests:
//!
//!   d = step_ms + λ·d·(I·prefill_token_ms + (O − 1)·decode_token_ms)
//!   d = step_ms / (1 − λ·c),   c = I·prefill_token_ms + (O − 1)·decode_token_ms
//!
//! A request's TPOT, `(latency − ttft) / (O − 1)`, is the mean length of its decode steps,
//! i.e. `d`. With the SLO `mean_tpot_ms: T` the highest rate meeting it is
//!
//!   λ_slo = (1 − step_ms / T) / c                                      (requests/ms)
//!
//! as long as the batch limit does not bind first: `λ·d·O < max_batch` (requests in the
//! engine, Little's law), else the capacity is the saturation formula of docs/embedded-server.md,
//! `1000 / (O·step_ms/max_batch + I·prefill_token_ms + (O − 1)·decode_token_ms)`.
//! Arrivals are evenly spaced (`arrival: constant`) so the batch stays near its mean and
//! the mean TPOT is `d`; prompts are exact-length and the prefix cache is off, so every
//! prompt token is prefilled. The search's answer is its highest passing rate, so within
//! `precision` (5 %) below the true capacity; the test allows 10 % either way.
//!
//! The engine thread sleeps to each step's end; when the machine is busy it wakes late and
//! then runs its next steps at once until it is back on its schedule (src/sim/engine.rs), so
//! the engine keeps its modelled throughput and the capacity does not depend on the machine's
//! load. Catching up shortens the steps after a late one: each run that met the SLO gives
//! the engine's fixed step cost as it ran, `s = TPOT · (1 − λ·c)`, which the test prints
//! beside the capacity (on a quiet machine `s` is `step_ms`). The two searches take turns, so
//! that neither engine thread competes with the other's run.

use runner::plan;
use runner::run::{self, RunOptions};
use runner::scenario::{self, locate::Format};

/// Held by the search running, so that the two tests do not run at once.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Run a search for one embedded preset; returns its capacity row and its search runs (the
/// probe excluded) from runs.jsonl.
fn search(
    preset: &str,
    input: u32,
    output: u32,
    tpot_ms: f64,
    run_s: f64,
) -> (serde_json::Value, Vec<serde_json::Value>) {
    let text = format!(
        "name: cap-{preset}\nseed: 7\n\
         targets: [{{name: sim, backend: sglang, embedded: {{preset: {preset}, prefix_cache_tokens: 0}}}}]\n\
         datasets: [{{name: fixed, kind: random, num_prompts: 1000, input_len: {input}, \
         output_len: {output}, range_ratio: 1.0, exact_len: true}}]\n\
         load: {{arrival: constant}}\n\
         slo: {{mean_tpot_ms: {tpot_ms}, min_success_rate: 1.0}}\n\
         search: {{run_s: {run_s}}}\n"
    );
    let s = scenario::load_str(&text, "cap.yaml", Format::Yaml).unwrap();
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let opts = RunOptions {
        output: Some(dir.path().to_owned()),
        fresh: true,
        ..RunOptions::default()
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let outcome = rt.block_on(run::run(&s, &plan::build(&s), &opts)).unwrap();
    assert!(
        outcome.slo_failed.is_empty(),
        "search runs never fail the sweep"
    );
    let written = std::fs::read_to_string(dir.path().join("capacity.jsonl")).unwrap();
    let rows: Vec<serde_json::Value> = written
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 1, "{written}");
    assert_eq!(outcome.capacity.len(), 1);
    let runs = std::fs::read_to_string(dir.path().join("runs.jsonl")).unwrap();
    assert_eq!(
        runs.lines().count() as u64,
        rows[0]["runs"].as_u64().unwrap(),
        "every search run (the probe included) is a line of runs.jsonl"
    );
    println!("{preset}: {}", rows[0]);
    let steps: Vec<serde_json::Value> = runs
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|r| r["search"]["step"].as_u64() != Some(0))
        .collect();
    (rows[0].clone(), steps)
}

/// The engine model of one preset: fixed step cost and per-request work `c` (ms).
struct Model {
    step_ms: f64,
    c: f64,
    tpot_ms: f64,
}

impl Model {
    /// The highest rate (req/s) whose steps average `tpot_ms` with fixed cost `s`.
    fn capacity(&self, s: f64) -> f64 {
        (1.0 - s / self.tpot_ms) / self.c * 1000.0
    }
}

fn check(m: &Model, (row, runs): (serde_json::Value, Vec<serde_json::Value>)) {
    let found = row["capacity"].as_f64().expect("a capacity");
    let nominal = m.capacity(m.step_ms);
    // The fixed step cost the engine ran with, from each run that met the SLO (arrivals
    // evenly spaced at the offered rate, which the engine kept up with): printed only.
    let measured: Vec<f64> = runs
        .iter()
        .filter(|r| r["slo_passed"] == true)
        .filter_map(|r| {
            let rate = r["request_rate"].as_f64()? / 1000.0;
            Some(r["mean_tpot_ms"].as_f64()? * (1.0 - rate * m.c))
        })
        .collect();
    assert!(!measured.is_empty(), "no search run met the SLO: {row}");
    let s = measured.iter().sum::<f64>() / measured.len() as f64;
    let err = (found - nominal) / nominal;
    println!(
        "capacity {found:.1} req/s in {} runs; predicted {nominal:.1} (step {} ms) ({:+.1} %); \
         fixed step cost as the engine ran {s:.2} ms, per run {measured:.2?}",
        row["runs"],
        m.step_ms,
        err * 100.0
    );
    assert_eq!(row["status"], "found", "{row}");
    assert_eq!(row["binding_slo"], "mean_tpot_ms", "{row}");
    assert!(row["runs"].as_u64().unwrap() <= 8, "{row}");
    assert!(
        err.abs() <= 0.10,
        "found {found}, predicted {nominal}: {row}"
    );
}

#[test]
fn tiny_capacity_under_a_tpot_slo_is_the_predicted_rate() {
    // tiny: step 2 ms, prefill 0.01 ms/token (512 per step), decode 0.25 ms/request,
    // batch 8. I = 1024, O = 16: c = 1024 × 0.01 + 15 × 0.25 = 13.99 ms; T = 6 ms:
    // λ = (1 − 2/6) / 13.99 = 0.04765 /ms = 47.7 req/s. In the engine (O decode steps plus
    // a second prefill step): 0.04765 × 6 × 17 = 4.9 < 8, so the SLO binds before the
    // batch limit (saturation: 1000 / (16 × 2/8 + 13.99) = 55.6 req/s). Long prompts make
    // steps long enough that the engine thread's wake-up slop (tenths of a ms on a loaded
    // machine) moves the TPOT, and so the capacity, by little.
    let m = Model {
        step_ms: 2.0,
        c: 1024.0 * 0.01 + 15.0 * 0.25,
        tpot_ms: 6.0,
    };
    assert!((m.capacity(2.0) - 47.7).abs() < 0.1);
    check(&m, search("tiny", 1024, 16, 6.0, 3.0));
}

#[test]
fn llama_8b_h100_capacity_under_a_tpot_slo_is_the_predicted_rate() {
    // llama-8b-h100: step 6 ms, prefill 0.03 ms/token, decode 0.06 ms/request, batch 256.
    // I = 256, O = 64: c = 256 × 0.03 + 63 × 0.06 = 11.46 ms; T = 12 ms:
    // λ = (1 − 6/12) / 11.46 = 0.04363 /ms = 43.6 req/s. In the engine: 0.04363 × 12 × 64
    // = 33.5 < 256 (saturation: 1000 / (64 × 6/256 + 11.46) = 77.2 req/s).
    let m = Model {
        step_ms: 6.0,
        c: 256.0 * 0.03 + 63.0 * 0.06,
        tpot_ms: 12.0,
    };
    assert!((m.capacity(6.0) - 43.6).abs() < 0.1);
    check(&m, search("llama-8b-h100", 256, 64, 12.0, 4.0));
}
