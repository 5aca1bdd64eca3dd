//! `generated-shared-prefix` (spec §3.6): groups of prompts that share a long system prompt.
//!
//! In: group and length options. Out: `num_groups × prompts_per_group` requests. Lengths use
//! the §3.1 sampler (system prompt per group, question per slot and turn, output per slot);
//! texts are decoded random ordinary tokens. Slot `s` belongs to group `s / prompts_per_group`
//! (`uniform`) or to a group drawn with probability ∝ 1/rank^alpha (`zipf`, group 0 hottest);
//! questions are indexed by slot, so both modes ask the same questions. The first turn is
//! `"{system}\n\n{question}"`; with `num_turns > 1` the request is a multi-turn chat
//! ([`Prompt::Turns`]) whose later turns are the other questions. `prompt_len` is the encoded
//! first turn. Requests are shuffled unless `ordered`.
//!
//! Differences from bench_serving, on purpose: the routing key is `"{8 hex}_{group}"` with
//! the hex drawn from the seed (bench_serving adds a wall-clock stamp, so its keys change
//! every run); there is no fast mode that records a prompt length of 1, and no pickle cache.

use rand::RngExt;
use rand_distr::Distribution;
use rand_distr::weighted::WeightedIndex;

use super::{Ctx, DatasetError, Stream, draw_tokens, measure, random_lens, shuffle};
use crate::requests::{Prompt, RequestSpec};
use crate::scenario::{GroupDistribution, SharedPrefixDataset};

/// Build `generated-shared-prefix`.
pub fn build(d: &SharedPrefixDataset, ctx: &Ctx<'_>) -> Result<Vec<RequestSpec>, DatasetError> {
    let (g, p, t) = (
        d.num_groups,
        d.prompts_per_group,
        d.num_turns.max(1) as usize,
    );
    if d.tokenize_prompt && t > 1 {
        return Err(ctx.invalid("tokenize_prompt works only with num_turns: 1"));
    }
    let slots = g * p;
    let mut lrng = ctx.rng(Stream::Lengths);
    let sys_lens = random_lens(d.system_prompt_len, d.range_ratio, g, &mut lrng);
    let q_lens = random_lens(d.question_len, d.range_ratio, slots * t, &mut lrng);
    let out_lens = random_lens(d.output_len, d.range_ratio, slots, &mut lrng);

    let alphabet = ctx.tok.sample_ids();
    let mut trng = ctx.rng(Stream::Tokens);
    let systems: Vec<Vec<u32>> = sys_lens
        .iter()
        .map(|&l| draw_tokens(alphabet, l as usize, &mut trng))
        .collect();
    let questions: Vec<Vec<u32>> = q_lens
        .iter()
        .map(|&l| draw_tokens(alphabet, l as usize, &mut trng))
        .collect();

    let mut grng = ctx.rng(Stream::Groups);
    let groups: Vec<usize> = match d.group_distribution {
        GroupDistribution::Uniform => (0..slots).map(|s| s / p).collect(),
        GroupDistribution::Zipf => {
            let alpha = d
                .zipf_alpha
                .filter(|a| a.is_finite() && *a > 0.0)
                .ok_or_else(|| ctx.invalid("group_distribution: zipf needs zipf_alpha > 0"))?;
            let weights: Vec<f64> = (1..=g).map(|r| (r as f64).powf(-alpha)).collect();
            let dist = WeightedIndex::new(&weights)
                .map_err(|e| ctx.invalid(format!("zipf weights: {e}")))?;
            (0..slots).map(|_| dist.sample(&mut grng)).collect()
        }
    };
    let run_key: String = (0..8)
        .map(|_| char::from_digit(grng.random_range(0..16u32), 16).expect("hex digit"))
        .collect();

    let sys_texts: Vec<String> = systems.iter().map(|ids| ctx.tok.decode(ids)).collect();
    let mut out = Vec::with_capacity(slots);
    for (slot, &group) in groups.iter().enumerate() {
        let qs = &questions[slot * t..(slot + 1) * t];
        let (prompt, len) = if d.tokenize_prompt {
            let ids: Vec<u32> = systems[group].iter().chain(&qs[0]).copied().collect();
            let len = ids.len() as u32;
            (Prompt::Ids(ids), len)
        } else {
            let first = format!("{}\n\n{}", sys_texts[group], ctx.tok.decode(&qs[0]));
            let len = measure(ctx.tok, &first);
            if t == 1 {
                (Prompt::Text(first), len)
            } else {
                let mut turns = vec![first];
                turns.extend(qs[1..].iter().map(|q| ctx.tok.decode(q)));
                (Prompt::Turns(turns), len)
            }
        };
        out.push(RequestSpec {
            prompt,
            prompt_len: len,
            measured_prompt_len: Some(len),
            text_prompt_len: len,
            output_len: out_lens[slot],
            routing_key: d.send_routing_key.then(|| format!("{run_key}_{group}")),
            ..RequestSpec::default()
        });
    }
    if !d.ordered {
        shuffle(&mut out, &mut ctx.rng(Stream::Shuffle));
    }
    Ok(out)
}
