//! `random` and `random-ids` (spec §3.3, §3.4), and exact-length prompts.
//!
//! In: lengths drawn with the §3.1 sampler (inputs first, then outputs). Out: text (or token
//! id) requests. In text mode the tokenizer's special-token count is taken off each input
//! length first (floor 1), since the server adds them back. Prompt tokens come from:
//! - `source: vocab`: uniform draws from the tokenizer's ordinary tokens;
//! - `source: sharegpt` (bench_serving): shuffled ShareGPT prompts, encoded with special
//!   tokens, cut to length or repeated then cut, one conversation per request (fewer
//!   requests when the file runs out);
//! - `random-ids`: ids `(offset + i + j) % vocab_size` with a random offset per request.
//!
//! Decoding ids and encoding the text again rarely gives the same count (byte-level tokens cut
//! inside a character decode to U+FFFD, neighbours merge). `prompt_len` keeps bench_serving's
//! nominal length (special tokens excluded); `measured_prompt_len` is the prompt re-encoded,
//! counted the same way. With `exact_len`, each prompt is re-encoded and cut or extended until
//! it encodes to exactly that length, so with the special tokens the server adds it is the
//! drawn length.

use rand::RngExt;
use rand::rngs::ChaCha8Rng;

use super::{Ctx, DatasetError, Stream, draw_tokens, random_lens, sharegpt, shuffle};
use crate::requests::{Prompt, RequestSpec};
use crate::scenario::{RandomDataset, RandomIdsDataset, TokenSource};
use crate::tokenizer::Tokenizer;

/// Input lengths (special tokens taken off in text mode) and output lengths.
fn lengths(
    input_len: u32,
    output_len: u32,
    ratio: f64,
    n: usize,
    text: bool,
    ctx: &Ctx<'_>,
) -> (Vec<u32>, Vec<u32>) {
    let mut rng = ctx.rng(Stream::Lengths);
    let mut input = random_lens(input_len, ratio, n, &mut rng);
    let output = random_lens(output_len, ratio, n, &mut rng);
    if text {
        let special = ctx.tok.num_special_tokens_to_add() as u32;
        for l in &mut input {
            *l = l.saturating_sub(special).max(1);
        }
    }
    (input, output)
}

/// `random`'s input and output lengths ([`lengths`]), for a tokenizer that has ordinary
/// tokens to draw prompts from (built whole here, or drawn lazily by the workload).
pub(crate) fn random_lengths(
    d: &RandomDataset,
    ctx: &Ctx<'_>,
) -> Result<(Vec<u32>, Vec<u32>), DatasetError> {
    if ctx.tok.sample_ids().is_empty() {
        return Err(ctx.invalid("the tokenizer has no ordinary tokens to draw prompts from"));
    }
    let text = !d.tokenize_prompt;
    Ok(lengths(
        d.input_len,
        d.output_len,
        d.range_ratio,
        d.num_prompts,
        text,
        ctx,
    ))
}

/// Build `random`.
pub fn random(d: &RandomDataset, ctx: &Ctx<'_>) -> Result<Vec<RequestSpec>, DatasetError> {
    let text = !d.tokenize_prompt;
    let (input, output) = random_lengths(d, ctx)?;
    let alphabet = ctx.tok.sample_ids();
    let mut rng = ctx.rng(Stream::Tokens);
    let bodies: Vec<Vec<u32>> = match d.source {
        TokenSource::Vocab => input
            .iter()
            .map(|&l| draw_tokens(alphabet, l as usize, &mut rng))
            .collect(),
        TokenSource::Sharegpt => sharegpt_ids(d, &input, ctx)?,
    };
    Ok(bodies
        .into_iter()
        .zip(input.iter().zip(&output))
        .map(|(ids, (&target, &out))| row(ids, target, out, text, d.exact_len, ctx.tok, &mut rng))
        .collect())
}

