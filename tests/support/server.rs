//! The embedded server in tests: one on its own runtime (`Sim`), client targets for a base URL,
//! raw HTTP calls, SSE splitting, percentiles and prompts with shared prefixes.

use std::sync::Arc;

use runner::engine::{self, Target};
use runner::scenario::{Backend, RequestOptions};
use runner::sim::{self, Server, SimConfig, Truth};
use serde_json::Value;

/// An embedded server running in the test process, on its own threads.
pub struct Sim {
    rt: tokio::runtime::Runtime,
    server: Option<Server>,
}

impl Sim {
    /// Start with `cfg`.
    pub fn start(cfg: SimConfig) -> Sim {
        let rt = tokio::runtime::Runtime::new().unwrap();
        let server = rt.block_on(sim::start_local(cfg)).unwrap();
        Sim {
            rt,
            server: Some(server),
        }
    }

    /// Fixed timing: first token after 5 ms, then one every 1 ms.
    pub fn fast() -> Sim {
        Sim::start(SimConfig::fixed(5.0, 1.0))
    }

    /// Its base URL.
    pub fn url(&self) -> String {
        self.server.as_ref().unwrap().base_url()
    }

    /// Its port.
    pub fn port(&self) -> u16 {
        self.server.as_ref().unwrap().addr().port()
    }

    /// Ground truth so far.
    pub fn truth(&self) -> Vec<Truth> {
        self.server.as_ref().unwrap().truth()
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        if let Some(s) = self.server.take() {
            self.rt.block_on(s.stop());
        }
    }
}

/// POST `body` as JSON; returns status, headers and body text.
pub async fn post(url: &str, body: &Value) -> (u16, reqwest::header::HeaderMap, String) {
    let r = reqwest::Client::new()
        .post(url)
        .json(body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    (status, headers, r.text().await.unwrap())
}

/// GET; returns status, headers and body text.
pub async fn get(url: &str) -> (u16, reqwest::header::HeaderMap, String) {
    let r = reqwest::get(url).await.unwrap();
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    (status, headers, r.text().await.unwrap())
}

/// The `data:` payloads of an SSE body, in order (`[DONE]` included as text).
pub fn events(body: &str) -> Vec<String> {
    body.split("\n\n")
        .filter(|e| !e.trim().is_empty())
        .map(|e| {
            e.strip_prefix("data: ")
                .unwrap_or_else(|| panic!("not a data event: {e:?}"))
                .to_owned()
        })
        .collect()
}

/// The JSON payloads of an SSE body, with the final `[DONE]` checked and removed.
pub fn json_events(body: &str) -> Vec<Value> {
    let mut ev = events(body);
    assert_eq!(ev.pop().as_deref(), Some("[DONE]"), "{body}");
    ev.iter()
        .map(|e| serde_json::from_str(e).unwrap_or_else(|_| panic!("not JSON: {e}")))
        .collect()
}

/// A client target for `server` speaking `backend`, asking for model `runner-sim`.
pub fn target(server: &Server, backend: Backend, options: RequestOptions) -> Arc<Target> {
    target_model(&server.base_url(), backend, "runner-sim", options)
}

/// A client target at `base` speaking `backend`, asking for model `m`.
pub fn target_at(base: &str, backend: Backend, options: RequestOptions) -> Arc<Target> {
    target_model(base, backend, "m", options)
}

fn target_model(base: &str, backend: Backend, model: &str, options: RequestOptions) -> Arc<Target> {
    let client = engine::client_for(&options).unwrap();
    Arc::new(Target::new(client, base, backend, model.into(), options).unwrap())
}

/// NumPy-style linear percentile of unsorted values.
pub fn percentile(values: &[f64], p: f64) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let rank = p / 100.0 * (v.len() - 1) as f64;
    let (lo, hi) = (rank.floor() as usize, rank.ceil() as usize);
    v[lo] + (v[hi] - v[lo]) * (rank - lo as f64)
}

/// Mean.
pub fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len() as f64
}

/// `n` distinct prompts of `len` words drawn from the built-in vocabulary, all starting
/// with the same `shared` words (0 for no shared prefix), distinct per `salt`.
pub fn prompts(n: usize, len: usize, shared: usize, salt: u64) -> Vec<String> {
    let t = runner::tokenizer::Tokenizer::builtin();
    let ids = t.sample_ids();
    let pick = |i: u64| ids[(runner::sim::prompt_hash(&i.to_string()) % ids.len() as u64) as usize];
    (0..n as u64)
        .map(|r| {
            let words: Vec<u32> = (0..len as u64)
                .map(|k| {
                    if (k as usize) < shared {
                        pick(salt * 1_000_003 + k)
                    } else {
                        pick((salt + 1) * 7_919_000_000 + r * 100_003 + k)
                    }
                })
                .collect();
            t.decode(&words)
        })
        .collect()
}
