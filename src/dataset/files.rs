//! File-based datasets (spec §3.8, §3.11): `openai`, `longbench_v2`, `speed-bench`,
//! `agentic-trace`.
//!
//! In: a local file each (JSON lines; `agentic-trace` one JSON document). Out: requests:
//! - `openai`: the first `num_prompts` lines with `messages` (0 = all), unshuffled; each is a
//!   [`Prompt::Messages`] with `max_tokens` (else `max_completion_tokens`, else 256) as output
//!   length and every other field except `model` as that request's extra body;
//!   `prompt_len` = the chat-templated messages encoded, plus `json.dumps(tools)` encoded.
//! - `longbench_v2`: shuffled; `"{context}\n\nQuestion: {question}\nA. …\nD. {choice_D}\nAnswer:"`,
//!   output length 10 unless given, `context_len` filter.
//! - `speed-bench`: the first of each line's `turns` (category filter), chat-templated
//!   then decoded; a seeded sample, or repeated and shuffled when more are asked for.
//! - `agentic-trace`: one [`Prompt::MessageTurns`] per conversation (rotated by `offset`,
//!   at most `max_turns` turns), output length per turn 220 unless given; `prompt_len` is the
//!   first turn's recorded `prompt_tokens`.

use std::path::Path;

use serde_json::Value;

use super::{Ctx, DatasetError, Stream, measure, shuffle};
use crate::requests::{Prompt, RequestSpec};
use crate::scenario::{AgenticTraceDataset, LongbenchDataset, OpenaiDataset, SpeedBenchDataset};

/// Build `openai`.
pub fn openai(d: &OpenaiDataset, ctx: &Ctx<'_>) -> Result<Vec<RequestSpec>, DatasetError> {
    let path = Path::new(&d.path);
    let mut out = Vec::new();
    for (line, v) in ctx.jsonl(path, true)? {
        if d.num_prompts > 0 && out.len() == d.num_prompts {
            break;
        }
        let Value::Object(mut obj) = v else {
            continue;
        };
        let Some(Value::Array(messages)) = obj.remove("messages") else {
            continue;
        };
        let max_tokens = obj.remove("max_tokens");
        let max_completion = obj.remove("max_completion_tokens");
        obj.remove("model");
        let line_len = max_tokens
            .or(max_completion)
            .and_then(|v| v.as_u64())
            .map(|n| n as u32);
        let output_len = d.output_len.or(line_len).unwrap_or(256);
        let rendered = ctx
            .tok
            .apply_chat_template(&messages, true, None)
            .map_err(|e| ctx.format(path, Some(line), e.to_string()))?;
        let mut prompt_len = ctx.tok.count(&rendered) as u32;
        if let Some(tools) = obj.get("tools") {
            prompt_len += measure(ctx.tok, &crate::chat_template::py_json(tools));
        }
        out.push(RequestSpec {
            prompt: Prompt::Messages(messages),
            prompt_len,
            measured_prompt_len: Some(prompt_len),
            text_prompt_len: prompt_len,
            output_len,
            extra_body: obj,
            ..RequestSpec::default()
        });
    }
    Ok(out)
}

fn text_field<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key].as_str().unwrap_or_default()
}

/// bench_serving's LongBench v2 prompt.
pub fn longbench_prompt(v: &Value) -> String {
    format!(
        "{}\n\nQuestion: {}\nA. {}\nB. {}\nC. {}\nD. {}\nAnswer:",
        text_field(v, "context"),
        text_field(v, "question"),
        text_field(v, "choice_A"),
        text_field(v, "choice_B"),
        text_field(v, "choice_C"),
        text_field(v, "choice_D"),
    )
}

/// Build `longbench_v2`.
pub fn longbench(d: &LongbenchDataset, ctx: &Ctx<'_>) -> Result<Vec<RequestSpec>, DatasetError> {
    let mut rows = ctx.jsonl(Path::new(&d.path), false)?;
    shuffle(&mut rows, &mut ctx.rng(Stream::Shuffle));
    let output_len = d.output_len.unwrap_or(10);
    let mut out = Vec::new();
    for (_, v) in rows {
        if out.len() == d.num_prompts {
            break;
        }
        let prompt = longbench_prompt(&v);
        let len = measure(ctx.tok, &prompt);
        if d.context_len.is_some_and(|c| len + output_len > c) {
            continue;
        }
        let mut r = RequestSpec::text(prompt, len, output_len);
        r.measured_prompt_len = Some(len);
        out.push(r);
    }
    Ok(out)
}

