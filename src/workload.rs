//! Workload generation: a dataset and a seed become the run's list of requests.
//!
//! In: a [`Dataset`], the run seed and a [`Tokenizer`]. Out: `Vec<RequestSpec>` in dispatch
//! order. The same dataset and seed always give the same requests.

use rand::rngs::ChaCha8Rng;
use rand::{RngExt, SeedableRng};

use crate::scenario::{Dataset, RandomDataset};
use crate::tokenizer::Tokenizer;

/// One request to send: what a dataset row becomes (bench_serving's `DatasetRow`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RequestSpec {
    /// The prompt.
    pub prompt: Prompt,
    /// Prompt length in tokens as the dataset counted it (text + vision).
    pub prompt_len: u32,
    /// Text part of `prompt_len`.
    pub text_prompt_len: u32,
    /// Vision part of `prompt_len` (image datasets).
    pub vision_prompt_len: u32,
    /// Output tokens to ask for.
    pub output_len: u32,
    /// Images as data URIs (`data:image/png;base64,…`).
    pub images: Vec<String>,
    /// Extra body fields of this row; they win over the scenario's `request.extra_body`.
    pub extra_body: serde_json::Map<String, serde_json::Value>,
    /// Routing key header value (generated-shared-prefix `send_routing_key`).
    pub routing_key: Option<String>,
    /// Due time from a trace, in seconds from the start (trace replay).
    pub timestamp_s: Option<f64>,
}

/// The prompt of a request.
#[derive(Debug, Clone, PartialEq)]
pub enum Prompt {
    /// Plain text.
    Text(String),
    /// Token ids (bench_serving's `--tokenize-prompt`; native and completions APIs).
    Ids(Vec<u32>),
    /// A ready chat message list (`[{role, content}, …]`), sent verbatim to chat APIs.
    Messages(Vec<serde_json::Value>),
    /// User turns of a multi-turn conversation, replayed one request per turn.
    Turns(Vec<String>),
}

impl Default for Prompt {
    fn default() -> Self {
        Prompt::Text(String::new())
    }
}

impl Prompt {
    /// The text, when the prompt is plain text.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Prompt::Text(s) => Some(s),
            _ => None,
        }
    }
}

impl RequestSpec {
    /// A text request whose whole prompt length is text.
    pub fn text(prompt: impl Into<String>, prompt_len: u32, output_len: u32) -> RequestSpec {
        RequestSpec {
            prompt: Prompt::Text(prompt.into()),
            prompt_len,
            text_prompt_len: prompt_len,
            output_len,
            ..RequestSpec::default()
        }
    }
}

/// Stream of the dataset RNG, so prompts never depend on the arrival schedule.
const DATASET_STREAM: u64 = 0x6461_7461_7365_7400;

/// Build the requests of `dataset` for `seed`.
pub fn build(dataset: &Dataset, seed: u64, tokenizer: &Tokenizer) -> Vec<RequestSpec> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ DATASET_STREAM);
    match dataset {
        Dataset::Random(d) => random(d, &mut rng, tokenizer),
    }
}

/// bench_serving's length sampler: integers uniform on `[max(floor(full * ratio), 1), full]`,
/// or all zeros when `full` is 0.
pub fn random_lens(full: u32, ratio: f64, n: usize, rng: &mut ChaCha8Rng) -> Vec<u32> {
    if full == 0 {
        return vec![0; n];
    }
    let low = ((full as f64 * ratio) as u32).max(1);
    (0..n).map(|_| rng.random_range(low..=full)).collect()
}

fn random(d: &RandomDataset, rng: &mut ChaCha8Rng, tokenizer: &Tokenizer) -> Vec<RequestSpec> {
    let n = d.num_prompts;
    let input = random_lens(d.input_len, d.range_ratio, n, rng);
    let output = random_lens(d.output_len, d.range_ratio, n, rng);
    let alphabet = tokenizer.sample_ids();
    let mut ids = Vec::new();
    input
        .into_iter()
        .zip(output)
        .map(|(in_len, out_len)| {
            ids.clear();
            ids.extend((0..in_len).map(|_| alphabet[rng.random_range(0..alphabet.len())]));
            RequestSpec::text(tokenizer.decode(&ids), in_len, out_len)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dataset(n: usize, ratio: f64) -> Dataset {
        Dataset::Random(RandomDataset {
            name: "r".into(),
            num_prompts: n,
            input_len: 64,
            output_len: 16,
            range_ratio: ratio,
        })
    }

    #[test]
    fn lengths_stay_in_bounds_and_prompts_have_them() {
        let tok = Tokenizer::builtin();
        let reqs = build(&dataset(200, 0.5), 7, &tok);
        assert_eq!(reqs.len(), 200);
        for r in &reqs {
            assert!((32..=64).contains(&r.prompt_len), "{}", r.prompt_len);
            assert!((8..=16).contains(&r.output_len), "{}", r.output_len);
            assert_eq!(
                tok.count(r.prompt.as_text().unwrap()),
                r.prompt_len as usize
            );
        }
        assert!(reqs.iter().any(|r| r.prompt_len == 32) && reqs.iter().any(|r| r.prompt_len == 64));
    }

    #[test]
    fn ratio_zero_starts_at_one_and_ratio_one_is_fixed() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let lens = random_lens(4, 0.0, 400, &mut rng);
        assert_eq!(*lens.iter().min().unwrap(), 1);
        assert_eq!(*lens.iter().max().unwrap(), 4);
        assert!(random_lens(9, 1.0, 50, &mut rng).iter().all(|&l| l == 9));
        assert_eq!(random_lens(0, 0.5, 3, &mut rng), vec![0, 0, 0]);
    }

    #[test]
    fn same_seed_same_requests() {
        let tok = Tokenizer::builtin();
        assert_eq!(
            build(&dataset(20, 0.0), 3, &tok),
            build(&dataset(20, 0.0), 3, &tok)
        );
        assert_ne!(
            build(&dataset(20, 0.0), 3, &tok),
            build(&dataset(20, 0.0), 4, &tok)
        );
    }
}
