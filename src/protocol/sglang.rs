//! SGLang's native `/generate` (bench_serving's `sglang` and `sglang-native` backends).
//! Responses carry the cumulative text and `meta_info.completion_tokens`; a frame's tokens
//! are the growth of that count since the last counted frame.

use serde_json::{Value, json};

use super::{
    BodyInput, FrameError, Output, Protocol, StreamState, json_frame, merge, take_cache, usage_u32,
};
use crate::workload::Prompt;

/// `/generate`.
pub struct Generate;

impl Protocol for Generate {
    fn body(&self, input: &BodyInput<'_>) -> Value {
        let (key, prompt) = match input.prompt {
            Prompt::Ids(_) => ("input_ids", input.prompt_value()),
            _ => ("text", input.prompt_value()),
        };
        let o = input.options;
        let mut sampling = json!({
            "temperature": o.temperature.unwrap_or(0.0),
            "max_new_tokens": input.output_len,
            "ignore_eos": input.ignore_eos,
        });
        if let Some(p) = o.top_p.filter(|p| *p < 1.0) {
            sampling["top_p"] = json!(p);
        }
        let mut body = json!({
            key: prompt,
            "sampling_params": sampling,
            "stream": input.stream,
            "lora_path": input.lora,
            "return_logprob": o.logprobs.enabled,
            "return_routed_experts": o.return_routed_experts,
            "logprob_start_len": o.logprobs.start_len,
        });
        merge(&mut body, input);
        if o.logprobs.top_n > 0 {
            body["top_logprobs_num"] = json!(o.logprobs.top_n);
        }
        if let Some(ids) = &o.logprobs.token_ids {
            body["token_ids_logprob"] = json!(ids);
        }
        if !input.images.is_empty() {
            body["image_data"] = json!(input.images);
        }
        body
    }

    fn frame(&self, data: &str, st: &mut StreamState) -> Result<Output, FrameError> {
        let v = json_frame(data)?;
        take_cache(&v, st);
        let meta = &v["meta_info"];
        if let Some(n) = usage_u32(meta, "prompt_tokens") {
            st.prompt_tokens = Some(n);
        }
        let text = v["text"].as_str().unwrap_or("");
        if text.is_empty() {
            return Ok(Output::Nothing);
        }
        let Some(total) = usage_u32(meta, "completion_tokens") else {
            return Err(FrameError::malformed(
                "no meta_info.completion_tokens",
                data,
            ));
        };
        let new = total.saturating_sub(st.counted_tokens);
        if new == 0 {
            return Ok(Output::Nothing);
        }
        st.text.clear();
        st.text.push_str(text);
        st.completion_tokens = Some(total);
        st.counted_tokens = total;
        Ok(Output::Tokens(new))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::test_input::{Owned, obj};

    #[test]
    fn body_matches_bench_serving() {
        let mut o = Owned::text("hi");
        o.output_len = 4;
        assert_eq!(
            Generate.body(&o.input()).to_string(),
            r#"{"text":"hi","sampling_params":{"temperature":0.0,"max_new_tokens":4,"ignore_eos":true},"stream":true,"lora_path":null,"return_logprob":false,"return_routed_experts":false,"logprob_start_len":-1}"#
        );
    }

    #[test]
    fn body_with_every_option() {
        let mut o = Owned::text("");
        o.output_len = 4;
        o.prompt = Prompt::Ids(vec![5, 6]);
        o.options.temperature = Some(0.3);
        o.options.top_p = Some(0.5);
        o.options.ignore_eos = false;
        o.options.stream = false;
        o.options.logprobs.enabled = true;
        o.options.logprobs.top_n = 2;
        o.options.logprobs.token_ids = Some(vec![7]);
        o.options.logprobs.start_len = 0;
        o.options.return_routed_experts = true;
        o.lora = Some("ad".into());
        o.images = vec!["data:image/png;base64,AA".into()];
        o.row_extra = obj(json!({"rid": "r1"}));
        assert_eq!(
            Generate.body(&o.input()).to_string(),
            r#"{"input_ids":[5,6],"sampling_params":{"temperature":0.3,"max_new_tokens":4,"ignore_eos":false,"top_p":0.5},"stream":false,"lora_path":"ad","return_logprob":true,"return_routed_experts":true,"logprob_start_len":0,"rid":"r1","top_logprobs_num":2,"token_ids_logprob":[7],"image_data":["data:image/png;base64,AA"]}"#
        );
    }

    #[test]
    fn extra_sampling_params_replace_the_whole_object() {
        let mut o = Owned::text("hi");
        o.options.extra_body = obj(json!({"sampling_params": {"temperature": 1.0}}));
        assert_eq!(
            Generate.body(&o.input())["sampling_params"],
            json!({"temperature": 1.0})
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
            Ok(Output::Tokens(1))
        );
        assert_eq!(
            f(
                r#"{"text":" a","meta_info":{"completion_tokens":1}}"#,
                &mut st
            ),
            Ok(Output::Nothing)
        );
        assert_eq!(
            f(
                r#"{"text":" a b c","meta_info":{"completion_tokens":3}}"#,
                &mut st
            ),
            Ok(Output::Tokens(2))
        );
        assert_eq!(st.text, " a b c");
        assert_eq!((st.completion_tokens, st.prompt_tokens), (Some(3), Some(5)));
    }
}
