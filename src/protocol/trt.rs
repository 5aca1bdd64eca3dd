//! TensorRT-LLM's Triton ensemble (`/v2/models/ensemble/generate_stream`, bench_serving's
//! `trt`). Every `data:` line carries `text_output`, appended to the output, one token event
//! per line. The stream has no `[DONE]`: it ends when the server closes it.

use serde_json::{Value, json};

use super::{BodyInput, FrameError, Output, Protocol, StreamState, json_frame, merge};

/// `/v2/models/ensemble/generate_stream`.
pub struct Trt;

impl Protocol for Trt {
    /// bench_serving's body; `ignore_eos: false` drops `min_length` and `end_id`.
    fn body(&self, input: &BodyInput<'_>) -> Value {
        let o = input.options;
        let mut body = json!({
            "accumulate_tokens": true,
            "text_input": input.prompt_value(),
            "temperature": o.temperature.unwrap_or(0.000001),
            "top_p": o.top_p.unwrap_or(1.0),
            "max_tokens": input.output_len,
            "stream": input.stream,
        });
        if input.ignore_eos {
            body["min_length"] = json!(input.output_len);
            body["end_id"] = json!(1048576);
        }
        merge(&mut body, input);
        body
    }

    fn frame(&self, data: &str, st: &mut StreamState) -> Result<Output, FrameError> {
        let v = json_frame(data)?;
        let text = v["text_output"].as_str().unwrap_or("");
        if text.is_empty() {
            return Ok(Output::Nothing);
        }
        st.text.push_str(text);
        Ok(Output::Chunk)
    }

    fn done_marker(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::test_input::Owned;

    #[test]
    fn body_matches_bench_serving() {
        let o = Owned::text("hi");
        assert_eq!(
            Trt.body(&o.input()).to_string(),
            r#"{"accumulate_tokens":true,"text_input":"hi","temperature":1e-6,"top_p":1.0,"max_tokens":8,"stream":true,"min_length":8,"end_id":1048576}"#
        );
    }

    #[test]
    fn disable_ignore_eos_drops_min_length_and_end_id() {
        let mut o = Owned::text("hi");
        o.options.ignore_eos = false;
        o.options.temperature = Some(0.5);
        let body = Trt.body(&o.input());
        assert!(body.get("min_length").is_none() && body.get("end_id").is_none());
        assert_eq!(body["temperature"], json!(0.5));
    }

    #[test]
    fn each_line_is_a_token_event() {
        let mut st = StreamState::default();
        assert_eq!(
            Trt.frame(r#"{"text_output":" a","model_name":"ensemble"}"#, &mut st),
            Ok(Output::Chunk)
        );
        assert_eq!(
            Trt.frame(r#"{"text_output":" b"}"#, &mut st),
            Ok(Output::Chunk)
        );
        assert_eq!(st.text, " a b");
    }
}
