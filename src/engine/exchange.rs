//! One HTTP exchange: send a body, read the status, then the streamed or whole response,
//! under the connect / first-byte / idle / total time limits; fill in the record.

use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt as _;
use tokio::time::{Instant, timeout_at};

use super::target::{ROUTING_KEY_HEADER, Target};
use crate::protocol::{FrameError, Output, StreamState, sse};
use crate::record::{ChunkEvent, Outcome, RequestRecord, StreamProblem, TimeoutPhase};

type Failure = (Outcome, String);

/// Send one request now and record its timeline in `rec` (whose due and dispatch times the
/// caller set): send time, first byte, chunks, text, server counts, outcome.
pub(crate) async fn send(
    target: &Target,
    body: Bytes,
    routing_key: Option<&str>,
    start: Instant,
    rec: &mut RequestRecord,
) {
    let sent = Instant::now();
    rec.sent_s = (sent - start).as_secs_f64();
    if !target.protocol.generates() {
        rec.requested_output_len = 0;
    }
    let mut st = StreamState::default();
    let result = exchange(target, body, routing_key, start, sent, rec, &mut st).await;
    rec.end_s = since(start);
    match result {
        Ok(()) if rec.first_token_s.is_none() && target.protocol.generates() => {
            rec.outcome = Outcome::Stream {
                problem: StreamProblem::NoOutput,
            };
            rec.error = Some("the response carried no output text".into());
        }
        Ok(()) => rec.outcome = Outcome::Ok,
        Err((o, msg)) => {
            rec.outcome = o;
            rec.error = Some(msg);
        }
    }
    rec.text = std::mem::take(&mut st.text);
    rec.reported_output_len = st.completion_tokens;
    rec.reported_prompt_len = st.prompt_tokens;
    rec.cached_tokens = st.cached_tokens;
    rec.cached_tokens_details = st.cached_tokens_details.take();
    let counts: Vec<u32> = rec.chunk_events.iter().map(|c| c.tokens.max(1)).collect();
    rec.set_itl(&counts);
}

/// Time since `start` in seconds.
fn since(start: Instant) -> f64 {
    start.elapsed().as_secs_f64()
}

fn transport(e: &reqwest::Error) -> Failure {
    let mut msg = e.to_string();
    let mut src = std::error::Error::source(e);
    while let Some(s) = src {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        src = s.source();
    }
    let outcome = if e.is_connect() && e.is_timeout() {
        Outcome::Timeout {
            phase: TimeoutPhase::Connect,
        }
    } else if e.is_connect() {
        Outcome::Connect
    } else if e.is_timeout() {
        Outcome::Timeout {
            phase: TimeoutPhase::Total,
        }
    } else {
        Outcome::Transport
    };
    (outcome, msg)
}

/// Whether the request failed because its connection closed before any response came
/// (hyper's "connection closed before message completed").
fn stale_connection(e: &reqwest::Error) -> bool {
    let mut src: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = src {
        if let Some(h) = s.downcast_ref::<hyper::Error>() {
            return h.is_incomplete_message();
        }
        src = s.source();
    }
    false
}

fn frame_failure(e: FrameError) -> Failure {
    (Outcome::Stream { problem: e.problem }, e.message)
}

fn timeout(phase: TimeoutPhase, secs: f64) -> Failure {
    let what = match phase {
        TimeoutPhase::Connect => "no connection",
        TimeoutPhase::FirstByte => "no response headers",
        TimeoutPhase::Idle => "no data from the server",
        TimeoutPhase::Total => "the request did not finish",
    };
    (
        Outcome::Timeout { phase },
        format!("{what} within {secs} s"),
    )
}

/// The earlier of `limit` after `from` and the total deadline, with the phase that ends there.
fn deadline(
    from: Instant,
    limit: f64,
    total: Instant,
    phase: TimeoutPhase,
) -> (Instant, TimeoutPhase) {
    let d = from + Duration::from_secs_f64(limit);
    if d < total {
        (d, phase)
    } else {
        (total, TimeoutPhase::Total)
    }
}

/// Record one frame's output at `now`.
fn on_output(out: Output, now: f64, st: &StreamState, rec: &mut RequestRecord) {
    let tokens = match out {
        Output::Nothing => return,
        Output::Tokens(n) => n,
        Output::Chunk => 0,
    };
    rec.chunks += 1;
    if rec.first_token_s.is_none() {
        rec.first_token_s = Some(now);
    }
    rec.chunk_events.push(ChunkEvent {
        t_s: now,
        tokens,
        text_end: st.text.len() as u32,
    });
}

/// Send the request, read its status, then the whole or streamed response into `rec`/`st`.
async fn exchange(
    target: &Target,
    body: Bytes,
    routing_key: Option<&str>,
    start: Instant,
    sent: Instant,
    rec: &mut RequestRecord,
    st: &mut StreamState,
) -> Result<(), Failure> {
    let total = sent + Duration::from_secs_f64(target.options.timeouts.total_s);
    let resp = respond(target, body, routing_key, sent, total, rec).await?;
    rec.first_byte_s = Some(since(start));
    let status = resp.status();
    if status != reqwest::StatusCode::OK {
        return Err(http_error(resp, total).await);
    }
    if target.streaming() {
        read_stream(target, resp, start, total, rec, st).await
    } else {
        read_whole(target, resp, start, total, rec, st).await
    }
}

