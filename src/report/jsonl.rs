//! The `runs.jsonl` line: bench_serving's keys (spec §7) in its order, then runner's own.
//! Strict JSON: an infinite request rate is the string `"inf"`.

use serde_json::{Map, Value, json};

use super::RunInfo;
use crate::metrics::{Dist, Summary};

/// A distribution's statistics; all null when no request completed (no latency was
/// measured, and 0.0 would plot as a perfect point).
fn dist(m: &mut Map<String, Value>, name: &str, d: &Dist, measured: bool) {
    for (stat, v) in [
        ("mean", d.mean),
        ("median", d.median),
        ("std", d.std),
        ("p90", d.p90),
        ("p95", d.p95),
        ("p99", d.p99),
    ] {
        m.insert(format!("{stat}_{name}_ms"), json!(measured.then_some(v)));
    }
}

/// The result object of one run.
pub fn result_json(info: &RunInfo, s: &Summary) -> Map<String, Value> {
    let mut m = Map::new();
    let measured = s.completed > 0;
    let mut put = |k: &str, v: Value| {
        m.insert(k.to_owned(), v);
    };
    put("tag", Value::Null);
    put("backend", json!(info.backend));
    put("dataset_name", json!(info.dataset_kind));
    // A number, or the string "inf" (strict JSON has no infinity): Rate's serialization.
    put("request_rate", json!(info.request_rate));
    put("max_concurrency", json!(info.max_concurrency.limit()));
    put("sharegpt_output_len", Value::Null);
    let (ri, ro, rr) = match info.random {
        Some((i, o, r)) => (json!(i), json!(o), json!(r)),
        None => (Value::Null, Value::Null, Value::Null),
    };
    put("random_input_len", ri);
    put("random_output_len", ro);
    put("random_range_ratio", rr);
    put("server_info", s.server_info.clone().unwrap_or(Value::Null));
    put("duration", json!(s.duration_s));
    put("completed", json!(s.completed));
    put("total_input_tokens", json!(s.total_input));
    put("total_input_text_tokens", json!(s.total_input_text));
    put("total_input_vision_tokens", json!(s.total_input_vision));
    put("total_output_tokens", json!(s.total_output));
    put(
        "total_output_tokens_retokenized",
        json!(s.total_output_retokenized),
    );
    put("request_throughput", json!(s.request_throughput));
    put("input_throughput", json!(s.input_throughput));
    put("output_throughput", json!(s.output_throughput));
    put("total_throughput", json!(s.total_throughput));
    dist(&mut m, "e2e_latency", &s.e2e_ms, measured);
    dist(&mut m, "ttft", &s.ttft_ms, measured);
    dist(&mut m, "tpot", &s.tpot_ms, measured);
    dist(&mut m, "itl", &s.itl_ms, measured);
    let mut put = |k: &str, v: Value| {
        m.insert(k.to_owned(), v);
    };
    put("concurrency", json!(s.concurrency));
    put("accept_length", json!(s.accept_length));
    put("max_output_tokens_per_s", json!(s.max_output_tokens_per_s));
    put("max_concurrent_requests", json!(s.max_concurrent_requests));
    if info.cache_report {
        let c = &s.cache;
        put(
            "cache_report",
            json!({
                "total_prompt_tokens": c.total_prompt_tokens,
                "total_cached_tokens": c.total_cached_tokens,
                "cache_hit_rate_pct": (c.hit_rate_pct() * 100.0).round() / 100.0,
                "device_cached_tokens": c.has_details.then_some(c.device),
                "host_cached_tokens": c.has_details.then_some(c.host),
                "storage_cached_tokens": (c.storage > 0).then_some(c.storage),
                "storage_backend": c.storage_backend,
            }),
        );
    }
    put("run_id", json!(info.run_id));
    put("scenario", json!(info.scenario));
    put("target", json!(info.target));
    put("dataset", json!(info.dataset));
    put("seed", json!(info.seed));
    put("runner_version", json!(env!("CARGO_PKG_VERSION")));
    put("started_at", json!(info.stamp.started_at));
    put("invocation_id", json!(info.stamp.invocation_id));
    put("labels", json!(info.stamp.labels));
    put("provenance", info.stamp.provenance.clone());
    put("failed", json!(s.failed));
    put("failures", json!(s.failures));
    put("output_len_assumed", json!(s.output_len_assumed));
    put("total_output_chunks", json!(s.total_output_chunks));
    put("total_reported_input_tokens", json!(s.total_reported_input));
    put("retokenized_mismatch", json!(s.retokenized_mismatch));
    put("chunk_mismatch", json!(s.chunk_mismatch));
    put("tokenizer_errors", json!(s.tokenizer_errors));
    put("token_counts_disagree", json!(s.token_counts_disagree()));
    put("queued_requests", json!(s.queued_requests));
    put("retried_requests", json!(s.retried_requests));
    put("warm_connections", json!(s.warm_connections));
    put("new_connections", json!(s.new_connections));
    put("client_bound", json!(s.client_bound_reason.is_some()));
    put("client_bound_reason", json!(s.client_bound_reason));
    put("dispatch_rate", json!(s.dispatch_rate));
    put("target_dispatch_rate", json!(s.target_dispatch_rate));
    put("client_cpu_pct", json!(s.client_cpu_pct));
    put("max_itl_ms", json!(measured.then_some(s.max_itl_ms)));
    for (name, d) in [
        ("ttft_from_schedule", &s.ttft_from_schedule_ms),
        ("e2e_from_schedule", &s.e2e_from_schedule_ms),
        ("queue_wait", &s.queue_wait_ms),
        ("schedule_lag", &s.schedule_lag_ms),
    ] {
        dist(&mut m, name, d, measured);
    }
    m.insert("percentiles".into(), json!(s.percentiles.as_str()));
    if !s.histograms.is_empty() {
        m.insert("histograms".into(), json!(s.histograms));
    }
    crate::slo::insert_keys(&mut m, info.slo.as_ref());
    if let Some(mark) = &info.search {
        m.insert("search".into(), json!(mark));
    }
    if let Some(k) = info.repeat {
        m.insert("repeat".into(), json!(k));
    }
    // `runner run` lines (those with a scenario hash) always say whether the run stopped
    // early, null when it did not; `runner bench` lines keep bench_serving's keys.
    if info.scenario_hash.is_some() || info.stopped.is_some() {
        m.insert("stopped".into(), json!(info.stopped));
    }
    if let Some(h) = &info.scenario_hash {
        m.insert("scenario_hash".into(), json!(h));
    }
    m
}
