//! `runner calibrate`: this client's own limits on this host, measured against the embedded
//! server, so a run's figures can be told apart from the client's.
//!
//! In: request count, concurrency, output length. Out: printed figures —
//! 1. throughput: streamed requests at the concurrency cap against the `instant` preset (no
//!    modelled latency): the most requests/s and tokens/s this client completes;
//! 2. timing overhead: against the `fixed` preset (ground truth kept by the server), the
//!    client's TTFT minus the server's (request send + first-frame delivery), and its ITL
//!    error, per percentile;
//! 3. scheduler lag: Poisson arrivals at half the measured request rate, uncapped: the
//!    achieved dispatch rate and the dispatch lag percentiles.
//!
//! The embedded server runs in this process, so figures 1 and 3 are lower bounds of what
//! the client alone reaches (the server's work shares the cores).

use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;

use crate::engine::{self, Target, pace};
use crate::metrics::{Collector, Dist};
use crate::requests::RequestSpec;
use crate::scenario::{Arrival, Backend, Rate, RequestOptions};
use crate::schedule;
use crate::sim::{self, Preset, SimConfig, prompt_hash};
use crate::tokenizer::Tokenizer;

/// What to measure with.
#[derive(Debug, Clone, Copy)]
pub struct Calibration {
    /// Requests per measurement.
    pub requests: usize,
    /// Concurrency cap of the throughput measurement.
    pub concurrency: u32,
    /// Output tokens per request.
    pub output_len: u32,
}

async fn target(server: &sim::Server) -> Result<Arc<Target>> {
    let options = RequestOptions::default();
    let client = engine::client_for(&options)?;
    let t = Target::new(
        client,
        &server.base_url(),
        Backend::Vllm,
        "m".into(),
        options,
    )?;
    Ok(Arc::new(t))
}

fn specs(n: usize, output_len: u32, tag: &str) -> Vec<RequestSpec> {
    (0..n)
        .map(|i| RequestSpec::text(format!("the of {tag} {i}"), 4, output_len))
        .collect()
}

fn line(name: &str, d: &Dist) {
    println!(
        "  {name:<28} mean {:>8.3}  p50 {:>8.3}  p90 {:>8.3}  p99 {:>8.3} ms",
        d.mean, d.median, d.p90, d.p99
    );
}

/// Measure and print.
pub async fn calibrate(c: Calibration) -> Result<()> {
    crate::nofile::raise();
    let tok = Tokenizer::builtin();
    let n = c.requests;

    // 1. Throughput against `instant`.
    let server = sim::start_local(SimConfig {
        preset: Preset::Instant,
        ..SimConfig::default()
    })
    .await?;
    let t = target(&server).await?;
    let reqs = specs(n, c.output_len, "t");
    engine::warm::before_run(&t, Some(c.concurrency), f64::INFINITY, n).await;
    let mut col = Collector::new(Some(&tok), false);
    let ran = engine::execute_into(t, &reqs, &vec![0.0; n], Some(c.concurrency), &mut col).await;
    let (s, _) = col.finish(ran.duration_s);
    server.stop().await;
    println!(
        "throughput ({} streams of {} tokens, concurrency {}, `instant` server in-process):",
        n, c.output_len, c.concurrency
    );
    println!(
        "  {:.0} requests/s, {:.0} tokens/s, {:.0} % CPU, {} failed",
        s.request_throughput,
        s.output_throughput,
        ran.pace.cpu_pct(),
        s.failed
    );
    let max_rate = s.request_throughput;

    // 2. Timing overhead against `fixed` (ground truth).
    let server = sim::start_local(SimConfig {
        preset: Preset::Fixed,
        ttft_ms: Some(20.0),
        itl_ms: Some(5.0),
        ..SimConfig::default()
    })
    .await?;
    let t = target(&server).await?;
    // 500 streams at once (the case), through the pool filled before the clock.
    let m = n.min(500);
    let reqs = specs(m, 16, "o");
    engine::warm::before_run(&t, Some(m as u32), f64::INFINITY, m).await;
    let done = engine::execute(t, &reqs, &vec![0.0; m], Some(m as u32)).await;
    let truth = server.truth_by_prompt();
    server.stop().await;
    let (mut ttft_err, mut deliver, mut itl_err) = (Vec::new(), Vec::new(), Vec::new());
    for (spec, r) in reqs.iter().zip(&done.records) {
        let (Some(text), Some(first)) = (spec.prompt.as_text(), r.first_token_s) else {
            continue;
        };
        let Some(s) = truth
            .get(&prompt_hash(text))
            .filter(|s| !s.token_times.is_empty())
        else {
            continue;
        };
        let server_ttft = (s.token_times[0] - s.arrival).as_secs_f64();
        ttft_err.push(r.ttft_s().unwrap_or(0.0) - server_ttft);
        let received = done.start + Duration::from_secs_f64(first);
        deliver.push(
            received
                .saturating_duration_since(s.token_times[0])
                .as_secs_f64(),
        );
        for (j, gap) in r.itl_s.iter().enumerate() {
            if let (Some(a), Some(b)) = (s.token_times.get(j), s.token_times.get(j + 1)) {
                itl_err.push(gap - (*b - *a).as_secs_f64());
            }
        }
    }
    println!("timing overhead ({m} streams, client − server ground truth):");
    line("TTFT error", &Dist::of_seconds(&ttft_err));
    line("first-token delivery", &Dist::of_seconds(&deliver));
    line("ITL error", &Dist::of_seconds(&itl_err));

    // 3. Scheduler lag at half the measured rate.
    let rate = (max_rate / 2.0).max(10.0);
    let server = sim::start_local(SimConfig {
        preset: Preset::Instant,
        ..SimConfig::default()
    })
    .await?;
    let t = target(&server).await?;
    let reqs = specs(n, 1, "s");
    let offsets = schedule::offsets(n, Rate::PerSecond(rate), Arrival::Poisson, None, 1);
    engine::warm::before_run(&t, None, rate, n).await;
    let mut col = Collector::new(Some(&tok), false);
    let ran = engine::execute_into(t, &reqs, &offsets, None, &mut col).await;
    let (mut s, _) = col.finish(ran.duration_s);
    server.stop().await;
    pace::judge(&mut s, &ran.pace);
    println!("scheduler ({n} Poisson arrivals at {rate:.0} req/s, uncapped):");
    println!(
        "  dispatched {:.0} req/s of {:.0} due ({:+.2} %)",
        ran.pace.achieved_rate(),
        ran.pace.target_rate(),
        (ran.pace.achieved_rate() / ran.pace.target_rate() - 1.0) * 100.0
    );
    line("dispatch lag", &s.schedule_lag_ms);
    println!(
        "runs asking for more than about {:.0} requests/s of short streams from this host are \
         likely to be client-bound",
        max_rate
    );
    Ok(())
}
