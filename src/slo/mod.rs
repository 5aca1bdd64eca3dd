//! SLO verdicts: a run judged against the scenario's `slo:` block.
//!
//! In: the thresholds, the run's [`Measured`] numbers (its summary; each limit read by its
//! `runs.jsonl` name), its records and duration. Out: a [`Verdict`] (passed, the
//! thresholds it failed with their values, goodput and attainment as bench_serving's
//! `--goodput` computes them; the result line's `slo_*` keys,
//! [`crate::report::RunLine::new`]) and the line printed under the result block.

pub mod goodput;

use crate::record::RequestRecord;
use crate::scenario::Slo;
use goodput::Goodput;

/// One threshold a run did not meet.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    /// The threshold's name in the scenario (`p99_ttft_ms`, `min_success_rate`, `ttft_ms`).
    pub name: String,
    /// The run's value (`None`: no successful request to measure it on).
    pub value: Option<f64>,
    /// The limit.
    pub limit: f64,
    /// Whether the limit is a minimum (attainment, success rate) rather than a maximum.
    pub minimum: bool,
}

/// How a run went against the SLOs.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    /// Every threshold met.
    pub passed: bool,
    /// The thresholds not met, in the order of the block.
    pub failed: Vec<Failure>,
    /// Every threshold with the run's value (for the console line).
    pub checked: Vec<Failure>,
    /// Goodput over the per-request thresholds (all successes count as good without them).
    pub goodput: Goodput,
}

/// What a verdict reads of a run's summary (`crate::metrics::Summary` implements it).
pub trait Measured {
    /// Successful requests.
    fn completed(&self) -> usize;
    /// Failed requests.
    fn failed(&self) -> usize;
    /// A summary metric by its `runs.jsonl` name (`p99_ttft_ms`, `max_itl_ms`).
    fn summary_metric(&self, name: &str) -> Option<f64>;
}

/// Judge one run from its summary.
pub fn judge(slo: &Slo, s: &dyn Measured, records: &[RequestRecord], duration_s: f64) -> Verdict {
    let per_request: Vec<goodput::Slo> = slo
        .per_request()
        .into_iter()
        .map(|(metric, ms)| goodput::Slo { metric, ms })
        .collect();
    let g = goodput::compute(&per_request, records, duration_s);
    let completed = s.completed() as f64;
    let sent = completed + s.failed() as f64;
    let mut checked = Vec::new();
    let mut check = |name: &str, value: Option<f64>, limit: f64, minimum: bool| {
        checked.push(Failure {
            name: name.to_owned(),
            value,
            limit,
            minimum,
        })
    };
    if let Some(needed) = slo.attainment_needed() {
        for ((metric, _), (_, met)) in slo.per_request().iter().zip(&g.by_metric) {
            check(&format!("{metric}_ms"), Some(*met), needed, true);
        }
        // Each limit can be met by enough requests while too few meet them all.
        let each = g.by_metric.iter().all(|(_, met)| *met >= needed);
        if per_request.len() > 1 && (each || g.slo_attainment >= needed) {
            check("min_attainment", Some(g.slo_attainment), needed, true);
        }
    }
    if let Some(r) = slo.min_success_rate {
        let rate = if sent > 0.0 { completed / sent } else { 0.0 };
        check("min_success_rate", Some(rate), r, true);
    }
    for (name, limit) in &slo.limits {
        let value = if completed > 0.0 {
            s.summary_metric(name)
        } else {
            None
        };
        check(name, value, *limit, false);
    }
    let failed: Vec<Failure> = checked.iter().filter(|f| !f.met()).cloned().collect();
    Verdict {
        passed: failed.is_empty(),
        failed,
        checked,
        goodput: g,
    }
}

impl Failure {
    /// Whether the value meets the limit.
    pub fn met(&self) -> bool {
        match self.value {
            None => false,
            Some(v) if self.minimum => v >= self.limit,
            Some(v) => v <= self.limit,
        }
    }

    /// `p99_ttft_ms 912.35 > 500`, `ttft_ms: 82.00 % of requests < 90 %`.
    pub fn describe(&self) -> String {
        if self.name == SATURATED {
            return format!("{SATURATED} (the run stopped as its queue kept growing)");
        }
        let op = match (self.met(), self.minimum) {
            (true, true) => "≥",
            (true, false) => "≤",
            (false, true) => "<",
            (false, false) => ">",
        };
        let value = |v: f64| {
            if self.minimum {
                format!("{:.2} %", v * 100.0)
            } else {
                format!("{v:.2}")
            }
        };
        let limit = if self.minimum {
            format!("{} %", self.limit * 100.0)
        } else {
            format!("{}", self.limit)
        };
        let name = if self.name.ends_with("_ms") && self.minimum {
            format!("{} met by", self.name)
        } else {
            self.name.clone()
        };
        match self.value {
            Some(v) => format!("{name} {} {op} {limit}", value(v)),
            None => format!("{name} not measured (no successful request), limit {limit}"),
        }
    }
}

/// The name of the failure a saturated run gets ([`fail_saturated`]).
pub const SATURATED: &str = "saturated";

/// A run that stopped as saturated (`stop_on_saturation`, always on in a capacity search)
/// fails its SLO, whatever its numbers over the requests it did send.
pub fn fail_saturated(v: &mut Verdict) {
    v.passed = false;
    v.failed.push(Failure {
        name: SATURATED.to_owned(),
        value: None,
        limit: 0.0,
        minimum: false,
    });
}

impl Verdict {
    /// Names of the failed thresholds.
    pub fn failed_names(&self) -> Vec<String> {
        self.failed.iter().map(|f| f.name.clone()).collect()
    }

    /// The line under the result block: `SLO met: …` or `SLO not met: …`.
    pub fn line(&self) -> String {
        if self.passed {
            let all: Vec<String> = self.checked.iter().map(Failure::describe).collect();
            format!("SLO met: {}\n", all.join(", "))
        } else {
            let failed: Vec<String> = self.failed.iter().map(Failure::describe).collect();
            format!("SLO not met: {}\n", failed.join(", "))
        }
    }
}

#[cfg(test)]
mod tests;
