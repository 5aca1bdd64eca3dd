//! Workload generation: a dataset and a seed become the run's requests.
//!
//! In: a [`Dataset`], the run seed and a [`Tokenizer`]. Out: a [`Workload`], the requests in
//! dispatch order, read one at a time by index. The same dataset and seed always give the
//! same requests. Each dataset kind lives in `src/dataset/`; the request types in
//! `src/requests.rs`.
//!
//! A workload is held one of two ways. Most kinds are built whole ([`build`]). A large
//! `random` dataset (more than [`DRAW_PAST`] prompts from the vocabulary) keeps only each
//! request's lengths and where its tokens start in the seeded stream ([`drawn`], 24 bytes a
//! request), and draws and decodes a prompt when the engine sends it: the requests are the
//! same as when built whole, and a million of them fit in tens of MB. A workload can be cut
//! to its first `n` requests, or to every `step`-th request from `first` (a shard), without
//! copying.

pub mod drawn;

use std::borrow::Cow;
use std::sync::Arc;

use crate::dataset::Sources;
pub use crate::dataset::{DatasetError, random_lens};
pub use crate::requests::{Prompt, RequestSpec};
use crate::scenario::{Dataset, TokenSource};
use crate::tokenizer::Tokenizer;

/// Prompts beyond which a `random` dataset is drawn per request instead of built whole (the
/// metrics' exact budget, `EXACT_MAX_REQUESTS`: a run within it behaves as it always did).
pub const DRAW_PAST: usize = 100_000;

/// Build the requests of `dataset` for `seed`, files found through the environment's
/// [`Sources`].
pub fn build(
    dataset: &Dataset,
    seed: u64,
    tokenizer: &Tokenizer,
) -> Result<Vec<RequestSpec>, DatasetError> {
    crate::dataset::build(dataset, seed, tokenizer, &Sources::from_env())
}

/// The requests of `dataset` for `seed`: built whole, or drawn per request when the dataset
/// is a large `random` one (see the module note).
pub fn load<'t>(
    dataset: &Dataset,
    seed: u64,
    tokenizer: &'t Tokenizer,
) -> Result<Workload<'t>, DatasetError> {
    if let Dataset::Random(d) = dataset
        && d.num_prompts > DRAW_PAST
        && matches!(d.source, TokenSource::Vocab)
        && !d.exact_len
    {
        return Ok(Workload::drawn(drawn::Drawn::new(
            d,
            dataset.name(),
            seed,
            tokenizer,
        )?));
    }
    Ok(Workload::from(build(dataset, seed, tokenizer)?))
}

/// Where a workload's requests come from.
enum Rows<'a> {
    /// Every request, built.
    Built(Cow<'a, [RequestSpec]>),
    /// Drawn when read.
    Drawn(drawn::Drawn<'a>),
}

/// A run's requests in dispatch order, read by index; cheap to clone and to cut.
#[derive(Clone)]
pub struct Workload<'a> {
    rows: Arc<Rows<'a>>,
    first: usize,
    step: usize,
    len: usize,
}

impl std::fmt::Debug for Workload<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Workload")
            .field("built", &self.rows().is_some())
            .field("first", &self.first)
            .field("step", &self.step)
            .field("len", &self.len)
            .finish()
    }
}

impl From<Vec<RequestSpec>> for Workload<'static> {
    fn from(v: Vec<RequestSpec>) -> Self {
        Workload::of(Rows::Built(Cow::Owned(v)))
    }
}

impl<'a> From<&'a [RequestSpec]> for Workload<'a> {
    fn from(v: &'a [RequestSpec]) -> Self {
        Workload::of(Rows::Built(Cow::Borrowed(v)))
    }
}

impl<'a> Workload<'a> {
    fn of(rows: Rows<'a>) -> Self {
        let len = match &rows {
            Rows::Built(v) => v.len(),
            Rows::Drawn(d) => d.len(),
        };
        Workload {
            rows: Arc::new(rows),
            first: 0,
            step: 1,
            len,
        }
    }

