//! Protocol adapters: one per server API, behind one trait. An adapter builds a request body
//! (bench_serving's defaults, field for field) and turns each response frame into output text,
//! token counts and usage. The SSE framing under them is [`sse`]; body templates that replace
//! the default body are in [`template`].

mod embeddings;
mod fast;
#[cfg(test)]
mod fast_equiv;
mod openai;
mod sglang;
pub mod sse;
pub mod template;
mod trt;

use serde_json::{Map, Value};

use crate::record::StreamProblem;
use crate::scenario::{Api, RequestOptions};
use crate::workload::Prompt;

pub use embeddings::Embeddings;
pub use openai::{Chat, Completions, Truss, messages as chat_messages};
pub use sglang::Generate;
pub use trt::Trt;

/// What the body of one request is made from.
#[derive(Debug, Clone)]
pub struct BodyInput<'a> {
    /// Value of the `model` field.
    pub model: &'a str,
    /// The prompt (for a multi-turn conversation: the message history so far).
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
    /// The LoRA adapter chosen for this request.
    pub lora: Option<&'a str>,
    /// The scenario's request options: sampling, logprobs, the global extra body.
    pub options: &'a RequestOptions,
    /// Merged after the global extra body (the dataset row's own extra body).
    pub row_extra: &'a Map<String, Value>,
}

impl BodyInput<'_> {
    /// Whether a key is set by either extra body (then defaults must not be added).
    pub fn extra_has(&self, key: &str) -> bool {
        self.options.extra_body.contains_key(key) || self.row_extra.contains_key(key)
    }

    /// The merged extra body: the scenario's, then the row's over it.
    pub fn extra(&self) -> Map<String, Value> {
        let mut m = self.options.extra_body.clone();
        for (k, v) in self.row_extra {
            m.insert(k.clone(), v.clone());
        }
        m
    }

    /// The prompt as a JSON string or token-id array, for text APIs. Chat-shaped prompts
    /// become their text contents joined by newlines.
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
    /// Cumulative output tokens at the previous counted chunk.
    pub counted_tokens: u32,
    /// Prompt tokens the server served from its prefix cache, when it said.
    pub cached_tokens: Option<u32>,
    /// The server's split of `cached_tokens` by tier (SGLang: `device`, `host`, `storage`,
    /// `storage_backend`), when it sent one.
    pub cached_tokens_details: Option<Value>,
}

impl StreamState {
    /// Append a chunk's text. When the same frame carries a running usage count (vLLM's
    /// `continuous_usage_stats`, some servers always), its growth is the chunk's token count.
    fn push_text(&mut self, text: &str, usage: Option<u32>) -> Output {
        if text.is_empty() {
            return Output::Nothing;
        }
        self.text.push_str(text);
        match usage {
            Some(total) if total > self.counted_tokens => {
                let n = total - self.counted_tokens;
                self.counted_tokens = total;
                Output::Tokens(n)
            }
            _ => Output::Chunk,
        }
    }
}

/// Prefix-cache hits a frame reports: SGLang's `sglext.cached_tokens_details` (OpenAI APIs
/// asked with `return_cached_tokens_details`; the tiers are summed, as bench_serving does),
/// the native API's `meta_info.cached_tokens` (and `cached_tokens_details`), or OpenAI's
/// `usage.prompt_tokens_details.cached_tokens` (vLLM, llama.cpp).
fn take_cache(v: &Value, st: &mut StreamState) {
    let tiers = v
        .get("sglext")
        .and_then(|s| s.get("cached_tokens_details"))
        .filter(|d| d.is_object());
    if let Some(d) = tiers {
        let sum: u64 = ["device", "host", "storage"]
            .iter()
            .map(|k| d.get(*k).and_then(Value::as_u64).unwrap_or(0))
            .sum();
        st.cached_tokens = Some(sum.min(u64::from(u32::MAX)) as u32);
        st.cached_tokens_details = Some(d.clone());
        return;
    }
    let meta = &v["meta_info"];
    if let Some(n) = usage_u32(meta, "cached_tokens") {
        st.cached_tokens = Some(n);
        if let Some(d) = meta.get("cached_tokens_details").filter(|d| d.is_object()) {
            st.cached_tokens_details = Some(d.clone());
        }
        return;
    }
    let openai = v
        .get("usage")
        .and_then(|u| u.get("prompt_tokens_details"))
        .and_then(|d| usage_u32(d, "cached_tokens"));
    if let Some(n) = openai {
        st.cached_tokens = Some(n);
    }
}

/// What one frame delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    /// No output text (role chunks, usage-only chunks, keep-alives).
    Nothing,
    /// Output text with this many tokens, as the server counted them.
    Tokens(u32),
    /// Output text whose token count the frame does not say.
    Chunk,
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
    /// The default JSON request body.
    fn body(&self, input: &BodyInput<'_>) -> Value;
    /// Take one streamed frame's data.
    fn frame(&self, data: &str, st: &mut StreamState) -> Result<Output, FrameError>;
    /// Take a whole non-streamed body (by default, as one frame).
    fn whole(&self, body: &str, st: &mut StreamState) -> Result<Output, FrameError> {
        self.frame(body, st)
    }
    /// Whether a stream must end with `data: [DONE]` (else a clean close ends it).
    fn done_marker(&self) -> bool {
        true
    }
    /// Whether the API generates tokens (embeddings do not: success is a parsed body).
    fn generates(&self) -> bool {
        true
    }
    /// Whether the API streams at all.
    fn streams(&self) -> bool {
        true
    }
}

/// The adapter for an API.
pub fn for_api(api: Api) -> Box<dyn Protocol> {
    match api {
        Api::Generate => Box::new(Generate),
        Api::Completions => Box::new(Completions),
        Api::Chat => Box::new(Chat),
        Api::Embeddings => Box::new(Embeddings),
        Api::Trt => Box::new(trt::Trt),
        Api::Truss => Box::new(openai::Truss),
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
        for (k, v) in input.options.extra_body.iter().chain(input.row_extra) {
            m.insert(k.clone(), v.clone());
        }
    }
}

fn usage_u32(v: &Value, key: &str) -> Option<u32> {
    v.get(key)?.as_u64().map(|n| n.min(u32::MAX as u64) as u32)
}

#[cfg(test)]
pub(crate) mod test_input {
    //! A `BodyInput` builder for the adapters' body tests.
    use super::*;

    pub struct Owned {
        pub prompt: Prompt,
        pub images: Vec<String>,
        pub options: RequestOptions,
        pub row_extra: Map<String, Value>,
        pub output_len: u32,
        pub lora: Option<String>,
    }

    impl Owned {
        pub fn text(s: &str) -> Owned {
            Owned {
                prompt: Prompt::Text(s.into()),
                images: Vec::new(),
                options: RequestOptions {
                    include_usage: false,
                    ..RequestOptions::default()
                },
                row_extra: Map::new(),
                output_len: 8,
                lora: None,
            }
        }

        pub fn input(&self) -> BodyInput<'_> {
            BodyInput {
                model: "m",
                prompt: &self.prompt,
                images: &self.images,
                output_len: self.output_len,
                stream: self.options.stream,
                ignore_eos: self.options.ignore_eos,
                include_usage: self.options.include_usage,
                lora: self.lora.as_deref(),
                options: &self.options,
                row_extra: &self.row_extra,
            }
        }
    }

    pub fn obj(v: Value) -> Map<String, Value> {
        v.as_object().expect("object").clone()
    }
}
