//! `sharegpt` and `custom` (spec §3.2, §3.7): the first two turns of each conversation as
//! prompt and reference reply.
//!
//! In: a ShareGPT JSON array (`[{conversations: [{from, value}, …]}, …]`) or a JSON-lines file
//! of conversations. Out: text requests. Conversations with fewer than two turns are dropped;
//! the rest are shuffled (seeded) and walked until `num_prompts` are kept: optional prompt
//! suffix, optional chat template (BOS removed), then `prompt_len = len(encode(prompt))` and
//! `output_len = len(encode(reply))` (special tokens included, as Python's `encode`) or the
//! fixed length; pairs with either length below 2, or over `context_len`, are skipped.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::{Ctx, DatasetError, Stream, measure, shuffle};
use crate::requests::RequestSpec;
use crate::scenario::{CustomDataset, SharegptDataset};

/// Where bench_serving downloads ShareGPT from.
pub const SHAREGPT_URL: &str = "https://huggingface.co/datasets/anon8231489123/ShareGPT_Vicuna_unfiltered/resolve/main/ShareGPT_V3_unfiltered_cleaned_split.json";
const SHAREGPT_FILE: &str = "ShareGPT_V3_unfiltered_cleaned_split.json";

/// Suffix re-appended after `prompt_suffix`.
const ASSISTANT_SUFFIX: &str = "Assistant:";

#[derive(Deserialize)]
struct Entry {
    #[serde(default, alias = "conversation")]
    conversations: Vec<Turn>,
}

#[derive(Deserialize)]
struct Turn {
    #[serde(default, alias = "content")]
    value: Option<String>,
}

/// Shared options of the two kinds.
struct Opts<'a> {
    num_prompts: usize,
    output_len: Option<u32>,
    context_len: Option<u32>,
    prompt_suffix: &'a str,
    apply_chat_template: bool,
}

/// The ShareGPT file: `path`, else the cached (or downloaded) one.
pub fn sharegpt_path(path: Option<&str>, ctx: &Ctx<'_>) -> Result<PathBuf, DatasetError> {
    match path {
        Some(p) => Ok(PathBuf::from(p)),
        None => ctx.cached(
            "sharegpt",
            SHAREGPT_FILE,
            SHAREGPT_URL,
            "the ShareGPT dataset",
        ),
    }
}

/// (prompt, reply) of every ShareGPT conversation with at least two turns, in file order.
pub fn load_pairs(path: &Path, ctx: &Ctx<'_>) -> Result<Vec<(String, String)>, DatasetError> {
    let text = ctx.read(path)?;
    let entries: Vec<Entry> = serde_json::from_str(&text).map_err(|e| {
        ctx.format(
            path,
            None,
            format!("not a ShareGPT JSON array of {{\"conversations\": [...]}}: {e}"),
        )
    })?;
    Ok(entries.into_iter().filter_map(pair).collect())
}

fn pair(e: Entry) -> Option<(String, String)> {
    let mut turns = e.conversations.into_iter();
    let (a, b) = (turns.next()?, turns.next()?);
    Some((a.value.unwrap_or_default(), b.value.unwrap_or_default()))
}

/// Build `sharegpt`.
pub fn sharegpt(d: &SharegptDataset, ctx: &Ctx<'_>) -> Result<Vec<RequestSpec>, DatasetError> {
    let path = sharegpt_path(d.path.as_deref(), ctx)?;
    let pairs = load_pairs(&path, ctx)?;
    let opts = Opts {
        num_prompts: d.num_prompts,
        output_len: d.output_len,
        context_len: d.context_len,
        prompt_suffix: &d.prompt_suffix,
        apply_chat_template: d.apply_chat_template,
    };
    select(pairs, &opts, ctx)
}

/// Build `custom`.
pub fn custom(d: &CustomDataset, ctx: &Ctx<'_>) -> Result<Vec<RequestSpec>, DatasetError> {
    let path = Path::new(&d.path);
    let pairs = ctx
        .jsonl(path, true)?
        .into_iter()
        .filter_map(|(_, v)| serde_json::from_value::<Entry>(v).ok())
        .filter_map(pair)
        .collect();
    let opts = Opts {
        num_prompts: d.num_prompts,
        output_len: d.output_len,
        context_len: d.context_len,
        prompt_suffix: &d.prompt_suffix,
        apply_chat_template: d.apply_chat_template,
    };
    select(pairs, &opts, ctx)
}

fn select(
    mut pairs: Vec<(String, String)>,
    o: &Opts<'_>,
    ctx: &Ctx<'_>,
) -> Result<Vec<RequestSpec>, DatasetError> {
    if let Some(n) = o.output_len
        && n < 4
    {
        return Err(ctx.invalid("output_len must be at least 4"));
    }
    shuffle(&mut pairs, &mut ctx.rng(Stream::Shuffle));
    let mut out = Vec::with_capacity(o.num_prompts.min(pairs.len()));
    for (prompt, reply) in pairs {
        if out.len() == o.num_prompts {
            break;
        }
        let mut prompt = prompt;
        if !o.prompt_suffix.is_empty() {
            let base = prompt.strip_suffix(ASSISTANT_SUFFIX).unwrap_or(&prompt);
            prompt = format!("{base}{}{ASSISTANT_SUFFIX}", o.prompt_suffix);
        }
        if o.apply_chat_template {
            prompt = ctx.tok.chat_prompt(&prompt).map_err(|e| ctx.tok_err(e))?;
        }
        let prompt_len = measure(ctx.tok, &prompt);
        let output_len = match o.output_len {
            Some(n) => n,
            None => measure(ctx.tok, &reply),
        };
        if prompt_len < 2 || output_len < 2 {
            continue;
        }
        if o.context_len.is_some_and(|c| prompt_len + output_len > c) {
            continue;
        }
        let mut r = RequestSpec::text(prompt, prompt_len, output_len);
        r.measured_prompt_len = Some(prompt_len);
        out.push(r);
    }
    Ok(out)
}