/// Send the request and wait for the response headers (within the first-byte limit),
/// retrying once on a pooled connection the server had already closed.
async fn respond(
    target: &Target,
    body: Bytes,
    routing_key: Option<&str>,
    sent: Instant,
    total: Instant,
    rec: &mut RequestRecord,
) -> Result<reqwest::Response, Failure> {
    let limits = &target.options.timeouts;
    let mut req = target
        .client
        .post(&target.url)
        .headers(target.headers.clone())
        .header(reqwest::header::CONTENT_TYPE, "application/json");
    if let Some(key) = routing_key {
        req = req.header(ROUTING_KEY_HEADER, key);
    }
    let (first_byte, phase) = deadline(sent, limits.first_byte_s, total, TimeoutPhase::FirstByte);
    let req = req.body(body);
    let mut attempt = req.try_clone();
    let mut pending = Some(req);
    loop {
        let req = pending.take().expect("one request per attempt");
        let sent = timeout_at(first_byte, super::connect::timed(req.send())).await;
        let sent = sent.map(|(r, connect_s)| {
            rec.connect_s = connect_s.or(rec.connect_s);
            r
        });
        match sent {
            Err(_) => return Err(timeout(phase, limit_of(limits, phase))),
            Ok(Ok(r)) => return Ok(r),
            // A pooled keep-alive connection the server had already closed (llama.cpp's
            // server closes after each stream while advertising keep-alive): the request
            // never reached it, so send it once more on a new connection.
            Ok(Err(e)) if stale_connection(&e) && attempt.is_some() => {
                rec.retries += 1;
                pending = attempt.take();
            }
            Ok(Err(e)) => return Err(transport(&e)),
        }
    }
}

/// A status other than 200: the failure, with the start of the body as its message.
async fn http_error(resp: reqwest::Response, total: Instant) -> Failure {
    let status = resp.status();
    let reason = status.canonical_reason().unwrap_or("");
    let text = timeout_at(total, resp.text())
        .await
        .ok()
        .and_then(Result::ok)
        .unwrap_or_default();
    let text: String = text.chars().take(1000).collect();
    (
        Outcome::Http {
            status: status.as_u16(),
        },
        format!("{reason}: {text}"),
    )
}

/// Read a whole (non-streamed) response as one frame.
async fn read_whole(
    target: &Target,
    resp: reqwest::Response,
    start: Instant,
    total: Instant,
    rec: &mut RequestRecord,
    st: &mut StreamState,
) -> Result<(), Failure> {
    let bytes = match timeout_at(total, resp.bytes()).await {
        Err(_) => {
            return Err(timeout(
                TimeoutPhase::Total,
                target.options.timeouts.total_s,
            ));
        }
        Ok(b) => b.map_err(|e| disconnect(&e))?,
    };
    let now = since(start);
    let text = String::from_utf8_lossy(&bytes);
    let out = target.protocol.whole(&text, st).map_err(frame_failure)?;
    if out != Output::Nothing {
        rec.first_token_s = Some(now);
        rec.chunks = 1;
    }
    Ok(())
}

/// Read a streamed response chunk by chunk (within the idle limit), each event's output
/// recorded at the time its chunk arrived; then judge how the stream ended.
async fn read_stream(
    target: &Target,
    resp: reqwest::Response,
    start: Instant,
    total: Instant,
    rec: &mut RequestRecord,
    st: &mut StreamState,
) -> Result<(), Failure> {
    let limits = &target.options.timeouts;
    let mut parser = sse::Parser::new();
    let mut events = Vec::new();
    let mut done = false;
    let mut stream = resp.bytes_stream();
    loop {
        let (idle, phase) = deadline(Instant::now(), limits.idle_s, total, TimeoutPhase::Idle);
        let chunk = match timeout_at(idle, stream.next()).await {
            Err(_) => return Err(timeout(phase, limit_of(limits, phase))),
            Ok(None) => break,
            Ok(Some(c)) => c.map_err(|e| disconnect(&e))?,
        };
        let now = since(start);
        parser.push(&chunk, &mut events);
        on_events(target, &events, &mut done, now, st, rec)?;
        parser.recycle(&mut events);
    }
    let end = parser.finish(&mut events);
    on_events(target, &events, &mut done, since(start), st, rec)?;
    let closed_ok = if target.protocol.done_marker() {
        done
    } else {
        done || end == sse::EndState::Clean
    };
    if !closed_ok {
        let why = match end {
            sse::EndState::Clean => "the stream ended without `data: [DONE]`",
            sse::EndState::PartialEvent => "the stream ended inside an event",
        };
        return Err((
            Outcome::Stream {
                problem: StreamProblem::EarlyClose,
            },
            why.into(),
        ));
    }
    Ok(())
}

/// Record the output of `events` at `now`; nothing after `data: [DONE]` counts.
fn on_events(
    target: &Target,
    events: &[sse::Event],
    done: &mut bool,
    now: f64,
    st: &mut StreamState,
    rec: &mut RequestRecord,
) -> Result<(), Failure> {
    for ev in events {
        if *done {
            break;
        }
        if sse::is_done(&ev.data) {
            *done = true;
            continue;
        }
        let out = target.protocol.frame(&ev.data, st).map_err(frame_failure)?;
        on_output(out, now, st, rec);
    }
    Ok(())
}

fn limit_of(t: &crate::scenario::Timeouts, phase: TimeoutPhase) -> f64 {
    match phase {
        TimeoutPhase::Connect => t.connect_s,
        TimeoutPhase::FirstByte => t.first_byte_s,
        TimeoutPhase::Idle => t.idle_s,
        TimeoutPhase::Total => t.total_s,
    }
}

fn disconnect(e: &reqwest::Error) -> Failure {
    let (_, msg) = transport(e);
    (
        Outcome::Stream {
            problem: StreamProblem::Disconnect,
        },
        msg,
    )
}
