//! Helpers shared by the embedded-server tests: raw HTTP calls, SSE splitting, a client
//! target, percentiles.
#![allow(dead_code)]

use std::sync::Arc;

use runner::engine::{self, Target};
use runner::scenario::{Backend, RequestOptions};
use runner::sim::Server;
use serde_json::Value;

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

/// A client target for `server` speaking `backend`.
pub fn target(server: &Server, backend: Backend, options: RequestOptions) -> Arc<Target> {
    Arc::new(
        Target::new(
            engine::client(&options.timeouts).unwrap(),
            &server.base_url(),
            backend,
            "runner-sim".into(),
            options,
        )
        .unwrap(),
    )
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
