//! A run folded request by request into bounded state: exact counts and sums, exact mean,
//! standard deviation, minimum and maximum per latency, HDR histograms for the percentiles,
//! and 10 ms slots for the peak windows.
//!
//! In: finished [`RequestRecord`]s (token accounting done). Out: a [`Summary`] whose
//! percentiles come from the histograms ([`Percentiles::Hdr`]), and the encoded histograms.
//! Memory grows with the run's duration (3 counters per 10 ms), not with its requests.

use std::collections::BTreeMap;

use super::hist::LatencyHist;
use super::{Dist, Latencies, Percentiles, Summary, count_ok, count_request, rates};
use crate::record::RequestRecord;

/// Width of a peak-window slot, in seconds.
const SLOT_S: f64 = 0.01;

/// One latency folded: exact count, sum, Welford variance, extremes; HDR percentiles.
#[derive(Debug, Clone, Default)]
pub struct Series {
    n: u64,
    sum: f64,
    mean: f64,
    m2: f64,
    min: f64,
    max: f64,
    hist: LatencyHist,
}

impl Series {
    /// Add one value in seconds.
    pub fn add(&mut self, v: f64) {
        self.n += 1;
        self.sum += v;
        let d = v - self.mean;
        self.mean += d / self.n as f64;
        self.m2 += d * (v - self.mean);
        if self.n == 1 {
            (self.min, self.max) = (v, v);
        } else {
            self.min = self.min.min(v);
            self.max = self.max.max(v);
        }
        self.hist.record(v);
    }

    /// The summary in milliseconds: exact mean and population std, HDR percentiles.
    pub fn dist_ms(&self) -> Dist {
        if self.n == 0 {
            return Dist::default();
        }
        let p = self
            .hist
            .percentiles(&[50.0, 90.0, 95.0, 99.0], self.min, self.max);
        Dist {
            mean: self.sum / self.n as f64 * 1000.0,
            median: p[0] * 1000.0,
            std: (self.m2 / self.n as f64).sqrt() * 1000.0,
            p90: p[1] * 1000.0,
            p95: p[2] * 1000.0,
            p99: p[3] * 1000.0,
        }
    }
}

/// A whole run folded.
#[derive(Debug, Clone, Default)]
pub struct Fold {
    s: Summary,
    e2e: Series,
    ttft: Series,
    tpot: Series,
    itl: Series,
    ttft_sched: Series,
    e2e_sched: Series,
    wait: Series,
    lag: Series,
    /// End of the last response (any outcome), seconds from the run start.
    pub max_end_s: f64,
    first_sent_s: Option<f64>,
    tokens: Vec<u32>,
    sends: Vec<u32>,
    ends: Vec<u32>,
}

fn bump(v: &mut Vec<u32>, t: f64) {
    let i = (t.max(0.0) / SLOT_S) as usize;
    if v.len() <= i {
        v.resize(i + 1, 0);
    }
    v[i] += 1;
}

impl Fold {
    /// Fold one finished request (its token accounting done).
    pub fn add(&mut self, r: &RequestRecord) {
        self.max_end_s = self.max_end_s.max(r.end_s);
        count_request(&mut self.s, r);
        if !r.outcome.is_ok() {
            self.s.failed += 1;
            return;
        }
        self.s.completed += 1;
        count_ok(&mut self.s, r, r.retokenized_output_len.unwrap_or(0));
        self.s.cache.add(r);
        let v = Latencies::of(r);
        self.e2e.add(v.e2e);
        self.ttft.add(v.ttft);
        if let Some(t) = v.tpot {
            self.tpot.add(t);
        }
        for &g in &r.itl_s {
            self.itl.add(g);
        }
        self.ttft_sched.add(v.ttft_from_schedule);
        self.e2e_sched.add(v.e2e_from_schedule);
        self.wait.add(v.queue_wait);
        self.lag.add(v.schedule_lag);
        let first = self.first_sent_s.get_or_insert(r.sent_s);
        *first = first.min(r.sent_s);
        let mut t = r.sent_s + v.ttft;
        bump(&mut self.tokens, t);
        for gap in &r.itl_s {
            t += gap;
            bump(&mut self.tokens, t);
        }
        bump(&mut self.sends, r.sent_s);
        bump(&mut self.ends, r.end_s);
    }

    /// The summary from the fold: exact counts, sums, means and deviations; percentiles from
    /// the histograms; peak windows from 10 ms slots (so within 10 ms of bench_serving's
    /// window edges).
    pub fn summary(&self, duration_s: f64) -> Summary {
        let mut s = self.s.clone();
        s.duration_s = duration_s;
        rates(&mut s, self.e2e.sum);
        s.e2e_ms = self.e2e.dist_ms();
        s.ttft_ms = self.ttft.dist_ms();
        s.tpot_ms = self.tpot.dist_ms();
        s.itl_ms = self.itl.dist_ms();
        s.max_itl_ms = if self.itl.n > 0 {
            self.itl.max.max(0.0) * 1000.0
        } else {
            0.0
        };
        s.ttft_from_schedule_ms = self.ttft_sched.dist_ms();
        s.e2e_from_schedule_ms = self.e2e_sched.dist_ms();
        s.queue_wait_ms = self.wait.dist_ms();
        s.schedule_lag_ms = self.lag.dist_ms();
        (s.max_output_tokens_per_s, s.max_concurrent_requests) = self.peaks();
        s.percentiles = Percentiles::Hdr;
        s.histograms = self.histograms();
        s
    }

    /// Each latency's histogram, encoded, by metric name.
    pub fn histograms(&self) -> BTreeMap<String, String> {
        [
            ("e2e_latency", &self.e2e),
            ("ttft", &self.ttft),
            ("tpot", &self.tpot),
            ("itl", &self.itl),
            ("ttft_from_schedule", &self.ttft_sched),
            ("e2e_from_schedule", &self.e2e_sched),
            ("queue_wait", &self.wait),
            ("schedule_lag", &self.lag),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.hist.encode()))
        .collect()
    }

    /// bench_serving's one-second windows from the earliest send, built from the slots.
    fn peaks(&self) -> (f64, usize) {
        let Some(t0) = self.first_sent_s else {
            return (0.0, 0);
        };
        let window = |slot: usize| -> usize {
            let mid = (slot as f64 + 0.5) * SLOT_S;
            (mid - t0).max(0.0) as usize
        };
        let n = window(self.ends.len().max(self.tokens.len())) + 1;
        let mut tokens = vec![0u64; n];
        let mut starts = vec![0i64; n + 1];
        for (slot, &c) in self.tokens.iter().enumerate() {
            tokens[window(slot)] += u64::from(c);
        }
        for (slot, &c) in self.sends.iter().enumerate() {
            starts[window(slot)] += i64::from(c);
        }
        for (slot, &c) in self.ends.iter().enumerate() {
            starts[window(slot) + 1] -= i64::from(c);
        }
        let mut live = 0i64;
        let mut conc = 0i64;
        for d in starts {
            live += d;
            conc = conc.max(live);
        }
        (
            tokens.into_iter().max().unwrap_or(0) as f64,
            conc.max(0) as usize,
        )
    }
}
