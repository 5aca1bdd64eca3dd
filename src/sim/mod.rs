//! The embedded simulated inference server.
//!
//! In: a [`SimConfig`] (a scenario's `embedded:` block or `runner serve` flags). Out: a real
//! HTTP server that speaks SGLang's, OpenAI's, TensorRT-LLM's and Truss's APIs, times its
//! tokens with a fixed model or an engine model (continuous batching, chunked prefill, KV
//! limit, prefix cache, speculative decoding), injects seeded faults, and keeps a
//! ground-truth log of when it wrote each token.
//!
//! Layout: settings, presets and their checks are scenario data ([`crate::scenario::embedded`]);
//! [`fault`] (which request breaks how), [`text`]
//! (prompt shapes, output words), [`cache`] + [`batcher`] + [`engine`] (the engine model),
//! [`source`] (token timing per request), [`clock`] (precise timer), [`listener`]
//! (connections that can be reset, a port that can go down), [`stats`] (`/metrics`), `http`
//! (endpoints and response shapes).

mod batcher;
mod cache;
mod engine;
mod fault;
pub mod hash;
mod http;
mod listener;
mod received;
mod source;
mod stats;
mod text;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, Result};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::tokenizer::Tokenizer;

pub use crate::scenario::embedded::{EngineParams, Params, Preset, SimConfig, Timing};
pub use fault::{Fault, FaultKind};
pub use hash::prompt_hash;
pub use http::EMBEDDING_DIM;

/// What the server did for one request: the ground truth client timings are checked against.
#[derive(Debug, Clone)]
pub struct Truth {
    /// Arrival order, from 0 (the index fault rules name).
    pub seq: u64,
    /// The path the request came to, e.g. `/v1/completions`.
    pub endpoint: &'static str,
    /// When the request body had been read.
    pub arrival: Instant,
    /// When the kernel received the request's last bytes (`SO_TIMESTAMPNS`), before the
    /// server read them; `None` where the kernel did not say.
    pub received: Option<Instant>,
    /// When each output token was handed to the connection, in order (a frame carrying
    /// several tokens gives them the same time). Non-streamed responses: when each token was
    /// generated.
    pub token_times: Vec<Instant>,
    /// Prompt length as the server counted it.
    pub prompt_tokens: u32,
    /// Of which served from the prefix cache.
    pub cached_tokens: u32,
    /// [`prompt_hash`] of the prompt text, to join with client records.
    pub prompt_hash: u64,
    /// Output tokens the request asked for.
    pub max_tokens: u32,
    /// How it ended: `length`, `stop`, `abort` (the client went away), `error` (bad request)
    /// or the fault's kind.
    pub finish: String,
    /// The fault the request got, if any.
    pub fault: Option<FaultKind>,
}

/// Shared state of a running server.
struct Sim {
    config: SimConfig,
    params: Params,
    tokenizer: Tokenizer,
    words: text::Words,
    /// Precise timer for token writes (fixed timing).
    clock: crate::clock::Clock,
    /// The engine model's thread (engine presets).
    engine: Option<engine::Engine>,
    stats: Arc<stats::Stats>,
    conns: Arc<listener::Conns>,
    truth: Mutex<Vec<Truth>>,
    seq: AtomicU64,
    /// Unix time the server started, for `created` fields.
    started_unix: u64,
    profiling: AtomicBool,
}

/// A running embedded server; stops when [`Server::stop`] is called or it is dropped.
pub struct Server {
    addr: SocketAddr,
    shutdown: CancellationToken,
    task: Option<tokio::task::JoinHandle<()>>,
    runtime: Option<tokio::runtime::Runtime>,
    state: Arc<Sim>,
}

/// Start the server on `bind` (use port 0 for a free port). It runs on its own runtime
/// threads, so a benchmark client in the same process does not delay its timing.
pub async fn start(config: SimConfig, bind: SocketAddr) -> Result<Server> {
    let params = config
        .resolve()
        .map_err(|e| anyhow::anyhow!("invalid embedded server settings:\n{e}"))?;
    // One connection is one open file: as many as the hard limit allows (`runner serve` is
    // its own process).
    crate::nofile::raise();
    // Two workers, or one where this thread may use only one CPU (calibrate pins the server
    // to a core of its own): two workers taking turns on one CPU would delay writes the
    // ground truth has already timed by whole scheduler slices.
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get().min(2));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .thread_name("runner-sim")
        .enable_all()
        .build()
        .context("cannot start the embedded server's runtime")?;
    let (addr, (listener, conns)) = {
        let _in_server_runtime = runtime.enter();
        let l = listener::listen(bind).with_context(|| format!("cannot listen on {bind}"))?;
        (l.local_addr()?, listener::FaultListener::new(l)?)
    };
    let tokenizer = Tokenizer::builtin();
    // Load the shared prompt tokenizer now, not inside the first request's timing.
    text::builtin();
    let stats = Arc::new(stats::Stats::default());
    let state = Arc::new(Sim {
        engine: params
            .engine()
            .map(|e| engine::Engine::start(e.clone(), stats.clone())),
        words: text::Words::new(&tokenizer),
        tokenizer,
        params,
        config,
        clock: crate::clock::Clock::start(),
        stats,
        conns,
        truth: Mutex::new(Vec::new()),
        seq: AtomicU64::new(0),
        started_unix: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
        profiling: AtomicBool::new(false),
    });
    let shutdown = CancellationToken::new();
    let app =
        http::router(state.clone()).into_make_service_with_connect_info::<listener::ConnInfo>();
    let stop = shutdown.clone();
    let task = runtime.spawn(async move {
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(stop.cancelled_owned())
            .await;
    });
    Ok(Server {
        addr,
        shutdown,
        task: Some(task),
        runtime: Some(runtime),
        state,
    })
}

/// Start on 127.0.0.1 with a free port.
pub async fn start_local(config: SimConfig) -> Result<Server> {
    start(config, SocketAddr::from(([127, 0, 0, 1], 0))).await
}

impl Server {
    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://addr`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// TCP connections accepted so far.
    pub fn connections_accepted(&self) -> u64 {
        self.state.conns.accepted()
    }

    /// Ground truth of every finished request so far, in completion order.
    pub fn truth(&self) -> Vec<Truth> {
        self.state.truth.lock().expect("truth lock").clone()
    }

    /// [`Server::truth`] keyed by each request's prompt hash, to pair it with the client's
    /// record of the same request.
    pub fn truth_by_prompt(&self) -> std::collections::HashMap<u64, Truth> {
        self.truth()
            .into_iter()
            .map(|t| (t.prompt_hash, t))
            .collect()
    }

    /// The resolved parameters it runs with.
    pub fn params(&self) -> &Params {
        &self.state.params
    }

    /// Stop accepting requests and wait (up to 2 s) for open responses to end.
    pub async fn stop(mut self) {
        self.shutdown.cancel();
        if let Some(t) = self.task.take() {
            let _ = tokio::time::timeout(Duration::from_secs(2), t).await;
        }
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }

    /// Run until Ctrl-C (for `runner serve`).
    pub async fn serve_until_ctrl_c(self) -> Result<()> {
        tokio::signal::ctrl_c().await?;
        self.stop().await;
        Ok(())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.shutdown.cancel();
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}
