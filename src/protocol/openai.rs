//! OpenAI-compatible completions (`/v1/completions`) and chat (`/v1/chat/completions`), as
//! sent by bench_serving's `sglang-oai`/`vllm`/`lmdeploy` and their `-chat` variants.
//!
//! One deviation from bench_serving, on by default and switchable with
//! `request.include_usage`: streaming requests ask for `stream_options.include_usage`, so the
//! output length is the server's count rather than the requested one.

use serde_json::{Value, json};

use super::{BodyInput, FrameError, Protocol, StreamState, json_frame, merge, usage_u32};
use crate::workload::Prompt;

/// `/v1/completions`.
pub struct Completions;

/// `/v1/chat/completions`.
pub struct Chat;

/// Fields both APIs share, in bench_serving's order, then the extra body.
fn finish_body(mut body: Value, input: &BodyInput<'_>) -> Value {
    let m = body.as_object_mut().expect("object");
    if !input.extra_has("temperature") {
        m.insert("temperature".into(), json!(0.0));
    }
    if !input.extra_has("ignore_eos") {
        m.insert("ignore_eos".into(), json!(input.ignore_eos));
    }
    if input.stream && input.include_usage {
        m.insert("stream_options".into(), json!({"include_usage": true}));
    }
    merge(&mut body, input);
    body
}

fn take_usage(v: &Value, st: &mut StreamState) {
    if let Some(u) = v.get("usage").filter(|u| u.is_object()) {
        if let Some(n) = usage_u32(u, "completion_tokens") {
            st.completion_tokens = Some(n);
        }
        if let Some(n) = usage_u32(u, "prompt_tokens") {
            st.prompt_tokens = Some(n);
        }
    }
}

fn first_choice(v: &Value) -> Option<&Value> {
    v.get("choices")?.as_array()?.first()
}

/// Append `text` and count it as one token event when non-empty.
fn push_text(st: &mut StreamState, text: &str) -> u32 {
    if text.is_empty() {
        0
    } else {
        st.text.push_str(text);
        1
    }
}

impl Protocol for Completions {
    fn path(&self) -> &'static str {
        "/v1/completions"
    }

    fn body(&self, input: &BodyInput<'_>) -> Value {
        let body = json!({
            "model": input.model,
            "prompt": input.prompt_value(),
            "best_of": 1,
            "max_tokens": input.output_len,
            "stream": input.stream,
        });
        finish_body(body, input)
    }

    fn frame(&self, data: &str, st: &mut StreamState) -> Result<u32, FrameError> {
        let v = json_frame(data)?;
        take_usage(&v, st);
        let text = first_choice(&v)
            .and_then(|c| c["text"].as_str())
            .unwrap_or("");
        Ok(push_text(st, text))
    }

    fn whole(&self, body: &str, st: &mut StreamState) -> Result<u32, FrameError> {
        self.frame(body, st)
    }
}

/// bench_serving's chat messages: a ready list verbatim; text with images as one user message
/// of image parts then the text part; plain text as one user message.
fn messages(input: &BodyInput<'_>) -> Value {
    if let Prompt::Messages(m) = input.prompt {
        return Value::from(m.clone());
    }
    let text = input.prompt_value();
    if input.images.is_empty() {
        return json!([{"role": "user", "content": text}]);
    }
    let mut parts: Vec<Value> = input
        .images
        .iter()
        .map(|url| json!({"type": "image_url", "image_url": {"url": url}}))
        .collect();
    parts.push(json!({"type": "text", "text": text}));
    json!([{"role": "user", "content": parts}])
}

fn chat_text(v: &Value) -> String {
    let mut s = String::new();
    for key in ["reasoning_content", "reasoning", "content"] {
        if let Some(t) = v.get(key).and_then(Value::as_str) {
            s.push_str(t);
        }
    }
    s
}

