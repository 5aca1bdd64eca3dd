//! Calls around a run (bench_serving §4.1–4.7): readiness, model auto-select, cache flush,
//! profiler start/stop, and `/server_info` (with the speculative-decoding accept length).

use std::time::Duration;

use serde_json::{Value, json};
use tokio::time::Instant;

use super::target::Target;
use crate::scenario::{Family, ProfileOptions};

/// A call around the run failed.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The server did not become ready in time.
    #[error(
        "{url} did not answer 200 within {timeout_s} s (last: {last}); is the server up? \
         Raise the target's `ready_timeout_s`, or set it to 0 to skip the check"
    )]
    NotReady {
        /// The URL polled.
        url: String,
        /// The limit.
        timeout_s: f64,
        /// The last answer or error.
        last: String,
    },
    /// A control call answered with an error.
    #[error("{what}: POST {url} failed: {detail}")]
    Call {
        /// What the call was for.
        what: &'static str,
        /// The URL.
        url: String,
        /// Status and body, or the transport error.
        detail: String,
    },
}

impl Target {
    /// The readiness URL: `/v1/models`, or the bare base URL for trt (bench_serving): the
    /// backend's `ready_path`.
    fn ready_url(&self) -> String {
        format!("{}{}", self.base_url, self.backend.facts().ready_path)
    }

