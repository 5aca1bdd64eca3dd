//! Calibrate's timing figure: how far the client's TTFT and ITL are from the embedded
//! server's ground truth, with `streams` requests in flight and default settings (warm
//! connections, rate `inf`, a cap of `streams`).
//!
//! In: the calibration settings and the server's CPUs. Out: printed error distributions —
//! TTFT error for every request, for the first wave (sent at once) and the rest; its two
//! parts, send → the request's arrival at the server host and the server's write → the
//! client's read of the first token; ITL error; and, apart, the server's own lag between a
//! request's arrival and its reading it (server time, counted in the true TTFT).
//!
//! A request arrives when the kernel receives its last bytes (the server's `received`
//! ground truth): the true TTFT runs from then to the server's write of the first token.

use std::time::Duration;

use anyhow::Result;

use super::{Calibration, line, specs, start, target};
use crate::engine;
use crate::metrics::Dist;
use crate::sim::{Preset, SimConfig, prompt_hash};

/// Modelled time to first token and between tokens, milliseconds.
const TTFT_MS: f64 = 50.0;
const ITL_MS: f64 = 40.0;
/// Output tokens per request.
const OUTPUT_LEN: u32 = 16;

/// CPU seconds the embedded server's threads (named `runner-sim…`) have used so far, from
/// `/proc/self/task` (Linux; `None` elsewhere).
fn server_cpu_s() -> Option<f64> {
    let tick = 100.0; // USER_HZ: /proc counts in hundredths of a second on Linux
    let mut sum = 0.0;
    for task in std::fs::read_dir("/proc/self/task").ok()?.flatten() {
        let comm = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
        if !comm.starts_with("runner-sim") {
            continue;
        }
        let stat = std::fs::read_to_string(task.path().join("stat")).unwrap_or_default();
        // Fields after the command's closing parenthesis, from the state (field 3) on:
        // utime and stime are fields 14 and 15.
        let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
        let f: Vec<&str> = rest.split_whitespace().collect();
        let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
        sum += (ticks(11) + ticks(12)) / tick;
    }
    Some(sum)
}

/// Per-request errors, seconds.
#[derive(Default)]
struct Errors {
    ttft: Vec<f64>,
    first_wave: Vec<f64>,
    rest: Vec<f64>,
    send: Vec<f64>,
    read_lag: Vec<f64>,
    deliver: Vec<f64>,
    itl: Vec<f64>,
    /// The first wave's send times and server read times, seconds from the start.
    wave_sent: Vec<f64>,
    wave_read: Vec<f64>,
    /// Requests the kernel gave no receipt time for: their arrival is the server's read.
    unstamped: usize,
}

/// Measure and print.
pub(super) async fn measure(c: Calibration, on: Option<&[usize]>) -> Result<()> {
    let server = start(
        SimConfig {
            preset: Preset::Fixed,
            ttft_ms: Some(TTFT_MS),
            itl_ms: Some(ITL_MS),
            ..SimConfig::default()
        },
        on,
    )
    .await?;
    let t = target(&server).await?;
    let streams = c.streams as usize;
    let m = c.requests.max(streams);
    let reqs = specs(m, OUTPUT_LEN, "o");
    let warmed = engine::warm::before_run(&t, Some(c.streams), f64::INFINITY, m).await;
    let cpu0 = server_cpu_s();
    let done = engine::execute(t, &reqs, &vec![0.0; m], Some(c.streams)).await;
    let server_busy = server_cpu_s()
        .zip(cpu0)
        .map(|(b, a)| (b - a) / done.duration_s * 100.0);
    let cold = done
        .records
        .iter()
        .filter(|r| r.connect_s.is_some())
        .count();
    let truth = server.truth_by_prompt();
    server.stop().await;
    let mut e = Errors::default();
    for r in &done.records {
        let (Some(text), Some(first)) = (reqs[r.index].prompt.as_text(), r.first_token_s) else {
            continue;
        };
        let Some(s) = truth
            .get(&prompt_hash(text))
            .filter(|s| !s.token_times.is_empty())
        else {
            continue;
        };
        let at = |t: f64| done.start + Duration::from_secs_f64(t);
        // The request arrived when its last bytes reached this host's kernel: the time the
        // server then took to read it is server time, as it would be on a real server.
        e.unstamped += usize::from(s.received.is_none());
        let arrived = s.received.unwrap_or(s.arrival);
        e.read_lag
            .push(s.arrival.saturating_duration_since(arrived).as_secs_f64());
        let server_ttft = (s.token_times[0] - arrived).as_secs_f64();
        let err = r.ttft_s().unwrap_or(0.0) - server_ttft;
        e.ttft.push(err);
        if r.index < streams {
            e.first_wave.push(err);
            e.wave_sent.push(r.sent_s);
            e.wave_read.push(
                s.arrival
                    .saturating_duration_since(done.start)
                    .as_secs_f64(),
            );
        } else {
            e.rest.push(err);
        }
        e.send.push(
            arrived
                .saturating_duration_since(at(r.sent_s))
                .as_secs_f64(),
        );
        e.deliver.push(
            at(first)
                .saturating_duration_since(s.token_times[0])
                .as_secs_f64(),
        );
        for (j, gap) in r.itl_s.iter().enumerate() {
            if let (Some(a), Some(b)) = (s.token_times.get(j), s.token_times.get(j + 1)) {
                e.itl.push(gap - (*b - *a).as_secs_f64());
            }
        }
    }
    println!(
        "timing ({m} requests of {OUTPUT_LEN} tokens, {streams} streams, `fixed` server \
         {TTFT_MS} ms / {ITL_MS} ms; client − server ground truth):"
    );
    println!(
        "  {warmed} connections opened before the clock; {cold} requests opened one during the run"
    );
    line("TTFT error", &Dist::of_seconds(&e.ttft));
    line(
        &format!("  first {} (sent at once)", e.first_wave.len()),
        &Dist::of_seconds(&e.first_wave),
    );
    line(
        &format!("  the other {}", e.rest.len()),
        &Dist::of_seconds(&e.rest),
    );
    line("  send → request arrived", &Dist::of_seconds(&e.send));
    line("  first-token delivery", &Dist::of_seconds(&e.deliver));
    line("ITL error", &Dist::of_seconds(&e.itl));
    line("server: arrived → read", &Dist::of_seconds(&e.read_lag));
    if e.unstamped > 0 {
        println!(
            "  no kernel receipt time for {} requests: their arrival is when the server read \
             them, so its reading lag counts as client error there",
            e.unstamped
        );
    }
    if let Some(busy) = server_busy {
        println!("  server threads busy {busy:.0} % of one CPU during the run");
    }
    let span = |v: &[f64]| {
        let (lo, hi) = v
            .iter()
            .fold((f64::MAX, f64::MIN), |(l, h), x| (l.min(*x), h.max(*x)));
        (lo * 1e3, hi * 1e3)
    };
    let (s0, s1) = span(&e.wave_sent);
    let (r0, r1) = span(&e.wave_read);
    println!(
        "    first wave sent from {s0:.3} to {s1:.3} ms, read by the server from {r0:.3} to \
         {r1:.3} ms"
    );
    Ok(())
}
