//! `summary.csv`: one row per run, columns in a fixed order, taken from the result object
//! so each number has one definition. New columns are only ever added at the end; a file
//! written by another runner version is migrated before appending ([`migrate`]).

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
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
    "started_at",
    "invocation_id",
    "labels",
    "slo_passed",
    "slo_failed",
    "slo_attainment",
    "request_goodput",
];

pub(super) struct SummaryCsv {
    file: File,
    path: PathBuf,
    /// The file's columns: [`COLUMNS`], then any a different runner version wrote.
    header: Vec<String>,
}

impl SummaryCsv {
    /// Open for appending; writes the header when the file is new or empty. A file whose
    /// header differs (another runner version wrote it) is migrated first: see [`migrate`].
    pub(super) fn open(path: &Path, fresh: bool) -> Result<SummaryCsv> {
        let existing = if fresh || !path.exists() {
            None
        } else {
            let f = File::open(path)?;
            BufReader::new(f).lines().next().transpose()?
        };
        let mut header: Vec<String> = COLUMNS.iter().map(|c| (*c).to_owned()).collect();
        if let Some(first) = existing.as_deref().filter(|f| !f.is_empty()) {
            let cols: Vec<String> = first.split(',').map(str::to_owned).collect();
            // This version's columns first, perhaps followed by an older file's extra ones.
            header = if cols.starts_with(&header) {
                cols
            } else {
                migrate(path)?
            };
        }
        let mut csv = SummaryCsv {
            file: super::open_append(path, fresh)?,
            path: path.to_owned(),
            header,
        };
        if existing.as_deref().is_none_or(str::is_empty) {
            let h = csv.header.clone();
            csv.write_row(&h)?;
        }
        Ok(csv)
    }

    pub(super) fn append(&mut self, result: &Value) -> Result<()> {
        let row: Vec<String> = self.header.iter().map(|c| cell(c, result)).collect();
        self.write_row(&row)
    }

    /// One whole row, or nothing (see `durable`).
    fn write_row<T: AsRef<[u8]>>(&mut self, row: &[T]) -> Result<()> {
        let mut w = csv::WriterBuilder::new()
            .has_headers(false)
            .from_writer(Vec::new());
        w.write_record(row)
            .context("formatting a summary.csv row")?;
        let bytes = w.into_inner().context("formatting a summary.csv row")?;
        super::durable::append(&mut self.file, &self.path, &bytes)
    }
}

/// A column's cell: strings bare, `labels` as one compact JSON object (so the column set
/// does not depend on which labels a run has), other values as JSON, null as empty.
fn cell(column: &str, result: &Value) -> String {
    match &result[column] {
        Value::Null => String::new(),
        Value::Object(m) if m.is_empty() => String::new(),
        Value::String(s) => s.clone(),
        // Lists (`slo_failed`) as `a;b`.
        Value::Array(a) => a
            .iter()
            .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
            .collect::<Vec<_>>()
            .join(";"),
        v => v.to_string(),
    }
}

/// Rewrite a `summary.csv` another runner version wrote so that this version can append:
/// the columns become [`COLUMNS`] followed by the file's columns this version does not know,
/// every row is kept (cells moved under their column names, empty where a column is new),
/// and the original is kept beside it as `summary.csv.bak`. Out: the new header.
fn migrate(path: &Path) -> Result<Vec<String>> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(path)
        .with_context(|| format!("reading {}", path.display()))?;
    let old: Vec<String> = reader.headers()?.iter().map(str::to_owned).collect();
    let mut header: Vec<String> = COLUMNS.iter().map(|c| (*c).to_owned()).collect();
    for c in &old {
        if !header.contains(c) {
            header.push(c.clone());
        }
    }
    let tmp = path.with_extension("csv.tmp");
    let mut writer =
        csv::Writer::from_path(&tmp).with_context(|| format!("cannot write {}", tmp.display()))?;
    writer.write_record(&header)?;
    for row in reader.records() {
        let row = row.with_context(|| format!("reading {}", path.display()))?;
        let cells = header.iter().map(|c| {
            old.iter()
                .position(|o| o == c)
                .and_then(|i| row.get(i))
                .unwrap_or("")
        });
        writer.write_record(cells)?;
    }
    writer.flush()?;
    drop(writer);
    let bak = path.with_extension("csv.bak");
    std::fs::copy(path, &bak).with_context(|| format!("cannot back up to {}", bak.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot replace {}", path.display()))?;
    eprintln!(
        "note: {} had another runner version's columns; rewritten with this version's \
         (rows kept, the original is {})",
        path.display(),
        bak.display()
    );
    Ok(header)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn older_file_is_migrated_and_appended_to() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("summary.csv");
        std::fs::write(&path, "run_id,scenario,p99_ttft_ms,gone\na/b,s,12.5,x\n").unwrap();
        let mut csv = SummaryCsv::open(&path, false).unwrap();
        let line = serde_json::json!({"run_id": "c/d", "scenario": "s", "p99_ttft_ms": 9.0,
            "labels": {"gpu": "h100"}, "started_at": "2026-01-01T00:00:00.000Z"});
        csv.append(&line).unwrap();
        drop(csv);
        let mut r = csv::Reader::from_path(&path).unwrap();
        let h: Vec<String> = r.headers().unwrap().iter().map(str::to_owned).collect();
        assert_eq!(&h[..COLUMNS.len()], COLUMNS);
        assert_eq!(h[COLUMNS.len()..], ["gone"]);
        let rows: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
        let col = |n: &str| h.iter().position(|c| c == n).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(&rows[0][col("run_id")], "a/b");
        assert_eq!(&rows[0][col("p99_ttft_ms")], "12.5");
        assert_eq!(&rows[0][col("gone")], "x");
        assert_eq!(&rows[0][col("started_at")], "");
        assert_eq!(&rows[1][col("p99_ttft_ms")], "9.0");
        assert_eq!(&rows[1][col("labels")], r#"{"gpu":"h100"}"#);
        assert_eq!(&rows[1][col("gone")], "");
        let bak = std::fs::read_to_string(dir.path().join("summary.csv.bak")).unwrap();
        assert!(bak.starts_with("run_id,scenario,p99_ttft_ms,gone\n"));
        // A second open finds this version's columns first and the extra one kept: it
        // appends without migrating again.
        drop(SummaryCsv::open(&path, false).unwrap());
    }
}