    /// Poll until the server answers 200 (5 s per try, 1 s apart) or `timeout_s` passes;
    /// 0 skips the check.
    pub async fn wait_ready(&self, timeout_s: f64) -> Result<(), ServerError> {
        if timeout_s <= 0.0 {
            return Ok(());
        }
        let url = self.ready_url();
        let start = Instant::now();
        let deadline = start + Duration::from_secs_f64(timeout_s);
        let mut told = false;
        loop {
            let r = self
                .client
                .get(&url)
                .headers(self.headers.clone())
                .timeout(Duration::from_secs(5))
                .send()
                .await;
            let last = match r {
                Ok(resp) if resp.status().is_success() => return Ok(()),
                Ok(resp) => format!("HTTP {}", resp.status()),
                Err(e) => crate::fetch::error_chain(&e),
            };
            if !told && start.elapsed() >= Duration::from_secs(3) {
                told = true;
                eprintln!(
                    "still waiting for {url} to answer 200 (last: {last}); trying every second \
                     for up to {timeout_s} s (the target's `ready_timeout_s`)"
                );
            }
            if Instant::now() + Duration::from_secs(1) > deadline {
                return Err(ServerError::NotReady {
                    url,
                    timeout_s,
                    last,
                });
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }

    async fn post(&self, what: &'static str, url: String, body: Value) -> Result<(), ServerError> {
        let fail = |detail: String| ServerError::Call {
            what,
            url: url.clone(),
            detail,
        };
        let resp = self
            .client
            .post(&url)
            .headers(self.headers.clone())
            .json(&body)
            .send()
            .await
            .map_err(|e| fail(e.to_string()))?;
        if !resp.status().is_success() {
            let status = resp.status();
            let text: String = resp
                .text()
                .await
                .unwrap_or_default()
                .chars()
                .take(500)
                .collect();
            return Err(fail(format!("HTTP {status}: {text}")));
        }
        Ok(())
    }

    /// Flush the prefix cache: vLLM `/reset_prefix_cache`, SGLang `/flush_cache?timeout=`,
    /// others `/flush_cache`.
    pub async fn flush_cache(&self, timeout_s: f64) -> Result<(), ServerError> {
        let url = match self.backend.family() {
            Family::Vllm => format!("{}/reset_prefix_cache", self.base_url),
            Family::Sglang => format!("{}/flush_cache?timeout={timeout_s}", self.base_url),
            Family::Other => format!("{}/flush_cache", self.base_url),
        };
        self.post("cache flush", url, Value::Null).await
    }

    /// `POST /start_profile` with bench_serving's body; `now_s` (Unix time) names the
    /// output subdirectory.
    pub async fn start_profile(&self, p: &ProfileOptions, now_s: f64) -> Result<(), ServerError> {
        let url = format!("{}/start_profile", self.base_url);
        self.post("profiler start", url, profile_body(p, now_s))
            .await
    }

    /// `POST /stop_profile`, unless the profile stops by itself after `num_steps`.
    pub async fn stop_profile(&self, p: &ProfileOptions) -> Result<(), ServerError> {
        if p.num_steps.is_some() {
            return Ok(());
        }
        let url = format!("{}/stop_profile", self.base_url);
        self.post("profiler stop", url, json!({})).await
    }

    /// `GET /server_info` (5 s limit); `None` when it does not answer 200 with JSON.
    pub async fn server_info(&self) -> Option<Value> {
        self.get_json("/server_info", Duration::from_secs(5)).await
    }

    /// `GET path` within `timeout`: the JSON body of a 200, else `None` (best effort).
    pub async fn get_json(&self, path: &str, timeout: Duration) -> Option<Value> {
        let resp = self
            .client
            .get(format!("{}{path}", self.base_url))
            .headers(self.headers.clone())
            .timeout(timeout)
            .send()
            .await
            .ok()?;
        if !resp.status().is_success() {
            return None;
        }
        resp.json().await.ok()
    }
}

/// The profiler start body: activities, steps, stages, output directory, prefix.
pub fn profile_body(p: &ProfileOptions, now_s: f64) -> Value {
    let dir = p
        .output_dir
        .clone()
        .or_else(|| std::env::var("SGLANG_TORCH_PROFILER_DIR").ok())
        .unwrap_or_else(|| "/tmp".into());
    let num_steps = p.num_steps.or(p.by_stage.then_some(5));
    let mut body = json!({
        "activities": p.activities,
        "num_steps": num_steps,
        "profile_by_stage": p.by_stage,
        "profile_stages": p.stages,
        "output_dir": format!("{}/{now_s}", dir.trim_end_matches('/')),
        "profile_prefix": p.prefix,
    });
    if let Some(s) = p.start_step {
        body["start_step"] = json!(s.to_string());
    }
    body
}

/// The speculative-decoding accept length in a `/server_info` answer:
/// `internal_states[0].avg_spec_accept_length` (of `decode[0]` for PD deployments).
pub fn accept_length(info: &Value) -> Option<f64> {
    let info = info.get("decode").and_then(|d| d.get(0)).unwrap_or(info);
    info.get("internal_states")?
        .get(0)?
        .get("avg_spec_accept_length")?
        .as_f64()
}

/// The first model id listed by `GET {base}/v1/models` (bench_serving's auto-select).
pub async fn first_model(
    client: &reqwest::Client,
    base_url: &str,
    headers: &reqwest::header::HeaderMap,
) -> anyhow::Result<String> {
    use anyhow::Context as _;
    let url = format!("{}/v1/models", base_url.trim_end_matches('/'));
    let v: Value = client
        .get(&url)
        .headers(headers.clone())
        .timeout(Duration::from_secs(30))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    v["data"][0]["id"]
        .as_str()
        .map(str::to_owned)
        .context("the model list is empty")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{Backend, RequestOptions, Timeouts};

    #[test]
    fn readiness_is_polled_at_v1_models_except_for_trt() {
        let client = crate::engine::target::client(&Timeouts::default()).unwrap();
        let at = |b| {
            Target::new(
                client.clone(),
                "http://h:1/",
                b,
                "m".into(),
                RequestOptions::default(),
            )
            .unwrap()
            .ready_url()
        };
        assert_eq!(at(Backend::Trt), "http://h:1");
        assert_eq!(at(Backend::Vllm), "http://h:1/v1/models");
        assert_eq!(at(Backend::Truss), "http://h:1/v1/models");
    }

    #[test]
    fn accept_length_from_server_info() {
        let plain = json!({"internal_states": [{"avg_spec_accept_length": 2.5}]});
        assert_eq!(accept_length(&plain), Some(2.5));
        let pd = json!({"decode": [{"internal_states": [{"avg_spec_accept_length": 3.0}]}]});
        assert_eq!(accept_length(&pd), Some(3.0));
        assert_eq!(accept_length(&json!({"version": "x"})), None);
    }

    #[test]
    fn profile_body_matches_bench_serving() {
        let p = ProfileOptions {
            activities: vec!["CPU".into(), "GPU".into()],
            output_dir: Some("/prof/".into()),
            num_steps: None,
            start_step: Some(3),
            by_stage: true,
            stages: None,
            prefix: None,
        };
        assert_eq!(
            profile_body(&p, 1.5).to_string(),
            r#"{"activities":["CPU","GPU"],"num_steps":5,"profile_by_stage":true,"profile_stages":null,"output_dir":"/prof/1.5","profile_prefix":null,"start_step":"3"}"#
        );
    }
}
