//! HTTP endpoints of the embedded server and the shapes of their responses.
//!
//! Each generation request becomes a [`Job`]; a spawned task writes its tokens into the
//! response body at `arrival + ttft + k * itl` (absolute deadlines, so timer slop never
//! accumulates) and records when each was written.

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::{Sim, Truth};

pub(super) fn router(sim: Arc<Sim>) -> Router {
    Router::new()
        .route("/v1/completions", post(completions))
        .route("/v1/chat/completions", post(chat))
        .route("/generate", post(generate))
        .route("/v1/models", get(models))
        .route("/health", get(health))
        .with_state(sim)
}

/// Which API a job answers, which decides the frame shapes.
#[derive(Clone, Copy, PartialEq)]
enum Api {
    Completions,
    Chat,
    Generate,
}

/// One generation request as the server sees it.
struct Job {
    api: Api,
    seq: u64,
    arrival: Instant,
    prompt_tokens: u32,
    max_tokens: u32,
    stream: bool,
    include_usage: bool,
}

async fn health() -> &'static str {
    "ok"
}

async fn models(State(sim): State<Arc<Sim>>) -> Response {
    axum::Json(json!({
        "object": "list",
        "data": [{ "id": sim.config.model, "object": "model", "created": 0, "owned_by": "runner" }]
    }))
    .into_response()
}

async fn completions(State(sim): State<Arc<Sim>>, body: Bytes) -> Response {
    let arrival = Instant::now();
    let req = match parse(&body) {
        Ok(v) => v,
        Err(r) => return *r,
    };
    let prompt_tokens = match &req["prompt"] {
        Value::String(s) => sim.tokenizer.count(s) as u32,
        Value::Array(a) if a.iter().all(Value::is_u64) => a.len() as u32,
        Value::Array(a) => a
            .first()
            .and_then(Value::as_str)
            .map_or(0, |s| sim.tokenizer.count(s) as u32),
        _ => return error(StatusCode::BAD_REQUEST, "`prompt` is required"),
    };
    let max_tokens = u32_field(&req, "max_tokens").unwrap_or(16);
    run(
        sim,
        &req,
        Api::Completions,
        arrival,
        prompt_tokens,
        max_tokens,
    )
}

async fn chat(State(sim): State<Arc<Sim>>, body: Bytes) -> Response {
    let arrival = Instant::now();
    let req = match parse(&body) {
        Ok(v) => v,
        Err(r) => return *r,
    };
    let Some(messages) = req["messages"].as_array() else {
        return error(StatusCode::BAD_REQUEST, "`messages` is required");
    };
    let mut prompt_tokens = 0;
    for m in messages {
        match &m["content"] {
            Value::String(s) => prompt_tokens += sim.tokenizer.count(s) as u32,
            Value::Array(parts) => {
                for p in parts {
                    if let Some(t) = p["text"].as_str() {
                        prompt_tokens += sim.tokenizer.count(t) as u32;
                    }
                }
            }
            _ => {}
        }
    }
    let max_tokens = u32_field(&req, "max_completion_tokens")
        .or_else(|| u32_field(&req, "max_tokens"))
        .unwrap_or(16);
    run(sim, &req, Api::Chat, arrival, prompt_tokens, max_tokens)
}

async fn generate(State(sim): State<Arc<Sim>>, body: Bytes) -> Response {
    let arrival = Instant::now();
    let req = match parse(&body) {
        Ok(v) => v,
        Err(r) => return *r,
    };
    let prompt_tokens = match (&req["text"], &req["input_ids"]) {
        (Value::String(s), _) => sim.tokenizer.count(s) as u32,
        (_, Value::Array(ids)) => ids.len() as u32,
        _ => return error(StatusCode::BAD_REQUEST, "`text` or `input_ids` is required"),
    };
    let max_tokens = u32_field(&req["sampling_params"], "max_new_tokens").unwrap_or(128);
    run(sim, &req, Api::Generate, arrival, prompt_tokens, max_tokens)
}

fn parse(body: &[u8]) -> Result<Value, Box<Response>> {
    serde_json::from_slice(body).map_err(|e| {
        Box::new(error(
            StatusCode::BAD_REQUEST,
            &format!("invalid JSON body: {e}"),
        ))
    })
}

fn u32_field(v: &Value, key: &str) -> Option<u32> {
    v.get(key)?.as_u64().map(|n| n.min(u32::MAX as u64) as u32)
}

fn error(status: StatusCode, message: &str) -> Response {
    let body = json!({ "error": { "message": message, "type": "invalid_request_error", "code": status.as_u16() } });
    (status, axum::Json(body)).into_response()
}

fn run(
    sim: Arc<Sim>,
    req: &Value,
    api: Api,
    arrival: Instant,
    prompt_tokens: u32,
    max_tokens: u32,
) -> Response {
    let job = Job {
        api,
        seq: sim.seq.fetch_add(1, Ordering::Relaxed),
        arrival,
        prompt_tokens,
        max_tokens,
        stream: req["stream"].as_bool().unwrap_or(false),
        include_usage: req["stream_options"]["include_usage"]
            .as_bool()
            .unwrap_or(false),
    };
    if job.stream {
        stream(sim, job)
    } else {
        let (tx, mut rx) = mpsc::channel(1);
        tokio::spawn(generate_tokens(sim, job, tx));
        let body = Body::from_stream(async_stream(async move { rx.recv().await }));
        ([(header::CONTENT_TYPE, "application/json")], body).into_response()
    }
}

