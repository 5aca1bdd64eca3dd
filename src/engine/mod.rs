//! The open-loop engine: drives one run.
//!
//! In: a [`Target`] (client, URL, protocol, request options), the run's requests and their
//! due times, and the concurrency cap. Out: one [`RequestRecord`] per request (per turn of a
//! multi-turn conversation) and the run duration. Request `i` is due at `start + offset_i`
//! and dispatched by sleeping to that absolute deadline; it is then sent as soon as the cap
//! allows. Due, dispatch and send times are all recorded, so the client falling behind
//! (schedule lag) and requests held back by the cap (queue wait) are visible, not hidden.
//!
//! A run may stop early ([`stop`]): the dispatch loop stops at a stop rule, a duration, or
//! Ctrl-C; requests not yet sent are dropped, those in flight finish (after Ctrl-C within a
//! grace period, then they are cancelled and recorded as `cancelled`).
//!
//! A multi-turn conversation ([`Prompt::Turns`]) is one task holding one cap slot for all its
//! turns; each turn is sent with the whole history, including the server's actual replies
//! (bench_serving §4.6), and asks for usage so every turn's output length is measured.

pub mod connect;
mod exchange;
pub mod pace;
mod probe;
pub mod progress;
mod server;
pub mod stop;
mod target;
pub mod warm;

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};
use tokio::time::Instant;

pub use probe::probe_server;
pub use server::{ServerError, accept_length, first_model, profile_body};
pub use stop::{Control, StopReason, StopRules};
pub use target::{Prepared, ROUTING_KEY_HEADER, Target, client, client_for};

use crate::metrics::Collector;
use crate::record::{Outcome, RequestRecord};
use crate::workload::{Prompt, RequestSpec, Workload};

/// Records of one run, in dispatch order, and its duration.
#[derive(Debug)]
pub struct Executed {
    /// One per request (per turn for conversations).
    pub records: Vec<RequestRecord>,
    /// From the run start to the end of the last response, in seconds.
    pub duration_s: f64,
    /// The run start: every `*_s` time in the records counts from it.
    pub start: Instant,
}

/// Send `requests` with due times `offsets` (seconds from start) under `cap`, keeping every
/// record whole.
pub async fn execute(
    target: Arc<Target>,
    requests: &[RequestSpec],
    offsets: &[f64],
    cap: Option<u32>,
) -> Executed {
    let mut collector = Collector::new(None, true);
    let ran = execute_into(target, requests, offsets, cap, &mut collector).await;
    Executed {
        records: collector.into_records(),
        duration_s: ran.duration_s,
        start: ran.start,
    }
}

/// Send requests at the due times `due` (seconds from start) under `cap` and `control`'s
/// stop rules, keeping every record whole. Request `i` is `requests[i % len]`: a schedule
/// longer than the requests (a `duration_s` run) recycles them.
pub async fn execute_controlled(
    target: Arc<Target>,
    requests: &[RequestSpec],
    due: impl Iterator<Item = f64>,
    cap: Option<u32>,
    control: &Arc<Control>,
) -> Executed {
    let mut collector = Collector::new(None, true);
    let ran = execute_into_controlled(
        target,
        &Workload::from(requests),
        due,
        cap,
        control,
        &mut collector,
    )
    .await;
    Executed {
        records: collector.into_records(),
        duration_s: ran.duration_s,
        start: ran.start,
    }
}

/// How a run went as a whole, beside its records.
#[derive(Debug, Clone, Copy)]
pub struct Ran {
    /// From the run start to the end of the last response, in seconds.
    pub duration_s: f64,
    /// The run start: every `*_s` time in the records counts from it.
    pub start: Instant,
    /// The dispatcher against its schedule, and the process's CPU.
    pub pace: pace::Pace,
}

