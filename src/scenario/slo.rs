//! The `slo:` block: service-level objectives every run is judged against. In: scenario
//! text. Out: typed thresholds (judged in `crate::slo`), or the problems with their names.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Service-level objectives. Per-request thresholds (`ttft_ms`, `tpot_ms`, `e2el_ms`) decide
/// which requests are good, as bench_serving's `--goodput` does: `request_goodput` = good
/// requests / duration, `slo_attainment` = good requests / requests sent (failures count
/// in the denominator). Thresholds on summary metrics (`p99_ttft_ms: 500`,
/// `mean_tpot_ms: 40`, any `runs.jsonl` latency metric with a `mean_`, `median_`, `p90_`,
/// `p95_` or `p99_` prefix, and `max_itl_ms`) are upper limits on the run's value. A run
/// passes when every threshold holds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Slo {
    /// Per-request limit on time to first token, ms (bench_serving's `--goodput ttft:`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0.0))]
    pub ttft_ms: Option<f64>,
    /// Per-request limit on time per output token after the first, ms
    /// (`(latency − ttft) / (output_len − 1)`; bench_serving's `--goodput tpot:`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0.0))]
    pub tpot_ms: Option<f64>,
    /// Per-request limit on end-to-end latency, ms (bench_serving's `--goodput e2el:`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0.0))]
    pub e2el_ms: Option<f64>,
    /// Least fraction of requests sent that must meet every per-request threshold
    /// (`slo_attainment`); default 0.9 when a per-request threshold is given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0.0, max = 1.0))]
    pub min_attainment: Option<f64>,
    /// Least fraction of requests that must succeed (completed / sent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0.0, max = 1.0))]
    pub min_success_rate: Option<f64>,
    /// Upper limits on summary metrics, by their `runs.jsonl` name: `p99_ttft_ms`,
    /// `mean_tpot_ms`, `median_e2e_latency_ms`, `p95_itl_ms`, `p99_ttft_from_schedule_ms`,
    /// `max_itl_ms`, ….
    #[serde(flatten)]
    pub limits: BTreeMap<String, f64>,
}

impl Slo {
    /// The per-request thresholds given, as (bench_serving metric name, ms).
    pub fn per_request(&self) -> Vec<(&'static str, f64)> {
        [
            ("ttft", self.ttft_ms),
            ("tpot", self.tpot_ms),
            ("e2el", self.e2el_ms),
        ]
        .into_iter()
        .filter_map(|(n, v)| v.map(|v| (n, v)))
        .collect()
    }

    /// The attainment a run needs, when per-request thresholds are given.
    pub fn attainment_needed(&self) -> Option<f64> {
        (!self.per_request().is_empty()).then(|| self.min_attainment.unwrap_or(0.9))
    }

    /// Every threshold as `name: value`, in the order the verdict checks them.
    pub fn thresholds(&self) -> Vec<(String, f64)> {
        let mut out: Vec<(String, f64)> = self
            .per_request()
            .into_iter()
            .map(|(n, v)| (format!("{n}_ms"), v))
            .collect();
        if let Some(a) = self.attainment_needed() {
            out.push(("min_attainment".into(), a));
        }
        if let Some(r) = self.min_success_rate {
            out.push(("min_success_rate".into(), r));
        }
        out.extend(self.limits.iter().map(|(k, v)| (k.clone(), *v)));
        out
    }
}

/// Statistics a summary threshold may take.
pub const SLO_STATS: [&str; 5] = ["mean", "median", "p90", "p95", "p99"];

/// Distributions in `runs.jsonl` (`{stat}_{name}_ms`).
pub const SLO_DISTRIBUTIONS: [&str; 8] = [
    "e2e_latency",
    "ttft",
    "tpot",
    "itl",
    "ttft_from_schedule",
    "e2e_from_schedule",
    "queue_wait",
    "schedule_lag",
];

/// Every summary metric name a threshold may use.
pub fn summary_metric_names() -> Vec<String> {
    let mut out = vec!["max_itl_ms".to_owned()];
    for d in SLO_DISTRIBUTIONS {
        for s in SLO_STATS {
            out.push(format!("{s}_{d}_ms"));
        }
    }
    out
}

/// Problems with the block.
pub fn problems(slo: &Slo) -> Vec<super::Problem> {
    let names = summary_metric_names();
    let mut out = Vec::new();
    for (k, v) in &slo.limits {
        if !names.contains(k) {
            let mut all: Vec<String> = names.clone();
            all.extend(
                [
                    "ttft_ms",
                    "tpot_ms",
                    "e2el_ms",
                    "min_attainment",
                    "min_success_rate",
                ]
                .map(String::from),
            );
            let hint = match super::problem::closest(k, &all) {
                Some(c) => format!("did you mean `{c}`?"),
                None => "per-request: ttft_ms, tpot_ms, e2el_ms; summary: \
                         {mean,median,p90,p95,p99}_{ttft,tpot,itl,e2e_latency,…}_ms, \
                         max_itl_ms; min_success_rate, min_attainment"
                    .into(),
            };
            out.push(
                super::Problem::new(format!("/slo/{k}"), format!("unknown SLO metric `{k}`"))
                    .hint(hint),
            );
        } else if !(v.is_finite() && *v >= 0.0) {
            out.push(super::Problem::new(
                format!("/slo/{k}"),
                format!("limit must be a number ≥ 0, got {v}"),
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked_with_a_suggestion() {
        let slo: Slo =
            serde_json::from_value(serde_json::json!({"p99_ttft": 5, "mean_tpot_ms": 40})).unwrap();
        let p = problems(&slo);
        assert_eq!(p.len(), 1, "{p:?}");
        assert_eq!(p[0].pointer, "/slo/p99_ttft");
        assert_eq!(p[0].hint.as_deref(), Some("did you mean `p99_ttft_ms`?"));
        let slo: Slo = serde_json::from_value(serde_json::json!({"ttft_ms": 100})).unwrap();
        assert_eq!(
            slo.thresholds(),
            [("ttft_ms".into(), 100.0), ("min_attainment".into(), 0.9)]
        );
    }
}
