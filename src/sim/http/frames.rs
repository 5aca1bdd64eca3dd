//! Response shapes, per API: stream frames, whole bodies, and the broken frames faults send.
//!
//! In: a request's identity and its output so far. Out: bytes exactly as the real server
//! writes them — SSE `data: {…}\n\n` frames (SGLang's cumulative `/generate` text with
//! `meta_info`; OpenAI deltas, the optional usage chunk and `data: [DONE]`; Triton's
//! `text_output` events) or one JSON body.

use axum::body::Bytes;
use serde_json::{Value, json};

use super::super::batcher::Finish;
use super::super::hash::{mix, mix2, unit};
use super::super::source::Delivery;
use super::super::text::Words;
use super::request::Api;

/// Token id SGLang reports as the matched stop token.
const EOS_ID: u32 = 2;

/// Dimension of the vectors `/v1/embeddings` returns.
pub const EMBEDDING_DIM: usize = 64;

/// Builds one response's frames and keeps its output text.
pub struct Frames<'a> {
    api: Api,
    model: &'a str,
    words: &'a Words,
    seed: u64,
    seq: u64,
    created: u64,
    prompt_tokens: u32,
    /// Whether the engine decodes speculatively (SGLang then reports accept lengths).
    spec: bool,
    id: String,
    /// Output text so far.
    pub text: String,
    ids: Vec<u32>,
    /// Output tokens so far.
    pub tokens: u32,
    /// Split cached tokens by tier (`return_cached_tokens_details`): `sglext` in OpenAI
    /// responses, `cached_tokens_details` in the native `meta_info`.
    pub cache_details: bool,
}

/// What the end of a response reports.
#[derive(Debug, Clone, Copy)]
pub struct End {
    /// Why it ended.
    pub finish: Finish,
    /// Prompt tokens served from the prefix cache.
    pub cached: u32,
    /// Decode steps.
    pub verify_steps: u32,
    /// Seconds since arrival.
    pub e2e_s: f64,
}

impl End {
    /// The end reported by a delivery.
    pub fn of(d: &Delivery, finish: Finish, e2e_s: f64) -> End {
        End {
            finish,
            cached: d.cached,
            verify_steps: d.verify_steps,
            e2e_s,
        }
    }
}

fn sse(v: &Value) -> Bytes {
    Bytes::from(format!("data: {v}\n\n"))
}

/// The end-of-stream marker of SSE APIs.
pub const DONE: &[u8] = b"data: [DONE]\n\n";

