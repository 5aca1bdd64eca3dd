//! OpenAI-compatible completions (`/v1/completions`) and chat (`/v1/chat/completions`), as
//! sent by bench_serving's `sglang-oai`/`vllm`/`lmdeploy` and their `-chat` variants, and
//! Truss (`/v1/models/model:predict`), which takes a completions-shaped body.
//!
//! Deviations from bench_serving, each switchable: streaming requests ask for
//! `stream_options.include_usage` (`request.include_usage`), so the output length is the
//! server's count rather than the requested one; `request.temperature`/`top_p` reach these
//! backends too (bench_serving sends them to the native API only).

use serde_json::{Map, Value, json};

use super::{
    BodyInput, FrameError, Output, Protocol, StreamState, json_frame, merge, take_cache, usage_u32,
};
use crate::workload::Prompt;

/// `/v1/completions`.
pub struct Completions;

/// `/v1/chat/completions`.
pub struct Chat;

/// Truss `/v1/models/model:predict`.
pub struct Truss;

/// Sampling defaults both APIs share, in bench_serving's order: `temperature` and
/// `ignore_eos` unless the extra body sets them, `top_p` when below 1.
fn sampling(m: &mut Map<String, Value>, input: &BodyInput<'_>) {
    if !input.extra_has("temperature") {
        m.insert(
            "temperature".into(),
            json!(input.options.temperature.unwrap_or(0.0)),
        );
    }
    if let Some(p) = input.options.top_p.filter(|p| *p < 1.0)
        && !input.extra_has("top_p")
    {
        m.insert("top_p".into(), json!(p));
    }
    if !input.extra_has("ignore_eos") {
        m.insert("ignore_eos".into(), json!(input.ignore_eos));
    }
}

/// The rest, in bench_serving's order: logprobs, (our) stream options, the extra bodies,
/// then the LoRA override of `model`.
fn finish_body(mut body: Value, input: &BodyInput<'_>, chat: bool) -> Value {
    let m = body.as_object_mut().expect("object");
    sampling(m, input);
    let lp = &input.options.logprobs;
    if lp.enabled && lp.top_n > 0 {
        if chat {
            m.insert("logprobs".into(), json!(true));
            m.insert("top_logprobs".into(), json!(lp.top_n));
        } else {
            m.insert("logprobs".into(), json!(lp.top_n));
        }
    }
    if input.stream && input.include_usage {
        m.insert("stream_options".into(), json!({"include_usage": true}));
    }
    merge(&mut body, input);
    if let Some(lora) = input.lora {
        body["model"] = json!(lora);
        body["lora_path"] = json!(lora);
    }
    body
}

fn take_usage(v: &Value, st: &mut StreamState) -> Option<u32> {
    take_cache(v, st);
    let u = v.get("usage").filter(|u| u.is_object())?;
    if let Some(n) = usage_u32(u, "prompt_tokens") {
        st.prompt_tokens = Some(n);
    }
    let n = usage_u32(u, "completion_tokens")?;
    st.completion_tokens = Some(n);
    Some(n)
}

fn first_choice(v: &Value) -> Option<&Value> {
    v.get("choices")?.as_array()?.first()
}

fn completion_frame(data: &str, st: &mut StreamState) -> Result<Output, FrameError> {
    match super::fast::completion(data, st) {
        Some(out) => Ok(out),
        None => completion_value(data, st),
    }
}

/// A completions frame read through a `Value` (any frame [`super::fast`] leaves).
pub(super) fn completion_value(data: &str, st: &mut StreamState) -> Result<Output, FrameError> {
    let v = json_frame(data)?;
    let usage = take_usage(&v, st);
    let text = first_choice(&v)
        .and_then(|c| c["text"].as_str())
        .unwrap_or("");
    Ok(st.push_text(text, usage))
}

impl Protocol for Completions {
    fn body(&self, input: &BodyInput<'_>) -> Value {
        let mut body = json!({
            "model": input.model,
            "prompt": input.prompt_value(),
            "best_of": 1,
            "max_tokens": input.output_len,
            "stream": input.stream,
        });
        body = finish_body(body, input, false);
        if !input.images.is_empty() {
            body["image_data"] = json!(input.images);
        }
        body
    }

    fn frame(&self, data: &str, st: &mut StreamState) -> Result<Output, FrameError> {
        completion_frame(data, st)
    }
}

