//! The exact merge, when every shard wrote its per-request details (`output.details`).
//!
//! In: a run's shard lines (each names its details file and lines). Out: every shard's
//! records on one timeline (each shifted by its shard's start minus the earliest start, the
//! request index made global: `request × N + I`), and the run's summary recomputed from them
//! exactly as one process computes it: NumPy-identical percentiles, exact peak windows.

use anyhow::{Context, Result};
use serde_json::Value;

use super::input::ShardLine;
use crate::metrics::{Percentiles, Summary};
use crate::record::RequestRecord;
use crate::tokenizer::Tokenizer;

/// Whether every shard line names its details.
pub fn available(shards: &[ShardLine]) -> bool {
    shards
        .iter()
        .all(|s| s.line.details.as_ref().is_some_and(Value::is_object))
}

/// One shard's records of the run, shifted by `shift_s` and given global request indices.
fn read(sh: &ShardLine, count: u32, shift_s: f64) -> Result<Vec<RequestRecord>> {
    let d = sh.line.details.as_ref().unwrap_or(&Value::Null);
    let path = sh.dir.join(d["file"].as_str().unwrap_or_default());
    let first = d["first_line"].as_u64().unwrap_or(1).max(1) as usize;
    let lines = d["lines"].as_u64().unwrap_or(0) as usize;
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read the details {}", path.display()))?;
    let mut out = Vec::with_capacity(lines);
    for (n, raw) in text.lines().enumerate().skip(first - 1).take(lines) {
        let mut r: RequestRecord = serde_json::from_str(raw)
            .with_context(|| format!("{} line {}", path.display(), n + 1))?;
        for t in [
            &mut r.intended_s,
            &mut r.dispatched_s,
            &mut r.sent_s,
            &mut r.end_s,
        ] {
            *t += shift_s;
        }
        for t in [&mut r.first_byte_s, &mut r.first_token_s]
            .into_iter()
            .flatten()
        {
            *t += shift_s;
        }
        r.request = r.request * count as usize + sh.index as usize;
        out.push(r);
    }
    Ok(out)
}

/// Every shard's records on the earliest shard's timeline, in global request order.
pub fn records(shards: &[ShardLine]) -> Result<Vec<RequestRecord>> {
    let (t0, _) = super::combine::span(shards);
    let mut all = Vec::new();
    for sh in shards {
        all.extend(read(sh, shards.len() as u32, sh.at("start_unix_s") - t0)?);
    }
    all.sort_by_key(|r| (r.request, r.turn));
    for (i, r) in all.iter_mut().enumerate() {
        r.index = i;
    }
    Ok(all)
}

/// Replace `s`'s request-derived numbers by the exact ones over `records` (the client-side
/// notes, merged histograms and duration stay).
pub fn overlay(s: &mut Summary, records: &[RequestRecord]) {
    let mut e = crate::metrics::summarize(records, s.duration_s, &Tokenizer::builtin());
    e.warm_connections = s.warm_connections;
    e.dispatch_rate = s.dispatch_rate;
    e.target_dispatch_rate = s.target_dispatch_rate;
    e.client_cpu_pct = s.client_cpu_pct;
    e.client_bound_reason = s.client_bound_reason.take();
    e.accept_length = s.accept_length;
    e.server_info = s.server_info.take();
    e.tokenizer_errors = s.tokenizer_errors;
    e.histograms = std::mem::take(&mut s.histograms);
    e.percentiles = Percentiles::Exact;
    *s = e;
}
