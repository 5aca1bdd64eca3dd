//! Verdicts on hand-checked runs.

use serde_json::json;

use super::*;
use crate::record::Outcome;

/// A request sent at 0 with its first token at `ttft` s, its end at `end` s and `out` tokens.
fn rec(ttft: f64, end: f64, out: u32) -> RequestRecord {
    let mut r = RequestRecord::new(0, 0.0, out);
    r.first_token_s = Some(ttft);
    r.end_s = end;
    r
}

/// A run's numbers: completed, failed, p99 TTFT and mean TPOT.
struct Run(usize, usize, f64, f64);

impl Measured for Run {
    fn completed(&self) -> usize {
        self.0
    }
    fn failed(&self) -> usize {
        self.1
    }
    fn summary_metric(&self, name: &str) -> Option<f64> {
        match name {
            "p99_ttft_ms" => Some(self.2),
            "mean_tpot_ms" => Some(self.3),
            _ => None,
        }
    }
}

fn run(completed: usize, failed: usize, p99_ttft: f64, mean_tpot: f64) -> Run {
    Run(completed, failed, p99_ttft, mean_tpot)
}

fn slo(v: serde_json::Value) -> Slo {
    serde_json::from_value(v).unwrap()
}

#[test]
fn goodput_is_bench_servings_on_a_hand_checked_run() {
    // bench_serving (spec §5.7): per success, ttft, tpot = (latency − ttft) / (out − 1)
    // (0 when out ≤ 1) and e2el, in ms; good = every given SLO met (observed ≤ limit);
    // request_goodput = good / duration; attainment = good / requests sent.
    let mut failed = rec(0.0, 0.1, 5);
    failed.outcome = Outcome::Connect;
    let records = [
        rec(0.100, 0.500, 5),  // ttft 100, tpot 400/4 = 100, e2el 500: good
        rec(0.300, 0.700, 9),  // ttft 300 > 200: not good (tpot 50, e2el 700 met)
        rec(0.050, 0.060, 1),  // ttft 50, tpot 0 (one token), e2el 60: good
        failed,                // failed: in the denominators only
        rec(0.125, 1.125, 11), // ttft 125, tpot 1000/10 = 100, e2el 1125 > 1000: not good
    ];
    let s = slo(json!({"ttft_ms": 200, "tpot_ms": 100, "e2el_ms": 1000}));
    let v = judge(&s, &run(4, 1, 0.0, 0.0), &records, 4.0);
    // 2 good requests over 4 s, of 5 sent.
    assert_eq!(v.goodput.request_goodput, 0.5);
    assert_eq!(v.goodput.slo_attainment, 0.4);
    // ttft met by 3 of 5, tpot by 4 of 5, e2el by 3 of 5.
    assert_eq!(
        v.goodput.by_metric,
        vec![("ttft", 0.6), ("tpot", 0.8), ("e2el", 0.6)]
    );
    assert!(!v.passed);
    assert_eq!(v.failed_names(), ["ttft_ms", "tpot_ms", "e2el_ms"]);
}

#[test]
fn summary_thresholds_name_each_failure_with_value_and_limit() {
    let s = slo(json!({"p99_ttft_ms": 250, "mean_tpot_ms": 100, "min_success_rate": 0.99}));
    let records = [rec(0.1, 0.2, 2)];
    let v = judge(&s, &run(99, 1, 290.5, 62.5), &records, 1.0);
    assert_eq!(v.failed_names(), ["p99_ttft_ms"]);
    assert_eq!(v.line(), "SLO not met: p99_ttft_ms 290.50 > 250\n");
    // Without per-request thresholds every success is good.
    assert_eq!(v.goodput.request_goodput, 1.0);

    let v = judge(&s, &run(99, 1, 200.0, 62.5), &records, 1.0);
    assert!(v.passed);
    assert_eq!(
        v.line(),
        "SLO met: min_success_rate 99.00 % ≥ 99 %, mean_tpot_ms 62.50 ≤ 100, \
         p99_ttft_ms 200.00 ≤ 250\n"
    );
    // No successful request: latency limits cannot be met.
    let v = judge(&s, &run(0, 5, 0.0, 0.0), &[], 1.0);
    assert_eq!(
        v.failed_names(),
        ["min_success_rate", "mean_tpot_ms", "p99_ttft_ms"]
    );
}

#[test]
fn a_saturated_run_fails_even_when_its_numbers_pass() {
    let s = slo(json!({"p99_ttft_ms": 250}));
    let mut v = judge(&s, &run(10, 0, 200.0, 0.0), &[rec(0.1, 0.2, 2)], 1.0);
    assert!(v.passed);
    fail_saturated(&mut v);
    assert!(!v.passed);
    assert_eq!(v.failed_names(), ["saturated"]);
    assert_eq!(
        v.line(),
        "SLO not met: saturated (the run stopped as its queue kept growing)\n"
    );
}
