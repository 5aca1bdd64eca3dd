//! Writes one response as its tokens become ready, applies mid-stream faults, and records
//! the ground truth.
//!
//! In: a [`Job`] and its token [`Source`]. Out: the response body (SSE frames, or one JSON
//! body at the end) and a [`Truth`] entry. A streamed token's time is taken as soon as its
//! frame has been handed to the connection; a non-streamed one's when it was generated.

use std::io;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::{Body, Bytes};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::super::batcher::Finish;
use super::super::fault::{Fault, FaultKind};
use super::super::source::{Delivery, Source};
use super::super::{Sim, Truth};
use super::frames::{DONE, End, Frames};
use super::request::{Api, Parsed};

/// One generation or embedding request on its way through the server.
pub struct Job {
    /// The API it came to.
    pub api: Api,
    /// The path it came to.
    pub path: &'static str,
    /// Arrival index.
    pub seq: u64,
    /// When its body had been read.
    pub arrival: Instant,
    /// When the kernel received its last bytes.
    pub received: Option<Instant>,
    /// What it asks for.
    pub parsed: Parsed,
    /// The fault it gets.
    pub fault: Option<Fault>,
}

type Tx = mpsc::Sender<Result<Bytes, io::Error>>;

/// Start writing `job` and return its response (body as tokens come). With `hold`, nothing
/// is written before that time (the caller holds the headers back until then too).
pub fn respond(sim: Arc<Sim>, job: Job, source: Source, hold: Option<Instant>) -> Response {
    let (tx, mut rx) = mpsc::channel::<Result<Bytes, io::Error>>(64);
    let stream = job.parsed.stream;
    tokio::spawn(write(sim, job, source, tx, hold));
    let body = Body::from_stream(futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx)));
    if stream {
        (
            [
                (header::CONTENT_TYPE, "text/event-stream"),
                (header::CACHE_CONTROL, "no-cache"),
            ],
            body,
        )
            .into_response()
    } else {
        ([(header::CONTENT_TYPE, "application/json")], body).into_response()
    }
}

/// The response under construction: where bytes go and when tokens went.
struct Out {
    tx: Tx,
    stream: bool,
    times: Vec<Instant>,
}

/// The client went away.
struct Gone;

impl Out {
    async fn send(&mut self, b: Bytes) -> Result<(), Gone> {
        self.tx.send(Ok(b)).await.map_err(|_| Gone)
    }

    /// Write `n` new tokens (and the end, if `end`): one frame when streaming.
    async fn tokens(
        &mut self,
        f: &mut Frames<'_>,
        n: u32,
        cached: u32,
        end: Option<End>,
    ) -> Result<(), Gone> {
        let delta = f.add(n);
        if self.stream && (n > 0 || end.is_some()) {
            self.send(f.chunk(&delta, n, cached, end)).await?;
        }
        let now = Instant::now();
        self.times.extend(std::iter::repeat_n(now, n as usize));
        Ok(())
    }
}

async fn write(sim: Arc<Sim>, job: Job, mut source: Source, tx: Tx, hold: Option<Instant>) {
    let fixed = sim.engine.is_none();
    if fixed {
        sim.stats.running.fetch_add(1, Relaxed);
    }
    let created = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(sim.started_unix, |d| d.as_secs());
    let spec = sim
        .params
        .engine()
        .is_some_and(|e| e.spec_accept_length > 1.0);
    let mut f = Frames::new(
        job.api,
        &sim.config.model,
        &sim.words,
        sim.config.seed,
        job.seq,
        created,
        job.parsed.shape.tokens,
        spec,
    );
    f.cache_details = job.parsed.cache_details;
    let mut out = Out {
        tx,
        stream: job.parsed.stream,
        times: Vec::with_capacity(job.parsed.max_tokens.min(1 << 16) as usize),
    };
    let mut cached = 0;
    let held = match hold {
        Some(t) => tokio::select! {
            () = sim.clock.sleep_until(t) => Ok(()),
            () = out.tx.closed() => Err(Gone),
        },
        None => Ok(()),
    };
    let ran = match held {
        Ok(()) => run(&job, &mut source, &mut f, &mut out, &mut cached).await,
        Err(g) => Err(g),
    };
    let finish = match ran {
        Ok(s) => s,
        Err(Gone) => "abort".to_owned(),
    };
    if fixed {
        let s = &sim.stats;
        s.running.fetch_sub(1, Relaxed);
        s.finished.fetch_add(1, Relaxed);
        s.prompt_tokens
            .fetch_add(u64::from(job.parsed.shape.tokens), Relaxed);
        s.generated.fetch_add(out.times.len() as u64, Relaxed);
    }
    sim.truth.lock().expect("truth lock").push(Truth {
        seq: job.seq,
        endpoint: job.path,
        arrival: job.arrival,
        received: job.received,
        token_times: out.times,
        prompt_tokens: job.parsed.shape.tokens,
        cached_tokens: cached,
        prompt_hash: job.parsed.prompt_hash,
        max_tokens: job.parsed.max_tokens,
        finish,
        fault: job.fault.map(|f| f.kind),
    });
}