impl<'a> Frames<'a> {
    /// Frames for request `seq` to `api`.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        api: Api,
        model: &'a str,
        words: &'a Words,
        seed: u64,
        seq: u64,
        created: u64,
        prompt_tokens: u32,
        spec: bool,
    ) -> Frames<'a> {
        let hex = format!("{:016x}{:016x}", mix2(seed, seq), mix(seq));
        let id = match api {
            Api::Chat => format!("chatcmpl-{hex}"),
            Api::Completions | Api::Truss => format!("cmpl-{hex}"),
            Api::Embeddings => format!("embd-{hex}"),
            Api::Generate | Api::Trt => hex,
        };
        Frames {
            api,
            model,
            words,
            seed,
            seq,
            created,
            prompt_tokens,
            spec,
            id,
            text: String::new(),
            ids: Vec::new(),
            tokens: 0,
            cache_details: false,
        }
    }

    /// Append `n` output tokens; returns their text.
    pub fn add(&mut self, n: u32) -> String {
        let mut delta = String::new();
        for k in self.tokens..self.tokens + n {
            delta.push_str(self.words.text(self.seed, self.seq, k));
            if self.api == Api::Generate {
                self.ids.push(self.words.id(self.seed, self.seq, k));
            }
        }
        self.tokens += n;
        self.text.push_str(&delta);
        delta
    }

    /// A frame sent before any token (the chat role chunk).
    pub fn prelude(&self) -> Option<Bytes> {
        (self.api == Api::Chat).then(|| {
            sse(&json!({"id": self.id, "object": "chat.completion.chunk", "created": self.created,
                "model": self.model, "choices": [{"index": 0,
                "delta": {"role": "assistant", "content": ""}, "logprobs": null, "finish_reason": null}]}))
        })
    }

    fn finish_reason(f: Finish) -> &'static str {
        match f {
            Finish::Length => "length",
            Finish::Stop => "stop",
        }
    }

    /// SGLang's per-tier cache split: everything the embedded server caches is on the device.
    fn cache_tiers(cached: u32) -> Value {
        json!({"device": cached, "host": 0})
    }

    /// Add SGLang's `sglext` to an OpenAI response object when it was asked for.
    fn with_sglext(&self, mut v: Value, cached: u32) -> Value {
        if self.cache_details {
            v["sglext"] = json!({"cached_tokens_details": Self::cache_tiers(cached)});
        }
        v
    }

    fn usage(&self, cached: u32) -> Value {
        json!({"prompt_tokens": self.prompt_tokens, "completion_tokens": self.tokens,
            "total_tokens": self.prompt_tokens + self.tokens,
            "prompt_tokens_details": {"cached_tokens": cached}})
    }

    fn meta_info(&self, cached: u32, end: Option<End>) -> Value {
        let finish = match end.map(|e| e.finish) {
            None => Value::Null,
            Some(Finish::Length) => json!({"type": "length", "length": self.tokens}),
            Some(Finish::Stop) => json!({"type": "stop", "matched": EOS_ID}),
        };
        let mut m = json!({"id": self.id, "finish_reason": finish, "prompt_tokens": self.prompt_tokens,
            "weight_version": "default", "total_retractions": 0,
            "completion_tokens": self.tokens, "cached_tokens": cached});
        if let Some(e) = end {
            if self.spec {
                let steps = e.verify_steps.max(1);
                m["spec_verify_ct"] = json!(e.verify_steps);
                m["spec_accept_length"] = json!(f64::from(self.tokens) / f64::from(steps));
            }
            m["e2e_latency"] = json!(e.e2e_s);
        }
        if self.cache_details {
            m["cached_tokens_details"] = Self::cache_tiers(cached);
        }
        m
    }

    /// A stream frame carrying `delta` (the newest `n` tokens); `end` on the last one.
    pub fn chunk(&self, delta: &str, n: u32, cached: u32, end: Option<End>) -> Bytes {
        let fr = end.map(|e| Self::finish_reason(e.finish));
        match self.api {
            Api::Generate => sse(&json!({"text": self.text, "output_ids": self.ids,
                "meta_info": self.meta_info(cached, end)})),
            Api::Completions | Api::Truss => {
                sse(&json!({"id": self.id, "object": "text_completion",
                "created": self.created, "model": self.model, "choices": [{"index": 0, "text": delta,
                "logprobs": null, "finish_reason": fr}]}))
            }
            Api::Chat => sse(&json!({"id": self.id, "object": "chat.completion.chunk",
                "created": self.created, "model": self.model, "choices": [{"index": 0,
                "delta": {"content": delta}, "logprobs": null, "finish_reason": fr}]})),
            Api::Trt => sse(&json!({"context_logits": 0.0, "cum_log_probs": 0.0,
                "generation_logits": 0.0, "model_name": "ensemble", "model_version": "1",
                "output_log_probs": vec![0.0; n as usize],
                "sequence_end": false, "sequence_id": 0, "sequence_start": false,
                "text_output": delta})),
            Api::Embeddings => Bytes::new(),
        }
    }

    /// Frames after the last token: the usage chunk when asked for, then `[DONE]`.
    pub fn tail(&self, include_usage: bool, cached: u32) -> Vec<Bytes> {
        let mut out = Vec::new();
        let openai = matches!(self.api, Api::Completions | Api::Chat | Api::Truss);
        if include_usage && openai {
            let object = if self.api == Api::Chat {
                "chat.completion.chunk"
            } else {
                "text_completion"
            };
            out.push(sse(&self.with_sglext(
                json!({"id": self.id, "object": object, "created": self.created,
                "model": self.model, "choices": [], "usage": self.usage(cached)}),
                cached,
            )));
        }
        if self.api != Api::Trt {
            out.push(Bytes::from_static(DONE));
        }
        out
    }

    /// The whole body of a non-streamed response.
    pub fn whole(&self, end: End, inputs: &[String]) -> Bytes {
        let fr = Self::finish_reason(end.finish);
        let v = match self.api {
            Api::Generate => json!({"text": self.text, "output_ids": self.ids,
                "meta_info": self.meta_info(end.cached, Some(end))}),
            Api::Completions | Api::Truss => json!({"id": self.id, "object": "text_completion",
                "created": self.created, "model": self.model, "choices": [{"index": 0,
                "text": self.text, "logprobs": null, "finish_reason": fr}], "usage": self.usage(end.cached)}),
            Api::Chat => {
                json!({"id": self.id, "object": "chat.completion", "created": self.created,
                "model": self.model, "choices": [{"index": 0, "message": {"role": "assistant",
                "content": self.text}, "logprobs": null, "finish_reason": fr}], "usage": self.usage(end.cached)})
            }
            Api::Trt => {
                json!({"context_logits": 0.0, "cum_log_probs": 0.0, "generation_logits": 0.0,
                "model_name": "ensemble", "model_version": "1", "output_log_probs": vec![0.0; self.tokens as usize],
                "sequence_end": false, "sequence_id": 0, "sequence_start": false, "text_output": self.text})
            }
            Api::Embeddings => {
                let data: Vec<Value> = inputs
                    .iter()
                    .enumerate()
                    .map(|(i, t)| json!({"index": i, "object": "embedding", "embedding": embedding(t)}))
                    .collect();
                json!({"id": self.id, "object": "list", "created": self.created, "model": self.model,
                    "data": data, "usage": {"prompt_tokens": self.prompt_tokens,
                    "total_tokens": self.prompt_tokens, "completion_tokens": 0, "prompt_tokens_details": null}})
            }
        };
        let v = match self.api {
            Api::Completions | Api::Chat | Api::Truss => self.with_sglext(v, end.cached),
            _ => v,
        };
        Bytes::from(v.to_string())
    }

    /// An `{"error": …}` object inside a 200 response (stream frame or whole body).
    pub fn in_band_error(&self, stream: bool) -> Bytes {
        let v = json!({"error": {"object": "error",
            "message": "injected fault: the engine failed while generating", "type": "InternalServerError",
            "param": null, "code": 500}});
        if stream {
            sse(&v)
        } else {
            Bytes::from(v.to_string())
        }
    }

    /// Something that is not valid JSON where JSON is due.
    pub fn malformed(&self, stream: bool) -> Bytes {
        let broken = format!("{{\"id\": \"{}\", \"choices\": [{{\"text\": \"", self.id);
        if stream {
            Bytes::from(format!("data: {broken}\n\n"))
        } else {
            Bytes::from(broken)
        }
    }
}

/// A deterministic unit vector for an input text.
fn embedding(text: &str) -> Vec<f64> {
    let h = super::super::hash::fnv(text.as_bytes());
    let v: Vec<f64> = (0..EMBEDDING_DIM as u64)
        .map(|j| unit(mix2(h, j)) - 0.5)
        .collect();
    let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt().max(1e-12);
    v.into_iter().map(|x| x / norm).collect()
}
