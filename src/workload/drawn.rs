//! A `random` dataset drawn one request at a time.
//!
//! In: the dataset, its seed and the tokenizer. Out: request `i` on demand, equal to row `i`
//! of the dataset built whole ([`crate::dataset::random::random`]). The lengths are drawn up
//! front (8 bytes a request); the token stream is run through once to note where each
//! request's tokens start (8 bytes a request), so any request is drawn by seeking the stream
//! there, in any order.

use rand::rngs::ChaCha8Rng;
use rand::{RngExt, SeedableRng};

use crate::dataset::random::{random_lengths, row};
use crate::dataset::{Ctx, DatasetError, Sources, Stream, draw_tokens};
use crate::requests::RequestSpec;
use crate::scenario::RandomDataset;
use crate::tokenizer::Tokenizer;

/// A `random` dataset (prompts from the vocabulary, not `exact_len`) drawn per request.
pub struct Drawn<'t> {
    tok: &'t Tokenizer,
    text: bool,
    input: Vec<u32>,
    output: Vec<u32>,
    /// The token stream's seed and stream number.
    tokens: ([u8; 32], u64),
    /// Word position of the token stream where each request's tokens start.
    starts: Vec<u64>,
}

impl<'t> Drawn<'t> {
    /// Draw the lengths and note where each request's tokens start.
    pub fn new(
        d: &RandomDataset,
        name: &str,
        seed: u64,
        tok: &'t Tokenizer,
    ) -> Result<Drawn<'t>, DatasetError> {
        let sources = Sources::from_env();
        let ctx = Ctx {
            name,
            seed,
            tok,
            sources: &sources,
        };
        let text = !d.tokenize_prompt;
        let (input, output) = random_lengths(d, &ctx)?;
        let alphabet = tok.sample_ids().len();
        let mut rng = ctx.rng(Stream::Tokens);
        let tokens = (rng.get_seed(), rng.get_stream());
        let starts = input
            .iter()
            .map(|&l| {
                let at = rng.get_word_pos() as u64;
                for _ in 0..l {
                    rng.random_range(0..alphabet);
                }
                at
            })
            .collect();
        Ok(Drawn {
            tok,
            text,
            input,
            output,
            tokens,
            starts,
        })
    }

    /// Number of requests.
    pub fn len(&self) -> usize {
        self.input.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.input.is_empty()
    }

    /// Request `i`'s (nominal prompt, output) lengths.
    pub fn lens(&self, i: usize) -> (u32, u32) {
        (self.input[i], self.output[i])
    }

    /// Request `i`, drawn.
    pub fn get(&self, i: usize) -> RequestSpec {
        let mut rng = ChaCha8Rng::from_seed(self.tokens.0);
        rng.set_stream(self.tokens.1);
        rng.set_word_pos(u128::from(self.starts[i]));
        let ids = draw_tokens(self.tok.sample_ids(), self.input[i] as usize, &mut rng);
        row(
            ids,
            self.input[i],
            self.output[i],
            self.text,
            false,
            self.tok,
            &mut rng,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::TokenSource;

    #[test]
    fn drawn_requests_equal_the_built_ones_in_any_order() {
        let tok = Tokenizer::builtin();
        for tokenize_prompt in [false, true] {
            let d = RandomDataset {
                name: "r".into(),
                num_prompts: 40,
                input_len: 24,
                output_len: 16,
                range_ratio: 0.25,
                source: TokenSource::Vocab,
                path: None,
                exact_len: false,
                tokenize_prompt,
            };
            let built =
                crate::workload::build(&crate::scenario::Dataset::Random(d.clone()), 7, &tok)
                    .unwrap();
            let drawn = Drawn::new(&d, "r", 7, &tok).unwrap();
            assert_eq!(drawn.len(), 40);
            for i in (0..40).rev() {
                assert_eq!(drawn.get(i), built[i], "request {i}");
            }
        }
    }
}
