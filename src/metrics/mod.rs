//! Run summaries with bench_serving's definitions (spec §5), plus failure counts and
//! schedule-relative latencies.
//!
//! In: the run's [`RequestRecord`]s and duration, and the tokenizer (to retokenize output).
//! Out: a [`Summary`]. Statistics follow NumPy: population standard deviation, linear
//! percentile interpolation at `q/100 * (n-1)`, and an empty list summarised as all zeros.
//!
//! A run's records are folded as each request finishes ([`Collector`]): within the exact
//! budget the summary comes from the values themselves, past it from HDR histograms
//! ([`hist`]) with exact counts and sums ([`Percentiles`] says which).

mod collect;
mod fold;
#[cfg(test)]
mod fold_tests;
pub mod hist;
mod metric;

use std::collections::BTreeMap;

pub use collect::{Collector, EXACT_MAX_ITL_VALUES, EXACT_MAX_REQUESTS};
pub use fold::Fold;
pub use metric::Metric;

use crate::record::RequestRecord;
use crate::tokenizer::Tokenizer;

/// Mean, median, standard deviation and tail percentiles of one latency, in milliseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Dist {
    /// Arithmetic mean.
    pub mean: f64,
    /// 50th percentile.
    pub median: f64,
    /// Population standard deviation (NumPy `ddof=0`).
    pub std: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 95th percentile.
    pub p95: f64,
    /// 99th percentile.
    pub p99: f64,
}

impl Dist {
    /// Summarise values given in seconds, reporting milliseconds. Empty → all zeros.
    pub fn of_seconds(values: &[f64]) -> Dist {
        let ms: Vec<f64> = values.iter().map(|v| v * 1000.0).collect();
        Dist::of(&ms)
    }

    /// Summarise values as they are. Empty → all zeros.
    pub fn of(values: &[f64]) -> Dist {
        if values.is_empty() {
            return Dist::default();
        }
        let mut sorted = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        let mean = mean(values);
        Dist {
            mean,
            median: percentile(&sorted, 50.0),
            std: (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / values.len() as f64)
                .sqrt(),
            p90: percentile(&sorted, 90.0),
            p95: percentile(&sorted, 95.0),
            p99: percentile(&sorted, 99.0),
        }
    }
}

fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len() as f64
}

/// NumPy's default (`linear`) percentile of sorted values, including its interpolation
/// formula (`b - (b-a)(1-t)` for `t >= 0.5`). Empty → 0.
pub fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let pos = q / 100.0 * (sorted.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = (lo + 1).min(sorted.len() - 1);
    let t = pos - lo as f64;
    let (a, b) = (sorted[lo], sorted[hi]);
    let d = b - a;
    if t >= 0.5 {
        b - d * (1.0 - t)
    } else {
        a + d * t
    }
}

