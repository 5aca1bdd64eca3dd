//! Generation and embedding request bodies, per API, as the real servers read them.
//!
//! In: the JSON body and which API it came to. Out: a [`Parsed`] request — prompt shape and
//! hash, output limit, EOS and streaming options — or the 400 message a real server gives.

use serde_json::Value;

use super::super::hash::prompt_hash;
use super::super::text::PromptShape;

/// Which API a request came to; decides the response shapes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    /// SGLang native `/generate`.
    Generate,
    /// OpenAI `/v1/completions`.
    Completions,
    /// OpenAI `/v1/chat/completions`.
    Chat,
    /// OpenAI `/v1/embeddings`.
    Embeddings,
    /// TensorRT-LLM (Triton) `/v2/models/ensemble/generate[_stream]`.
    Trt,
    /// Truss `/v1/models/model:predict`.
    Truss,
}

/// A request as the server understood it.
#[derive(Debug, Clone, Default)]
pub struct Parsed {
    /// Prompt length and prefix blocks.
    pub shape: PromptShape,
    /// [`prompt_hash`] of the prompt text.
    pub prompt_hash: u64,
    /// Most output tokens.
    pub max_tokens: u32,
    /// Generate all `max_tokens` (no EOS).
    pub ignore_eos: bool,
    /// Stream the response.
    pub stream: bool,
    /// Add a usage chunk at the end of an OpenAI stream.
    pub include_usage: bool,
    /// SGLang's `return_cached_tokens_details`: split cached tokens by tier in the response.
    pub cache_details: bool,
    /// Embeddings: the inputs' texts (or id lists as text), one vector each.
    pub inputs: Vec<String>,
}

fn u32_of(v: &Value) -> Option<u32> {
    v.as_u64().map(|n| n.min(u64::from(u32::MAX)) as u32)
}

fn ids_of(v: &Value) -> Option<Vec<u64>> {
    v.as_array()?.iter().map(Value::as_u64).collect()
}

fn ids_text(ids: &[u64]) -> String {
    ids.iter().map(u64::to_string).collect::<Vec<_>>().join(",")
}

/// A prompt that is text or token ids; returns the text the hash covers.
fn prompt_into(v: &Value, shape: &mut PromptShape, what: &str) -> Result<String, String> {
    if let Some(s) = v.as_str() {
        shape.push_prompt(s);
        return Ok(s.to_owned());
    }
    if let Some(ids) = ids_of(v) {
        shape.push_ids(&ids);
        return Ok(ids_text(&ids));
    }
    if let Some([one]) = v.as_array().map(Vec::as_slice) {
        return prompt_into(one, shape, what);
    }
    Err(format!(
        "`{what}` must be a string or a list of token ids (batches are not supported by the embedded server)"
    ))
}

/// Parse the body of a request to `api`.
pub fn parse(api: Api, req: &Value) -> Result<Parsed, String> {
    let mut p = Parsed {
        stream: req["stream"].as_bool().unwrap_or(false),
        cache_details: req["return_cached_tokens_details"]
            .as_bool()
            .unwrap_or(false),
        ..Parsed::default()
    };
    let text = match api {
        Api::Generate => {
            let sp = &req["sampling_params"];
            p.max_tokens = u32_of(&sp["max_new_tokens"]).unwrap_or(128);
            p.ignore_eos = sp["ignore_eos"].as_bool().unwrap_or(false);
            let text = match (&req["text"], &req["input_ids"]) {
                (Value::Null, Value::Null) => {
                    return Err("either `text` or `input_ids` is required".into());
                }
                (Value::Null, ids) => prompt_into(ids, &mut p.shape, "input_ids")?,
                (t, _) => prompt_into(t, &mut p.shape, "text")?,
            };
            match &req["image_data"] {
                Value::String(uri) => p.shape.push_image(uri),
                Value::Array(uris) => uris
                    .iter()
                    .filter_map(Value::as_str)
                    .for_each(|u| p.shape.push_image(u)),
                _ => {}
            }
            text
        }
        Api::Completions | Api::Truss => {
            p.max_tokens = u32_of(&req["max_tokens"]).unwrap_or(16);
            p.ignore_eos = openai_ignore_eos(req, p.max_tokens);
            p.include_usage = req["stream_options"]["include_usage"]
                .as_bool()
                .unwrap_or(false);
            if req["prompt"].is_null() {
                return Err("`prompt` is required".into());
            }
            prompt_into(&req["prompt"], &mut p.shape, "prompt")?
        }
        Api::Chat => {
            p.max_tokens = u32_of(&req["max_completion_tokens"])
                .or_else(|| u32_of(&req["max_tokens"]))
                .unwrap_or(256);
            p.ignore_eos = openai_ignore_eos(req, p.max_tokens);
            p.include_usage = req["stream_options"]["include_usage"]
                .as_bool()
                .unwrap_or(false);
            chat_prompt(&req["messages"], &mut p.shape)?
        }
        Api::Trt => {
            p.max_tokens = u32_of(&req["max_tokens"]).unwrap_or(16);
            p.ignore_eos = u32_of(&req["min_length"]).is_some_and(|m| m >= p.max_tokens);
            let Some(t) = req["text_input"].as_str() else {
                return Err("`text_input` is required".into());
            };
            p.shape.push_prompt(t);
            t.to_owned()
        }
        Api::Embeddings => {
            p.stream = false;
            p.inputs = embedding_inputs(&req["input"], &mut p.shape)?;
            p.inputs.join("\n")
        }
    };
    p.prompt_hash = prompt_hash(&text);
    Ok(p)
}

