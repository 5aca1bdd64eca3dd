//! Reports of finished runs: the console block, `runs.jsonl`, `summary.csv` and per-request
//! details. In: a [`RunInfo`] and its [`Summary`] (and records, for details). Out: text on
//! stdout and files in the results directory, appended and flushed run by run.

mod console;
mod csv;
mod durable;
mod jsonl;
pub mod plot;

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

pub use console::{block, block_with, notes};
pub use jsonl::result_json;

use crate::metrics::Summary;
use crate::record::RequestRecord;
use crate::scenario::{Concurrency, Rate};

/// What a result line says about the run besides its numbers.
#[derive(Debug, Clone)]
pub struct RunInfo {
    /// Run id from the plan.
    pub run_id: String,
    /// Scenario name.
    pub scenario: String,
    /// Target name.
    pub target: String,
    /// Backend name (`sglang`, `vllm-chat`, …).
    pub backend: String,
    /// Dataset name.
    pub dataset: String,
    /// Dataset kind (`random`, …): bench_serving's `dataset_name`.
    pub dataset_kind: String,
    /// Request rate.
    pub request_rate: Rate,
    /// Concurrency cap.
    pub max_concurrency: Concurrency,
    /// Run seed.
    pub seed: u64,
    /// `random_input_len`, `random_output_len`, `random_range_ratio` when they apply.
    pub random: Option<(u32, u32, f64)>,
    /// Report prefix-cache hits (`output.cache_report`, bench_serving's `--cache-report`).
    pub cache_report: bool,
    /// Start time, invocation id, labels and provenance.
    pub stamp: crate::provenance::Stamp,
}

/// The results directory with its files open for appending.
pub struct Results {
    dir: PathBuf,
    runs: File,
    summary: csv::SummaryCsv,
    details: bool,
}

impl Results {
    /// Create the directory and open the files, before anything is sent. `fresh` truncates
    /// earlier results instead of appending to them.
    pub fn open(dir: &Path, details: bool, fresh: bool) -> Result<Results> {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create results directory {}", dir.display()))?;
        let runs_path = dir.join("runs.jsonl");
        let runs = open_append(&runs_path, fresh)?;
        let summary = csv::SummaryCsv::open(&dir.join("summary.csv"), fresh)?;
        if details {
            std::fs::create_dir_all(dir.join("requests"))?;
        }
        Ok(Results {
            dir: dir.to_owned(),
            runs,
            summary,
            details,
        })
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Append one finished run everywhere, flushed before returning.
    pub fn run_done(
        &mut self,
        info: &RunInfo,
        s: &Summary,
        records: &[RequestRecord],
    ) -> Result<()> {
        // Details first, then the line, then the row: a run in runs.jsonl has the others, and
        // a failed write (disk full, file-size limit) leaves every file with whole records.
        if self.details {
            let name = info.run_id.replace(['/', '='], "_");
            let path = self.dir.join("requests").join(format!("{name}.jsonl"));
            let mut text = Vec::new();
            for r in records {
                serde_json::to_writer(&mut text, r)?;
                text.push(b'\n');
            }
            durable::create(&path, &text)?;
        }
        let line = serde_json::Value::Object(result_json(info, s));
        let path = self.dir.join("runs.jsonl");
        durable::append(&mut self.runs, &path, format!("{line}\n").as_bytes())?;
        self.summary.append(&line)?;
        Ok(())
    }
}

fn open_append(path: &Path, fresh: bool) -> Result<File> {
    let mut o = OpenOptions::new();
    o.create(true);
    if fresh {
        o.write(true).truncate(true);
    } else {
        o.append(true);
    }
    o.open(path)
        .with_context(|| format!("cannot open {} for writing", path.display()))
}
