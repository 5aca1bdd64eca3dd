//! Datasets: a scenario's `datasets:` entry, the run seed and a tokenizer become the run's
//! requests, with bench_serving's semantics per kind (spec §3).
//!
//! In: a [`Dataset`], a seed, a [`Tokenizer`] and the [`Sources`] of files. Out:
//! `Vec<RequestSpec>` in dispatch order, or a [`DatasetError`] naming the file or option at
//! fault. Every random choice comes from a ChaCha8 stream seeded by (seed, purpose), so the
//! same dataset and seed give the same requests, and the arrival schedule (its own stream)
//! never shifts them.
//!
//! One file per family: [`sharegpt`] (sharegpt, custom), [`random`] (random, random-ids,
//! exact lengths), [`image`] (image, mmmu), [`shared_prefix`], [`mooncake`], [`files`]
//! (openai, longbench_v2, speed-bench, agentic-trace); [`inspect`] prints a workload.

pub use crate::fetch;
pub mod files;
pub mod image;
pub mod inspect;
pub mod mooncake;
pub mod random;
pub mod shared_prefix;
pub mod sharegpt;

use std::path::{Path, PathBuf};

use rand::rngs::ChaCha8Rng;
use rand::{RngExt, SeedableRng};

pub use crate::fetch::{FetchError, Sources};

use crate::requests::RequestSpec;
use crate::scenario::Dataset;
use crate::tokenizer::{Tokenizer, TokenizerError};

/// A dataset could not be built.
#[derive(Debug, thiserror::Error)]
pub enum DatasetError {
    /// A file could not be read.
    #[error("dataset `{dataset}`: cannot read {path}: {reason}")]
    Read {
        /// Dataset name.
        dataset: String,
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// A file's content is not what the kind expects.
    #[error("dataset `{dataset}`: {path}{}: {reason}", line.map(|l| format!(":{l}")).unwrap_or_default())]
    Format {
        /// Dataset name.
        dataset: String,
        /// The file.
        path: PathBuf,
        /// 1-based line, for JSON-lines files.
        line: Option<usize>,
        /// What is wrong.
        reason: String,
    },
    /// A file is missing and could not be fetched.
    #[error("dataset `{dataset}`: {cause}")]
    Fetch {
        /// Dataset name.
        dataset: String,
        /// Why (in the message, not as a source: printing the chain would repeat it).
        cause: Box<FetchError>,
    },
    /// The tokenizer failed (chat template, server).
    #[error("dataset `{dataset}`: {cause}")]
    Tokenizer {
        /// Dataset name.
        dataset: String,
        /// Why (in the message, not as a source: printing the chain would repeat it).
        cause: TokenizerError,
    },
    /// The options cannot produce requests.
    #[error("dataset `{dataset}`: {reason}")]
    Invalid {
        /// Dataset name.
        dataset: String,
        /// What is wrong and what to do.
        reason: String,
    },
}

/// What every dataset builder gets.
pub struct Ctx<'a> {
    /// Dataset name (for errors).
    pub name: &'a str,
    /// Run seed.
    pub seed: u64,
    /// The tokenizer.
    pub tok: &'a Tokenizer,
    /// Where downloaded files live.
    pub sources: &'a Sources,
}

impl Ctx<'_> {
    /// A ChaCha8 stream for one purpose of this dataset, seeded by (seed, dataset name), so
    /// two datasets of a sweep never share prompt prefixes by accident.
    pub fn rng(&self, purpose: Stream) -> ChaCha8Rng {
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed ^ DATASET_STREAM ^ fnv1a(self.name));
        rng.set_stream(purpose as u64);
        rng
    }

    /// An [`DatasetError::Invalid`].
    pub fn invalid(&self, reason: impl Into<String>) -> DatasetError {
        DatasetError::Invalid {
            dataset: self.name.into(),
            reason: reason.into(),
        }
    }

    /// A [`DatasetError::Format`].
    pub fn format(
        &self,
        path: &Path,
        line: Option<usize>,
        reason: impl Into<String>,
    ) -> DatasetError {
        DatasetError::Format {
            dataset: self.name.into(),
            path: path.into(),
            line,
            reason: reason.into(),
        }
    }

    /// Wrap a tokenizer error.
    pub fn tok_err(&self, e: TokenizerError) -> DatasetError {
        DatasetError::Tokenizer {
            dataset: self.name.into(),
            cause: e,
        }
    }

    /// A file from the download cache (fetched when allowed): `what` names it in errors.
    pub fn cached(
        &self,
        dir: &str,
        file: &str,
        url: &str,
        what: &str,
    ) -> Result<PathBuf, DatasetError> {
        let hint = "download it and give its path as the dataset's `path:`";
        let cause = |cause| DatasetError::Fetch {
            dataset: self.name.into(),
            cause: Box::new(cause),
        };
        self.sources
            .cached(dir, file, url, what, hint)
            .map_err(cause)
    }

    /// Read a whole file.
    pub fn read(&self, path: &Path) -> Result<String, DatasetError> {
        std::fs::read_to_string(path).map_err(|e| DatasetError::Read {
            dataset: self.name.into(),
            path: path.into(),
            reason: e.to_string(),
        })
    }

    /// The JSON values of a JSON-lines file with their 1-based line numbers; blank lines are
    /// skipped, and so are lines that do not parse when `skip_bad`.
    pub fn jsonl(
        &self,
        path: &Path,
        skip_bad: bool,
    ) -> Result<Vec<(usize, serde_json::Value)>, DatasetError> {
        let text = self.read(path)?;
        let mut out = Vec::new();
        for (i, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            match serde_json::from_str(line) {
                Ok(v) => out.push((i + 1, v)),
                Err(_) if skip_bad => {}
                Err(e) => return Err(self.format(path, Some(i + 1), e.to_string())),
            }
        }
        Ok(out)
    }
}

