//! The capacity table: one row per target × dataset, printed after the last run and
//! appended to `capacity.jsonl` and `capacity.csv` in the results directory.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;

use anyhow::{Context, Result};
use serde::Serialize;
use serde_json::Value;

/// One search's outcome. Field order is the `capacity.jsonl` key order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    /// Scenario name.
    pub scenario: String,
    /// Target name.
    pub target: String,
    /// Dataset name.
    pub dataset: String,
    /// `request_rate` or `max_concurrency`.
    pub axis: &'static str,
    /// Highest value that met every SLO (a lower bound when `not_bracketed`).
    pub capacity: Option<f64>,
    /// `request_goodput` of the run at the capacity, req/s.
    pub goodput_at_capacity: Option<f64>,
    /// The thresholds failed by the lowest failing run, comma-separated.
    pub binding_slo: Option<String>,
    /// Runs it took, the probe included.
    pub runs: u32,
    /// Their run ids, in order (the probe first).
    pub run_ids: Vec<String>,
    /// The search's relative precision.
    pub precision: f64,
    /// Highest passing value.
    pub lower: Option<f64>,
    /// Lowest failing value.
    pub upper: Option<f64>,
    /// `found`, `below_min`, `not_bracketed` or `budget_exhausted`.
    pub status: &'static str,
    /// The `slo:` thresholds the capacity is for.
    pub slo: Value,
}

/// Columns of `capacity.csv`, in order.
pub const COLUMNS: [&str; 14] = [
    "scenario",
    "target",
    "dataset",
    "axis",
    "capacity",
    "goodput_at_capacity",
    "binding_slo",
    "runs",
    "run_ids",
    "precision",
    "lower",
    "upper",
    "status",
    "slo",
];

fn num(v: Option<f64>) -> String {
    v.map(|x| format!("{x}")).unwrap_or_default()
}

impl Row {
    fn csv_record(&self) -> Vec<String> {
        let slo = match &self.slo {
            Value::Object(m) => m
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(";"),
            _ => String::new(),
        };
        vec![
            self.scenario.clone(),
            self.target.clone(),
            self.dataset.clone(),
            self.axis.to_owned(),
            num(self.capacity),
            num(self.goodput_at_capacity),
            self.binding_slo.clone().unwrap_or_default(),
            self.runs.to_string(),
            self.run_ids.join(";"),
            self.precision.to_string(),
            num(self.lower),
            num(self.upper),
            self.status.to_owned(),
            slo,
        ]
    }
}

/// The table printed after the last run.
pub fn render(rows: &[Row]) -> String {
    let mut out = String::new();
    let Some(first) = rows.first() else {
        return out;
    };
    let unit = if first.axis == "request_rate" {
        "req/s"
    } else {
        "concurrent requests"
    };
    let _ = writeln!(out, "\n{:=^78}", " Capacity ");
    let _ = writeln!(out, "highest {} meeting the SLO ({unit})", first.axis);
    let _ = writeln!(
        out,
        "{:<14} {:<14} {:>10} {:>12} {:>4}  {:<16} binding SLO",
        "target", "dataset", "capacity", "goodput/s", "runs", "status"
    );
    for r in rows {
        let f = |v: Option<f64>| v.map_or("-".to_owned(), |x| format!("{x:.2}"));
        let _ = writeln!(
            out,
            "{:<14} {:<14} {:>10} {:>12} {:>4}  {:<16} {}",
            r.target,
            r.dataset,
            f(r.capacity),
            f(r.goodput_at_capacity),
            r.runs,
            r.status,
            r.binding_slo.as_deref().unwrap_or("-")
        );
    }
    let _ = writeln!(out, "{}", "=".repeat(78));
    out
}

/// Append the rows to `capacity.jsonl` and `capacity.csv` in `dir` (`fresh`: replace).
pub fn write(dir: &Path, rows: &[Row], fresh: bool) -> Result<()> {
    let open = |name: &str| {
        let path = dir.join(name);
        let mut o = std::fs::OpenOptions::new();
        o.create(true);
        if fresh {
            o.write(true).truncate(true);
        } else {
            o.append(true);
        }
        let new = fresh || std::fs::metadata(&path).map_or(true, |m| m.len() == 0);
        o.open(&path)
            .map(|f| (f, new))
            .with_context(|| format!("cannot open {} for writing", path.display()))
    };
    let (mut jsonl, _) = open("capacity.jsonl")?;
    for r in rows {
        writeln!(jsonl, "{}", serde_json::to_string(r)?)?;
    }
    jsonl.flush()?;
    let (csv_file, new) = open("capacity.csv")?;
    let mut w = csv::WriterBuilder::new()
        .has_headers(false)
        .from_writer(csv_file);
    if new {
        w.write_record(COLUMNS)?;
    }
    for r in rows {
        w.write_record(r.csv_record())?;
    }
    w.flush()?;
    Ok(())
}