impl Protocol for Chat {
    fn path(&self) -> &'static str {
        "/v1/chat/completions"
    }

    fn body(&self, input: &BodyInput<'_>) -> Value {
        let body = json!({
            "model": input.model,
            "messages": messages(input),
            "max_completion_tokens": input.output_len,
            "stream": input.stream,
        });
        finish_body(body, input)
    }

    fn frame(&self, data: &str, st: &mut StreamState) -> Result<u32, FrameError> {
        let v = json_frame(data)?;
        take_usage(&v, st);
        let text = first_choice(&v)
            .map(|c| chat_text(&c["delta"]))
            .unwrap_or_default();
        Ok(push_text(st, &text))
    }

    fn whole(&self, body: &str, st: &mut StreamState) -> Result<u32, FrameError> {
        let v = json_frame(body)?;
        take_usage(&v, st);
        let text = first_choice(&v)
            .map(|c| chat_text(&c["message"]))
            .unwrap_or_default();
        Ok(push_text(st, &text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::StreamProblem;

    fn input<'a>(extra: &'a serde_json::Map<String, Value>, prompt: &'a Prompt) -> BodyInput<'a> {
        BodyInput {
            model: "m",
            prompt,
            images: &[],
            row_extra: extra,
            output_len: 8,
            stream: true,
            ignore_eos: true,
            include_usage: false,
            extra,
        }
    }

    fn hi() -> Prompt {
        Prompt::Text("hi there".into())
    }

    #[test]
    fn completions_body_matches_bench_serving() {
        let extra = serde_json::Map::new();
        let body = Completions.body(&input(&extra, &hi()));
        assert_eq!(
            body.to_string(),
            r#"{"model":"m","prompt":"hi there","best_of":1,"max_tokens":8,"stream":true,"temperature":0.0,"ignore_eos":true}"#
        );
    }

    #[test]
    fn extra_body_wins_and_suppresses_defaults() {
        let extra = json!({"temperature": 0.7, "top_p": 0.9})
            .as_object()
            .unwrap()
            .clone();
        let body = Chat.body(&input(&extra, &hi()));
        assert_eq!(
            body.to_string(),
            r#"{"model":"m","messages":[{"role":"user","content":"hi there"}],"max_completion_tokens":8,"stream":true,"ignore_eos":true,"temperature":0.7,"top_p":0.9}"#
        );
    }

    #[test]
    fn usage_requested_when_streaming() {
        let extra = serde_json::Map::new();
        let p = hi();
        let mut i = input(&extra, &p);
        i.include_usage = true;
        assert_eq!(
            Completions.body(&i)["stream_options"],
            json!({"include_usage": true})
        );
        i.stream = false;
        assert!(Completions.body(&i).get("stream_options").is_none());
    }

    #[test]
    fn frames_count_text_and_usage() {
        let mut st = StreamState::default();
        let f = |d: &str, st: &mut StreamState| Completions.frame(d, st);
        assert_eq!(f(r#"{"choices":[{"text":" a"}]}"#, &mut st), Ok(1));
        assert_eq!(f(r#"{"choices":[{"text":""}]}"#, &mut st), Ok(0));
        assert_eq!(
            f(
                r#"{"choices":[],"usage":{"completion_tokens":1,"prompt_tokens":3}}"#,
                &mut st
            ),
            Ok(0)
        );
        assert_eq!(st.text, " a");
        assert_eq!((st.completion_tokens, st.prompt_tokens), (Some(1), Some(3)));
        let e = f(r#"{"error":{"message":"boom"}}"#, &mut st).unwrap_err();
        assert_eq!(
            (e.problem, e.message.as_str()),
            (StreamProblem::InBandError, "boom")
        );
        assert_eq!(
            f("not json", &mut st).unwrap_err().problem,
            StreamProblem::Malformed
        );
        let mut st = StreamState::default();
        assert_eq!(
            Chat.frame(
                r#"{"choices":[{"delta":{"role":"assistant","content":""}}]}"#,
                &mut st
            ),
            Ok(0)
        );
        assert_eq!(
            Chat.frame(r#"{"choices":[{"delta":{"content":"x"}}]}"#, &mut st),
            Ok(1)
        );
    }
}
