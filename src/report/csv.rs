//! `summary.csv`: one row per run, columns in a fixed order, taken from the result object
//! so each number has one definition.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

use anyhow::{Context, Result, bail};
use serde_json::Value;

/// Columns of `summary.csv`, in order. Changing this list changes the file format.
pub const COLUMNS: &[&str] = &[
    "run_id",
    "scenario",
    "target",
    "backend",
    "dataset",
    "request_rate",
    "max_concurrency",
    "seed",
    "completed",
    "failed",
    "duration",
    "request_throughput",
    "input_throughput",
    "output_throughput",
    "total_throughput",
    "concurrency",
    "mean_ttft_ms",
    "median_ttft_ms",
    "p99_ttft_ms",
    "mean_tpot_ms",
    "median_tpot_ms",
    "p99_tpot_ms",
    "mean_itl_ms",
    "median_itl_ms",
    "p99_itl_ms",
    "mean_e2e_latency_ms",
    "median_e2e_latency_ms",
    "p99_e2e_latency_ms",
    "p99_ttft_from_schedule_ms",
    "p99_queue_wait_ms",
    "max_output_tokens_per_s",
    "max_concurrent_requests",
    "runner_version",
    "slo_passed",
    "slo_failed",
    "slo_attainment",
    "request_goodput",
];

pub(super) struct SummaryCsv {
    writer: csv::Writer<File>,
}

impl SummaryCsv {
    /// Open for appending; writes the header when the file is new or empty, and refuses a
    /// file whose header differs (its rows would not line up).
    pub(super) fn open(path: &Path, fresh: bool) -> Result<SummaryCsv> {
        let existing = if fresh || !path.exists() {
            None
        } else {
            let f = File::open(path)?;
            BufReader::new(f).lines().next().transpose()?
        };
        let header = COLUMNS.join(",");
        if let Some(first) = &existing
            && !first.is_empty()
            && *first != header
        {
            bail!(
                "{} has different columns (another runner version wrote it); move it away or run with --fresh",
                path.display()
            );
        }
        let file = super::open_append(path, fresh)?;
        let mut writer = csv::WriterBuilder::new()
            .has_headers(false)
            .from_writer(file);
        if existing.as_deref().is_none_or(str::is_empty) {
            writer.write_record(COLUMNS)?;
            writer.flush()?;
        }
        Ok(SummaryCsv { writer })
    }

    pub(super) fn append(&mut self, result: &Value) -> Result<()> {
        let row: Vec<String> = COLUMNS
            .iter()
            .map(|c| match &result[*c] {
                Value::Null => String::new(),
                Value::String(s) => s.clone(),
                Value::Array(a) => a
                    .iter()
                    .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
                    .collect::<Vec<_>>()
                    .join(";"),
                v => v.to_string(),
            })
            .collect();
        self.writer
            .write_record(&row)
            .context("writing summary.csv")?;
        self.writer.flush()?;
        Ok(())
    }
}
