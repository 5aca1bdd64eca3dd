//! One run's shard lines combined into the run's [`Summary`], as one process would report it.
//!
//! In: the run's shard lines. Out: the summary. Counts and token totals are sums; the
//! duration runs from the earliest shard start to the latest shard end (Unix seconds in
//! each line's `provenance.shard`), and the throughputs are the totals over it. Each
//! latency's mean and standard deviation are combined exactly from the shards' (weights are
//! the histograms' counts); its percentiles are read from the sum of the shards' HDR
//! histograms ([`crate::metrics::hist`]: within 1/2048 of the values' own). The peak
//! one-second windows are the sum of the shards' peaks (an upper bound; exact with details,
//! [`super::exact`]).

use anyhow::{Context, Result};
use serde_json::{Map, Value};

use super::input::ShardLine;
use crate::metrics::{CacheReport, Dist, Percentiles, Summary, hist};
use crate::scenario::SLO_DISTRIBUTIONS;

fn num(line: &Map<String, Value>, key: &str) -> f64 {
    line.get(key).and_then(Value::as_f64).unwrap_or(0.0)
}

fn count(line: &Map<String, Value>, key: &str) -> u64 {
    line.get(key).and_then(Value::as_u64).unwrap_or(0)
}

/// The run's span over every shard: (earliest start, latest end), Unix seconds.
pub fn span(shards: &[ShardLine]) -> (f64, f64) {
    let start = shards
        .iter()
        .map(|s| s.at("start_unix_s"))
        .fold(f64::INFINITY, f64::min);
    let end = shards
        .iter()
        .map(|s| s.at("start_unix_s") + num(&s.line, "duration"))
        .fold(f64::NEG_INFINITY, f64::max);
    (start, end)
}

/// The run's summary from its shard lines (percentiles from the merged histograms).
pub fn summary(shards: &[ShardLine]) -> Result<Summary> {
    let lines: Vec<&Map<String, Value>> = shards.iter().map(|s| &s.line).collect();
    let sum = |k: &str| lines.iter().map(|l| count(l, k)).sum::<u64>();
    let fsum = |k: &str| lines.iter().map(|l| num(l, k)).sum::<f64>();
    let fmax = |k: &str| lines.iter().map(|l| num(l, k)).fold(0.0, f64::max);
    let (start, end) = span(shards);
    let mut s = Summary {
        completed: sum("completed") as usize,
        failed: sum("failed") as usize,
        tokenizer_errors: sum("tokenizer_errors") as usize,
        duration_s: (end - start).max(0.0),
        total_input: sum("total_input_tokens"),
        total_reported_input: sum("total_reported_input_tokens"),
        total_input_text: sum("total_input_text_tokens"),
        total_input_vision: sum("total_input_vision_tokens"),
        total_output: sum("total_output_tokens"),
        total_output_retokenized: sum("total_output_tokens_retokenized"),
        output_len_assumed: sum("output_len_assumed") as usize,
        total_output_chunks: sum("total_output_chunks"),
        retokenized_mismatch: sum("retokenized_mismatch") as usize,
        chunk_mismatch: sum("chunk_mismatch") as usize,
        max_output_tokens_per_s: fsum("max_output_tokens_per_s"),
        max_concurrent_requests: sum("max_concurrent_requests") as usize,
        queued_requests: sum("queued_requests") as usize,
        retried_requests: sum("retried_requests") as usize,
        new_connections: sum("new_connections") as usize,
        warm_connections: sum("warm_connections") as usize,
        dispatch_rate: fsum("dispatch_rate"),
        target_dispatch_rate: fsum("target_dispatch_rate"),
        client_cpu_pct: fmax("client_cpu_pct"),
        max_itl_ms: fmax("max_itl_ms"),
        percentiles: Percentiles::Hdr,
        ..Summary::default()
    };
    for l in &lines {
        if let Some(f) = l.get("failures").and_then(Value::as_object) {
            for (k, v) in f {
                *s.failures.entry(crate::record::kind_named(k)).or_default() +=
                    v.as_u64().unwrap_or(0) as usize;
            }
        }
    }
    s.client_bound_reason = shards.iter().find_map(|sh| {
        let r = sh.line.get("client_bound_reason")?.as_str()?;
        Some(format!("shard {}: {r}", sh.index))
    });
    s.accept_length = lines
        .iter()
        .find_map(|l| l.get("accept_length").and_then(Value::as_f64));
    s.server_info = lines
        .iter()
        .find_map(|l| l.get("server_info").filter(|v| !v.is_null()).cloned());
    s.cache = cache(&lines);
    // Σ e2e over successful requests, from each shard's mean.
    let e2e_sum: f64 = lines
        .iter()
        .map(|l| num(l, "mean_e2e_latency_ms") / 1000.0 * count(l, "completed") as f64)
        .sum();
    crate::metrics::rates(&mut s, e2e_sum);
    for name in SLO_DISTRIBUTIONS {
        let (d, encoded) = dist(shards, name)?;
        *dist_mut(&mut s, name) = d;
        s.histograms.insert(name.to_owned(), encoded);
    }
    Ok(s)
}

