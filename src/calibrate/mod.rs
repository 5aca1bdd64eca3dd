//! `runner calibrate`: this client's own limits on this host, measured against the embedded
//! server, so a run's figures can be told apart from the client's.
//!
//! In: request count, concurrency, output length, streams. Out: printed figures —
//! 1. throughput: streamed requests at the concurrency cap against the `instant` preset (no
//!    modelled latency): the most requests/s and tokens/s this client completes;
//! 2. timing ([`timing`]): against the `fixed` preset (ground truth kept by the server), the
//!    client's TTFT and ITL minus the true ones, at `streams` requests in flight;
//! 3. scheduler lag: Poisson arrivals at half the measured request rate, uncapped: the
//!    achieved dispatch rate and the dispatch lag percentiles.
//!
//! The embedded server runs in this process. With two or more CPUs the client is pinned to
//! the first and the server's threads to the last ([`cpus`]), so neither takes the other's
//! core; on one CPU they share it, and figures 1 and 3 are then lower bounds of what the
//! client alone reaches.

mod cpus;
mod timing;

use std::sync::Arc;

use anyhow::{Context, Result};

use crate::engine::{self, Target, pace};
use crate::metrics::{Collector, Dist};
use crate::requests::RequestSpec;
use crate::scenario::{Arrival, Backend, Rate, RequestOptions};
use crate::schedule;
use crate::sim::{self, Preset, SimConfig};
use crate::tokenizer::Tokenizer;

/// What to measure with.
#[derive(Debug, Clone, Copy)]
pub struct Calibration {
    /// Requests per measurement.
    pub requests: usize,
    /// Concurrency cap of the throughput measurement.
    pub concurrency: u32,
    /// Output tokens per request of the throughput measurement.
    pub output_len: u32,
    /// Concurrent streams of the timing measurement.
    pub streams: u32,
}

pub(super) async fn target(server: &sim::Server) -> Result<Arc<Target>> {
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

pub(super) fn specs(n: usize, output_len: u32, tag: &str) -> Vec<RequestSpec> {
    (0..n)
        .map(|i| RequestSpec::text(format!("the of {tag} {i}"), 4, output_len))
        .collect()
}

pub(super) fn line(name: &str, d: &Dist) {
    println!(
        "  {name:<28} mean {:>8.3}  p50 {:>8.3}  p90 {:>8.3}  p99 {:>8.3} ms",
        d.mean, d.median, d.p90, d.p99
    );
}

/// Measure and print: on a host with two or more CPUs, the client runs on the first and the
/// embedded server on the last, so each figure measures one of them, not both sharing cores.
pub fn command(c: Calibration) -> Result<()> {
    let all = cpus::allowed();
    let server_cpus = match all.as_slice() {
        [client, .., server] => {
            cpus::pin(&[*client]).context("cannot pin the client to its CPU")?;
            println!("client on CPU {client}, embedded server on CPU {server}");
            Some(vec![*server])
        }
        _ => {
            println!("client and embedded server share the CPUs (none to pin them to apart)");
            None
        }
    };
    // The client on one worker thread, pinned above, with the measurement spawned onto it:
    // run on the thread that blocks on the runtime instead, it would take turns with the
    // worker on the same CPU and delay reads by whole scheduler slices. (A multi-thread
    // runtime, not a current-thread one: its worker runs a task just woken by the one before
    // it, so a request's connection writes it right after the send is timed.)
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async move {
        tokio::spawn(async move { calibrate(c, server_cpus.as_deref()).await })
            .await
            .context("the calibration task failed")?
    })
}

/// Start the embedded server with its threads on `cpus` (or wherever this thread may run).
pub(super) async fn start(config: SimConfig, cpus: Option<&[usize]>) -> Result<sim::Server> {
    let Some(cpus) = cpus else {
        return sim::start_local(config).await;
    };
    let back = cpus::allowed();
    cpus::pin(cpus).context("cannot pin the embedded server to its CPU")?;
    // The server's runtime and timer threads are spawned from this thread before `start`
    // returns (it awaits nothing), so they inherit the server's mask.
    let server = sim::start_local(config).await;
    cpus::pin(&back).context("cannot pin the client back to its CPU")?;
    server
}

/// An `instant` embedded server (no modelled latency) on `on`, and a target at it.
async fn instant(on: Option<&[usize]>) -> Result<(sim::Server, Arc<Target>)> {
    let config = SimConfig {
        preset: Preset::Instant,
        ..SimConfig::default()
    };
    let server = start(config, on).await?;
    let t = target(&server).await?;
    Ok((server, t))
}

async fn calibrate(c: Calibration, on: Option<&[usize]>) -> Result<()> {
    crate::nofile::raise();
    let tok = Tokenizer::builtin();
    let n = c.requests;

    // 1. Throughput against `instant`.
    let (server, t) = instant(on).await?;
    let reqs = specs(n, c.output_len, "t");
    engine::warm::before_run(&t, Some(c.concurrency), f64::INFINITY, n).await;
    let mut col = Collector::new(Some(&tok), false);
    let ran = engine::execute_into(t, &reqs, &vec![0.0; n], Some(c.concurrency), &mut col).await;
    let (s, _) = col.finish(ran.duration_s);
    server.stop().await;
    println!(
        "throughput ({} streams of {} tokens, concurrency {}, `instant` server):",
        n, c.output_len, c.concurrency
    );
    println!(
        "  {:.0} requests/s, {:.0} tokens/s, {:.0} % CPU (client and server), {} failed",
        s.request_throughput,
        s.output_throughput,
        ran.pace.cpu_pct(),
        s.failed
    );
    let max_rate = s.request_throughput;

    timing::measure(c, on).await?;

    // 3. Scheduler lag at half the measured rate.
    let rate = (max_rate / 2.0).max(10.0);
    let (server, t) = instant(on).await?;
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
