//! Goodput: the requests that met every per-request latency SLO (bench_serving's
//! `goodput.py`, `--goodput`), the one definition `runner bench` and `slo:` share.
//!
//! In: SLOs in ms (`ttft`, `tpot`, `e2el`), the run's records and duration.
//! Out: the console section and the result keys `goodput_slos_ms`, `request_goodput`,
//! `slo_attainment`, `slo_attainment_by_metric`. Failed requests count in the denominators.

use std::fmt::Write as _;

use serde_json::{Map, Value, json};

use crate::record::RequestRecord;

/// The metrics an SLO can name.
pub const METRICS: [&str; 3] = ["ttft", "tpot", "e2el"];

/// One SLO: metric name and limit in milliseconds.
#[derive(Debug, Clone, PartialEq)]
pub struct Slo {
    /// `ttft`, `tpot` or `e2el`.
    pub metric: &'static str,
    /// Limit in milliseconds.
    pub ms: f64,
}

/// Goodput of one run.
#[derive(Debug, Clone, PartialEq)]
pub struct Goodput {
    /// The SLOs.
    pub slos: Vec<Slo>,
    /// Good requests per second.
    pub request_goodput: f64,
    /// Good requests / requests sent.
    pub slo_attainment: f64,
    /// Per metric: requests that met it / requests sent.
    pub by_metric: Vec<(&'static str, f64)>,
}

/// Compute goodput over `records` (failures included in the denominator).
pub fn compute(slos: &[Slo], records: &[RequestRecord], duration_s: f64) -> Goodput {
    let mut good = 0usize;
    let mut met = vec![0usize; slos.len()];
    for r in records.iter().filter(|r| r.outcome.is_ok()) {
        let mut all = true;
        for (i, slo) in slos.iter().enumerate() {
            let observed = match slo.metric {
                "ttft" => r.ttft_s().unwrap_or(0.0),
                "tpot" => r.tpot_s().unwrap_or(0.0),
                _ => r.latency_s(),
            } * 1000.0;
            if observed <= slo.ms {
                met[i] += 1;
            } else {
                all = false;
            }
        }
        good += usize::from(all);
    }
    let n = records.len().max(1) as f64;
    Goodput {
        slos: slos.to_vec(),
        request_goodput: if duration_s > 0.0 {
            good as f64 / duration_s
        } else {
            0.0
        },
        slo_attainment: good as f64 / n,
        by_metric: slos
            .iter()
            .zip(met)
            .map(|(s, m)| (s.metric, m as f64 / n))
            .collect(),
    }
}

impl Goodput {
    /// The console section (after the concurrency lines).
    pub fn section(&self) -> String {
        let mut out = String::new();
        let slos: Vec<String> = self
            .slos
            .iter()
            .map(|s| format!("{}:{}", s.metric, python_g(s.ms)))
            .collect();
        let _ = writeln!(out, "{:-^50}", "Goodput");
        let _ = writeln!(out, "{:<40} {:<10}", "SLOs (ms):", slos.join(" "));
        let _ = writeln!(
            out,
            "{:<40} {:<10.2}",
            "Request goodput (req/s):", self.request_goodput
        );
        let _ = writeln!(
            out,
            "{:<40} {:<10.2}",
            "SLO attainment (%):",
            self.slo_attainment * 100.0
        );
        for (name, a) in &self.by_metric {
            let label = format!("{} SLO attainment (%):", name.to_uppercase());
            let _ = writeln!(out, "{label:<40} {:<10.2}", a * 100.0);
        }
        out
    }

    /// The result keys, in bench_serving's order.
    pub fn keys(&self) -> Map<String, Value> {
        let mut m = Map::new();
        let slos: Map<String, Value> = self
            .slos
            .iter()
            .map(|s| (s.metric.to_owned(), json!(s.ms)))
            .collect();
        m.insert("goodput_slos_ms".into(), Value::Object(slos));
        m.insert("request_goodput".into(), json!(self.request_goodput));
        m.insert("slo_attainment".into(), json!(self.slo_attainment));
        let by: Map<String, Value> = self
            .by_metric
            .iter()
            .map(|(k, v)| ((*k).to_owned(), json!(v)))
            .collect();
        m.insert("slo_attainment_by_metric".into(), Value::Object(by));
        m
    }
}

/// Python's `format(x, "g")`: 6 significant digits, trailing zeros dropped, exponent form
/// below 1e-4 and from 1e6.
pub fn python_g(x: f64) -> String {
    if x == 0.0 || !x.is_finite() {
        return format!("{x}");
    }
    let sci = format!("{x:.5e}");
    let (mantissa, exp) = sci.split_once('e').expect("exponent form");
    let exp: i32 = exp.parse().expect("integer exponent");
    if (-4..6).contains(&exp) {
        let decimals = (5 - exp).max(0) as usize;
        let s = format!("{x:.decimals$}");
        trim_zeros(&s)
    } else {
        let m = trim_zeros(mantissa);
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{m}e{sign}{:02}", exp.abs())
    }
}

/// A decimal number's text without trailing zeros (and without a trailing `.`).
pub fn trim_zeros(s: &str) -> String {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        s.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Outcome;

    #[test]
    fn python_g_matches_python() {
        assert_eq!(python_g(100.0), "100");
        assert_eq!(python_g(0.5), "0.5");
        assert_eq!(python_g(12.345678), "12.3457");
        assert_eq!(python_g(1e-5), "1e-05");
        assert_eq!(python_g(1234567.0), "1.23457e+06");
        assert_eq!(python_g(250.0), "250");
    }

    #[test]
    fn failures_count_in_the_denominator() {
        let rec = |ttft: f64, end: f64, ok: bool| {
            let mut r = RequestRecord::new(0, 0.0, 5);
            r.first_token_s = Some(ttft);
            r.end_s = end;
            if !ok {
                r.outcome = Outcome::Connect;
            }
            r
        };
        // tpot = (end - ttft) / 4: 25 ms and 100 ms
        let records = [
            rec(0.05, 0.15, true),
            rec(0.05, 0.45, true),
            rec(0.0, 0.1, false),
            rec(0.5, 0.6, true),
        ];
        let slos = [
            Slo {
                metric: "ttft",
                ms: 100.0,
            },
            Slo {
                metric: "tpot",
                ms: 50.0,
            },
        ];
        let g = compute(&slos, &records, 2.0);
        assert_eq!(g.request_goodput, 0.5);
        assert_eq!(g.slo_attainment, 0.25);
        assert_eq!(g.by_metric, vec![("ttft", 0.5), ("tpot", 0.5)]);
        let text = g.section();
        assert!(text.starts_with("---------------------Goodput----------------------\n"));
        assert!(text.contains("SLOs (ms):                               ttft:100 tpot:50\n"));
        assert!(text.contains("TPOT SLO attainment (%):                 50.00     \n"));
    }
}