/// vLLM and SGLang read `ignore_eos`; `min_tokens` ≥ `max_tokens` has the same effect.
fn openai_ignore_eos(req: &Value, max_tokens: u32) -> bool {
    req["ignore_eos"].as_bool().unwrap_or(false)
        || u32_of(&req["min_tokens"]).is_some_and(|m| m >= max_tokens)
}

/// Chat messages: text content counts as prompt tokens, images as image tokens. Returns the
/// message texts joined with `\n`.
fn chat_prompt(messages: &Value, shape: &mut PromptShape) -> Result<String, String> {
    let Some(messages) = messages.as_array().filter(|m| !m.is_empty()) else {
        return Err("`messages` must be a non-empty list".into());
    };
    let mut texts = Vec::new();
    for m in messages {
        match &m["content"] {
            Value::String(s) => {
                shape.push_text(s);
                texts.push(s.clone());
            }
            Value::Array(parts) => {
                for part in parts {
                    if let Some(t) = part["text"].as_str() {
                        shape.push_text(t);
                        texts.push(t.to_owned());
                    } else if let Some(u) = part["image_url"]["url"].as_str() {
                        shape.push_image(u);
                    }
                }
            }
            Value::Null => {}
            _ => return Err("message `content` must be a string or a list of parts".into()),
        }
    }
    Ok(texts.join("\n"))
}

/// `/v1/embeddings` input: a string, a list of strings, a list of ids or a list of id lists.
fn embedding_inputs(input: &Value, shape: &mut PromptShape) -> Result<Vec<String>, String> {
    let bad = || "`input` must be a string, a list of strings or a list of token-id lists";
    if let Some(s) = input.as_str() {
        shape.push_text(s);
        return Ok(vec![s.to_owned()]);
    }
    if let Some(ids) = ids_of(input).filter(|i| !i.is_empty()) {
        shape.push_ids(&ids);
        return Ok(vec![ids_text(&ids)]);
    }
    let items = input.as_array().filter(|a| !a.is_empty()).ok_or_else(bad)?;
    let mut out = Vec::new();
    for item in items {
        if let Some(s) = item.as_str() {
            shape.push_text(s);
            out.push(s.to_owned());
        } else if let Some(ids) = ids_of(item) {
            shape.push_ids(&ids);
            out.push(ids_text(&ids));
        } else {
            return Err(bad().into());
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn each_api_reads_its_own_fields() {
        let g = parse(
            Api::Generate,
            &json!({"text": "a b c", "sampling_params": {"max_new_tokens": 7, "ignore_eos": true}, "stream": true}),
        )
        .unwrap();
        assert_eq!(
            (g.shape.tokens, g.max_tokens, g.ignore_eos, g.stream),
            (3, 7, true, true)
        );
        assert_eq!(g.prompt_hash, prompt_hash("a b c"));
        let c = parse(
            Api::Completions,
            &json!({"prompt": [1, 2], "max_tokens": 4, "stream": true, "stream_options": {"include_usage": true}}),
        )
        .unwrap();
        assert_eq!(
            (c.shape.tokens, c.max_tokens, c.ignore_eos, c.include_usage),
            (2, 4, false, true)
        );
        let chat = parse(
            Api::Chat,
            &json!({"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "data:x"}}, {"type": "text", "text": "hi there"}]}], "max_completion_tokens": 9}),
        )
        .unwrap();
        let text_tokens = crate::tokenizer::Tokenizer::builtin().count("hi there") as u32;
        assert_eq!(
            (chat.shape.tokens, chat.max_tokens),
            (super::super::super::text::IMAGE_TOKENS + text_tokens, 9)
        );
        let t = parse(
            Api::Trt,
            &json!({"text_input": "x y", "max_tokens": 5, "min_length": 5, "stream": true}),
        )
        .unwrap();
        assert!(t.ignore_eos);
        let e = parse(Api::Embeddings, &json!({"input": ["a b", "c"]})).unwrap();
        assert_eq!((e.shape.tokens, e.inputs.len()), (3, 2));
    }

    #[test]
    fn missing_prompts_are_400_messages() {
        assert!(
            parse(Api::Generate, &json!({}))
                .unwrap_err()
                .contains("`text` or `input_ids`")
        );
        assert!(
            parse(Api::Chat, &json!({"messages": []}))
                .unwrap_err()
                .contains("non-empty")
        );
        assert!(
            parse(Api::Completions, &json!({"prompt": ["a", "b"]}))
                .unwrap_err()
                .contains("batches")
        );
    }
}