    /// A workload drawn per request.
    pub fn drawn(d: drawn::Drawn<'a>) -> Self {
        Workload::of(Rows::Drawn(d))
    }

    /// Number of requests.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Position of request `i` in the underlying rows.
    fn at(&self, i: usize) -> usize {
        self.first + i * self.step
    }

    /// Request `i` (`i < len`): borrowed when built, drawn otherwise.
    pub fn get(&self, i: usize) -> Cow<'_, RequestSpec> {
        assert!(i < self.len, "request {i} of {}", self.len);
        match &*self.rows {
            Rows::Built(v) => Cow::Borrowed(&v[self.at(i)]),
            Rows::Drawn(d) => Cow::Owned(d.get(self.at(i))),
        }
    }

    /// The first request, if any.
    pub fn first(&self) -> Option<Cow<'_, RequestSpec>> {
        (!self.is_empty()).then(|| self.get(0))
    }

    /// Every request, in order (drawn ones are drawn as the iterator goes).
    pub fn iter(&self) -> impl Iterator<Item = Cow<'_, RequestSpec>> + '_ {
        (0..self.len).map(|i| self.get(i))
    }

    /// The (nominal prompt, output) lengths of every request, without drawing prompts.
    pub fn lens(&self) -> impl Iterator<Item = (u32, u32)> + '_ {
        (0..self.len).map(|i| match &*self.rows {
            Rows::Built(v) => {
                let r = &v[self.at(i)];
                (r.prompt_len, r.output_len)
            }
            Rows::Drawn(d) => d.lens(self.at(i)),
        })
    }

    /// The requests as a slice, when they are built and not cut to a stride.
    pub fn rows(&self) -> Option<&[RequestSpec]> {
        match &*self.rows {
            Rows::Built(v) if self.step == 1 => Some(&v[self.first..self.first + self.len]),
            _ => None,
        }
    }

    /// Whether any request is a multi-turn conversation.
    pub fn has_conversations(&self) -> bool {
        match &*self.rows {
            Rows::Built(_) => self.iter().any(|r| r.prompt.is_conversation()),
            Rows::Drawn(_) => false,
        }
    }

    /// The first `n` requests (all when there are fewer).
    pub fn take(&self, n: usize) -> Workload<'a> {
        Workload {
            len: self.len.min(n),
            ..self.clone()
        }
    }

    /// Every `step`-th request from request `first` (a shard's share: `first` of `step`).
    pub fn every(&self, step: usize, first: usize) -> Workload<'a> {
        let step = step.max(1);
        Workload {
            rows: self.rows.clone(),
            first: self.at(first.min(self.len)),
            step: self.step * step,
            len: self.len.saturating_sub(first).div_ceil(step),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn specs(n: u32) -> Vec<RequestSpec> {
        (0..n).map(|i| RequestSpec::text("p", i, 1)).collect()
    }

    fn lens(w: &Workload<'_>) -> Vec<u32> {
        w.iter().map(|r| r.prompt_len).collect()
    }

    #[test]
    fn cuts_and_strides_pick_the_right_requests() {
        let w = Workload::from(specs(10));
        assert_eq!(lens(&w.take(3)), [0, 1, 2]);
        assert_eq!(lens(&w.every(3, 1)), [1, 4, 7]);
        assert_eq!(lens(&w.every(3, 0)), [0, 3, 6, 9]);
        assert_eq!(lens(&w.every(2, 1).every(2, 1)), [3, 7]);
        assert_eq!(lens(&w.every(4, 9)), [9]);
        assert!(w.every(4, 10).is_empty());
        assert_eq!(w.take(4).rows().map(<[_]>::len), Some(4));
        assert!(w.every(2, 0).rows().is_none());
        assert_eq!(
            w.every(3, 2).lens().collect::<Vec<_>>(),
            [(2, 1), (5, 1), (8, 1)]
        );
    }
}
