//! The folded (histogram) path against the exact one.

use rand::rngs::ChaCha8Rng;
use rand::{RngExt, SeedableRng};
use rand_distr::LogNormal;

use super::fold::Series;
use super::hist::RELATIVE_PRECISION;
use super::*;
use crate::record::Outcome;

/// Whether `hdr` is within the stated precision of `exact` (both in ms): half a bucket
/// relative, plus the 1 ns recording unit.
fn within(hdr: f64, exact: f64) -> bool {
    (hdr - exact).abs() <= exact.abs() * RELATIVE_PRECISION + 1e-6
}

#[test]
fn million_value_histogram_percentiles_are_within_the_stated_precision() {
    // Latencies spread over four decades (lognormal around 50 ms), as seconds.
    let mut rng = ChaCha8Rng::seed_from_u64(13);
    let dist = LogNormal::new((0.05f64).ln(), 1.2).unwrap();
    let values: Vec<f64> = (0..1_000_000).map(|_| rng.sample(dist)).collect();
    let mut series = Series::default();
    for &v in &values {
        series.add(v);
    }
    let exact = Dist::of_seconds(&values);
    let hdr = series.dist_ms();
    for (name, h, e) in [
        ("median", hdr.median, exact.median),
        ("p90", hdr.p90, exact.p90),
        ("p95", hdr.p95, exact.p95),
        ("p99", hdr.p99, exact.p99),
    ] {
        eprintln!(
            "{name}: hdr {h:.6} ms, exact {e:.6} ms, relative error {:.2e} (stated {RELATIVE_PRECISION:.2e})",
            (h - e).abs() / e
        );
        assert!(within(h, e), "{name}: hdr {h} vs exact {e}");
        // and not trivially: the histogram is coarser than the data
        assert_ne!(h, e, "{name} unexpectedly identical");
    }
    // Mean and std are exact sums (up to summation order).
    assert!((hdr.mean - exact.mean).abs() <= exact.mean * 1e-12);
    assert!((hdr.std - exact.std).abs() <= exact.std * 1e-9);
}

fn record(i: usize, ok: bool) -> RequestRecord {
    // Deterministic but varied timings: ttft 10..60 ms, 1..8 tokens with 3..9 ms gaps.
    let mut r = RequestRecord::new(i, i as f64 * 0.013, 8);
    r.dispatched_s = r.intended_s + (i % 3) as f64 * 1e-4;
    r.sent_s = r.dispatched_s + (i % 5) as f64 * 1e-3;
    let ttft = 0.010 + (i * 7919 % 50) as f64 * 1e-3;
    r.first_token_s = Some(r.sent_s + ttft);
    let n = 1 + i % 8;
    r.itl_s = (1..n).map(|k| (3 + (i + k) % 7) as f64 * 1e-3).collect();
    r.end_s = r.sent_s + ttft + r.itl_s.iter().sum::<f64>();
    r.prompt_len = 10 + (i % 4) as u32;
    r.reported_output_len = Some(n as u32);
    r.retokenized_output_len = Some(n as u32);
    r.text = vec!["the"; n].join(" ");
    r.chunks = n as u32;
    r.retries = u32::from(i.is_multiple_of(11));
    if !ok {
        r.outcome = Outcome::Http { status: 503 };
        r.error = Some("busy".into());
    }
    r
}

fn records(n: usize) -> Vec<RequestRecord> {
    (0..n).map(|i| record(i, i % 13 != 5)).collect()
}

/// Feed in a scrambled (completion) order.
fn collect(recs: &[RequestRecord], c: &mut Collector) {
    let n = recs.len();
    for k in 0..n {
        c.push(recs[(k * 7) % n].clone());
    }
}

#[test]
fn within_the_budget_the_collected_summary_is_the_exact_one() {
    let recs = records(1000);
    let tok = Tokenizer::builtin();
    let mut c = Collector::new(Some(&tok), false);
    collect(&recs, &mut c);
    let (mut s, kept) = c.finish(14.0);
    assert_eq!(s.percentiles, Percentiles::Exact);
    assert_eq!(s.histograms.len(), 8);
    assert_eq!(kept.len(), 1000);
    s.histograms.clear();
    assert_eq!(s, summarize(&recs, 14.0, &tok));
}

#[test]
fn past_the_budget_counts_stay_exact_and_percentiles_come_from_histograms() {
    let recs = records(1000);
    let tok = Tokenizer::builtin();
    let mut c = Collector::new(Some(&tok), false).with_budget(100, 1_000_000);
    collect(&recs, &mut c);
    let (s, kept) = c.finish(14.0);
    let exact = summarize(&recs, 14.0, &tok);
    assert_eq!(s.percentiles, Percentiles::Hdr);
    // only failures are kept past the budget, for the error note
    assert!(!kept.is_empty() && kept.iter().all(|r| !r.outcome.is_ok()));
    assert_eq!(
        (
            s.completed,
            s.failed,
            s.failures.clone(),
            s.retried_requests
        ),
        (
            exact.completed,
            exact.failed,
            exact.failures.clone(),
            exact.retried_requests
        )
    );
    assert_eq!(
        (s.total_input, s.total_output, s.total_output_chunks),
        (
            exact.total_input,
            exact.total_output,
            exact.total_output_chunks
        )
    );
    assert_eq!(s.queued_requests, exact.queued_requests);
    assert!((s.concurrency - exact.concurrency).abs() < 1e-9);
    assert!((s.max_itl_ms - exact.max_itl_ms).abs() < 1e-9);
    for (name, h, e) in [
        ("ttft", s.ttft_ms, exact.ttft_ms),
        ("itl", s.itl_ms, exact.itl_ms),
        ("tpot", s.tpot_ms, exact.tpot_ms),
        ("e2e", s.e2e_ms, exact.e2e_ms),
        (
            "ttft_sched",
            s.ttft_from_schedule_ms,
            exact.ttft_from_schedule_ms,
        ),
        ("wait", s.queue_wait_ms, exact.queue_wait_ms),
    ] {
        assert!((h.mean - e.mean).abs() < 1e-9, "{name} mean");
        assert!((h.std - e.std).abs() < 1e-6, "{name} std");
        for (hp, ep) in [(h.median, e.median), (h.p90, e.p90), (h.p99, e.p99)] {
            assert!(within(hp, ep), "{name}: hdr {hp} vs exact {ep}");
        }
    }
    // Peak windows come from 10 ms slots; these requests are spread out, so they agree.
    assert_eq!(s.max_concurrent_requests, exact.max_concurrent_requests);
    assert_eq!(s.max_output_tokens_per_s, exact.max_output_tokens_per_s);
}

#[test]
fn details_keep_every_record_whole() {
    let mut recs = records(50);
    recs[3].text = "the of".into();
    let tok = Tokenizer::builtin();
    let mut c = Collector::new(Some(&tok), true).with_budget(1, 1);
    collect(&recs, &mut c);
    let (s, kept) = c.finish(1.0);
    assert_eq!(s.percentiles, Percentiles::Exact);
    assert_eq!(kept.len(), 50);
    assert_eq!(kept[3].text, "the of");
    assert_eq!(
        kept.iter().map(|r| r.index).collect::<Vec<_>>(),
        (0..50).collect::<Vec<_>>()
    );
}
