//! The open-loop engine: drives one run.
//!
//! In: a [`Target`] (client, URL, protocol, request options), the run's requests and their
//! due times, and the concurrency cap. Out: one [`RequestRecord`] per request and the run
//! duration. Request `i` is due at `start + offset_i` and dispatched by sleeping to that
//! absolute deadline; it is then sent as soon as the cap allows, and both times are recorded,
//! so time spent held back by the cap is visible rather than hidden.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt as _;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio::time::{Instant, sleep_until, timeout_at};

use crate::protocol::{BodyInput, FrameError, Protocol, StreamState, sse};
use crate::record::{Outcome, RequestRecord, StreamProblem};
use crate::scenario::RequestOptions;
use crate::workload::RequestSpec;

/// Everything needed to send requests to one server.
pub struct Target {
    client: reqwest::Client,
    url: String,
    headers: HeaderMap,
    protocol: Box<dyn Protocol>,
    model: String,
    options: RequestOptions,
}

impl Target {
    /// A target at `base_url` speaking `protocol`.
    pub fn new(
        client: reqwest::Client,
        base_url: &str,
        headers: &std::collections::BTreeMap<String, String>,
        protocol: Box<dyn Protocol>,
        model: String,
        options: RequestOptions,
    ) -> anyhow::Result<Target> {
        let mut map = HeaderMap::new();
        for (k, v) in headers {
            let name = HeaderName::try_from(k.as_str())
                .map_err(|e| anyhow::anyhow!("invalid header name `{k}`: {e}"))?;
            let value = HeaderValue::try_from(v.as_str())
                .map_err(|e| anyhow::anyhow!("invalid value for header `{k}`: {e}"))?;
            map.insert(name, value);
        }
        let url = format!("{}{}", base_url.trim_end_matches('/'), protocol.path());
        Ok(Target {
            client,
            url,
            headers: map,
            protocol,
            model,
            options,
        })
    }

    /// The request body for one request, serialized once before the run.
    pub fn body(&self, spec: &RequestSpec) -> Bytes {
        let input = BodyInput {
            model: &self.model,
            prompt: &spec.prompt,
            images: &spec.images,
            row_extra: &spec.extra_body,
            output_len: spec.output_len,
            stream: self.options.stream,
            ignore_eos: self.options.ignore_eos,
            include_usage: self.options.include_usage,
            extra: &self.options.extra_body,
        };
        Bytes::from(self.protocol.body(&input).to_string())
    }
}

/// The one shared, pooled HTTP client.
pub fn client() -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .pool_max_idle_per_host(usize::MAX)
        .tcp_nodelay(true)
        .connect_timeout(Duration::from_secs(30))
        .build()?)
}

/// Records of one run, in dispatch order, and its duration.
#[derive(Debug)]
pub struct Executed {
    /// One per request.
    pub records: Vec<RequestRecord>,
    /// From the run start to the end of the last response, in seconds.
    pub duration_s: f64,
    /// The run start: every `*_s` time in the records counts from it.
    pub start: Instant,
}

/// Send `requests` with due times `offsets` (seconds from start) under `cap`.
pub async fn execute(
    target: Arc<Target>,
    requests: &[RequestSpec],
    offsets: &[f64],
    cap: Option<u32>,
) -> Executed {
    let bodies: Vec<Bytes> = requests.iter().map(|r| target.body(r)).collect();
    let sem = cap.map(|c| Arc::new(Semaphore::new(c as usize)));
    let mut set = JoinSet::new();
    let start = Instant::now();
    for (i, (spec, body)) in requests.iter().zip(bodies).enumerate() {
        sleep_until(start + Duration::from_secs_f64(offsets[i])).await;
        let target = target.clone();
        let sem = sem.clone();
        let (prompt_len, output_len) = (spec.prompt_len, spec.output_len);
        let intended_s = offsets[i];
        set.spawn(async move {
            let _permit = match &sem {
                Some(s) => Some(s.clone().acquire_owned().await.expect("semaphore open")),
                None => None,
            };
            let mut rec = send(&target, body, start, output_len).await;
            rec.index = i;
            rec.intended_s = intended_s;
            rec.prompt_len = prompt_len;
            rec
        });
    }
    let mut records = Vec::with_capacity(requests.len());
    while let Some(r) = set.join_next().await {
        records.push(r.expect("request task does not panic"));
    }
    records.sort_by_key(|r| r.index);
    let duration_s = records.iter().map(|r| r.end_s).fold(0.0, f64::max);
    Executed {
        records,
        duration_s,
        start,
    }
}

