//! The engine model's thread: runs [`Batcher`] steps back to back on a precise clock.
//!
//! In: sequences submitted by the HTTP handlers, each with a channel for its output. Out:
//! each step's [`Emission`]s, sent at the step's end time. The thread sleeps to absolute
//! step deadlines (a step starts where the previous one ended), so OS sleep slop delays a
//! step's delivery by tens of microseconds but never accumulates, and a late wake-up is made
//! up by the steps after it ([`MAX_LAG`]).

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use tokio::sync::{mpsc as tmpsc, oneshot};

use super::EngineParams;
use super::batcher::{Batcher, Emission, Seq};
use super::stats::Stats;

enum Cmd {
    Submit(Seq, tmpsc::UnboundedSender<Emission>),
    Flush(oneshot::Sender<bool>),
}

/// Handle to the engine thread; the thread ends when the handle is dropped and it is idle.
pub struct Engine {
    tx: mpsc::Sender<Cmd>,
}

impl Engine {
    /// Start the thread.
    pub fn start(p: EngineParams, stats: Arc<Stats>) -> Engine {
        let (tx, rx) = mpsc::channel();
        std::thread::Builder::new()
            .name("runner-sim-engine".into())
            .spawn(move || run(rx, Batcher::new(p), &stats))
            .expect("spawn the engine thread");
        Engine { tx }
    }

    /// Queue a sequence; its emissions arrive on the returned channel.
    pub fn submit(&self, seq: Seq) -> tmpsc::UnboundedReceiver<Emission> {
        let (tx, rx) = tmpsc::unbounded_channel();
        let _ = self.tx.send(Cmd::Submit(seq, tx));
        rx
    }

    /// Empty the prefix cache; `false` when requests are running or waiting.
    pub async fn flush(&self) -> bool {
        let (tx, rx) = oneshot::channel();
        if self.tx.send(Cmd::Flush(tx)).is_err() {
            return false;
        }
        rx.await.unwrap_or(false)
    }
}

/// How far behind its schedule the engine may fall and still catch up. A thread that wakes
/// late (a busy machine preempts it for a few scheduler slices) runs its next steps at once
/// until it is back on schedule, so the engine keeps its modelled throughput, and a capacity
/// measured against it does not depend on what else the machine is doing: the stall shows
/// as one long gap and a few short ones, never as lost capacity. Further behind than this
/// (the process was stopped, say), the schedule restarts from now rather than emitting a
/// burst of hundreds of steps.
const MAX_LAG: Duration = Duration::from_millis(250);

fn run(rx: mpsc::Receiver<Cmd>, mut b: Batcher, stats: &Stats) {
    let mut outputs: HashMap<u64, tmpsc::UnboundedSender<Emission>> = HashMap::new();
    let mut next: Option<Instant> = None;
    let mut window = (Instant::now(), 0u64);
    let apply = |cmd: Cmd, b: &mut Batcher, outputs: &mut HashMap<_, _>| match cmd {
        Cmd::Submit(seq, tx) => {
            outputs.insert(seq.id, tx);
            b.submit(seq);
        }
        Cmd::Flush(reply) => {
            let _ = reply.send(b.flush_cache());
        }
    };
    loop {
        if b.is_idle() {
            next = None;
            stats.gen_throughput.store(0f64.to_bits(), Relaxed);
            publish(stats, &b);
            match rx.recv() {
                Ok(cmd) => apply(cmd, &mut b, &mut outputs),
                Err(_) => return,
            }
        }
        while let Ok(cmd) = rx.try_recv() {
            apply(cmd, &mut b, &mut outputs);
        }
        outputs.retain(|id, tx| {
            let gone = tx.is_closed();
            if gone {
                b.cancel(*id);
            }
            !gone
        });
        let Some(ms) = b.plan() else {
            continue;
        };
        publish(stats, &b);
        let now = Instant::now();
        let start = match next {
            Some(d) if now.saturating_duration_since(d) < MAX_LAG => d,
            _ => now,
        };
        let end = start + Duration::from_secs_f64(ms / 1000.0);
        let now = Instant::now();
        if end > now {
            std::thread::sleep(end - now);
        }
        let generated_before = b.totals.generated;
        for e in b.complete() {
            let done = e.finish.is_some();
            if let Some(tx) = outputs.get(&e.id) {
                let _ = tx.send(e.clone());
            }
            if done {
                outputs.remove(&e.id);
            }
        }
        publish(stats, &b);
        window.1 += b.totals.generated - generated_before;
        let span = end.saturating_duration_since(window.0);
        if span >= Duration::from_secs(1) {
            let tps = window.1 as f64 / span.as_secs_f64();
            stats.gen_throughput.store(tps.to_bits(), Relaxed);
            window = (end, 0);
        }
        next = Some(end);
    }
}

fn publish(stats: &Stats, b: &Batcher) {
    let (running, waiting) = b.counts();
    let (kv, cache) = b.usage();
    stats.publish(&b.totals, running, waiting, kv, cache);
}
