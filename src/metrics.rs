//! Run summaries with bench_serving's definitions (spec §5), plus failure counts and
//! schedule-relative latencies.
//!
//! In: the run's [`RequestRecord`]s and duration, and the tokenizer (to retokenize output).
//! Out: a [`Summary`]. Statistics follow NumPy: population standard deviation, linear
//! percentile interpolation at `q/100 * (n-1)`, and an empty list summarised as all zeros.

use std::collections::BTreeMap;

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
    /// Failed requests by kind (`http_503`, `stream_early_close`, `timeout`, …).
    pub failures: BTreeMap<String, usize>,
    /// Run duration in seconds: from the first due time to the end of the last response.
    pub duration_s: f64,
    /// Sum of the dataset's prompt lengths over successful requests.
    pub total_input: u64,
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
    /// Time between due and sent.
    pub queue_wait_ms: Dist,
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
    for r in records.iter().filter(|r| !r.outcome.is_ok()) {
        *s.failures.entry(r.outcome.kind()).or_default() += 1;
    }
    let (mut e2e, mut ttft, mut tpot, mut itl) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let (mut ttft_sched, mut e2e_sched, mut wait) = (Vec::new(), Vec::new(), Vec::new());
    for r in &ok {
        let out = r.output_len();
        let first = r.ttft_s().unwrap_or(0.0);
        s.total_input += r.prompt_len as u64;
        s.total_input_text += r.prompt_len as u64;
        s.total_output += out as u64;
        s.total_output_retokenized += tokenizer.count(&r.text) as u64;
        s.output_len_assumed += usize::from(r.reported_output_len.is_none());
        if out > 1 {
            tpot.push((r.latency_s() - first) / (out - 1) as f64);
        }
        itl.extend_from_slice(&r.itl_s);
        ttft.push(first);
        e2e.push(r.latency_s());
        ttft_sched.push(r.first_token_s.unwrap_or(r.end_s) - r.intended_s);
        e2e_sched.push(r.end_s - r.intended_s);
        wait.push(r.queue_wait_s());
    }
    if duration_s > 0.0 {
        s.request_throughput = s.completed as f64 / duration_s;
        s.input_throughput = s.total_input as f64 / duration_s;
        s.output_throughput = s.total_output as f64 / duration_s;
        s.total_throughput = (s.total_input + s.total_output) as f64 / duration_s;
        s.concurrency = e2e.iter().sum::<f64>() / duration_s;
    }
    s.e2e_ms = Dist::of_seconds(&e2e);
    s.ttft_ms = Dist::of_seconds(&ttft);
    s.tpot_ms = Dist::of_seconds(&tpot);
    s.itl_ms = Dist::of_seconds(&itl);
    s.max_itl_ms = itl.iter().copied().fold(0.0, f64::max) * 1000.0;
    s.ttft_from_schedule_ms = Dist::of_seconds(&ttft_sched);
    s.e2e_from_schedule_ms = Dist::of_seconds(&e2e_sched);
    s.queue_wait_ms = Dist::of_seconds(&wait);
    (s.max_output_tokens_per_s, s.max_concurrent_requests) = peaks(&ok);
    s
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
        RequestRecord {
            index: 0,
            intended_s: sent,
            sent_s: sent,
            first_token_s: Some(first),
            end_s: end,
            itl_s: itl.to_vec(),
            prompt_len: 10,
            requested_output_len: 4,
            reported_output_len: out,
            reported_prompt_len: None,
            chunks: 1 + itl.len() as u32,
            text: text.into(),
            outcome: Outcome::Ok,
            error: None,
        }
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
    fn all_failed_run_summarises_to_zeros() {
        let mut r = rec(0.0, 0.0, 0.1, &[], None, "");
        r.outcome = Outcome::Connect;
        let s = summarize(&[r], 0.1, &Tokenizer::builtin());
        assert_eq!((s.completed, s.failed), (0, 1));
        assert_eq!(s.e2e_ms, Dist::default());
        assert_eq!(s.max_concurrent_requests, 0);
    }
}