fn stream(sim: Arc<Sim>, job: Job) -> Response {
    let (tx, rx) = mpsc::channel::<Bytes>(64);
    tokio::spawn(generate_tokens(sim, job, tx));
    let body = Body::from_stream(futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|b| (Ok::<_, Infallible>(b), rx))
    }));
    (
        [
            (header::CONTENT_TYPE, "text/event-stream"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}

/// A one-item body stream for non-streaming responses.
fn async_stream<F>(f: F) -> impl futures_util::Stream<Item = Result<Bytes, Infallible>>
where
    F: std::future::Future<Output = Option<Bytes>>,
{
    futures_util::stream::once(f).filter_map(|b| async move { b.map(Ok) })
}

use futures_util::StreamExt as _;

/// Write the job's tokens on schedule; for non-streaming jobs send one JSON body at the end.
async fn generate_tokens(sim: Arc<Sim>, job: Job, tx: mpsc::Sender<Bytes>) {
    let ttft = Duration::from_secs_f64(sim.config.ttft_ms / 1000.0);
    let itl = Duration::from_secs_f64(sim.config.itl_ms / 1000.0);
    let n = job.max_tokens;
    let words = sim.words();
    let mut times = Vec::with_capacity(n as usize);
    let mut text = String::new();
    let id = format!("cmpl-{}", job.seq);
    if job.stream && job.api == Api::Chat {
        let role = json!({"id": id, "object": "chat.completion.chunk", "created": 0, "model": sim.config.model,
            "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": null}]});
        if tx.send(sse(&role)).await.is_err() {
            return;
        }
    }
    for k in 0..n {
        sim.clock.sleep_until(job.arrival + ttft + itl * k).await;
        let word = &words[((job.seq as usize).wrapping_mul(7919) + k as usize * 31) % words.len()];
        text.push_str(word);
        if !job.stream {
            times.push(Instant::now());
            continue;
        }
        let last = k + 1 == n;
        let finish = if last { json!("length") } else { Value::Null };
        let frame = match job.api {
            Api::Completions => {
                json!({"id": id, "object": "text_completion", "created": 0, "model": sim.config.model,
                "choices": [{"index": 0, "text": word, "logprobs": null, "finish_reason": finish}]})
            }
            Api::Chat => {
                json!({"id": id, "object": "chat.completion.chunk", "created": 0, "model": sim.config.model,
                "choices": [{"index": 0, "delta": {"content": word}, "finish_reason": finish}]})
            }
            Api::Generate => {
                json!({"text": text, "meta_info": meta(&job, k + 1, last), "index": 0})
            }
        };
        times.push(Instant::now());
        if tx.send(sse(&frame)).await.is_err() {
            break;
        }
    }
    let usage = json!({"prompt_tokens": job.prompt_tokens, "completion_tokens": times.len(),
        "total_tokens": job.prompt_tokens as usize + times.len()});
    let tail: Vec<Bytes> = if job.stream {
        let mut frames = Vec::new();
        if job.include_usage && job.api != Api::Generate {
            let object = if job.api == Api::Chat {
                "chat.completion.chunk"
            } else {
                "text_completion"
            };
            frames.push(sse(&json!({"id": id, "object": object, "created": 0,
                "model": sim.config.model, "choices": [], "usage": usage})));
        }
        frames.push(Bytes::from_static(b"data: [DONE]\n\n"));
        frames
    } else {
        let body = match job.api {
            Api::Completions => {
                json!({"id": id, "object": "text_completion", "created": 0, "model": sim.config.model,
                "choices": [{"index": 0, "text": text, "logprobs": null, "finish_reason": "length"}], "usage": usage})
            }
            Api::Chat => {
                json!({"id": id, "object": "chat.completion", "created": 0, "model": sim.config.model,
                "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "length"}],
                "usage": usage})
            }
            Api::Generate => json!({"text": text, "meta_info": meta(&job, n, true)}),
        };
        vec![Bytes::from(body.to_string())]
    };
    for b in tail {
        if tx.send(b).await.is_err() {
            break;
        }
    }
    sim.truth.lock().expect("truth lock").push(Truth {
        seq: job.seq,
        arrival: job.arrival,
        token_times: times,
        prompt_tokens: job.prompt_tokens,
    });
}

fn meta(job: &Job, completion_tokens: u32, last: bool) -> Value {
    let finish = if last {
        json!({"type": "length", "length": completion_tokens})
    } else {
        Value::Null
    };
    json!({"id": format!("{}", job.seq), "finish_reason": finish, "prompt_tokens": job.prompt_tokens,
        "completion_tokens": completion_tokens, "cached_tokens": 0})
}

fn sse(v: &Value) -> Bytes {
    let mut s = String::with_capacity(128);
    s.push_str("data: ");
    s.push_str(&v.to_string());
    s.push_str("\n\n");
    Bytes::from(s)
}
