//! `mooncake` (spec §3.9): trace replay.
//!
//! In: a Mooncake trace (JSON lines: `timestamp` in ms, `hash_ids`, `input_length`,
//! `output_length`), `path:` or the published `workload` trace from runner's cache
//! (downloaded when online). Out: one request per record (the first `num_prompts` lines),
//! sorted by timestamp, each with `timestamp_s = (ts - ts0) / 1000 × slowdown_factor`; with
//! `load.arrival: trace` the engine sends each at that time, for every backend.
//!
//! Prompts: `blocks` (default) gives every hash id a block of `block_size` tokens drawn from a
//! stream seeded by (seed, hash id), so records sharing hash ids share their prefix as in the
//! trace, and cuts the concatenation to `input_length`. `sglang` reproduces bench_serving:
//! per hash id `"{id}"` + 128 × `" hi"`, then `"Tell me a story based on this context."`,
//! rendered with the chat template (`role: content` lines without one); `input_length` is
//! ignored. With `num_rounds > 1` and `rounds: turn-by-turn` a record becomes a multi-turn
//! chat whose turn `i` is `"Round {i}: {base}"`, sent after the real reply to turn `i-1`; with
//! `rounds: all-at-once` (bench_serving's) it becomes `num_rounds` requests at the record's
//! time, round `i`'s prompt the chat-templated history of rounds 1..=i with placeholder
//! replies (`"story"` × the output length) between them.

use std::path::PathBuf;

use rand::SeedableRng;
use rand::rngs::ChaCha8Rng;

use super::{Ctx, DatasetError, draw_tokens, measure};
use crate::requests::{Prompt, RequestSpec};
use crate::scenario::{MooncakeDataset, MooncakePrompt, MooncakeWorkload};

const BASE_URL: &str = "https://raw.githubusercontent.com/kvcache-ai/Mooncake/main/FAST25-release/";

/// File name and URL of a published trace.
pub fn trace_source(w: MooncakeWorkload) -> (&'static str, String) {
    let (file, sub) = match w {
        MooncakeWorkload::Mooncake => ("mooncake_trace.jsonl", "arxiv-trace/mooncake_trace.jsonl"),
        MooncakeWorkload::Conversation => (
            "conversation_trace.jsonl",
            "traces/conversation_trace.jsonl",
        ),
        MooncakeWorkload::Synthetic => ("synthetic_trace.jsonl", "traces/synthetic_trace.jsonl"),
        MooncakeWorkload::Toolagent => ("toolagent_trace.jsonl", "traces/toolagent_trace.jsonl"),
    };
    (file, format!("{BASE_URL}{sub}"))
}

struct Record {
    timestamp_ms: f64,
    hash_ids: Vec<u64>,
    input_length: Option<u32>,
    output_length: Option<u32>,
}