/// bench_serving's ShareGPT token space: one shuffled conversation per request, its prompt
/// ids cut or repeated to the target length; empty prompts skipped.
fn sharegpt_ids(
    d: &RandomDataset,
    targets: &[u32],
    ctx: &Ctx<'_>,
) -> Result<Vec<Vec<u32>>, DatasetError> {
    let path = sharegpt::sharegpt_path(d.path.as_deref(), ctx)?;
    let mut pairs = sharegpt::load_pairs(&path, ctx)?;
    shuffle(&mut pairs, &mut ctx.rng(Stream::Shuffle));
    let mut out = Vec::with_capacity(targets.len());
    for (prompt, _) in pairs {
        let Some(&target) = targets.get(out.len()) else {
            break;
        };
        let ids = ctx.tok.encode_with_special(&prompt);
        if ids.is_empty() {
            continue;
        }
        let target = target as usize;
        let reps = target.div_ceil(ids.len());
        let mut cut: Vec<u32> = ids.iter().copied().cycle().take(ids.len() * reps).collect();
        cut.truncate(target);
        out.push(cut);
    }
    Ok(out)
}

/// One request from its prompt ids.
pub(crate) fn row(
    ids: Vec<u32>,
    target: u32,
    output_len: u32,
    text: bool,
    exact: bool,
    tok: &Tokenizer,
    rng: &mut ChaCha8Rng,
) -> RequestSpec {
    if !text {
        let mut r = RequestSpec {
            prompt: Prompt::Ids(ids),
            prompt_len: target,
            text_prompt_len: target,
            output_len,
            ..RequestSpec::default()
        };
        r.measured_prompt_len = Some(target);
        return r;
    }
    let prompt = if exact {
        fit(tok, ids, target as usize, rng)
    } else {
        tok.decode(&ids)
    };
    // Measured like `prompt_len`: the prompt's own tokens, without the special tokens the
    // server adds around it.
    let measured = tok.count(&prompt) as u32;
    let mut r = RequestSpec::text(prompt, target, output_len);
    r.measured_prompt_len = Some(measured);
    r
}

/// Text that encodes (without special tokens) to exactly `target` tokens: decode, re-encode,
/// then cut the re-encoded ids (never inside a character) or extend them with tokens that
/// re-encode to themselves, until stable. Gives up after 64 rounds and returns the last text
/// (its measured length is still recorded).
pub fn fit(tok: &Tokenizer, ids: Vec<u32>, target: usize, rng: &mut ChaCha8Rng) -> String {
    let mut stable = Stable::default();
    let mut text = tok.decode(&ids);
    for _ in 0..64 {
        let mut ids = tok.encode(&text);
        if ids.len() == target {
            return text;
        }
        if ids.len() > target {
            ids.truncate(target);
            text = tok.decode(&ids);
            while text.ends_with('\u{FFFD}') && ids.pop().is_some() {
                text = tok.decode(&ids);
            }
        } else {
            while ids.len() < target {
                ids.push(stable.draw(tok, rng));
            }
            text = tok.decode(&ids);
        }
    }
    text
}

/// Tokens that decode to text which encodes back to the same single token.
#[derive(Default)]
struct Stable {
    seen: std::collections::HashMap<u32, bool>,
}

impl Stable {
    fn draw(&mut self, tok: &Tokenizer, rng: &mut ChaCha8Rng) -> u32 {
        let alphabet = tok.sample_ids();
        let mut last = alphabet[0];
        for _ in 0..200 {
            let id = alphabet[rng.random_range(0..alphabet.len())];
            last = id;
            let ok = *self.seen.entry(id).or_insert_with(|| {
                let t = tok.decode(&[id]);
                !t.contains('\u{FFFD}') && tok.encode(&t) == [id]
            });
            if ok {
                return id;
            }
        }
        last
    }
}

/// Build `random-ids`.
pub fn random_ids(d: &RandomIdsDataset, ctx: &Ctx<'_>) -> Result<Vec<RequestSpec>, DatasetError> {
    let text = !d.tokenize_prompt;
    let (input, output) = lengths(
        d.input_len,
        d.output_len,
        d.range_ratio,
        d.num_prompts,
        text,
        ctx,
    );
    let vocab = ctx.tok.vocab_size() as u64;
    if vocab == 0 {
        return Err(ctx.invalid("the tokenizer reports an empty vocabulary"));
    }
    let mut rng = ctx.rng(Stream::Tokens);
    let offsets: Vec<u64> = (0..d.num_prompts)
        .map(|_| rng.random_range(0..vocab))
        .collect();
    Ok(input
        .iter()
        .zip(&output)
        .enumerate()
        .map(|(i, (&len, &out))| {
            let ids: Vec<u32> = (0..u64::from(len))
                .map(|j| ((offsets[i] + i as u64 + j) % vocab) as u32)
                .collect();
            row(ids, len, out, text, false, ctx.tok, &mut rng)
        })
        .collect())
}