/// Build `speed-bench`.
pub fn speed_bench(d: &SpeedBenchDataset, ctx: &Ctx<'_>) -> Result<Vec<RequestSpec>, DatasetError> {
    let path = Path::new(&d.path);
    let category = d.category.map(|c| {
        serde_json::to_value(c)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default()
    });
    let mut unique = Vec::new();
    for (_, v) in ctx.jsonl(path, false)? {
        if let Some(c) = &category
            && v["category"].as_str() != Some(c)
        {
            continue;
        }
        let Some(first) = v["turns"].get(0).and_then(Value::as_str) else {
            continue;
        };
        let (prompt, len) = if ctx.tok.has_chat_template() {
            let msgs = [serde_json::json!({"role": "user", "content": first})];
            let rendered = ctx
                .tok
                .apply_chat_template(&msgs, true, None)
                .map_err(|e| ctx.tok_err(e))?;
            let ids = ctx.tok.encode(&rendered);
            (ctx.tok.decode(&ids), ids.len() as u32)
        } else {
            (first.to_owned(), measure(ctx.tok, first))
        };
        let mut r = RequestSpec::text(prompt, len, d.output_len);
        r.measured_prompt_len = Some(len);
        unique.push(r);
    }
    if unique.is_empty() {
        return Err(ctx.format(
            path,
            None,
            format!(
                "no rows with `turns`{}",
                category
                    .map(|c| format!(" in category {c}"))
                    .unwrap_or_default()
            ),
        ));
    }
    let mut rng = ctx.rng(Stream::Shuffle);
    if d.num_prompts <= unique.len() {
        shuffle(&mut unique, &mut rng);
        unique.truncate(d.num_prompts);
        Ok(unique)
    } else {
        let mut rows: Vec<RequestSpec> =
            unique.iter().cycle().take(d.num_prompts).cloned().collect();
        shuffle(&mut rows, &mut rng);
        Ok(rows)
    }
}

/// Build `agentic-trace`.
pub fn agentic_trace(
    d: &AgenticTraceDataset,
    ctx: &Ctx<'_>,
) -> Result<Vec<RequestSpec>, DatasetError> {
    let path = Path::new(&d.path);
    let doc: Value = serde_json::from_str(&ctx.read(path)?)
        .map_err(|e| ctx.format(path, None, format!("not JSON: {e}")))?;
    let mut convs = doc["conversations"].as_array().cloned().unwrap_or_default();
    if convs.is_empty() {
        return Err(ctx.format(path, None, "no `conversations` list"));
    }
    let offset = d.offset % convs.len();
    convs.rotate_left(offset);
    let output_len = d.output_len.unwrap_or(220);
    let mut out = Vec::new();
    for conv in convs {
        if d.num_prompts > 0 && out.len() == d.num_prompts {
            break;
        }
        let Some(turns) = conv.as_array() else {
            continue;
        };
        let mut deltas: Vec<Vec<Value>> = turns
            .iter()
            .filter_map(|t| t["messages"].as_array().filter(|m| !m.is_empty()).cloned())
            .collect();
        if let Some(m) = d.max_turns {
            deltas.truncate(m);
        }
        if deltas.is_empty() {
            continue;
        }
        let prompt_len = turns
            .first()
            .and_then(|t| t["prompt_tokens"].as_u64())
            .unwrap_or(0) as u32;
        out.push(RequestSpec {
            prompt: Prompt::MessageTurns(deltas),
            prompt_len,
            text_prompt_len: prompt_len,
            output_len,
            ..RequestSpec::default()
        });
    }
    if out.is_empty() {
        return Err(ctx.format(path, None, "no usable conversations"));
    }
    Ok(out)
}