/// Build `mooncake`.
pub fn build(d: &MooncakeDataset, ctx: &Ctx<'_>) -> Result<Vec<RequestSpec>, DatasetError> {
    let path = match &d.path {
        Some(p) => PathBuf::from(p),
        None => {
            let (file, url) = trace_source(d.workload);
            ctx.cached("mooncake", file, &url, "the Mooncake trace")?
        }
    };
    let mut records = Vec::new();
    for (line, v) in ctx.jsonl(&path, false)?.into_iter().take(d.num_prompts) {
        let err = |what: &str| ctx.format(&path, Some(line), what.to_owned());
        let timestamp_ms = v["timestamp"]
            .as_f64()
            .ok_or_else(|| err("no numeric `timestamp`"))?;
        let hash_ids = v["hash_ids"]
            .as_array()
            .map(|a| a.iter().filter_map(|h| h.as_u64()).collect())
            .unwrap_or_default();
        let len = |k: &str| v[k].as_u64().map(|n| n as u32);
        records.push(Record {
            timestamp_ms,
            hash_ids,
            input_length: len("input_length"),
            output_length: len("output_length"),
        });
    }
    records.sort_by(|a, b| a.timestamp_ms.total_cmp(&b.timestamp_ms));
    let ts0 = records.first().map_or(0.0, |r| r.timestamp_ms);
    let mut out = Vec::with_capacity(records.len());
    for r in &records {
        let base = match d.prompt {
            MooncakePrompt::Blocks => blocks(r, d.block_size, ctx),
            MooncakePrompt::Sglang => sglang_base(&r.hash_ids),
        };
        let output_len = r.output_length.unwrap_or(d.output_len);
        let timestamp_s = Some((r.timestamp_ms - ts0) / 1000.0 * d.slowdown_factor);
        if d.all_at_once() {
            for text in all_at_once(&base, d.num_rounds, output_len, ctx)? {
                let n = measure(ctx.tok, &text);
                out.push(RequestSpec {
                    prompt: Prompt::Text(text),
                    prompt_len: n,
                    measured_prompt_len: Some(n),
                    text_prompt_len: n,
                    output_len,
                    timestamp_s,
                    ..RequestSpec::default()
                });
            }
            continue;
        }
        let (prompt, measured) = if d.num_rounds > 1 {
            let turns: Vec<String> = (1..=d.num_rounds)
                .map(|i| format!("Round {i}: {base}"))
                .collect();
            let first = measure(ctx.tok, &turns[0]);
            (Prompt::Turns(turns), first)
        } else {
            let text = match d.prompt {
                MooncakePrompt::Blocks => base,
                MooncakePrompt::Sglang => {
                    let msg = [
                        serde_json::json!({"role": "user", "content": format!("Round 1: {base}")}),
                    ];
                    ctx.tok
                        .apply_chat_template(&msg, true, None)
                        .map_err(|e| ctx.tok_err(e))?
                }
            };
            let n = measure(ctx.tok, &text);
            (Prompt::Text(text), n)
        };
        let prompt_len = match d.prompt {
            MooncakePrompt::Blocks if d.num_rounds == 1 => r.input_length.unwrap_or(measured),
            _ => measured,
        };
        out.push(RequestSpec {
            prompt,
            prompt_len,
            measured_prompt_len: Some(measured),
            text_prompt_len: prompt_len,
            output_len,
            timestamp_s,
            ..RequestSpec::default()
        });
    }
    Ok(out)
}

/// bench_serving's multi-round prompts of one session: round `i` renders user turns
/// `"Round {j}: {base}"` for j in 1..=i with a placeholder assistant turn between them.
fn all_at_once(
    base: &str,
    rounds: u32,
    output_len: u32,
    ctx: &Ctx<'_>,
) -> Result<Vec<String>, DatasetError> {
    let placeholder = vec!["story"; output_len as usize].join(" ");
    let mut history = Vec::new();
    let mut out = Vec::with_capacity(rounds as usize);
    for i in 1..=rounds {
        if i > 1 {
            history.push(serde_json::json!({"role": "assistant", "content": placeholder}));
        }
        history.push(serde_json::json!({"role": "user", "content": format!("Round {i}: {base}")}));
        let text = ctx
            .tok
            .apply_chat_template(&history, true, None)
            .map_err(|e| ctx.tok_err(e))?;
        out.push(text);
    }
    Ok(out)
}

/// bench_serving's base text for a record.
fn sglang_base(hash_ids: &[u64]) -> String {
    let hi = vec!["hi"; 128].join(" ");
    let mut s: String = hash_ids.iter().map(|h| format!("{h}{hi}")).collect();
    s.push_str("Tell me a story based on this context.");
    s
}

/// One seeded block per hash id, cut (or extended with more blocks' worth of tokens) to the
/// record's input length.
fn blocks(r: &Record, block_size: u32, ctx: &Ctx<'_>) -> String {
    let alphabet = ctx.tok.sample_ids();
    let block = |seed: u64| {
        let mut rng =
            ChaCha8Rng::seed_from_u64(ctx.seed ^ seed.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        draw_tokens(alphabet, block_size as usize, &mut rng)
    };
    let mut ids: Vec<u32> = r.hash_ids.iter().flat_map(|&h| block(h)).collect();
    let target = r.input_length.map_or(ids.len(), |n| n as usize);
    let mut extra = 0u64;
    while ids.len() < target {
        // Beyond the listed blocks: unique tokens for this record.
        ids.extend(block(u64::MAX - extra - r.timestamp_ms as u64));
        extra += 1;
    }
    ids.truncate(target);
    ctx.tok.decode(&ids)
}
