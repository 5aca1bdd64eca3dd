//! Workload generation: a dataset and a seed become the run's list of requests.
//!
//! In: a [`Dataset`], the run seed and a [`Tokenizer`]. Out: `Vec<RequestSpec>` in dispatch
//! order. The same dataset and seed always give the same requests. Each dataset kind lives
//! in `src/dataset/`; the request types in `src/requests.rs`.

use crate::dataset::Sources;
pub use crate::dataset::{DatasetError, random_lens};
pub use crate::requests::{Prompt, RequestSpec};
use crate::scenario::Dataset;
use crate::tokenizer::Tokenizer;

/// Build the requests of `dataset` for `seed`, files found through the environment's
/// [`Sources`].
pub fn build(
    dataset: &Dataset,
    seed: u64,
    tokenizer: &Tokenizer,
) -> Result<Vec<RequestSpec>, DatasetError> {
    crate::dataset::build(dataset, seed, tokenizer, &Sources::from_env())
}
