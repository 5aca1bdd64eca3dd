//! Per-request details, `requests/<run>.jsonl`: appended like `runs.jsonl`, so every result
//! line keeps its details; the line says where they are. In: a run's records. Out: the lines
//! appended and `{"file", "first_line", "lines"}` for the result line.

use std::path::Path;

use anyhow::{Context, Result};
use serde_json::{Value, json};

use crate::record::RequestRecord;

/// Append `records` to the run's details file; where they went (lines are 1-based).
pub fn append(dir: &Path, run_id: &str, records: &[RequestRecord]) -> Result<Value> {
    let name = format!("{}.jsonl", run_id.replace(['/', '='], "_"));
    let path = dir.join("requests").join(&name);
    // Lines already there (earlier invocations); a path that cannot be read (a directory in
    // the way) is an error naming it, never a loop over read errors.
    let before = match std::fs::read(&path) {
        Ok(bytes) => bytes.iter().filter(|&&b| b == b'\n').count(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => 0,
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    let mut file = super::open_append(&path, false)?;
    let mut text = Vec::new();
    for r in records {
        serde_json::to_writer(&mut text, r)?;
        text.push(b'\n');
    }
    // Whole or nothing, secrets replaced, the file named on failure.
    super::durable::append(&mut file, &path, &text)?;
    Ok(json!({
        "file": format!("requests/{name}"),
        "first_line": before + 1,
        "lines": records.len(),
    }))
}