/// Send `requests` with due times `offsets` (seconds from start) under `cap`, handing each
/// finished request's records to `collector` as it ends (so nothing per request piles up
/// here).
pub async fn execute_into(
    target: Arc<Target>,
    requests: &[RequestSpec],
    offsets: &[f64],
    cap: Option<u32>,
    collector: &mut Collector<'_>,
) -> Ran {
    let control = Arc::new(Control::unbounded());
    execute_into_controlled(
        target,
        &Workload::from(requests),
        offsets.iter().copied(),
        cap,
        &control,
        collector,
    )
    .await
}

/// A request that was due and dispatched, and waits for a slot under the cap: a few bytes,
/// not a task, so a rate-`inf` run of a million requests holds a queue, not a million tasks.
#[derive(Debug, Clone, Copy)]
struct Due {
    /// Its index in the run.
    i: usize,
    /// When it was due, seconds from the start.
    intended_s: f64,
    /// When the dispatcher reached it.
    dispatched_s: f64,
}

/// [`execute_into`] at the due times `due` under `control`'s stop rules, recycling
/// `requests` when `due` is longer; the records go to `collector` as they finish.
///
/// Request `i` is dispatched at its due time. Under a cap it is sent when a slot frees, in
/// dispatch order; until then it waits in a queue (index and times only). A request is read
/// from the workload (drawn, when the workload is drawn) and its task spawned only when it
/// may be sent, so the tasks alive never outnumber the cap.
pub async fn execute_into_controlled(
    target: Arc<Target>,
    requests: &Workload<'_>,
    due: impl Iterator<Item = f64>,
    cap: Option<u32>,
    control: &Arc<Control>,
    collector: &mut Collector<'_>,
) -> Ran {
    let cpu0 = pace::cpu_seconds();
    let n = requests.len();
    let loras = match &target.options.lora {
        Some(_) => target.loras(n),
        None => Vec::new(),
    };
    let sem = cap.map(|c| Arc::new(Semaphore::new(c as usize)));
    let (tx, mut rx) = mpsc::unbounded_channel::<Vec<RequestRecord>>();
    let start = Instant::now();
    let monitor = control
        .rules
        .saturation
        .then(|| tokio::spawn(watch_saturation(control.clone())));
    let limit = control.rules.duration_s.map(Duration::from_secs_f64);
    let launch = move |d: Due, permit: Option<OwnedSemaphorePermit>| {
        let k = d.i % n;
        let spec = requests.get(k).into_owned();
        let lora = loras.get(k).cloned().flatten();
        let task = Task {
            target: target.clone(),
            spec,
            lora,
            index: k,
            due: d,
            start,
            control: control.clone(),
        };
        let tx = tx.clone();
        tokio::spawn(async move {
            let _permit = permit;
            if let Some(records) = task.run().await {
                // The receiver lives until every sender is gone.
                let _ = tx.send(records);
            }
        });
    };
    let dispatch = async move {
        // (requests dispatched, last due time, last dispatch time)
        let mut pace = (0usize, 0.0f64, 0.0f64);
        let mut queue: VecDeque<Due> = VecDeque::new();
        let mut due = due.enumerate();
        let mut next = if n == 0 { None } else { due.next() };
        while !control.stopped() && (next.is_some() || !queue.is_empty()) {
            let at = next.map(|(_, t)| start + Duration::from_secs_f64(t));
            let slot = async {
                match (&sem, queue.is_empty()) {
                    (Some(s), false) => s.clone().acquire_owned().await.ok(),
                    _ => std::future::pending().await,
                }
            };
            let wake = async {
                match at {
                    Some(at) => crate::clock::shared().sleep_until(at).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                biased;
                _ = control.stopping() => break,
                p = slot => {
                    let d = queue.pop_front().expect("a request waits");
                    stop::dec(&control.counters.waiting);
                    launch(d, p);
                    continue;
                }
                _ = wake => {}
            }
            let (i, intended_s) = next.take().expect("a request is due");
            if limit.is_some_and(|l| start.elapsed() >= l) {
                break;
            }
            let mut held = None;
            if let (true, Some(s)) = (control.closed_loop, &sem) {
                tokio::select! {
                    biased;
                    _ = control.stopping() => break,
                    p = s.clone().acquire_owned() => held = Some(p.expect("semaphore open")),
                }
                if limit.is_some_and(|l| start.elapsed() >= l) {
                    break;
                }
            }
            let d = Due {
                i,
                intended_s,
                dispatched_s: start.elapsed().as_secs_f64(),
            };
            pace = (pace.0 + 1, intended_s, d.dispatched_s);
            stop::inc(&control.counters.dispatched);
            match (&sem, held) {
                (_, Some(p)) => launch(d, Some(p)),
                (None, None) => launch(d, None),
                (Some(s), None) => match queue.is_empty().then(|| s.clone().try_acquire_owned()) {
                    Some(Ok(p)) => launch(d, Some(p)),
                    _ => {
                        stop::inc(&control.counters.waiting);
                        queue.push_back(d);
                    }
                },
            }
            next = due.next();
            tokio::task::consume_budget().await;
        }
        // Due, but not sent before the run stopped.
        for _ in 0..queue.len() {
            stop::dec(&control.counters.waiting);
        }
        if limit.is_some() {
            control.stop(StopReason::Duration);
        }
        pace
    };
    let collect = async {
        let mut grace: Option<std::pin::Pin<Box<tokio::time::Sleep>>> = None;
        loop {
            let armed = grace.is_some();
            tokio::select! {
                r = rx.recv() => match r {
                    Some(records) => {
                        for r in records {
                            collector.push(r);
                        }
                    }
                    None => break,
                },
                _ = control.interrupted(), if !armed => {
                    grace = Some(Box::pin(tokio::time::sleep(control.grace)));
                }
                _ = async { grace.as_mut().expect("armed").await }, if armed => {
                    control.abort();
                    grace = Some(Box::pin(tokio::time::sleep(Duration::from_secs(3600))));
                }
            }
        }
    };
    let ((requests_sent, last_due_s, last_dispatched_s), ()) = tokio::join!(dispatch, collect);
    if let Some(m) = monitor {
        m.abort();
    }
    Ran {
        duration_s: collector.max_end_s(),
        start,
        pace: pace::Pace {
            requests: requests_sent,
            last_due_s,
            last_dispatched_s,
            cpu_s: pace::cpu_seconds() - cpu0,
            wall_s: start.elapsed().as_secs_f64(),
        },
    }
}

/// One request (or conversation) allowed to start: its inputs, moved into its task.
struct Task {
    target: Arc<Target>,
    spec: RequestSpec,
    lora: Option<String>,
    /// Its index in the workload (the templates' `index`).
    index: usize,
    due: Due,
    start: Instant,
    control: Arc<Control>,
}

impl Task {
    /// Send it (every turn of a conversation) and count it; `None` when the run stopped
    /// before it could be sent.
    async fn run(self) -> Option<Vec<RequestRecord>> {
        let control = self.control.clone();
        if control.stopped() {
            return None;
        }
        stop::inc(&control.counters.in_flight);
        let (i, start, dispatched_s) = (self.due.i, self.start, self.due.dispatched_s);
        let mut rec = RequestRecord::new(i, self.due.intended_s, self.spec.output_len);
        rec.dispatched_s = dispatched_s;
        rec.prompt_len = self.spec.prompt_len;
        rec.measured_prompt_len = self.spec.measured_prompt_len;
        rec.vision_prompt_len = self.spec.vision_prompt_len;
        let mut cancelled = rec.clone();
        let records = tokio::select! {
            r = self.send(rec) => r,
            _ = control.aborting() => {
                cancelled.sent_s = dispatched_s;
                cancelled.end_s = start.elapsed().as_secs_f64();
                cancelled.outcome = Outcome::Cancelled;
                vec![cancelled]
            }
        };
        stop::dec(&control.counters.in_flight);
        for r in &records {
            control.finished(r.outcome.is_ok());
        }
        Some(records)
    }

    async fn send(self, mut rec: RequestRecord) -> Vec<RequestRecord> {
        let (target, spec) = (&self.target, &self.spec);
        rec.lora = self.lora;
        if spec.prompt.is_conversation() {
            return conversation(target, spec, self.due.i, self.start, rec).await;
        }
        match target.body(spec, rec.lora.as_deref(), self.index) {
            Err(e) => {
                rec.sent_s = self.start.elapsed().as_secs_f64();
                rec.end_s = rec.sent_s;
                rec.outcome = Outcome::Client;
                rec.error = Some(e.to_string());
            }
            Ok(body) => {
                let key = spec.routing_key.as_deref();
                exchange::send(target, body, key, self.start, &mut rec).await;
            }
        }
        vec![rec]
    }
}

/// Sample the counters every second and stop the run when [`stop::Saturation`] fires.
async fn watch_saturation(control: Arc<Control>) {
    let mut rule = stop::Saturation::default();
    loop {
        let s = control.counters.snapshot();
        if rule.push(s.dispatched, s.done + s.failed) {
            control.stop(StopReason::Saturated);
            return;
        }
        tokio::time::sleep(stop::Saturation::PERIOD).await;
    }
}

/// Replay a conversation turn by turn. The first record comes in with its due and dispatch
/// times; each later turn is due when the previous reply ended. A failed turn ends the
/// conversation (there is no reply to continue from).
async fn conversation(
    target: &Target,
    spec: &RequestSpec,
    i: usize,
    start: Instant,
    first: RequestRecord,
) -> Vec<RequestRecord> {
    let turns = spec.prompt.turn_count();
    let mut history = Vec::with_capacity(turns * 2);
    let mut records = Vec::with_capacity(turns);
    let mut rec = first;
    for j in 0..turns {
        history.extend(spec.prompt.turn(j).unwrap_or_default());
        rec.turn = Some(j as u32);
        if j > 0 {
            rec.prompt_len = 0;
        }
        let prompt = Prompt::Messages(history.clone());
        let lora = rec.lora.clone();
        match target.body_value(spec, &prompt, lora.as_deref(), i, true) {
            Err(e) => {
                rec.sent_s = start.elapsed().as_secs_f64();
                rec.end_s = rec.sent_s;
                rec.outcome = Outcome::Client;
                rec.error = Some(e.to_string());
            }
            Ok(body) => {
                let body = bytes::Bytes::from(body.to_string());
                exchange::send(target, body, spec.routing_key.as_deref(), start, &mut rec).await;
            }
        }
        if rec.prompt_len == 0 {
            rec.prompt_len = rec.reported_prompt_len.unwrap_or(0);
        }
        let ok = rec.outcome.is_ok();
        let end = rec.end_s;
        history.push(json!({"role": "assistant", "content": rec.text}));
        records.push(rec);
        if !ok {
            break;
        }
        rec = RequestRecord::new(i, end, spec.output_len);
        rec.lora = lora;
    }
    records
}

/// Send `n` copies of `spec` (output capped at 32 tokens, no per-row
/// extra body; the first turn of a conversation) through the cap; succeed if any does, else
/// return the first error.
pub async fn warmup(
    target: Arc<Target>,
    spec: &RequestSpec,
    n: u32,
    cap: Option<u32>,
) -> Result<(), String> {
    let prompt = match spec.prompt.turn(0) {
        Some(first) => Prompt::Messages(first),
        None => spec.prompt.clone(),
    };
    let spec = RequestSpec {
        output_len: spec.output_len.min(32),
        prompt,
        extra_body: Default::default(),
        ..spec.clone()
    };
    let reqs = vec![spec; n as usize];
    let done = execute(target, &reqs, &vec![0.0; n as usize], cap).await;
    if done.records.iter().any(|r| r.outcome.is_ok()) {
        return Ok(());
    }
    Err(done
        .records
        .first()
        .map(|r| r.error.clone().unwrap_or_else(|| r.outcome.kind().into()))
        .unwrap_or_default())
}
