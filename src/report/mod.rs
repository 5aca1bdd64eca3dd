//! Reports of finished runs: the console block, `runs.jsonl`, `summary.csv` and per-request
//! details. In: a [`RunInfo`] and its [`Summary`] (and records, for details). Out: text on
//! stdout and files in the results directory, appended and flushed run by run.

mod console;
mod csv;
mod details;
mod durable;
pub mod in_flight;
mod line;
pub mod plot;
pub mod table;

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

pub use console::{block, block_with, notes};
pub use line::{CacheReportLine, PerRequest, RunLine};

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
    /// Which repeat of its point the run is (`repeat: N`), from 1.
    pub repeat: Option<u32>,
    /// Why the run stopped before its last request (`"stopped"`), if it did.
    pub stopped: Option<&'static str>,
    /// Hash of the resolved scenario ([`crate::resume`]), for `runner run --resume`.
    pub scenario_hash: Option<String>,
    /// The SLO verdict, when the scenario has an `slo:` block.
    pub slo: Option<crate::slo::Verdict>,
    /// Set on the runs of a capacity search.
    pub search: Option<crate::plan::SearchMark>,
}

#[cfg(test)]
impl RunInfo {
    /// A run's info for tests: target and dataset named by the run id's first two parts,
    /// scenario `s`, rate `inf`, no concurrency cap, seed 1, nothing else set.
    pub(crate) fn for_test(id: &str, backend: &str, kind: &str) -> Self {
        let mut parts = id.split('/');
        RunInfo {
            run_id: id.into(),
            scenario: "s".into(),
            target: parts.next().unwrap_or_default().into(),
            backend: backend.into(),
            dataset: parts.next().unwrap_or_default().into(),
            dataset_kind: kind.into(),
            request_rate: Rate::Infinite,
            max_concurrency: Concurrency(0),
            seed: 1,
            random: None,
            cache_report: false,
            stamp: Default::default(),
            repeat: None,
            stopped: None,
            scenario_hash: None,
            slo: None,
            search: None,
        }
    }
}

/// The results directory with its files open for appending.
pub struct Results {
    dir: PathBuf,
    runs: File,
    summary: csv::SummaryCsv,
    details: bool,
    /// This invocation's result lines, for the sweep table.
    rows: Vec<RunLine>,
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
            if fresh {
                let _ = std::fs::remove_dir_all(dir.join("requests"));
            }
            std::fs::create_dir_all(dir.join("requests"))?;
        }
        Ok(Results {
            dir: dir.to_owned(),
            runs,
            summary,
            details,
            rows: Vec::new(),
        })
    }

    /// Whether per-request details are written.
    pub fn details(&self) -> bool {
        self.details
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
        let details = match self.details {
            true => Some(details::append(&self.dir, &info.run_id, records)?),
            false => None,
        };
        let line = RunLine {
            max_in_flight_requests: Some(in_flight::peak_of(s, records)),
            details,
            ..RunLine::new(info, s)
        };
        let json = serde_json::Value::Object(line.to_map());
        let path = self.dir.join("runs.jsonl");
        durable::append(&mut self.runs, &path, format!("{json}\n").as_bytes())?;
        self.summary.append(&json)?;
        self.rows.push(line);
        Ok(())
    }

    /// Append the aggregate line of a point's repeats ([`crate::repeats`]) to `runs.jsonl`
    /// and its rows to `summary.csv`, flushed before returning.
    pub fn aggregate_done(&mut self, agg: &serde_json::Value) -> Result<()> {
        let path = self.dir.join("runs.jsonl");
        durable::append(&mut self.runs, &path, format!("{agg}\n").as_bytes())?;
        for row in crate::repeats::csv_rows(agg) {
            self.summary.append(&row)?;
        }
        Ok(())
    }

    /// The sweep table of this invocation's runs, also written as `summary.md`.
    pub fn finish(&self) -> Result<String> {
        let table = table::sweep_table(&self.rows);
        let path = self.dir.join("summary.md");
        std::fs::write(&path, &table)
            .with_context(|| format!("cannot write {}", path.display()))?;
        Ok(table)
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