/// Send `n` copies of `spec` (output capped at 32 tokens) through the cap; succeed if any
/// does, else return the first error.
pub async fn warmup(
    target: Arc<Target>,
    spec: &RequestSpec,
    n: u32,
    cap: Option<u32>,
) -> Result<(), String> {
    let spec = RequestSpec {
        output_len: spec.output_len.min(32),
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

/// Time since `start` in seconds.
fn since(start: Instant) -> f64 {
    start.elapsed().as_secs_f64()
}

/// Send one request and record its timeline.
async fn send(target: &Target, body: Bytes, start: Instant, output_len: u32) -> RequestRecord {
    let sent = Instant::now();
    let mut rec = RequestRecord {
        index: 0,
        intended_s: 0.0,
        sent_s: (sent - start).as_secs_f64(),
        first_token_s: None,
        end_s: 0.0,
        itl_s: Vec::with_capacity(output_len as usize),
        prompt_len: 0,
        requested_output_len: output_len,
        reported_output_len: None,
        reported_prompt_len: None,
        chunks: 0,
        text: String::new(),
        outcome: Outcome::Ok,
        error: None,
    };
    let deadline = sent + Duration::from_secs_f64(target.options.timeout_s);
    let mut st = StreamState::default();
    let result = timeout_at(deadline, exchange(target, body, start, &mut rec, &mut st)).await;
    rec.end_s = since(start);
    let outcome = match result {
        Err(_) => Err((
            Outcome::Timeout,
            format!("no response within {} s", target.options.timeout_s),
        )),
        Ok(r) => r,
    };
    match outcome {
        Ok(()) if rec.first_token_s.is_none() => {
            rec.outcome = Outcome::Stream {
                problem: StreamProblem::NoOutput,
            };
            rec.error = Some("the response carried no output text".into());
        }
        Ok(()) => {}
        Err((o, msg)) => {
            rec.outcome = o;
            rec.error = Some(msg);
        }
    }
    rec.text = std::mem::take(&mut st.text);
    rec.reported_output_len = st.completion_tokens;
    rec.reported_prompt_len = st.prompt_tokens;
    rec
}

type Failure = (Outcome, String);

fn transport(e: &reqwest::Error) -> Failure {
    let mut msg = e.to_string();
    let mut src = std::error::Error::source(e);
    while let Some(s) = src {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        src = s.source();
    }
    let outcome = if e.is_timeout() {
        Outcome::Timeout
    } else if e.is_connect() {
        Outcome::Connect
    } else {
        Outcome::Transport
    };
    (outcome, msg)
}

fn frame_failure(e: FrameError) -> Failure {
    (Outcome::Stream { problem: e.problem }, e.message)
}

/// The HTTP exchange: status, then the streamed or whole body.
async fn exchange(
    target: &Target,
    body: Bytes,
    start: Instant,
    rec: &mut RequestRecord,
    st: &mut StreamState,
) -> Result<(), Failure> {
    let resp = target
        .client
        .post(&target.url)
        .headers(target.headers.clone())
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(body)
        .send()
        .await
        .map_err(|e| transport(&e))?;
    let status = resp.status();
    if status != reqwest::StatusCode::OK {
        let reason = status.canonical_reason().unwrap_or("");
        let text = resp.text().await.unwrap_or_default();
        let text: String = text.chars().take(1000).collect();
        return Err((
            Outcome::Http {
                status: status.as_u16(),
            },
            format!("{reason}: {text}"),
        ));
    }
    if !target.options.stream {
        let bytes = resp.bytes().await.map_err(|e| transport(&e))?;
        let now = since(start);
        let text = String::from_utf8_lossy(&bytes);
        let n = target.protocol.whole(&text, st).map_err(frame_failure)?;
        if n > 0 {
            rec.first_token_s = Some(now);
            rec.chunks = 1;
        }
        return Ok(());
    }
    let mut parser = sse::Parser::new();
    let mut events = Vec::new();
    let mut done = false;
    let mut last_token = 0.0;
    let mut stream = resp.bytes_stream();
    let mut on_events =
        |events: &mut Vec<sse::Event>, now: f64, done: &mut bool| -> Result<(), Failure> {
            for ev in events.drain(..) {
                if sse::is_done(&ev.data) {
                    *done = true;
                    continue;
                }
                let n = target.protocol.frame(&ev.data, st).map_err(frame_failure)?;
                if n == 0 {
                    continue;
                }
                rec.chunks += 1;
                if rec.first_token_s.is_none() {
                    rec.first_token_s = Some(now);
                } else {
                    let gap = (now - last_token) / n as f64;
                    rec.itl_s.extend(std::iter::repeat_n(gap, n as usize));
                }
                last_token = now;
            }
            Ok(())
        };
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| {
            let (_, msg) = transport(&e);
            (
                Outcome::Stream {
                    problem: StreamProblem::Read,
                },
                msg,
            )
        })?;
        let now = since(start);
        parser.push(&chunk, &mut events);
        on_events(&mut events, now, &mut done)?;
    }
    let end = parser.finish(&mut events);
    on_events(&mut events, since(start), &mut done)?;
    if !done {
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
