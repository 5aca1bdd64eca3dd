//! The embedded simulated inference server.
//!
//! In: a [`SimConfig`] (from a scenario's `embedded:` block or `runner serve` flags). Out: a
//! real HTTP server on loopback that streams tokens on a fixed timing model (time to first
//! token, then one token per inter-token interval, scheduled on absolute deadlines) and keeps
//! a ground-truth log of when it wrote each token.
//!
//! Endpoints: OpenAI `/v1/completions` and `/v1/chat/completions` (stream and not, with
//! `stream_options.include_usage`), SGLang `/generate`, `/v1/models`, `/health`.

mod clock;
mod http;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::tokenizer::Tokenizer;

/// Settings of the embedded server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, clap::Args)]
#[serde(deny_unknown_fields)]
pub struct SimConfig {
    /// Time to first token, in milliseconds, from the moment the request is read.
    #[serde(default = "default_ttft")]
    #[arg(long, default_value_t = default_ttft())]
    #[schemars(range(min = 0.0))]
    pub ttft_ms: f64,
    /// Time between consecutive output tokens, in milliseconds.
    #[serde(default = "default_itl")]
    #[arg(long, default_value_t = default_itl())]
    #[schemars(range(min = 0.0))]
    pub itl_ms: f64,
    /// Model name the server reports in `/v1/models` and responses.
    #[serde(default = "default_model")]
    #[arg(long = "served-model-name", default_value_t = default_model())]
    pub model: String,
}

fn default_ttft() -> f64 {
    50.0
}

fn default_itl() -> f64 {
    10.0
}

fn default_model() -> String {
    "runner-sim".into()
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            ttft_ms: default_ttft(),
            itl_ms: default_itl(),
            model: default_model(),
        }
    }
}

/// What the server did for one request: the ground truth client timings are checked against.
#[derive(Debug, Clone)]
pub struct Truth {
    /// Arrival order, from 0.
    pub seq: u64,
    /// When the request body had been read.
    pub arrival: Instant,
    /// When each output token was handed to the connection, in order.
    pub token_times: Vec<Instant>,
    /// Prompt length as the server counted it.
    pub prompt_tokens: u32,
}

/// Shared state of a running server.
struct Sim {
    config: SimConfig,
    tokenizer: Tokenizer,
    truth: Mutex<Vec<Truth>>,
    seq: std::sync::atomic::AtomicU64,
    /// Output token texts (` word`), one per ordinary vocabulary entry.
    words: Vec<String>,
    /// Precise timer for token writes.
    clock: clock::Clock,
}

impl Sim {
    fn words(&self) -> &[String] {
        &self.words
    }
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
    let listener =
        std::net::TcpListener::bind(bind).with_context(|| format!("cannot listen on {bind}"))?;
    listener.set_nonblocking(true)?;
    let addr = listener.local_addr()?;
    let tokenizer = Tokenizer::builtin();
    let words = tokenizer
        .sample_ids()
        .iter()
        .map(|&id| format!(" {}", tokenizer.decode(&[id])))
        .collect();
    let state = Arc::new(Sim {
        config,
        words,
        tokenizer,
        clock: clock::Clock::start(),
        truth: Mutex::new(Vec::new()),
        seq: Default::default(),
    });
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("runner-sim")
        .enable_all()
        .build()
        .context("cannot start the embedded server's runtime")?;
    let shutdown = CancellationToken::new();
    let app = http::router(state.clone());
    let stop = shutdown.clone();
    let task = runtime.spawn(async move {
        let listener = tokio::net::TcpListener::from_std(listener).expect("listener registers");
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

    /// Ground truth of every finished request so far, in completion order.
    pub fn truth(&self) -> Vec<Truth> {
        self.state.truth.lock().expect("truth lock").clone()
    }

    /// Stop accepting requests and wait for the server task to end.
    pub async fn stop(mut self) {
        self.shutdown.cancel();
        if let Some(t) = self.task.take() {
            let _ = t.await;
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
