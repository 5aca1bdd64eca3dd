//! The `runs.jsonl` line as a type: bench_serving's keys (spec §7) in its order, then
//! runner's own. Strict JSON: an infinite request rate is the string `"inf"`.
//!
//! In: a [`RunInfo`] and its [`Summary`] ([`RunLine::new`]). Out: the [`RunLine`], built once
//! per run and serialized as the line; `schema/result.schema.json` is generated from it
//! (`runner schema --result`). The field order is the key order. Every latency
//! distribution is six explicit fields (`{stat}_{name}_ms`, null when no request completed:
//! no latency was measured, and 0.0 would plot as a perfect point), reached by
//! [`Metric`] through [`RunLine::stats`].
//!
//! Reading: every key defaults when absent (lines of older runners), and keys this type
//! does not name are kept in [`RunLine::extra`] (`runner bench`'s `--output-details`
//! arrays, lines of newer runners).

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

mod stats;

use super::RunInfo;
use crate::metrics::{Metric, Percentiles, Summary};
use crate::plan::SearchMark;
use crate::scenario::Rate;

/// One run's result: a line of `runs.jsonl` (and, with bench_serving's keys reordered,
/// of `runner bench --output-file`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct RunLine {
    /// bench_serving's `--tag` (`runner bench`); null in `runner run` lines.
    pub tag: Option<String>,
    /// Backend name (`sglang`, `vllm-chat`, …).
    pub backend: String,
    /// Dataset kind (`random`, `sharegpt`, …): bench_serving's `dataset_name`.
    pub dataset_name: String,
    /// Requests per second, or `"inf"` (every request at once); `runner bench` writes
    /// `"trace"` when replaying a trace's timestamps.
    #[schemars(schema_with = "line_rate_schema")]
    pub request_rate: Rate,
    /// Concurrency cap; null when unlimited.
    pub max_concurrency: Option<u32>,
    /// bench_serving's `--sharegpt-output-len` (`runner bench`); null otherwise.
    pub sharegpt_output_len: Option<u32>,
    /// Random dataset's input length, when the dataset is random.
    pub random_input_len: Option<u32>,
    /// Random dataset's output length, when the dataset is random.
    pub random_output_len: Option<u32>,
    /// Random dataset's range ratio, when the dataset is random.
    pub random_range_ratio: Option<f64>,
    /// The server's `/server_info` answer after the run, when it gave one.
    pub server_info: Option<Value>,
    /// Run duration, seconds: from the first due time to the end of the last response.
    pub duration: f64,
    /// Successful requests.
    pub completed: usize,
    /// Sum of the dataset's prompt lengths over successful requests, tokens.
    pub total_input_tokens: u64,
    /// Text part of `total_input_tokens`.
    pub total_input_text_tokens: u64,
    /// Vision part of `total_input_tokens`.
    pub total_input_vision_tokens: u64,
    /// Sum of output lengths (server-reported, else requested) over successful requests.
    pub total_output_tokens: u64,
    /// Sum of output lengths counted by retokenizing the generated text.
    pub total_output_tokens_retokenized: u64,
    /// Successful requests per second.
    pub request_throughput: f64,
    /// Input tokens per second.
    pub input_throughput: f64,
    /// Output tokens per second.
    pub output_throughput: f64,
    /// Input and output tokens per second.
    pub total_throughput: f64,
    /// Mean of the end-to-end latency from the send time, ms.
    pub mean_e2e_latency_ms: Option<f64>,
    /// Median of the end-to-end latency from the send time, ms.
    pub median_e2e_latency_ms: Option<f64>,
    /// Population std of the end-to-end latency from the send time, ms.
    pub std_e2e_latency_ms: Option<f64>,
    /// P90 of the end-to-end latency from the send time, ms.
    pub p90_e2e_latency_ms: Option<f64>,
    /// P95 of the end-to-end latency from the send time, ms.
    pub p95_e2e_latency_ms: Option<f64>,
    /// P99 of the end-to-end latency from the send time, ms.
    pub p99_e2e_latency_ms: Option<f64>,
    /// Mean of the time to first token from the send time, ms.
    pub mean_ttft_ms: Option<f64>,
    /// Median of the time to first token from the send time, ms.
    pub median_ttft_ms: Option<f64>,
    /// Population std of the time to first token from the send time, ms.
    pub std_ttft_ms: Option<f64>,
    /// P90 of the time to first token from the send time, ms.
    pub p90_ttft_ms: Option<f64>,
    /// P95 of the time to first token from the send time, ms.
    pub p95_ttft_ms: Option<f64>,
    /// P99 of the time to first token from the send time, ms.
    pub p99_ttft_ms: Option<f64>,
    /// Mean of the time per output token after the first, ms.
    pub mean_tpot_ms: Option<f64>,
    /// Median of the time per output token after the first, ms.
    pub median_tpot_ms: Option<f64>,
    /// Population std of the time per output token after the first, ms.
    pub std_tpot_ms: Option<f64>,
    /// P90 of the time per output token after the first, ms.
    pub p90_tpot_ms: Option<f64>,
    /// P95 of the time per output token after the first, ms.
    pub p95_tpot_ms: Option<f64>,
    /// P99 of the time per output token after the first, ms.
    pub p99_tpot_ms: Option<f64>,
    /// Mean of the inter-token latency, ms.
    pub mean_itl_ms: Option<f64>,
    /// Median of the inter-token latency, ms.
    pub median_itl_ms: Option<f64>,
    /// Population std of the inter-token latency, ms.
    pub std_itl_ms: Option<f64>,
    /// P90 of the inter-token latency, ms.
    pub p90_itl_ms: Option<f64>,
    /// P95 of the inter-token latency, ms.
    pub p95_itl_ms: Option<f64>,
    /// P99 of the inter-token latency, ms.
    pub p99_itl_ms: Option<f64>,
    /// Sum of successful end-to-end latencies / duration: the mean requests in flight.
    pub concurrency: f64,
    /// Speculative-decoding accept length from the server's `/server_info` (SGLang).
    pub accept_length: Option<f64>,
    /// Most output tokens received within one one-second window.
    pub max_output_tokens_per_s: f64,
    /// Most requests in flight within one one-second window.
    pub max_concurrent_requests: usize,
    /// Prefix-cache hits (`output.cache_report`, bench_serving's `--cache-report`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cache_report: Option<CacheReportLine>,
    /// Run id from the plan (`target/dataset/rate=…/conc=…`).
    pub run_id: String,
    /// Scenario name.
    pub scenario: String,
    /// Target name.
    pub target: String,
    /// Dataset name.
    pub dataset: String,
    /// Run seed.
    pub seed: u64,
    /// The runner version that wrote the line.
    pub runner_version: String,
    /// When the run started, RFC 3339 UTC.
    pub started_at: String,
    /// Shared by every run of one invocation.
    pub invocation_id: String,
    /// The scenario's `labels:` with `--label` flags applied.
    pub labels: BTreeMap<String, String>,
    /// Host, runner version, scenario file and commit, server version and model, shard.
    pub provenance: Value,
    /// Failed requests.
    pub failed: usize,
    /// Failed requests by kind (`http_503`, `stream_early_close`, `timeout`, …).
    pub failures: BTreeMap<String, usize>,
    /// Successful requests whose output length was assumed (server sent no usage).
    pub output_len_assumed: usize,
    /// Sum over successful requests of the chunks that carried output.
    pub total_output_chunks: u64,
    /// Sum of the server-reported prompt lengths over successful requests that carried one.
    pub total_reported_input_tokens: u64,
    /// Successful requests whose server-reported output length differs from the retokenized
    /// one by more than max(1 token, 5 %).
    pub retokenized_mismatch: usize,
    /// Successful requests whose server-reported output length differs from their chunks.
    pub chunk_mismatch: usize,
    /// Tokenizer calls that failed while counting this run's tokens.
    pub tokenizer_errors: usize,
    /// Whether the token counts disagree enough to warn about the tokenizer.
    pub token_counts_disagree: bool,
    /// Requests that waited for the concurrency cap (more than 1 ms).
    pub queued_requests: usize,
    /// Requests sent again because their pooled connection had been closed by the server.
    pub retried_requests: usize,
    /// Connections opened before the run's clock started.
    pub warm_connections: usize,
    /// Requests whose response came over a newly opened connection.
    pub new_connections: usize,
    /// Whether the client, not the server, limited the run.
    pub client_bound: bool,
    /// Why the client limited the run; null when it kept up.
    pub client_bound_reason: Option<String>,
    /// Requests per second the dispatcher achieved (0 for rate `inf`).
    pub dispatch_rate: f64,
    /// Requests per second the schedule asked for (0 for rate `inf`).
    pub target_dispatch_rate: f64,
    /// This process's CPU during the run, percent of one core.
    pub client_cpu_pct: f64,
    /// Largest inter-token latency, ms; null when no request completed.
    pub max_itl_ms: Option<f64>,
    /// Mean of the time to first token from the due time, cap wait included, ms.
    pub mean_ttft_from_schedule_ms: Option<f64>,
    /// Median of the time to first token from the due time, cap wait included, ms.
    pub median_ttft_from_schedule_ms: Option<f64>,
    /// Population std of the time to first token from the due time, cap wait included, ms.
    pub std_ttft_from_schedule_ms: Option<f64>,
    /// P90 of the time to first token from the due time, cap wait included, ms.
    pub p90_ttft_from_schedule_ms: Option<f64>,
    /// P95 of the time to first token from the due time, cap wait included, ms.
    pub p95_ttft_from_schedule_ms: Option<f64>,
    /// P99 of the time to first token from the due time, cap wait included, ms.
    pub p99_ttft_from_schedule_ms: Option<f64>,
    /// Mean of the end-to-end latency from the due time, cap wait included, ms.
    pub mean_e2e_from_schedule_ms: Option<f64>,
    /// Median of the end-to-end latency from the due time, cap wait included, ms.
    pub median_e2e_from_schedule_ms: Option<f64>,
    /// Population std of the end-to-end latency from the due time, cap wait included, ms.
    pub std_e2e_from_schedule_ms: Option<f64>,
    /// P90 of the end-to-end latency from the due time, cap wait included, ms.
    pub p90_e2e_from_schedule_ms: Option<f64>,
    /// P95 of the end-to-end latency from the due time, cap wait included, ms.
    pub p95_e2e_from_schedule_ms: Option<f64>,
    /// P99 of the end-to-end latency from the due time, cap wait included, ms.
    pub p99_e2e_from_schedule_ms: Option<f64>,
    /// Mean of the time held back by the concurrency cap, ms.
    pub mean_queue_wait_ms: Option<f64>,
    /// Median of the time held back by the concurrency cap, ms.
    pub median_queue_wait_ms: Option<f64>,
    /// Population std of the time held back by the concurrency cap, ms.
    pub std_queue_wait_ms: Option<f64>,
    /// P90 of the time held back by the concurrency cap, ms.
    pub p90_queue_wait_ms: Option<f64>,
    /// P95 of the time held back by the concurrency cap, ms.
    pub p95_queue_wait_ms: Option<f64>,
    /// P99 of the time held back by the concurrency cap, ms.
    pub p99_queue_wait_ms: Option<f64>,
    /// Mean of the how late the client dispatched requests against their due times, ms.
    pub mean_schedule_lag_ms: Option<f64>,
    /// Median of the how late the client dispatched requests against their due times, ms.
    pub median_schedule_lag_ms: Option<f64>,
    /// Population std of the how late the client dispatched requests against their due times, ms.
    pub std_schedule_lag_ms: Option<f64>,
    /// P90 of the how late the client dispatched requests against their due times, ms.
    pub p90_schedule_lag_ms: Option<f64>,
    /// P95 of the how late the client dispatched requests against their due times, ms.
    pub p95_schedule_lag_ms: Option<f64>,
    /// P99 of the how late the client dispatched requests against their due times, ms.
    pub p99_schedule_lag_ms: Option<f64>,
    /// Where the percentiles came from: `exact` (NumPy's) or `hdr` (HDR histograms).
    pub percentiles: Percentiles,
    /// Each latency's HDR histogram (V2 deflate, base64) by distribution name, for merging.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub histograms: BTreeMap<String, String>,
    /// Every SLO threshold met (with an `slo:` block only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub slo_passed: Option<bool>,
    /// Names of the thresholds not met (with an `slo:` block only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub slo_failed: Option<Vec<String>>,
    /// Requests that met every per-request threshold / requests sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub slo_attainment: Option<f64>,
    /// Requests that met every per-request threshold, per second.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_goodput: Option<f64>,
    /// The per-request thresholds, ms (bench_serving's key).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub goodput_slos_ms: Option<PerRequest>,
    /// Per threshold: requests that met it / requests sent (bench_serving's key).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub slo_attainment_by_metric: Option<PerRequest>,
    /// Set on the runs of a capacity search.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub search: Option<SearchMark>,
    /// Which repeat of its point the run is (`repeat: N`), from 1.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repeat: Option<u32>,
    /// Why the run stopped before its last request, null when it did not (`runner run`
    /// lines); absent from `runner bench` lines.
    #[serde(skip_serializing_if = "Option::is_none", deserialize_with = "present")]
    pub stopped: Option<Option<String>>,
    /// Hash of the resolved scenario, for `runner run --resume`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scenario_hash: Option<String>,
    /// Most requests in flight at one instant; null past the exact budget (`runner run`
    /// lines).
    #[serde(skip_serializing_if = "Option::is_none", deserialize_with = "present")]
    pub max_in_flight_requests: Option<Option<usize>>,
    /// Where the run's per-request details are (`output.details`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<Value>,
    /// Keys this type does not name, in their order: `runner bench`'s `--output-details`
    /// arrays, and keys of lines written by a newer runner.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Prefix-cache hits over the successful requests (bench_serving's `cache_report`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct CacheReportLine {
    /// Prompt tokens: the server's count where it gave one, else the dataset's.
    pub total_prompt_tokens: u64,
    /// Prompt tokens served from the cache.
    pub total_cached_tokens: u64,
    /// Cached share of the prompt tokens, percent, rounded to 2 decimals.
    pub cache_hit_rate_pct: f64,
    /// Cached tokens found in device memory; null when no response split them by tier.
    pub device_cached_tokens: Option<u64>,
    /// Cached tokens found in host memory; null when no response split them by tier.
    pub host_cached_tokens: Option<u64>,
    /// Cached tokens found in storage; null when none.
    pub storage_cached_tokens: Option<u64>,
    /// Name of the storage tier's backend, when the server gave one.
    pub storage_backend: Option<String>,
}