/// Everything reported about one run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Summary {
    /// Successful requests.
    pub completed: usize,
    /// Failed requests.
    pub failed: usize,
    /// Tokenizer calls that failed while counting this run's tokens (their texts counted 0).
    pub tokenizer_errors: usize,
    /// Failed requests by kind (`http_503`, `stream_early_close`, `timeout`, …).
    pub failures: BTreeMap<&'static str, usize>,
    /// Run duration in seconds: from the first due time to the end of the last response.
    pub duration_s: f64,
    /// Sum of the dataset's prompt lengths over successful requests.
    pub total_input: u64,
    /// Sum of the server-reported prompt lengths over successful requests that carried one
    /// (the `reported_input_lens` detail array sums to it).
    pub total_reported_input: u64,
    /// Text part of `total_input` (all of it for text datasets).
    pub total_input_text: u64,
    /// Vision part of `total_input`.
    pub total_input_vision: u64,
    /// Sum of output lengths (server-reported, else requested) over successful requests.
    pub total_output: u64,
    /// Sum of output lengths counted by retokenizing the generated text.
    pub total_output_retokenized: u64,
    /// Successful requests whose output length was assumed (server sent no usage).
    pub output_len_assumed: usize,
    /// Sum over successful requests of the chunks that carried output (the third count).
    pub total_output_chunks: u64,
    /// Successful requests whose server-reported output length differs from the retokenized
    /// one by more than max(1 token, 5 %): a sign that runner's tokenizer is not the server's.
    pub retokenized_mismatch: usize,
    /// Successful requests whose server-reported output length differs from their chunk
    /// count (chunks carrying several tokens, or tokens split over chunks).
    pub chunk_mismatch: usize,
    /// completed / duration.
    pub request_throughput: f64,
    /// total_input / duration.
    pub input_throughput: f64,
    /// total_output / duration.
    pub output_throughput: f64,
    /// (total_input + total_output) / duration.
    pub total_throughput: f64,
    /// Sum of successful E2E latencies / duration.
    pub concurrency: f64,
    /// End-to-end latency from the send time.
    pub e2e_ms: Dist,
    /// Time to first token from the send time.
    pub ttft_ms: Dist,
    /// Time per output token after the first: (latency − ttft) / (output_len − 1).
    pub tpot_ms: Dist,
    /// Inter-token latency.
    pub itl_ms: Dist,
    /// Largest inter-token latency.
    pub max_itl_ms: f64,
    /// Most output tokens received within one one-second window.
    pub max_output_tokens_per_s: f64,
    /// Most requests in flight within one one-second window.
    pub max_concurrent_requests: usize,
    /// Time to first token from the due time (includes waiting for the cap).
    pub ttft_from_schedule_ms: Dist,
    /// End-to-end latency from the due time (includes waiting for the cap).
    pub e2e_from_schedule_ms: Dist,
    /// Time held back by the concurrency cap (from dispatch to send).
    pub queue_wait_ms: Dist,
    /// How late the client dispatched requests against their due times.
    pub schedule_lag_ms: Dist,
    /// Requests that waited for the concurrency cap (more than 1 ms).
    pub queued_requests: usize,
    /// Requests sent again because their pooled connection had been closed by the server.
    pub retried_requests: usize,
    /// Requests whose response came over a newly opened connection (handshake in TTFT).
    pub new_connections: usize,
    /// Connections opened before the run's clock started.
    pub warm_connections: usize,
    /// Requests per second the dispatcher achieved (0 for rate `inf`).
    pub dispatch_rate: f64,
    /// Requests per second the schedule asked for (0 for rate `inf`).
    pub target_dispatch_rate: f64,
    /// This process's CPU during the run, percent of one core (an embedded server's share
    /// included).
    pub client_cpu_pct: f64,
    /// Why the client, not the server, limited the run; `None` when it kept up.
    pub client_bound_reason: Option<String>,
    /// Speculative-decoding accept length from the server's `/server_info`.
    pub accept_length: Option<f64>,
    /// The server's `/server_info` answer after the run, when it gave one.
    pub server_info: Option<serde_json::Value>,
    /// Prefix-cache hits the server reported.
    pub cache: CacheReport,
    /// Where the percentiles came from.
    pub percentiles: Percentiles,
    /// Each latency's HDR histogram (V2 deflate, base64) by metric name (`ttft`, `itl`, …),
    /// for merging runs later; empty when the run was not folded.
    pub histograms: BTreeMap<String, String>,
}

/// Where a summary's percentiles came from.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    serde::Serialize,
    serde::Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Percentiles {
    /// From every value: identical to NumPy's.
    #[default]
    Exact,
    /// From HDR histograms (the run was past the exact budget): within
    /// [`hist::RELATIVE_PRECISION`] of NumPy's.
    Hdr,
}

impl Percentiles {
    /// `"exact"` or `"hdr"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Percentiles::Exact => "exact",
            Percentiles::Hdr => "hdr",
        }
    }
}

