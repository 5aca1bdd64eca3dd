//! What a merged run's result line says besides its numbers, from its shard lines.
//!
//! In: the run's shard lines. Out: the [`RunInfo`] one process would have written (settings,
//! labels and provenance from shard 0, the earliest start) with `provenance.shards` in
//! place of `provenance.shard`: every shard's start instant, how late it started, its clock
//! estimate, and the spread of the start instants.

use anyhow::{Context, Result};
use serde_json::{Map, Value, json};

use super::input::ShardLine;
use crate::engine::StopReason;
use crate::report::RunInfo;
use crate::scenario::{Concurrency, Rate};

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
    let text = |k: &str| {
        l.get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let request_rate: Rate = serde_json::from_value(l["request_rate"].clone())
        .with_context(|| format!("{}: request_rate", shards[0].dir.display()))?;
    let random = match (
        l.get("random_input_len").and_then(Value::as_u64),
        l.get("random_output_len").and_then(Value::as_u64),
        l.get("random_range_ratio").and_then(Value::as_f64),
    ) {
        (Some(i), Some(o), Some(r)) => Some((i as u32, o as u32, r)),
        _ => None,
    };
    let labels = l
        .get("labels")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                .collect()
        })
        .unwrap_or_default();
    let mut provenance: Map<String, Value> = l
        .get("provenance")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    provenance.remove("shard");
    provenance.insert("shards".into(), shards_block(shards));
    let started_at = shards
        .iter()
        .filter_map(|s| s.line.get("started_at").and_then(Value::as_str))
        .min()
        .unwrap_or_default()
        .to_owned();
    Ok(RunInfo {
        run_id: text("run_id"),
        scenario: text("scenario"),
        target: text("target"),
        backend: text("backend"),
        dataset: text("dataset"),
        dataset_kind: text("dataset_name"),
        request_rate,
        max_concurrency: Concurrency(l["max_concurrency"].as_u64().unwrap_or(0) as u32),
        seed: l["seed"].as_u64().unwrap_or(0),
        random,
        cache_report: l.contains_key("cache_report"),
        stamp: crate::provenance::Stamp {
            started_at,
            invocation_id: crate::provenance::invocation_id().to_owned(),
            labels,
            provenance: Value::Object(provenance),
        },
        repeat: l.get("repeat").and_then(Value::as_u64).map(|k| k as u32),
        stopped: shards.iter().find_map(|s| {
            s.line
                .get("stopped")
                .and_then(Value::as_str)
                .and_then(stopped)
        }),
        scenario_hash: l
            .get("scenario_hash")
            .and_then(Value::as_str)
            .map(str::to_owned),
        slo: None,
        search: None,
    })
}
