//! The `search:` block: find, for each target × dataset, the highest load that meets the
//! `slo:` block. In: scenario text. Out: the typed search settings (run by `crate::search`).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::Problem;

/// Capacity search: for each target × dataset, the highest `request_rate` (or
/// `max_concurrency`) whose run meets every SLO. A short closed-loop probe measures the
/// throughput ceiling; runs then bracket the capacity (×`step_up` while passing, ÷`step_down`
/// while failing) and bisect until the bracket is narrower than `precision`, within
/// `max_runs` runs (the probe included). Replaces the `load.request_rate` sweep (or the
/// `load.max_concurrency` sweep for `axis: max_concurrency`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Search {
    /// The load axis searched.
    pub axis: SearchAxis,
    /// Stop when (upper − lower) / lower is at most this (relative).
    #[schemars(range(min = 0.001, max = 1.0))]
    pub precision: f64,
    /// Most runs per target × dataset, the probe included.
    #[schemars(range(min = 2))]
    pub max_runs: u32,
    /// First value tried; default: from the probe (its throughput for `request_rate`, its
    /// mean concurrency for `max_concurrency`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0.0))]
    pub start: Option<f64>,
    /// Lowest value worth trying; a failure there ends the search (`below_min`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0.0))]
    pub min: Option<f64>,
    /// Highest value tried; a pass there ends the search (`not_bracketed`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0.0))]
    pub max: Option<f64>,
    /// Factor between runs while every run so far passed.
    #[schemars(range(min = 1.01))]
    pub step_up: f64,
    /// Factor between runs while every run so far failed.
    #[schemars(range(min = 1.01))]
    pub step_down: f64,
    /// Seconds of load per search run: a run sends about `rate × run_s` requests (at least
    /// `min_requests`, at most the dataset's), so runs past saturation stay short.
    #[schemars(range(min = 0.1))]
    pub run_s: f64,
    /// Fewest requests in a search run.
    #[schemars(range(min = 1))]
    pub min_requests: u32,
    /// The throughput probe before each search; `null` skips it (then `start` is needed).
    pub probe: Option<Probe>,
}

/// A closed-loop run at high concurrency, unpaced, measuring the throughput ceiling.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Probe {
    /// Requests sent (the first of the dataset; fewer when the dataset is smaller).
    #[schemars(range(min = 1))]
    pub requests: u32,
    /// Concurrency cap during the probe.
    #[schemars(range(min = 1))]
    pub concurrency: u32,
}

/// The load axis a search moves along.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SearchAxis {
    /// Open-loop request rate (req/s), at the scenario's single `max_concurrency`.
    #[default]
    RequestRate,
    /// Concurrency cap, at the scenario's single `request_rate` (usually `inf`).
    MaxConcurrency,
}

impl SearchAxis {
    /// The name as written in the scenario and in `capacity.jsonl`.
    pub fn as_str(self) -> &'static str {
        match self {
            SearchAxis::RequestRate => "request_rate",
            SearchAxis::MaxConcurrency => "max_concurrency",
        }
    }
}

impl Default for Search {
    fn default() -> Self {
        Search {
            axis: SearchAxis::default(),
            precision: 0.05,
            max_runs: 8,
            start: None,
            min: None,
            max: None,
            step_up: 1.25,
            step_down: 2.0,
            run_s: 10.0,
            min_requests: 50,
            probe: Some(Probe::default()),
        }
    }
}

impl Default for Probe {
    fn default() -> Self {
        Probe {
            requests: 200,
            concurrency: 256,
        }
    }
}

/// Problems a schema cannot express.
pub fn problems(s: &super::Scenario) -> Vec<super::Problem> {
    let Some(search) = &s.search else {
        return Vec::new();
    };
    let mut out = Vec::new();
    if s.slo.is_none() {
        out.push(
            Problem::new(
                "/search",
                "`search` needs an `slo` block: capacity is the highest load that meets it",
            )
            .hint("add e.g. `slo: { p99_ttft_ms: 500, mean_tpot_ms: 50 }`"),
        );
    }
    let (other, len) = match search.axis {
        SearchAxis::RequestRate => ("max_concurrency", s.load.max_concurrency.values().len()),
        SearchAxis::MaxConcurrency => ("request_rate", s.load.request_rate.values().len()),
    };
    if len > 1 {
        out.push(
            Problem::new(
                format!("/load/{other}"),
                format!(
                    "a search along `{}` needs a single `load.{other}`",
                    search.axis.as_str()
                ),
            )
            .hint("give one value, or run the sweep without `search`"),
        );
    }
    if search.probe.is_none() && search.start.is_none() {
        out.push(
            Problem::new("/search/probe", "without a probe the search needs `start`")
                .hint("set `search.start` to a first value to try"),
        );
    }
    if let (Some(lo), Some(hi)) = (search.min, search.max)
        && lo >= hi
    {
        out.push(Problem::new(
            "/search/min",
            format!("`min` ({lo}) must be below `max` ({hi})"),
        ));
    }
    out
}