/// bench_serving's chat messages: a ready list verbatim; text with images as one user message
/// of image parts then the text part; plain text as one user message.
pub fn messages(prompt: &Prompt, images: &[String]) -> Value {
    let text = match prompt {
        Prompt::Messages(m) => return Value::from(m.clone()),
        Prompt::MessageTurns(t) => return Value::from(t.first().cloned().unwrap_or_default()),
        Prompt::Text(s) => json!(s),
        Prompt::Turns(t) => json!(t.first().cloned().unwrap_or_default()),
        Prompt::Ids(ids) => json!(ids),
    };
    if images.is_empty() {
        return json!([{"role": "user", "content": text}]);
    }
    let mut parts: Vec<Value> = images
        .iter()
        .map(|url| json!({"type": "image_url", "image_url": {"url": url}}))
        .collect();
    parts.push(json!({"type": "text", "text": text}));
    json!([{"role": "user", "content": parts}])
}

/// A chat stream frame read through a `Value` (any frame [`super::fast`] leaves).
pub(super) fn chat_value(data: &str, st: &mut StreamState) -> Result<Output, FrameError> {
    let v = json_frame(data)?;
    let usage = take_usage(&v, st);
    let text = first_choice(&v)
        .map(|c| chat_text(&c["delta"]))
        .unwrap_or_default();
    Ok(st.push_text(&text, usage))
}

fn chat_text(v: &Value) -> String {
    let mut s = String::new();
    let reasoning = v
        .get("reasoning_content")
        .and_then(Value::as_str)
        .or_else(|| v.get("reasoning").and_then(Value::as_str));
    for t in [reasoning, v.get("content").and_then(Value::as_str)]
        .into_iter()
        .flatten()
    {
        s.push_str(t);
    }
    s
}

impl Protocol for Chat {
    fn body(&self, input: &BodyInput<'_>) -> Value {
        let body = json!({
            "model": input.model,
            "messages": messages(input.prompt, input.images),
            "max_completion_tokens": input.output_len,
            "stream": input.stream,
        });
        finish_body(body, input, true)
    }

    fn frame(&self, data: &str, st: &mut StreamState) -> Result<Output, FrameError> {
        match super::fast::chat_delta(data, st) {
            Some(out) => Ok(out),
            None => chat_value(data, st),
        }
    }

    fn whole(&self, body: &str, st: &mut StreamState) -> Result<Output, FrameError> {
        let v = json_frame(body)?;
        let usage = take_usage(&v, st);
        let text = first_choice(&v)
            .map(|c| chat_text(&c["message"]))
            .unwrap_or_default();
        Ok(st.push_text(&text, usage))
    }
}

impl Protocol for Truss {
    /// bench_serving's fixed Truss body: no LoRA, images, logprobs or stream options.
    fn body(&self, input: &BodyInput<'_>) -> Value {
        let mut body = json!({
            "model": input.model,
            "prompt": input.prompt_value(),
            "temperature": input.options.temperature.unwrap_or(0.0),
            "best_of": 1,
            "max_tokens": input.output_len,
            "stream": input.stream,
            "ignore_eos": input.ignore_eos,
        });
        if let Some(p) = input.options.top_p.filter(|p| *p < 1.0) {
            body["top_p"] = json!(p);
        }
        merge(&mut body, input);
        body
    }

    fn frame(&self, data: &str, st: &mut StreamState) -> Result<Output, FrameError> {
        completion_frame(data, st)
    }