/// Prefix-cache hits over the successful requests (bench_serving's `--cache-report`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CacheReport {
    /// Prompt tokens: the server's count where it gave one, else the dataset's.
    pub total_prompt_tokens: u64,
    /// Prompt tokens served from the cache.
    pub total_cached_tokens: u64,
    /// Whether any response split its cached tokens by tier.
    pub has_details: bool,
    /// Cached tokens found in device memory.
    pub device: u64,
    /// Cached tokens found in host memory.
    pub host: u64,
    /// Cached tokens found in storage.
    pub storage: u64,
    /// Name of the storage tier's backend, when the server gave one.
    pub storage_backend: Option<String>,
}

impl CacheReport {
    /// Cached share of the prompt tokens, in percent (0 when there were none).
    pub fn hit_rate_pct(&self) -> f64 {
        if self.total_prompt_tokens == 0 {
            0.0
        } else {
            self.total_cached_tokens as f64 / self.total_prompt_tokens as f64 * 100.0
        }
    }

    pub(crate) fn add(&mut self, r: &RequestRecord) {
        self.total_prompt_tokens += u64::from(r.reported_prompt_len.unwrap_or(r.prompt_len));
        self.total_cached_tokens += u64::from(r.cached_tokens.unwrap_or(0));
        let Some(d) = r.cached_tokens_details.as_ref() else {
            return;
        };
        self.has_details = true;
        let tier = |k: &str| d.get(k).and_then(serde_json::Value::as_u64).unwrap_or(0);
        self.device += tier("device");
        self.host += tier("host");
        let storage = tier("storage");
        if storage > 0 {
            self.storage += storage;
            self.storage_backend = d
                .get("storage_backend")
                .and_then(serde_json::Value::as_str)
                .map(str::to_owned);
        }
    }
}

impl Summary {
    /// Whether the server-reported and client-retokenized output lengths disagree.
    pub fn token_counts_disagree(&self) -> bool {
        self.retokenized_mismatch > 0
    }
}

/// Token accounting after a run (off the hot path): count each successful request's output
/// by retokenizing its text, and when a stream's chunks did not say how many tokens they
/// carried but the server's total exceeds the chunk count, split each chunk's gap over its
/// retokenized length instead of counting one token per chunk (bench_serving's
/// speculative-decoding correction, without its division by zero).
pub fn count_tokens(records: &mut [RequestRecord], tokenizer: &Tokenizer) {
    for r in records.iter_mut().filter(|r| r.outcome.is_ok()) {
        count_one(r, tokenizer);
    }
}

/// [`count_tokens`] for one successful request (as it finishes).
pub fn count_one(r: &mut RequestRecord, tokenizer: &Tokenizer) {
    r.retokenized_output_len = Some(tokenizer.count(&r.text) as u32);
    let unknown = r.chunk_events.iter().any(|c| c.tokens == 0);
    let more = r.reported_output_len.is_some_and(|n| n > r.chunks);
    if !unknown || !more {
        return;
    }
    let mut prev = 0usize;
    let counts: Vec<u32> = r
        .chunk_events
        .iter()
        .map(|c| {
            let end = (c.text_end as usize).min(r.text.len());
            let piece = r.text.get(prev..end).unwrap_or("");
            prev = end;
            if c.tokens > 0 {
                c.tokens
            } else {
                (tokenizer.count(piece) as u32).max(1)
            }
        })
        .collect();
    r.set_itl(&counts);
}

