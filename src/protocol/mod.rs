//! Protocol adapters: one per server API, behind one trait. An adapter builds a request body
//! (bench_serving's defaults, field for field) and turns each response frame into token
//! counts, text and usage. The SSE framing under them is [`sse`].

mod openai;
mod sglang;
pub mod sse;

use serde_json::{Map, Value};

use crate::record::StreamProblem;
use crate::scenario::Backend;
use crate::workload::Prompt;

pub use openai::{Chat, Completions};
pub use sglang::Generate;

/// What the body of one request is made from.
#[derive(Debug, Clone)]
pub struct BodyInput<'a> {
    /// Value of the `model` field.
    pub model: &'a str,
    /// The prompt.
    pub prompt: &'a Prompt,
    /// Images as data URIs.
    pub images: &'a [String],
    /// Output tokens to ask for.
    pub output_len: u32,
    /// Stream the response.
    pub stream: bool,
    /// Send `ignore_eos: true`.
    pub ignore_eos: bool,
    /// Ask for usage in the stream (OpenAI APIs).
    pub include_usage: bool,
    /// Merged into the body last (the scenario's `request.extra_body`).
    pub extra: &'a Map<String, Value>,
    /// Merged after `extra` (the dataset row's own extra body).
    pub row_extra: &'a Map<String, Value>,
}

impl BodyInput<'_> {
    /// Whether a key is set by either extra body (then defaults must not be added).
    pub fn extra_has(&self, key: &str) -> bool {
        self.extra.contains_key(key) || self.row_extra.contains_key(key)
    }

    /// The prompt as a JSON string or token-id array, for text APIs. Chat-shaped prompts
    /// become their first user text.
    pub fn prompt_value(&self) -> Value {
        match self.prompt {
            Prompt::Text(s) => Value::from(s.as_str()),
            Prompt::Ids(ids) => Value::from(ids.clone()),
            Prompt::Turns(turns) => Value::from(turns.first().cloned().unwrap_or_default()),
            Prompt::MessageTurns(turns) => Value::from(
                turns
                    .first()
                    .into_iter()
                    .flatten()
                    .filter_map(|m| m["content"].as_str())
                    .collect::<Vec<_>>()
                    .join("\n"),
            ),
            Prompt::Messages(m) => Value::from(
                m.iter()
                    .filter_map(|m| m["content"].as_str())
                    .collect::<Vec<_>>()
                    .join("\n"),
            ),
        }
    }
}

/// Per-request parse state an adapter updates frame by frame.
#[derive(Debug, Default, Clone)]
pub struct StreamState {
    /// Output text so far.
    pub text: String,
    /// Output tokens the server reported so far.
    pub completion_tokens: Option<u32>,
    /// Prompt tokens the server reported.
    pub prompt_tokens: Option<u32>,
    /// Cumulative output tokens at the previous counted chunk (for cumulative APIs).
    pub counted_tokens: u32,
}

/// A frame that makes the request fail.
#[derive(Debug, Clone, PartialEq)]
pub struct FrameError {
    /// What kind of problem.
    pub problem: StreamProblem,
    /// The message to record.
    pub message: String,
}

impl FrameError {
    fn malformed(e: impl std::fmt::Display, data: &str) -> FrameError {
        let data: String = data.chars().take(200).collect();
        FrameError {
            problem: StreamProblem::Malformed,
            message: format!("invalid frame ({e}): {data}"),
        }
    }
}

/// One server API.
pub trait Protocol: Send + Sync {
    /// Path appended to the base URL.
    fn path(&self) -> &'static str;
    /// The JSON request body.
    fn body(&self, input: &BodyInput<'_>) -> Value;
    /// Take one streamed frame's data; returns how many output tokens it delivered
    /// (0 when it carried no text).
    fn frame(&self, data: &str, st: &mut StreamState) -> Result<u32, FrameError>;
    /// Take a whole non-streamed body; returns the output tokens it delivered.
    fn whole(&self, body: &str, st: &mut StreamState) -> Result<u32, FrameError>;
}

/// The adapter for a backend, or `None` when runner does not speak it yet.
pub fn for_backend(backend: Backend) -> Option<Box<dyn Protocol>> {
    use Backend::*;
    match backend {
        Sglang | SglangNative => Some(Box::new(Generate)),
        SglangOai | Vllm | Lmdeploy => Some(Box::new(Completions)),
        SglangOaiChat | VllmChat | LmdeployChat => Some(Box::new(Chat)),
        SglangEmbedding | VllmEmbedding | Trt | Truss | Gserver => None,
    }
}

/// Why a backend cannot be used, for validation; `None` when it is supported.
pub fn unsupported(backend: Backend) -> Option<String> {
    match backend {
        Backend::Gserver => {
            Some("backend `gserver` is not supported (bench_serving's is a stub too)".to_owned())
        }
        b if for_backend(b).is_none() => Some(format!(
            "backend `{}` is not supported yet; supported: sglang, sglang-native, sglang-oai, \
             sglang-oai-chat, vllm, vllm-chat, lmdeploy, lmdeploy-chat",
            b.as_str()
        )),
        _ => None,
    }
}

/// Parse a frame as JSON and fail on an in-band `{"error": …}` object.
fn json_frame(data: &str) -> Result<Value, FrameError> {
    let v: Value = serde_json::from_str(data).map_err(|e| FrameError::malformed(e, data))?;
    if let Some(err) = v.get("error").filter(|e| !e.is_null()) {
        let message = err
            .get("message")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .unwrap_or_else(|| err.to_string());
        return Err(FrameError {
            problem: StreamProblem::InBandError,
            message,
        });
    }
    Ok(v)
}

/// Copy the extra bodies over `body` (shallow, later keys win; the row's over the
/// scenario's), as bench_serving's `payload.update({**extra, **row_extra})`.
fn merge(body: &mut Value, input: &BodyInput<'_>) {
    if let Value::Object(m) = body {
        for (k, v) in input.extra.iter().chain(input.row_extra) {
            m.insert(k.clone(), v.clone());
        }
    }
}

fn usage_u32(v: &Value, key: &str) -> Option<u32> {
    v.get(key)?.as_u64().map(|n| n as u32)
}