    fn done_marker(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::test_input::{Owned, obj};
    use crate::record::StreamProblem;

    #[test]
    fn completions_body_matches_bench_serving() {
        let o = Owned::text("hi there");
        assert_eq!(
            Completions.body(&o.input()).to_string(),
            r#"{"model":"m","prompt":"hi there","best_of":1,"max_tokens":8,"stream":true,"temperature":0.0,"ignore_eos":true}"#
        );
    }

    #[test]
    fn completions_body_with_every_option() {
        let mut o = Owned::text("hi");
        o.prompt = Prompt::Ids(vec![1, 2, 3]);
        o.options.include_usage = true;
        o.options.ignore_eos = false;
        o.options.temperature = Some(0.5);
        o.options.top_p = Some(0.9);
        o.options.logprobs.enabled = true;
        o.options.logprobs.top_n = 3;
        o.options.extra_body = obj(json!({"seed": 1, "best_of": 2}));
        o.row_extra = obj(json!({"seed": 2}));
        o.lora = Some("ad1".into());
        o.images = vec!["data:image/png;base64,AA".into()];
        assert_eq!(
            Completions.body(&o.input()).to_string(),
            r#"{"model":"ad1","prompt":[1,2,3],"best_of":2,"max_tokens":8,"stream":true,"temperature":0.5,"top_p":0.9,"ignore_eos":false,"logprobs":3,"stream_options":{"include_usage":true},"seed":2,"lora_path":"ad1","image_data":["data:image/png;base64,AA"]}"#
        );
        o.options.stream = false;
        assert!(Completions.body(&o.input()).get("stream_options").is_none());
    }

    #[test]
    fn chat_body_matches_bench_serving() {
        let o = Owned::text("hi there");
        assert_eq!(
            Chat.body(&o.input()).to_string(),
            r#"{"model":"m","messages":[{"role":"user","content":"hi there"}],"max_completion_tokens":8,"stream":true,"temperature":0.0,"ignore_eos":true}"#
        );
    }

    #[test]
    fn chat_body_with_images_and_extra() {
        let mut o = Owned::text("what is this");
        o.images = vec![
            "data:image/jpeg;base64,A".into(),
            "data:image/jpeg;base64,B".into(),
        ];
        o.options.extra_body = obj(json!({"temperature": 0.7, "top_p": 0.9}));
        assert_eq!(
            Chat.body(&o.input()).to_string(),
            r#"{"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/jpeg;base64,A"}},{"type":"image_url","image_url":{"url":"data:image/jpeg;base64,B"}},{"type":"text","text":"what is this"}]}],"max_completion_tokens":8,"stream":true,"ignore_eos":true,"temperature":0.7,"top_p":0.9}"#
        );
    }

    #[test]
    fn chat_sends_a_message_list_verbatim() {
        let mut o = Owned::text("");
        let msgs = vec![
            json!({"role": "system", "content": "be brief"}),
            json!({"role": "user", "content": "hi"}),
        ];
        o.prompt = Prompt::Messages(msgs.clone());
        assert_eq!(Chat.body(&o.input())["messages"], json!(msgs));
    }

    #[test]
    fn truss_body_matches_bench_serving() {
        let o = Owned::text("hi");
        assert_eq!(
            Truss.body(&o.input()).to_string(),
            r#"{"model":"m","prompt":"hi","temperature":0.0,"best_of":1,"max_tokens":8,"stream":true,"ignore_eos":true}"#
        );
    }

    #[test]
    fn frames_count_text_and_usage() {
        let mut st = StreamState::default();
        let f = |d: &str, st: &mut StreamState| Completions.frame(d, st);
        assert_eq!(
            f(r#"{"choices":[{"text":" a"}]}"#, &mut st),
            Ok(Output::Chunk)
        );
        assert_eq!(
            f(r#"{"choices":[{"text":""}]}"#, &mut st),
            Ok(Output::Nothing)
        );
        assert_eq!(
            f(
                r#"{"choices":[],"usage":{"completion_tokens":1,"prompt_tokens":3}}"#,
                &mut st
            ),
            Ok(Output::Nothing)
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
                r#"{"choices":[{"delta":{"role":"assistant","content":null}}]}"#,
                &mut st
            ),
            Ok(Output::Nothing)
        );
        assert_eq!(
            Chat.frame(
                r#"{"choices":[{"delta":{"reasoning_content":"r","content":"x"}}]}"#,
                &mut st
            ),
            Ok(Output::Chunk)
        );
        assert_eq!(st.text, "rx");
    }

    #[test]
    fn running_usage_counts_the_tokens_of_each_chunk() {
        let mut st = StreamState::default();
        let f = |d: &str, st: &mut StreamState| Chat.frame(d, st);
        assert_eq!(
            f(
                r#"{"choices":[{"delta":{"content":"a b"}}],"usage":{"completion_tokens":2}}"#,
                &mut st
            ),
            Ok(Output::Tokens(2))
        );
        assert_eq!(
            f(
                r#"{"choices":[{"delta":{"content":" c d e"}}],"usage":{"completion_tokens":5}}"#,
                &mut st
            ),
            Ok(Output::Tokens(3))
        );
    }

    #[test]
    fn non_streamed_chat_reads_message_and_usage() {
        let mut st = StreamState::default();
        let body = r#"{"choices":[{"message":{"role":"assistant","content":"hello there"}}],"usage":{"prompt_tokens":4,"completion_tokens":2}}"#;
        assert_eq!(Chat.whole(body, &mut st), Ok(Output::Tokens(2)));
        assert_eq!(st.text, "hello there");
    }
}
