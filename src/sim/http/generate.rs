//! The generation and embedding endpoints: from request to response.
//!
//! In: the body of a request to one of the generation APIs. Out: the response. On the way:
//! the request gets its arrival index and (maybe) a fault, is checked against the context
//! length, and is handed to the fixed timing model or the engine; faults that strike before
//! any output (HTTP errors, resets, the port going down, slow headers) are applied here,
//! the rest by the [`writer`](super::writer).

use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tokio::time::Instant;

use super::super::Timing;
use super::super::batcher::{Finish, Seq};
use super::super::fault::{self, FaultKind};
use super::super::hash::{mix2, unit};
use super::super::listener::ConnInfo;
use super::super::source::Source;
use super::super::{Sim, Truth};
use super::request::{self, Api, Parsed};
use super::writer::{self, Job};
use super::{error, json_body};

/// Answer one generation or embedding request.
pub async fn handle(
    sim: Arc<Sim>,
    conn: ConnInfo,
    api: Api,
    path: &'static str,
    body: Bytes,
) -> Response {
    let arrival = Instant::now();
    let received = conn.0.received().map(Instant::from_std);
    let seq = sim.seq.fetch_add(1, Relaxed);
    let at = (arrival, received);
    let reject = |msg: &str, parsed: Option<&Parsed>| {
        record(&sim, path, seq, at, parsed, "error", None);
        error(StatusCode::BAD_REQUEST, msg)
    };
    let req = match json_body(&body) {
        Ok(v) => v,
        Err(msg) => return reject(&msg, None),
    };
    let mut parsed = match request::parse(api, &req) {
        Ok(p) => p,
        Err(msg) => return reject(&msg, None),
    };
    if path.ends_with("generate_stream") {
        parsed.stream = true;
    }
    if api == Api::Embeddings {
        parsed.max_tokens = 0;
    }
    if let Some(msg) = too_long(&sim, parsed.shape.tokens, parsed.max_tokens) {
        return reject(&msg, Some(&parsed));
    }
    let fault = fault::pick(&sim.config.faults, sim.config.seed, seq).cloned();
    let job = Job {
        api,
        path,
        seq,
        arrival,
        received,
        parsed,
        fault,
    };
    let kind = job.fault.as_ref().map(|f| f.kind);
    match (kind, &job.fault) {
        (Some(FaultKind::Http), Some(f)) => {
            record(&sim, path, seq, at, Some(&job.parsed), "http", kind);
            return http_fault(f.status(), f.retry_after());
        }
        (Some(FaultKind::Reset), _) => {
            conn.0.kill();
            record(&sim, path, seq, at, Some(&job.parsed), "reset", kind);
            return Body::empty().into_response();
        }
        (Some(FaultKind::Refuse), Some(f)) => {
            sim.conns.go_down(Duration::from_secs_f64(f.seconds()));
            record(&sim, path, seq, at, Some(&job.parsed), "refuse", kind);
            return Body::empty().into_response();
        }
        _ => {}
    }
    let source = source_for(&sim, &job);
    let hold = match (kind, &job.fault) {
        (Some(FaultKind::SlowHeaders), Some(f)) => {
            Some(arrival + Duration::from_secs_f64(f.seconds()))
        }
        _ => None,
    };
    let clock = sim.clock.clone();
    let response = writer::respond(sim, job, source, hold);
    if let Some(t) = hold {
        clock.sleep_until(t).await;
    }
    response
}

/// The 400 message of a request longer than the model (or the KV cache) takes.
fn too_long(sim: &Sim, prompt: u32, max_tokens: u32) -> Option<String> {
    let total = u64::from(prompt) + u64::from(max_tokens);
    let ctx = sim.params.context_len;
    if total > u64::from(ctx) {
        return Some(format!(
            "This model's maximum context length is {ctx} tokens. However, you requested {total} tokens ({prompt} in the messages, {max_tokens} in the completion). Please reduce the length of the messages or completion."
        ));
    }
    if let Some(e) = sim.params.engine()
        && total > e.kv_tokens
    {
        return Some(format!(
            "The request needs {total} tokens of KV cache (prompt plus max output) but the server has {}.",
            e.kv_tokens
        ));
    }
    None
}

/// Where EOS falls for request `seq`: a seeded geometric draw, `None` when EOS is ignored.
fn stop_at(sim: &Sim, seq: u64, ignore_eos: bool) -> Option<u32> {
    let p = sim.params.eos_probability;
    if ignore_eos || p <= 0.0 {
        return None;
    }
    if p >= 1.0 {
        return Some(1);
    }
    let u = unit(mix2(mix2(sim.config.seed, seq), 0xE05));
    let k = 1.0 + ((1.0 - u).ln() / (1.0 - p).ln()).floor();
    Some(k.min(f64::from(u32::MAX)) as u32)
}

fn source_for(sim: &Sim, job: &Job) -> Source {
    let p = &job.parsed;
    if job.fault.as_ref().map(|f| f.kind) == Some(FaultKind::NoOutput) {
        return Source::fixed(sim.clock.clone(), job.arrival, 0.0, 0.0, 0, Finish::Stop);
    }
    let stop = stop_at(sim, job.seq, p.ignore_eos).filter(|&s| s < p.max_tokens);
    if let Some(engine) = &sim.engine {
        let seq = Seq::new(job.seq, &p.shape, p.max_tokens, stop, sim.config.seed);
        return Source::Engine(engine.submit(seq));
    }
    let (ttft_ms, itl_ms) = match sim.params.timing {
        Timing::Fixed { ttft_ms, itl_ms } => (ttft_ms, itl_ms),
        Timing::Engine(_) => (0.0, 0.0),
    };
    let finish = if stop.is_some() {
        Finish::Stop
    } else {
        Finish::Length
    };
    let n = stop.unwrap_or(p.max_tokens);
    Source::fixed(sim.clock.clone(), job.arrival, ttft_ms, itl_ms, n, finish)
}

fn http_fault(status: u16, retry_after: Option<u32>) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
    let reason = status.canonical_reason().unwrap_or("error");
    let mut r = error(status, &format!("{reason} (injected fault)"));
    if let Some(s) = retry_after {
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(s));
    }
    r
}

/// Record a request that ended before any token: rejected (`parsed` is `None` when the body
/// could not be read) or failed by a fault.
fn record(
    sim: &Sim,
    path: &'static str,
    seq: u64,
    (arrival, received): (Instant, Option<Instant>),
    parsed: Option<&Parsed>,
    finish: &str,
    fault: Option<FaultKind>,
) {
    sim.truth.lock().expect("truth lock").push(Truth {
        seq,
        endpoint: path,
        arrival,
        received,
        token_times: Vec::new(),
        prompt_tokens: parsed.map_or(0, |p| p.shape.tokens),
        cached_tokens: 0,
        prompt_hash: parsed.map_or(0, |p| p.prompt_hash),
        max_tokens: parsed.map_or(0, |p| p.max_tokens),
        finish: finish.to_owned(),
        fault,
    });
}
