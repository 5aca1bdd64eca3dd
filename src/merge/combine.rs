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

use super::input::ShardLine;
use crate::metrics::{CacheReport, Dist, Metric, Percentiles, Summary, hist};
use crate::report::RunLine;

/// The run's span over every shard: (earliest start, latest end), Unix seconds.
pub fn span(shards: &[ShardLine]) -> (f64, f64) {
    let start = shards
        .iter()
        .map(|s| s.at("start_unix_s"))
        .fold(f64::INFINITY, f64::min);
    let end = shards
        .iter()
        .map(|s| s.at("start_unix_s") + s.line.duration)
        .fold(f64::NEG_INFINITY, f64::max);
    (start, end)
}

/// The run's summary from its shard lines (percentiles from the merged histograms).
pub fn summary(shards: &[ShardLine]) -> Result<Summary> {
    let lines: Vec<&RunLine> = shards.iter().map(|s| &s.line).collect();
    let sum = |f: fn(&RunLine) -> u64| lines.iter().map(|l| f(l)).sum::<u64>();
    let count = |f: fn(&RunLine) -> usize| lines.iter().map(|l| f(l)).sum::<usize>();
    let fsum = |f: fn(&RunLine) -> f64| lines.iter().map(|l| f(l)).sum::<f64>();
    let fmax = |f: fn(&RunLine) -> f64| lines.iter().map(|l| f(l)).fold(0.0, f64::max);
    let (start, end) = span(shards);
    let mut s = Summary {
        completed: count(|l| l.completed),
        failed: count(|l| l.failed),
        tokenizer_errors: count(|l| l.tokenizer_errors),
        duration_s: (end - start).max(0.0),
        total_input: sum(|l| l.total_input_tokens),
        total_reported_input: sum(|l| l.total_reported_input_tokens),
        total_input_text: sum(|l| l.total_input_text_tokens),
        total_input_vision: sum(|l| l.total_input_vision_tokens),
        total_output: sum(|l| l.total_output_tokens),
        total_output_retokenized: sum(|l| l.total_output_tokens_retokenized),
        output_len_assumed: count(|l| l.output_len_assumed),
        total_output_chunks: sum(|l| l.total_output_chunks),
        retokenized_mismatch: count(|l| l.retokenized_mismatch),
        chunk_mismatch: count(|l| l.chunk_mismatch),
        max_output_tokens_per_s: fsum(|l| l.max_output_tokens_per_s),
        max_concurrent_requests: count(|l| l.max_concurrent_requests),
        queued_requests: count(|l| l.queued_requests),
        retried_requests: count(|l| l.retried_requests),
        new_connections: count(|l| l.new_connections),
        warm_connections: count(|l| l.warm_connections),
        dispatch_rate: fsum(|l| l.dispatch_rate),
        target_dispatch_rate: fsum(|l| l.target_dispatch_rate),
        client_cpu_pct: fmax(|l| l.client_cpu_pct),
        max_itl_ms: fmax(|l| l.max_itl_ms.unwrap_or(0.0)),
        percentiles: Percentiles::Hdr,
        ..Summary::default()
    };
    for l in &lines {
        for (k, v) in &l.failures {
            *s.failures.entry(crate::record::kind_named(k)).or_default() += v;
        }
    }
    s.client_bound_reason = shards.iter().find_map(|sh| {
        let r = sh.line.client_bound_reason.as_ref()?;
        Some(format!("shard {}: {r}", sh.index))
    });
    s.accept_length = lines.iter().find_map(|l| l.accept_length);
    s.server_info = lines
        .iter()
        .find_map(|l| l.server_info.clone().filter(|v| !v.is_null()));
    s.cache = cache(&lines);
    // Σ e2e over successful requests, from each shard's mean.
    let e2e_sum: f64 = lines
        .iter()
        .map(|l| l.mean_e2e_latency_ms.unwrap_or(0.0) / 1000.0 * l.completed as f64)
        .sum();
    crate::metrics::rates(&mut s, e2e_sum);
    for m in Metric::ALL {
        let (d, encoded) = dist(shards, m)?;
        *s.dist_mut(m) = d;
        s.histograms.insert(m.name().to_owned(), encoded);
    }
    Ok(s)
}

/// One latency over every shard: exact mean and population std from the shards' (weighted
/// by their histograms' counts), percentiles from the merged histogram; and that histogram.
fn dist(shards: &[ShardLine], m: Metric) -> Result<(Dist, String)> {
    let name = m.name();
    let mut encoded = Vec::new();
    let mut parts = Vec::new();
    for sh in shards {
        let text = sh.line.histograms.get(name).with_context(|| {
            format!(
                "{}: run {:?} has no `{name}` histogram (written by an older runner?)",
                sh.dir.display(),
                sh.line.run_id
            )
        })?;
        let n = hist::decode(text)
            .with_context(|| format!("{}: `{name}` histogram", sh.dir.display()))?
            .len() as f64;
        let [mean, _, std, ..] = sh.line.stats(m).map(|v| v.unwrap_or(0.0));
        parts.push((n, mean, std));
        encoded.push(text.as_str());
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
fn cache(lines: &[&RunLine]) -> CacheReport {
    let mut c = CacheReport::default();
    for r in lines.iter().filter_map(|l| l.cache_report.as_ref()) {
        c.total_prompt_tokens += r.total_prompt_tokens;
        c.total_cached_tokens += r.total_cached_tokens;
        c.has_details |= r.device_cached_tokens.is_some();
        c.device += r.device_cached_tokens.unwrap_or(0);
        c.host += r.host_cached_tokens.unwrap_or(0);
        c.storage += r.storage_cached_tokens.unwrap_or(0);
        if let Some(b) = &r.storage_backend {
            c.storage_backend = Some(b.clone());
        }
    }
    c
}