/// Summarise one run.
pub fn summarize(records: &[RequestRecord], duration_s: f64, tokenizer: &Tokenizer) -> Summary {
    let ok: Vec<&RequestRecord> = records.iter().filter(|r| r.outcome.is_ok()).collect();
    let mut s = Summary {
        completed: ok.len(),
        failed: records.len() - ok.len(),
        duration_s,
        ..Summary::default()
    };
    for r in records {
        count_request(&mut s, r);
    }
    let (mut e2e, mut ttft, mut tpot, mut itl) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let (mut ttft_sched, mut e2e_sched, mut wait) = (Vec::new(), Vec::new(), Vec::new());
    let mut lag = Vec::new();
    for r in &ok {
        let retok = r
            .retokenized_output_len
            .unwrap_or_else(|| tokenizer.count(&r.text) as u32);
        count_ok(&mut s, r, retok);
        let v = Latencies::of(r);
        if let Some(t) = v.tpot {
            tpot.push(t);
        }
        itl.extend_from_slice(&r.itl_s);
        ttft.push(v.ttft);
        e2e.push(v.e2e);
        ttft_sched.push(v.ttft_from_schedule);
        e2e_sched.push(v.e2e_from_schedule);
        wait.push(v.queue_wait);
        lag.push(v.schedule_lag);
    }
    // fold from +0.0: an empty f64 `sum()` is -0.0, printed as "-0.00".
    rates(&mut s, e2e.iter().fold(0.0, |a, b| a + b));
    s.e2e_ms = Dist::of_seconds(&e2e);
    s.ttft_ms = Dist::of_seconds(&ttft);
    s.tpot_ms = Dist::of_seconds(&tpot);
    s.itl_ms = Dist::of_seconds(&itl);
    s.max_itl_ms = itl.iter().copied().fold(0.0, f64::max) * 1000.0;
    s.ttft_from_schedule_ms = Dist::of_seconds(&ttft_sched);
    s.e2e_from_schedule_ms = Dist::of_seconds(&e2e_sched);
    s.queue_wait_ms = Dist::of_seconds(&wait);
    s.schedule_lag_ms = Dist::of_seconds(&lag);
    (s.max_output_tokens_per_s, s.max_concurrent_requests) = peaks(&ok);
    for r in &ok {
        s.cache.add(r);
    }
    s
}

/// The per-request latencies of one successful request, in seconds (the one definition the
/// exact and the histogram paths share).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Latencies {
    pub e2e: f64,
    pub ttft: f64,
    /// (latency − ttft) / (output_len − 1), for outputs longer than one token.
    pub tpot: Option<f64>,
    pub ttft_from_schedule: f64,
    pub e2e_from_schedule: f64,
    pub queue_wait: f64,
    pub schedule_lag: f64,
}

impl Latencies {
    pub(crate) fn of(r: &RequestRecord) -> Latencies {
        Latencies {
            e2e: r.latency_s(),
            ttft: r.ttft_s().unwrap_or(0.0),
            tpot: r.tpot_s(),
            ttft_from_schedule: r.first_token_s.unwrap_or(r.end_s) - r.intended_s,
            e2e_from_schedule: r.end_s - r.intended_s,
            queue_wait: r.queue_wait_s(),
            schedule_lag: r.schedule_lag_s(),
        }
    }
}

/// Count any request (success or failure) into `s`.
pub(crate) fn count_request(s: &mut Summary, r: &RequestRecord) {
    s.retried_requests += usize::from(r.retries > 0);
    s.new_connections += usize::from(r.connect_s.is_some());
    if !r.outcome.is_ok() {
        *s.failures.entry(r.outcome.kind()).or_default() += 1;
    }
}

/// Count a successful request's tokens (`retok`: its retokenized output length) into `s`.
pub(crate) fn count_ok(s: &mut Summary, r: &RequestRecord, retok: u32) {
    let out = r.output_len();
    s.total_input += r.prompt_len as u64;
    s.total_reported_input += u64::from(r.reported_prompt_len.unwrap_or(0));
    let vision = r.vision_prompt_len.min(r.prompt_len);
    s.total_input_text += (r.prompt_len - vision) as u64;
    s.total_input_vision += vision as u64;
    s.total_output += out as u64;
    s.total_output_retokenized += retok as u64;
    s.total_output_chunks += r.chunks as u64;
    s.output_len_assumed += usize::from(r.reported_output_len.is_none());
    if let Some(rep) = r.reported_output_len {
        let tolerance = (rep as f64 * 0.05).max(1.0);
        s.retokenized_mismatch += usize::from((rep as f64 - retok as f64).abs() > tolerance);
        s.chunk_mismatch += usize::from(rep != r.chunks);
    }
    s.queued_requests += usize::from(r.queue_wait_s() > 0.001);
}