/// Write the whole response; returns how it ended.
async fn run(
    job: &Job,
    source: &mut Source,
    f: &mut Frames<'_>,
    out: &mut Out,
    cached: &mut u32,
) -> Result<String, Gone> {
    let strike = job.fault.as_ref().filter(|x| x.kind.mid_stream());
    let mut struck = false;
    if out.stream
        && let Some(p) = f.prelude()
    {
        out.send(p).await?;
    }
    loop {
        let Some(d) = source.next().await else {
            return Ok("abort".into());
        };
        *cached = d.cached;
        let mut rest = d.tokens;
        if let Some(fault) = strike
            && !struck
        {
            let room = fault.after_tokens().saturating_sub(f.tokens);
            if room <= rest || d.finish.is_some() {
                let take = room.min(rest);
                out.tokens(f, take, d.cached, None).await?;
                rest -= take;
                struck = true;
                if let Some(ended) = strike_now(fault, f, out, &d, job).await? {
                    return Ok(ended);
                }
            }
        }
        let end = d
            .finish
            .map(|fin| End::of(&d, fin, job.arrival.elapsed().as_secs_f64()));
        out.tokens(f, rest, d.cached, end).await?;
        if let Some(end) = end {
            if out.stream {
                for b in f.tail(job.parsed.include_usage, d.cached) {
                    out.send(b).await?;
                }
            } else {
                out.send(f.whole(end, &job.parsed.inputs)).await?;
            }
            return Ok(match (end.finish, job.fault.as_ref().map(|x| x.kind)) {
                (_, Some(FaultKind::NoOutput)) => "no_output".into(),
                (Finish::Length, _) => "length".into(),
                (Finish::Stop, _) => "stop".into(),
            });
        }
    }
}

/// Apply a mid-stream fault; `Some(name)` when the response ends here.
async fn strike_now(
    fault: &Fault,
    f: &mut Frames<'_>,
    out: &mut Out,
    d: &Delivery,
    job: &Job,
) -> Result<Option<String>, Gone> {
    let name = Some(fault.kind.as_str().to_owned());
    match fault.kind {
        FaultKind::Stall => {
            tokio::select! {
                () = tokio::time::sleep(Duration::from_secs_f64(fault.seconds())) => Ok(None),
                () = out.tx.closed() => Err(Gone),
            }
        }
        FaultKind::Disconnect => {
            let _ = out
                .tx
                .send(Err(io::Error::new(
                    io::ErrorKind::ConnectionAborted,
                    "injected fault: disconnect",
                )))
                .await;
            Ok(name)
        }
        FaultKind::Truncate => {
            if !out.stream {
                let end = End::of(d, Finish::Length, job.arrival.elapsed().as_secs_f64());
                let whole = f.whole(end, &job.parsed.inputs);
                out.send(whole.slice(..whole.len() / 2)).await?;
            }
            Ok(name)
        }
        FaultKind::Malformed => {
            out.send(f.malformed(out.stream)).await?;
            if out.stream && job.api != Api::Trt {
                out.send(Bytes::from_static(DONE)).await?;
            }
            Ok(name)
        }
        FaultKind::InBandError => {
            out.send(f.in_band_error(out.stream)).await?;
            if out.stream && job.api != Api::Trt {
                out.send(Bytes::from_static(DONE)).await?;
            }
            Ok(name)
        }
        _ => Ok(None),
    }
}
