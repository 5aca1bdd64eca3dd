//! OpenAI-style `/v1/embeddings` (bench_serving's `sglang-embedding` and `vllm-embedding`).
//! A request succeeds when the server answers 200 with a JSON body; it generates no tokens,
//! so its latency is the time to the parsed body and TTFT does not apply.

use serde_json::{Value, json};

use super::{BodyInput, FrameError, Output, Protocol, StreamState, json_frame, merge, usage_u32};

/// `/v1/embeddings`.
pub struct Embeddings;

impl Protocol for Embeddings {
    fn body(&self, input: &BodyInput<'_>) -> Value {
        let mut body = json!({"input": input.prompt_value(), "model": input.model});
        if let Some(lora) = input.lora {
            body["model"] = json!(lora);
            body["lora_path"] = json!(lora);
        }
        merge(&mut body, input);
        body
    }

    fn frame(&self, body: &str, st: &mut StreamState) -> Result<Output, FrameError> {
        let v = json_frame(body)?;
        if let Some(n) = v.get("usage").and_then(|u| usage_u32(u, "prompt_tokens")) {
            st.prompt_tokens = Some(n);
        }
        Ok(Output::Nothing)
    }

    fn generates(&self) -> bool {
        false
    }

    fn streams(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::test_input::{Owned, obj};

    #[test]
    fn body_matches_bench_serving() {
        let mut o = Owned::text("embed me");
        assert_eq!(
            Embeddings.body(&o.input()).to_string(),
            r#"{"input":"embed me","model":"m"}"#
        );
        o.lora = Some("ad".into());
        o.options.extra_body = obj(json!({"encoding_format": "float"}));
        assert_eq!(
            Embeddings.body(&o.input()).to_string(),
            r#"{"input":"embed me","model":"ad","lora_path":"ad","encoding_format":"float"}"#
        );
    }

    #[test]
    fn a_json_body_is_success_and_an_error_object_is_not() {
        let mut st = StreamState::default();
        let ok = r#"{"data":[{"embedding":[0.1,0.2],"index":0}],"usage":{"prompt_tokens":3,"total_tokens":3}}"#;
        assert_eq!(Embeddings.whole(ok, &mut st), Ok(Output::Nothing));
        assert_eq!(st.prompt_tokens, Some(3));
        assert!(
            Embeddings
                .whole(r#"{"error":{"message":"no"}}"#, &mut st)
                .is_err()
        );
    }
}