/// Throughputs and concurrency from the totals, `e2e_sum` and the duration in `s`.
pub(crate) fn rates(s: &mut Summary, e2e_sum: f64) {
    let duration_s = s.duration_s;
    if duration_s > 0.0 {
        s.request_throughput = s.completed as f64 / duration_s;
        s.input_throughput = s.total_input as f64 / duration_s;
        s.output_throughput = s.total_output as f64 / duration_s;
        s.total_throughput = (s.total_input + s.total_output) as f64 / duration_s;
        s.concurrency = e2e_sum / duration_s;
    }
}

/// bench_serving's peak windows: one-second buckets from the earliest send; each token
/// lands in the bucket of its arrival, each request counts in every bucket it spans.
fn peaks(ok: &[&RequestRecord]) -> (f64, usize) {
    let Some(t0) = ok.iter().map(|r| r.sent_s).min_by(f64::total_cmp) else {
        return (0.0, 0);
    };
    let t1 = ok.iter().map(|r| r.end_s).fold(t0, f64::max);
    let buckets = (t1 - t0).ceil() as usize + 1;
    let mut tokens = vec![0u64; buckets];
    let mut conc = vec![0usize; buckets];
    for r in ok {
        let mut t = r.sent_s + r.ttft_s().unwrap_or(0.0);
        let mut add = |t: f64| {
            if let Some(b) = tokens.get_mut((t - t0) as usize) {
                *b += 1;
            }
        };
        add(t);
        for gap in &r.itl_s {
            t += gap;
            add(t);
        }
        let first = (r.sent_s - t0) as usize;
        let last = ((r.end_s - t0) as usize).min(buckets - 1);
        for c in &mut conc[first..=last] {
            *c += 1;
        }
    }
    (
        tokens.into_iter().max().unwrap_or(0) as f64,
        conc.into_iter().max().unwrap_or(0),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Outcome;

    #[test]
    fn percentiles_match_numpy() {
        // np.percentile([1, 2, 3, 4], q) for q = 50, 90, 95, 99 → 2.5, 3.7, 3.85, 3.97
        let s = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(percentile(&s, 50.0), 2.5);
        assert!((percentile(&s, 90.0) - 3.7).abs() < 1e-12);
        assert!((percentile(&s, 95.0) - 3.85).abs() < 1e-12);
        assert!((percentile(&s, 99.0) - 3.97).abs() < 1e-12);
        assert_eq!(percentile(&[7.0], 99.0), 7.0);
        assert_eq!(percentile(&[], 50.0), 0.0);
    }

    #[test]
    fn dist_uses_population_std() {
        // np.std([2, 4, 4, 4, 5, 5, 7, 9]) == 2.0; mean 5; median 4.5
        let d = Dist::of(&[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]);
        assert_eq!((d.mean, d.median, d.std), (5.0, 4.5, 2.0));
        // np.percentile(x, 90) = 7 + 0.3 * (9 - 7) = 7.6
        assert!((d.p90 - 7.6).abs() < 1e-12);
        assert_eq!(Dist::of(&[]), Dist::default());
    }

    fn rec(
        sent: f64,
        first: f64,
        end: f64,
        itl: &[f64],
        out: Option<u32>,
        text: &str,
    ) -> RequestRecord {
        let mut r = RequestRecord::new(0, sent, 4);
        r.first_token_s = Some(first);
        r.end_s = end;
        r.itl_s = itl.to_vec();
        r.prompt_len = 10;
        r.reported_output_len = out;
        r.chunks = 1 + itl.len() as u32;
        r.text = text.into();
        r
    }

    #[test]
    fn summary_matches_hand_computed_values() {
        let tok = Tokenizer::builtin();
        let mut failed = rec(0.0, 0.0, 0.5, &[], None, "");
        failed.outcome = Outcome::Http { status: 503 };
        let records = vec![
            // ttft 0.1, latency 0.4, 4 tokens: tpot (0.4 - 0.1) / 3 = 0.1
            rec(0.0, 0.1, 0.4, &[0.1, 0.1, 0.1], Some(4), "the of and to"),
            // ttft 0.2, latency 0.5, 2 tokens reported: tpot 0.3
            rec(1.0, 1.2, 1.5, &[0.3], Some(2), "the of"),
            failed,
        ];
        let s = summarize(&records, 2.0, &tok);
        assert_eq!((s.completed, s.failed), (2, 1));
        assert_eq!(s.failures.get("http_503"), Some(&1));
        assert_eq!(
            (s.total_input, s.total_output, s.total_output_retokenized),
            (20, 6, 6)
        );
        assert_eq!(s.request_throughput, 1.0);
        assert_eq!(s.output_throughput, 3.0);
        assert_eq!(s.total_throughput, 13.0);
        // concurrency = (0.4 + 0.5) / 2
        assert!((s.concurrency - 0.45).abs() < 1e-12);
        assert!((s.ttft_ms.mean - 150.0).abs() < 1e-9);
        assert!((s.tpot_ms.mean - 200.0).abs() < 1e-9);
        // ITLs [100, 100, 100, 300] ms: mean 150, median 100, std sqrt(7500)
        assert!((s.itl_ms.mean - 150.0).abs() < 1e-9);
        assert!((s.itl_ms.median - 100.0).abs() < 1e-9);
        assert!((s.itl_ms.std - 7500f64.sqrt()).abs() < 1e-9);
        assert!((s.max_itl_ms - 300.0).abs() < 1e-9);
        // tokens at 0.1, 0.2, 0.3, 0.4 | 1.2, 1.5 → peak 4 in bucket 0; each request in one bucket
        assert_eq!(s.max_output_tokens_per_s, 4.0);
        assert_eq!(s.max_concurrent_requests, 1);
    }

    #[test]
    fn chunks_of_several_tokens_split_their_gap_by_retokenized_length() {
        use crate::record::ChunkEvent;
        let tok = Tokenizer::builtin();
        // Three chunks of 1, 3 and 2 words; the server says 6 tokens in total.
        let mut r = rec(0.0, 0.1, 0.5, &[], Some(6), "");
        let mut text = String::new();
        r.chunk_events.clear();
        for (t, piece) in [(0.1, "the"), (0.4, " of and to"), (0.5, " in is")] {
            text.push_str(piece);
            r.chunk_events.push(ChunkEvent {
                t_s: t,
                tokens: 0,
                text_end: text.len() as u32,
            });
        }
        r.text = text;
        r.chunks = 3;
        let mut records = vec![r];
        count_tokens(&mut records, &tok);
        let r = &records[0];
        assert_eq!(r.retokenized_output_len, Some(6));
        let ms: Vec<i64> = r
            .itl_s
            .iter()
            .map(|g| (g * 1000.0).round() as i64)
            .collect();
        assert_eq!(ms, [100, 100, 100, 50, 50]);
        let s = summarize(&records, 1.0, &tok);
        assert_eq!((s.total_output, s.total_output_chunks), (6, 3));
        assert_eq!((s.chunk_mismatch, s.retokenized_mismatch), (1, 0));
        assert!(!s.token_counts_disagree());
    }

    #[test]
    fn all_failed_run_summarises_to_zeros() {
        let mut r = rec(0.0, 0.0, 0.1, &[], None, "");
        r.outcome = Outcome::Connect;
        let s = summarize(&[r], 0.1, &Tokenizer::builtin());
        assert_eq!((s.completed, s.failed), (0, 1));
        assert_eq!(s.e2e_ms, Dist::default());
        assert_eq!(s.max_concurrent_requests, 0);
        assert_eq!(format!("{:.2}", s.concurrency), "0.00");
    }
}