/// A value per per-request SLO metric, present for the thresholds given.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct PerRequest {
    /// Time to first token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ttft: Option<f64>,
    /// Time per output token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tpot: Option<f64>,
    /// End-to-end latency.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub e2el: Option<f64>,
}

impl PerRequest {
    /// From `(metric, value)` pairs (`ttft`, `tpot`, `e2el`).
    pub fn of<'a>(pairs: impl IntoIterator<Item = (&'a str, f64)>) -> PerRequest {
        let mut p = PerRequest::default();
        for (k, v) in pairs {
            match k {
                "ttft" => p.ttft = Some(v),
                "tpot" => p.tpot = Some(v),
                _ => p.e2el = Some(v),
            }
        }
        p
    }
}

/// A key that is present (possibly null) reads as `Some`, an absent one as `None`.
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

fn line_rate_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "anyOf": [
            { "type": "number", "exclusiveMinimum": 0 },
            { "enum": ["inf", "trace"] }
        ]
    })
}

impl RunLine {
    /// The line of one run. `max_in_flight_requests` and `details` are the results
    /// directory's to set ([`super::Results::run_done`]).
    pub fn new(info: &RunInfo, s: &Summary) -> RunLine {
        let measured = s.completed > 0;
        let (random_input_len, random_output_len, random_range_ratio) = match info.random {
            Some((i, o, r)) => (Some(i), Some(o), Some(r)),
            None => (None, None, None),
        };
        let c = &s.cache;
        let slo = info.slo.as_ref();
        let goodput = slo.map(|v| &v.goodput).filter(|g| !g.slos.is_empty());
        let mut line = RunLine {
            tag: None,
            backend: info.backend.clone(),
            dataset_name: info.dataset_kind.clone(),
            request_rate: info.request_rate,
            max_concurrency: info.max_concurrency.limit(),
            sharegpt_output_len: None,
            random_input_len,
            random_output_len,
            random_range_ratio,
            server_info: s.server_info.clone(),
            duration: s.duration_s,
            completed: s.completed,
            total_input_tokens: s.total_input,
            total_input_text_tokens: s.total_input_text,
            total_input_vision_tokens: s.total_input_vision,
            total_output_tokens: s.total_output,
            total_output_tokens_retokenized: s.total_output_retokenized,
            request_throughput: s.request_throughput,
            input_throughput: s.input_throughput,
            output_throughput: s.output_throughput,
            total_throughput: s.total_throughput,
            concurrency: s.concurrency,
            accept_length: s.accept_length,
            max_output_tokens_per_s: s.max_output_tokens_per_s,
            max_concurrent_requests: s.max_concurrent_requests,
            cache_report: info.cache_report.then(|| CacheReportLine {
                total_prompt_tokens: c.total_prompt_tokens,
                total_cached_tokens: c.total_cached_tokens,
                cache_hit_rate_pct: (c.hit_rate_pct() * 100.0).round() / 100.0,
                device_cached_tokens: c.has_details.then_some(c.device),
                host_cached_tokens: c.has_details.then_some(c.host),
                storage_cached_tokens: (c.storage > 0).then_some(c.storage),
                storage_backend: c.storage_backend.clone(),
            }),
            run_id: info.run_id.clone(),
            scenario: info.scenario.clone(),
            target: info.target.clone(),
            dataset: info.dataset.clone(),
            seed: info.seed,
            runner_version: env!("CARGO_PKG_VERSION").to_owned(),
            started_at: info.stamp.started_at.clone(),
            invocation_id: info.stamp.invocation_id.clone(),
            labels: info.stamp.labels.clone(),
            provenance: info.stamp.provenance.clone(),
            failed: s.failed,
            failures: s
                .failures
                .iter()
                .map(|(k, v)| ((*k).to_owned(), *v))
                .collect(),
            output_len_assumed: s.output_len_assumed,
            total_output_chunks: s.total_output_chunks,
            total_reported_input_tokens: s.total_reported_input,
            retokenized_mismatch: s.retokenized_mismatch,
            chunk_mismatch: s.chunk_mismatch,
            tokenizer_errors: s.tokenizer_errors,
            token_counts_disagree: s.token_counts_disagree(),
            queued_requests: s.queued_requests,
            retried_requests: s.retried_requests,
            warm_connections: s.warm_connections,
            new_connections: s.new_connections,
            client_bound: s.client_bound_reason.is_some(),
            client_bound_reason: s.client_bound_reason.clone(),
            dispatch_rate: s.dispatch_rate,
            target_dispatch_rate: s.target_dispatch_rate,
            client_cpu_pct: s.client_cpu_pct,
            max_itl_ms: measured.then_some(s.max_itl_ms),
            percentiles: s.percentiles,
            histograms: s.histograms.clone(),
            // Absent without an `slo:` block, so they never shadow `runner bench`'s
            // `--goodput` keys.
            slo_passed: slo.map(|v| v.passed),
            slo_failed: slo.map(|v| v.failed_names()),
            slo_attainment: slo.map(|v| v.goodput.slo_attainment),
            request_goodput: slo.map(|v| v.goodput.request_goodput),
            goodput_slos_ms: goodput
                .map(|g| PerRequest::of(g.slos.iter().map(|s| (s.metric, s.ms)))),
            slo_attainment_by_metric: goodput.map(|g| PerRequest::of(g.by_metric.iter().copied())),
            search: info.search.clone(),
            repeat: info.repeat,
            // `runner run` lines (those with a scenario hash) always say whether the run
            // stopped early; `runner bench` lines keep bench_serving's keys.
            stopped: (info.scenario_hash.is_some() || info.stopped.is_some())
                .then(|| info.stopped.map(str::to_owned)),
            scenario_hash: info.scenario_hash.clone(),
            ..RunLine::default()
        };
        for m in Metric::ALL {
            line.set_stats(m, measured.then(|| s.dist(m)));
        }
        line
    }

    /// The line as a JSON object, keys in order.
    pub fn to_map(&self) -> Map<String, Value> {
        match serde_json::to_value(self).expect("a RunLine serializes") {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    }

    /// The JSON Schema of result lines (`schema/result.schema.json`): a run line (every
    /// key it always writes required) or the aggregate line of a point's repeats.
    pub fn json_schema() -> schemars::Schema {
        let mut generator = schemars::SchemaGenerator::default();
        let run = generator.subschema_for::<RunLine>();
        let aggregate = generator.subschema_for::<crate::repeats::AggregateLine>();
        let mut defs = generator.take_definitions(true);
        // The keys every run line has: those the type always serializes.
        let always: Vec<Value> = RunLine::default()
            .to_map()
            .into_iter()
            .map(|(k, _)| Value::String(k))
            .collect();
        if let Some(Value::Object(def)) = defs.get_mut("RunLine") {
            def.insert("required".into(), Value::Array(always));
        }
        schemars::json_schema!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": "runner result line",
            "description": "A line of runs.jsonl (a run, or the aggregate of a point's \
                            repeats) or of `runner bench --output-file`.",
            "anyOf": [run, aggregate],
            "$defs": defs,
        })
    }
}

#[cfg(test)]
mod tests;
