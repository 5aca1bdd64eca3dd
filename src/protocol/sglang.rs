//! SGLang's native `/generate` (bench_serving's `sglang` and `sglang-native` backends).
//! Responses carry the cumulative text and `meta_info.completion_tokens`; a frame's tokens
//! are the growth of that count since the last counted frame.

use serde_json::{Value, json};

use super::{BodyInput, FrameError, Protocol, StreamState, json_frame, merge, usage_u32};
use crate::workload::Prompt;

/// `/generate`.
pub struct Generate;

impl Protocol for Generate {
    fn path(&self) -> &'static str {
        "/generate"
    }

    fn body(&self, input: &BodyInput<'_>) -> Value {
        let (key, prompt) = match input.prompt {
            Prompt::Ids(_) => ("input_ids", input.prompt_value()),
            _ => ("text", input.prompt_value()),
        };
        let mut body = json!({
            key: prompt,
            "sampling_params": {
                "temperature": 0.0,
                "max_new_tokens": input.output_len,
                "ignore_eos": input.ignore_eos,
            },
            "stream": input.stream,
            "lora_path": null,
            "return_logprob": false,
            "return_routed_experts": false,
            "logprob_start_len": -1,
        });
        merge(&mut body, input);
        if !input.images.is_empty() {
            body["image_data"] = json!(input.images);
        }
        body
    }

    fn frame(&self, data: &str, st: &mut StreamState) -> Result<u32, FrameError> {
        let v = json_frame(data)?;
        let meta = &v["meta_info"];
        if let Some(n) = usage_u32(meta, "prompt_tokens") {
            st.prompt_tokens = Some(n);
        }
        let text = v["text"].as_str().unwrap_or("");
        if text.is_empty() {
            return Ok(0);
        }
        let Some(total) = usage_u32(meta, "completion_tokens") else {
            return Err(FrameError::malformed(
                "no meta_info.completion_tokens",
                data,
            ));
        };
        let new = total.saturating_sub(st.counted_tokens);
        if new == 0 {
            return Ok(0);
        }
        st.text.clear();
        st.text.push_str(text);
        st.completion_tokens = Some(total);
        st.counted_tokens = total;
        Ok(new)
    }

    fn whole(&self, body: &str, st: &mut StreamState) -> Result<u32, FrameError> {
        self.frame(body, st)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_matches_bench_serving() {
        let extra = serde_json::Map::new();
        let prompt = Prompt::Text("hi".into());
        let input = BodyInput {
            model: "m",
            prompt: &prompt,
            images: &[],
            row_extra: &extra,
            output_len: 4,
            stream: true,
            ignore_eos: true,
            include_usage: true,
            extra: &extra,
        };
        assert_eq!(
            Generate.body(&input).to_string(),
            r#"{"text":"hi","sampling_params":{"temperature":0.0,"max_new_tokens":4,"ignore_eos":true},"stream":true,"lora_path":null,"return_logprob":false,"return_routed_experts":false,"logprob_start_len":-1}"#
        );
    }

    #[test]
    fn cumulative_frames_count_new_tokens() {
        let mut st = StreamState::default();
        let f = |d: &str, st: &mut StreamState| Generate.frame(d, st);
        assert_eq!(
            f(
                r#"{"text":" a","meta_info":{"completion_tokens":1,"prompt_tokens":5}}"#,
                &mut st
            ),
            Ok(1)
        );
        assert_eq!(
            f(
                r#"{"text":" a","meta_info":{"completion_tokens":1}}"#,
                &mut st
            ),
            Ok(0)
        );
        assert_eq!(
            f(
                r#"{"text":" a b c","meta_info":{"completion_tokens":3}}"#,
                &mut st
            ),
            Ok(2)
        );
        assert_eq!(st.text, " a b c");
        assert_eq!((st.completion_tokens, st.prompt_tokens), (Some(3), Some(5)));
    }
}