/// The summary's distribution of the latency `name`.
pub fn dist_mut<'a>(s: &'a mut Summary, name: &str) -> &'a mut Dist {
    match name {
        "e2e_latency" => &mut s.e2e_ms,
        "ttft" => &mut s.ttft_ms,
        "tpot" => &mut s.tpot_ms,
        "itl" => &mut s.itl_ms,
        "ttft_from_schedule" => &mut s.ttft_from_schedule_ms,
        "e2e_from_schedule" => &mut s.e2e_from_schedule_ms,
        "queue_wait" => &mut s.queue_wait_ms,
        _ => &mut s.schedule_lag_ms,
    }
}

/// One latency over every shard: exact mean and population std from the shards' (weighted
/// by their histograms' counts), percentiles from the merged histogram; and that histogram.
fn dist(shards: &[ShardLine], name: &str) -> Result<(Dist, String)> {
    let mut encoded = Vec::new();
    let mut parts = Vec::new();
    for sh in shards {
        let text = sh
            .line
            .get("histograms")
            .and_then(|h| h.get(name))
            .and_then(Value::as_str)
            .with_context(|| {
                format!(
                    "{}: run {} has no `{name}` histogram (written by an older runner?)",
                    sh.dir.display(),
                    sh.line["run_id"]
                )
            })?;
        let n = hist::decode(text)
            .with_context(|| format!("{}: `{name}` histogram", sh.dir.display()))?
            .len() as f64;
        let stat = |k: &str| num(&sh.line, &format!("{k}_{name}_ms"));
        parts.push((n, stat("mean"), stat("std")));
        encoded.push(text);
    }
    let merged = hist::merge(encoded.iter().copied())?;
    let n: f64 = parts.iter().map(|p| p.0).sum();
    if n == 0.0 {
        return Ok((Dist::default(), hist::encode(&merged)));
    }
    let mean = parts.iter().map(|(k, m, _)| k * m).sum::<f64>() / n;
    let m2: f64 = parts
        .iter()
        .map(|(k, m, sd)| k * (sd * sd + (m - mean).powi(2)))
        .sum();
    let p = hist::percentiles(&merged, &[50.0, 90.0, 95.0, 99.0]);
    let d = Dist {
        mean,
        median: p[0] * 1000.0,
        std: (m2 / n).sqrt(),
        p90: p[1] * 1000.0,
        p95: p[2] * 1000.0,
        p99: p[3] * 1000.0,
    };
    Ok((d, hist::encode(&merged)))
}

/// The shards' prefix-cache reports added up.
fn cache(lines: &[&Map<String, Value>]) -> CacheReport {
    let mut c = CacheReport::default();
    for l in lines {
        let Some(r) = l.get("cache_report").and_then(Value::as_object) else {
            continue;
        };
        c.total_prompt_tokens += count(r, "total_prompt_tokens");
        c.total_cached_tokens += count(r, "total_cached_tokens");
        c.has_details |= r.get("device_cached_tokens").is_some_and(|v| !v.is_null());
        c.device += count(r, "device_cached_tokens");
        c.host += count(r, "host_cached_tokens");
        c.storage += count(r, "storage_cached_tokens");
        if let Some(b) = r.get("storage_backend").and_then(Value::as_str) {
            c.storage_backend = Some(b.to_owned());
        }
    }
    c
}