/// Purposes of the dataset's random streams.
#[derive(Debug, Clone, Copy)]
pub enum Stream {
    /// Input and output lengths.
    Lengths = 1,
    /// Shuffles and samples of rows.
    Shuffle = 2,
    /// Prompt tokens.
    Tokens = 3,
    /// Image sizes, counts and pixels.
    Images = 4,
    /// Group assignment (shared prefix).
    Groups = 5,
}

/// FNV-1a hash of a name.
fn fnv1a(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Base of the dataset streams, so prompts never depend on the arrival schedule.
const DATASET_STREAM: u64 = 0x6461_7461_7365_7400;

/// Build the requests of `dataset` for `seed`.
pub fn build(
    dataset: &Dataset,
    seed: u64,
    tok: &Tokenizer,
    sources: &Sources,
) -> Result<Vec<RequestSpec>, DatasetError> {
    let ctx = Ctx {
        name: dataset.name(),
        seed,
        tok,
        sources,
    };
    match dataset {
        Dataset::Sharegpt(d) => sharegpt::sharegpt(d, &ctx),
        Dataset::Custom(d) => sharegpt::custom(d, &ctx),
        Dataset::Random(d) => random::random(d, &ctx),
        Dataset::RandomIds(d) => random::random_ids(d, &ctx),
        Dataset::Image(d) => image::image(d, &ctx),
        Dataset::Mmmu(d) => image::mmmu(d, &ctx),
        Dataset::GeneratedSharedPrefix(d) => shared_prefix::build(d, &ctx),
        Dataset::Mooncake(d) => mooncake::build(d, &ctx),
        Dataset::Openai(d) => files::openai(d, &ctx),
        Dataset::LongbenchV2(d) => files::longbench(d, &ctx),
        Dataset::SpeedBench(d) => files::speed_bench(d, &ctx),
        Dataset::AgenticTrace(d) => files::agentic_trace(d, &ctx),
    }
}

/// bench_serving's length sampler (§3.1): integers uniform on
/// `[max(floor(full * ratio), 1), full]`, or all zeros when `full` is 0.
pub fn random_lens(full: u32, ratio: f64, n: usize, rng: &mut ChaCha8Rng) -> Vec<u32> {
    if full == 0 {
        return vec![0; n];
    }
    let low = ((full as f64 * ratio) as u32).clamp(1, full);
    (0..n).map(|_| rng.random_range(low..=full)).collect()
}

/// Fisher–Yates shuffle with the given stream.
pub fn shuffle<T>(items: &mut [T], rng: &mut ChaCha8Rng) {
    for i in (1..items.len()).rev() {
        let j = rng.random_range(0..=i);
        items.swap(i, j);
    }
}

/// `n` tokens drawn uniformly from `alphabet`.
pub fn draw_tokens(alphabet: &[u32], n: usize, rng: &mut ChaCha8Rng) -> Vec<u32> {
    (0..n)
        .map(|_| alphabet[rng.random_range(0..alphabet.len())])
        .collect()
}

/// Count `text` as bench_serving does: `len(tokenizer.encode(text))`, special tokens added.
pub fn measure(tok: &Tokenizer, text: &str) -> u32 {
    tok.count_with_special(text) as u32
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_failed_download_says_why_once() {
        let dir = tempfile::tempdir().unwrap();
        // Nothing listens on port 1 of loopback: the cause is a refused connection.
        let reason =
            super::fetch::download("http://127.0.0.1:1/x.json", &dir.path().join("x"), None)
                .unwrap_err();
        assert!(
            reason.to_lowercase().contains("connection refused"),
            "{reason}"
        );
        let err = super::DatasetError::Fetch {
            dataset: "s".into(),
            cause: Box::new(super::FetchError::Download {
                what: "the ShareGPT dataset".into(),
                url: "http://127.0.0.1:1/x.json".into(),
                reason,
                hint: "give its path".into(),
            }),
        };
        let shown = format!("{:#}", anyhow::Error::from(err));
        assert_eq!(shown.matches("cannot download").count(), 1, "{shown}");
        assert!(
            shown.to_lowercase().contains("connection refused"),
            "{shown}"
        );
    }

    use super::*;

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
    fn shuffle_is_a_seeded_permutation() {
        let mut a: Vec<u32> = (0..50).collect();
        shuffle(&mut a, &mut ChaCha8Rng::seed_from_u64(3));
        let mut b: Vec<u32> = (0..50).collect();
        shuffle(&mut b, &mut ChaCha8Rng::seed_from_u64(3));
        assert_eq!(a, b);
        assert_ne!(a, (0..50).collect::<Vec<_>>());
        a.sort();
        assert_eq!(a, (0..50).collect::<Vec<_>>());
    }
}
