//! What a merged run's result line says besides its numbers, from its shard lines.
//!
//! In: the run's shard lines. Out: the [`RunInfo`] one process would have written (settings,
//! labels and provenance from shard 0, the earliest start) with `provenance.shards` in
//! place of `provenance.shard`: every shard's start instant, how late it started, its clock
//! estimate, and the spread of the start instants.

use anyhow::Result;
use serde_json::{Map, Value, json};

use super::input::ShardLine;
use crate::engine::StopReason;
use crate::report::RunInfo;
use crate::scenario::Concurrency;

fn stopped(text: &str) -> Option<&'static str> {
    [
        StopReason::ErrorBudget,
        StopReason::Saturated,
        StopReason::Duration,
        StopReason::Interrupted,
    ]
    .into_iter()
    .map(StopReason::as_str)
    .find(|s| *s == text)
}

/// The spread of the shards' start instants, in milliseconds.
pub fn start_spread_ms(shards: &[ShardLine]) -> f64 {
    let starts = shards.iter().map(|s| s.at("start_unix_s"));
    let lo = starts.clone().fold(f64::INFINITY, f64::min);
    let hi = starts.fold(f64::NEG_INFINITY, f64::max);
    (hi - lo) * 1000.0
}

/// `provenance.shards` of the merged line.
pub fn shards_block(shards: &[ShardLine]) -> Value {
    let each = |k: &str| -> Vec<Value> {
        shards
            .iter()
            .map(|s| s.shard.get(k).cloned().unwrap_or(Value::Null))
            .collect()
    };
    let clock = |k: &str| -> Vec<Value> {
        shards
            .iter()
            .map(|s| {
                s.shard
                    .get("clock")
                    .and_then(|c| c.get(k))
                    .cloned()
                    .unwrap_or(Value::Null)
            })
            .collect()
    };
    json!({
        "count": shards.len(),
        "start_at": shards[0].shard.get("start_at"),
        "start_spread_ms": start_spread_ms(shards),
        "start_unix_s": each("start_unix_s"),
        "start_late_ms": each("start_late_ms"),
        "clock_offset_ms": clock("offset_ms"),
        "clock_uncertainty_ms": clock("uncertainty_ms"),
        "ntp": clock("ntp"),
        "dirs": shards.iter().map(|s| s.dir.display().to_string()).collect::<Vec<_>>(),
    })
}

/// The merged run's info.
pub fn info(shards: &[ShardLine]) -> Result<RunInfo> {
    let l = &shards[0].line;
    let random = match (
        l.random_input_len,
        l.random_output_len,
        l.random_range_ratio,
    ) {
        (Some(i), Some(o), Some(r)) => Some((i, o, r)),
        _ => None,
    };
    let mut provenance: Map<String, Value> = l.provenance.as_object().cloned().unwrap_or_default();
    provenance.remove("shard");
    provenance.insert("shards".into(), shards_block(shards));
    let started_at = shards
        .iter()
        .map(|s| s.line.started_at.as_str())
        .filter(|s| !s.is_empty())
        .min()
        .unwrap_or_default()
        .to_owned();
    Ok(RunInfo {
        run_id: l.run_id.clone(),
        scenario: l.scenario.clone(),
        target: l.target.clone(),
        backend: l.backend.clone(),
        dataset: l.dataset.clone(),
        dataset_kind: l.dataset_name.clone(),
        request_rate: l.request_rate,
        max_concurrency: Concurrency(l.max_concurrency.unwrap_or(0)),
        seed: l.seed,
        random,
        cache_report: l.cache_report.is_some(),
        stamp: crate::provenance::Stamp {
            started_at,
            invocation_id: crate::provenance::invocation_id().to_owned(),
            labels: l.labels.clone(),
            provenance: Value::Object(provenance),
        },
        repeat: l.repeat,
        stopped: shards.iter().find_map(|s| {
            s.line
                .stopped
                .clone()
                .flatten()
                .as_deref()
                .and_then(stopped)
        }),
        scenario_hash: l.scenario_hash.clone(),
        slo: None,
        search: None,
    })
}
