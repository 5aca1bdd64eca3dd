//! The open-loop engine: drives one run.
//!
//! In: a [`Target`] (client, URL, protocol, request options), the run's requests and their
//! due times, and the concurrency cap. Out: one [`RequestRecord`] per request (per turn of a
//! multi-turn conversation) and the run duration. Request `i` is due at `start + offset_i`
//! and dispatched by sleeping to that absolute deadline; it is then sent as soon as the cap
//! allows. Due, dispatch and send times are all recorded, so the client falling behind
//! (schedule lag) and requests held back by the cap (queue wait) are visible, not hidden.
//!
//! A multi-turn conversation ([`Prompt::Turns`]) is one task holding one cap slot for all its
//! turns; each turn is sent with the whole history, including the server's actual replies
//! (bench_serving §4.6), and asks for usage so every turn's output length is measured.

pub mod connect;
mod exchange;
pub mod pace;
mod probe;
mod server;
mod target;
pub mod warm;

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use tokio::sync::{Semaphore, mpsc};
use tokio::time::Instant;

pub use probe::probe_server;
pub use server::{ServerError, accept_length, first_model, profile_body};
pub use target::{Prepared, ROUTING_KEY_HEADER, Target, client, client_for};

use crate::metrics::Collector;
use crate::record::{Outcome, RequestRecord};
use crate::workload::{Prompt, RequestSpec};

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
    let cpu0 = pace::cpu_seconds();
    let prepared = target.prepare(requests);
    let sem = cap.map(|c| Arc::new(Semaphore::new(c as usize)));
    let (tx, mut rx) = mpsc::unbounded_channel::<Vec<RequestRecord>>();
    let start = Instant::now();
    let dispatch = async move {
        let mut last_dispatched_s = 0.0;
        for (i, (spec, prep)) in requests.iter().zip(prepared).enumerate() {
            crate::clock::shared()
                .sleep_until(start + Duration::from_secs_f64(offsets[i]))
                .await;
            let dispatched_s = start.elapsed().as_secs_f64();
            last_dispatched_s = dispatched_s;
            let target = target.clone();
            let sem = sem.clone();
            let spec = spec.clone();
            let intended_s = offsets[i];
            let tx = tx.clone();
            tokio::spawn(async move {
                let _permit = match &sem {
                    Some(s) => Some(s.clone().acquire_owned().await.expect("semaphore open")),
                    None => None,
                };
                // Boxed: a task waiting for the cap holds only its inputs, not the space of
                // a whole exchange (a rate-`inf` run spawns every request at once).
                let records = Box::pin(async move {
                    let mut rec = RequestRecord::new(i, intended_s, spec.output_len);
                    rec.dispatched_s = dispatched_s;
                    rec.prompt_len = spec.prompt_len;
                    rec.measured_prompt_len = spec.measured_prompt_len;
                    rec.vision_prompt_len = spec.vision_prompt_len;
                    match prep {
                        Err(e) => {
                            rec.sent_s = start.elapsed().as_secs_f64();
                            rec.end_s = rec.sent_s;
                            rec.outcome = Outcome::Client;
                            rec.error = Some(e.to_string());
                            vec![rec]
                        }
                        Ok(p) if spec.prompt.is_conversation() => {
                            rec.lora = p.lora;
                            conversation(&target, &spec, i, start, rec).await
                        }
                        Ok(p) => {
                            rec.lora = p.lora;
                            exchange::send(
                                &target,
                                p.body,
                                spec.routing_key.as_deref(),
                                start,
                                &mut rec,
                            )
                            .await;
                            vec![rec]
                        }
                    }
                })
                .await;
                // The receiver lives until every sender is gone.
                let _ = tx.send(records);
            });
        }
        last_dispatched_s
    };
    let collect = async {
        while let Some(records) = rx.recv().await {
            for r in records {
                collector.push(r);
            }
        }
    };
    let (last_dispatched_s, ()) = tokio::join!(dispatch, collect);
    Ran {
        duration_s: collector.max_end_s(),
        start,
        pace: pace::Pace {
            requests: requests.len(),
            last_due_s: offsets.last().copied().unwrap_or(0.0),
            last_dispatched_s,
            cpu_s: pace::cpu_seconds() - cpu0,
            wall_s: start.elapsed().as_secs_f64(),
        },
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
        .map(|r| r.error.clone().unwrap_or_else(|| r.outcome.kind()))
        .unwrap_or_default())
}
