//! Repeats of a sweep point folded into one aggregate line.
//!
//! In: the result lines (runs.jsonl objects) of the N repeats of a point, as they finish.
//! Out: after the last one, `{"record": "aggregate", "run_id": <point id>, "repeats": N,
//! "run_ids": [...], <identity fields>, "mean": {metric: x}, "ci95": {metric: [lo, hi]},
//! "std": {metric: s}}`, where a metric is every numeric field present in all repeats except
//! the run's settings ([`SETTINGS`]); the interval is [`crate::stats::mean_ci95`]'s.
//!
//! The aggregate stays a JSON map built from the repeats' serialized lines: its `mean`,
//! `ci95` and `std` are keyed by metric name by design (every numeric key of the run line,
//! so a new metric is aggregated without a change here); [`AggregateLine`] is its shape
//! for `schema/result.schema.json`.

use std::collections::HashMap;

use serde_json::{Map, Value, json};

use crate::plan::point_id;
use crate::stats::mean_ci95;

/// Numeric fields of a result line that are settings, not measurements.
pub const SETTINGS: &[&str] = &[
    "request_rate",
    "max_concurrency",
    "sharegpt_output_len",
    "random_input_len",
    "random_output_len",
    "random_range_ratio",
    "seed",
    "repeat",
];

/// Fields copied from the last repeat onto the aggregate line.
const IDENTITY: &[&str] = &[
    "scenario",
    "target",
    "backend",
    "dataset",
    "dataset_name",
    "request_rate",
    "max_concurrency",
    "seed",
    "runner_version",
    "scenario_hash",
];

/// The shape of an aggregate line (for the result schema; the line is built as a map,
/// [`aggregate`]). The identity fields copied from the last repeat (`scenario`, `target`,
/// `backend`, `request_rate`, …) are not named here.
#[derive(schemars::JsonSchema)]
#[allow(dead_code)]
pub struct AggregateLine {
    /// Always `"aggregate"`.
    #[schemars(regex(pattern = "^aggregate$"))]
    pub record: String,
    /// The point's run id (the repeats' run id without `/rep=K`).
    pub run_id: String,
    /// How many repeats were aggregated.
    pub repeats: usize,
    /// The repeats' run ids.
    pub run_ids: Vec<String>,
    /// The repeats that stopped early.
    pub stopped_runs: Vec<String>,
    /// Per metric (a numeric key of the run line): the mean over the repeats.
    pub mean: std::collections::BTreeMap<String, f64>,
    /// Per metric: the 95 % confidence interval of the mean, null with fewer than 2 values.
    pub ci95: std::collections::BTreeMap<String, Option<[f64; 2]>>,
    /// Per metric: the sample standard deviation over the repeats.
    pub std: std::collections::BTreeMap<String, f64>,
}

/// Collects repeat lines per point until all `n` are in.
#[derive(Debug)]
pub struct Repeats {
    n: u32,
    points: HashMap<String, Vec<Value>>,
}

impl Repeats {
    /// For `repeat: n`.
    pub fn new(n: u32) -> Repeats {
        Repeats {
            n,
            points: HashMap::new(),
        }
    }

    /// Add a repeat's result line; returns the aggregate line when it was the last missing
    /// repeat of its point. Lines without `/rep=K` in their run id are ignored.
    pub fn add(&mut self, line: &Value) -> Option<Value> {
        let id = line["run_id"].as_str()?;
        let point = point_id(id);
        if point == id || self.n < 2 {
            return None;
        }
        let lines = self.points.entry(point.to_owned()).or_default();
        lines.retain(|l| l["run_id"] != line["run_id"]);
        lines.push(line.clone());
        if lines.len() < self.n as usize {
            return None;
        }
        let lines = self.points.remove(point)?;
        Some(aggregate(point, &lines))
    }
}

/// The aggregate line of a point from its repeats' lines.
pub fn aggregate(point: &str, lines: &[Value]) -> Value {
    let mut m = Map::new();
    m.insert("record".into(), json!("aggregate"));
    m.insert("run_id".into(), json!(point));
    m.insert("repeats".into(), json!(lines.len()));
    let ids: Vec<&Value> = lines.iter().map(|l| &l["run_id"]).collect();
    m.insert("run_ids".into(), json!(ids));
    let last = lines.last().and_then(Value::as_object);
    for k in IDENTITY {
        if let Some(v) = last.and_then(|l| l.get(*k)) {
            m.insert((*k).into(), v.clone());
        }
    }
    let stopped: Vec<&Value> = lines
        .iter()
        .filter(|l| !l["stopped"].is_null())
        .map(|l| &l["run_id"])
        .collect();
    m.insert("stopped_runs".into(), json!(stopped));
    let (mut mean, mut ci, mut std) = (Map::new(), Map::new(), Map::new());
    for (key, _) in last.into_iter().flatten() {
        if SETTINGS.contains(&key.as_str()) {
            continue;
        }
        let xs: Option<Vec<f64>> = lines.iter().map(|l| l[key].as_f64()).collect();
        let Some(c) = xs.as_deref().and_then(mean_ci95) else {
            continue;
        };
        mean.insert(key.clone(), json!(c.mean));
        std.insert(key.clone(), json!(c.std));
        ci.insert(key.clone(), json!(c.ci95.map(|(lo, hi)| [lo, hi])));
    }
    m.insert("mean".into(), Value::Object(mean));
    m.insert("ci95".into(), Value::Object(ci));
    m.insert("std".into(), Value::Object(std));
    Value::Object(m)
}

/// The rows an aggregate line adds to `summary.csv`, as objects keyed like result lines:
/// the means under the point id, then the interval bounds under `<point>/ci95=lo` and
/// `<point>/ci95=hi` (empty where there is no interval).
pub fn csv_rows(agg: &Value) -> [Value; 3] {
    let row = |suffix: &str, pick: &dyn Fn(&str) -> Value| {
        let mut m: Map<String, Value> = IDENTITY
            .iter()
            .filter_map(|k| agg.get(*k).map(|v| ((*k).to_owned(), v.clone())))
            .collect();
        let id = agg["run_id"].as_str().unwrap_or_default();
        m.insert("run_id".into(), json!(format!("{id}{suffix}")));
        for k in agg["mean"].as_object().into_iter().flat_map(|o| o.keys()) {
            m.insert(k.clone(), pick(k));
        }
        Value::Object(m)
    };
    [
        row("", &|k| agg["mean"][k].clone()),
        row("/ci95=lo", &|k| agg["ci95"][k][0].clone()),
        row("/ci95=hi", &|k| agg["ci95"][k][1].clone()),
    ]
}

/// Metrics shown on the console under the last repeat of a point.
const SHOWN: &[(&str, &str)] = &[
    ("request_throughput", "Request throughput (req/s)"),
    ("output_throughput", "Output token throughput (tok/s)"),
    ("mean_ttft_ms", "Mean TTFT (ms)"),
    ("p99_ttft_ms", "P99 TTFT (ms)"),
    ("mean_tpot_ms", "Mean TPOT (ms)"),
    ("mean_e2e_latency_ms", "Mean E2E Latency (ms)"),
];

/// The console lines of an aggregate: a title, then `mean [lo, hi]` per shown metric.
pub fn console(agg: &Value) -> String {
    let mut out = format!(
        "Repeats of {} ({}): mean [95 % confidence interval]\n",
        agg["run_id"].as_str().unwrap_or_default(),
        agg["repeats"]
    );
    for (key, label) in SHOWN {
        let Some(mean) = agg["mean"][key].as_f64() else {
            continue;
        };
        let ci = match (agg["ci95"][key][0].as_f64(), agg["ci95"][key][1].as_f64()) {
            (Some(lo), Some(hi)) => format!("[{lo:.2}, {hi:.2}]"),
            _ => "[-]".into(),
        };
        out.push_str(&format!("  {label:<34}{mean:>12.2} {ci}\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(k: u32, tput: f64, ttft: f64) -> Value {
        json!({
            "request_rate": 4.0, "max_concurrency": 8, "duration": 10.0,
            "completed": 60, "output_throughput": tput, "mean_ttft_ms": ttft,
            "run_id": format!("a/x/rate=4/conc=8/rep={k}"), "scenario": "s",
            "seed": 42, "repeat": k, "stopped": null, "scenario_hash": "h",
        })
    }

    #[test]
    fn the_last_repeat_gives_the_aggregate() {
        let mut r = Repeats::new(3);
        assert!(r.add(&line(1, 100.0, 10.0)).is_none());
        assert!(r.add(&line(2, 110.0, 12.0)).is_none());
        let agg = r.add(&line(3, 120.0, 14.0)).unwrap();
        assert_eq!(agg["record"], "aggregate");
        assert_eq!(agg["run_id"], "a/x/rate=4/conc=8");
        assert_eq!(agg["repeats"], 3);
        assert_eq!(agg["scenario_hash"], "h");
        assert_eq!(agg["request_rate"], 4.0);
        assert_eq!(agg["mean"]["output_throughput"], 110.0);
        assert_eq!(agg["mean"]["completed"], 60.0);
        assert!(agg["mean"].get("request_rate").is_none());
        assert!(agg["mean"].get("seed").is_none());
        // 100, 110, 120: s = 10, half-width t(0.975, 2) · 10 / √3 = 4.30265 · 5.77350 = 24.8414.
        let lo = agg["ci95"]["output_throughput"][0].as_f64().unwrap();
        let hi = agg["ci95"]["output_throughput"][1].as_f64().unwrap();
        assert!((lo - (110.0 - 24.8414)).abs() < 1e-3, "{lo}");
        assert!((hi - (110.0 + 24.8414)).abs() < 1e-3, "{hi}");
        assert_eq!(agg["ci95"]["completed"], json!([60.0, 60.0]));
        let rows = csv_rows(&agg);
        assert_eq!(rows[0]["run_id"], "a/x/rate=4/conc=8");
        assert_eq!(rows[1]["run_id"], "a/x/rate=4/conc=8/ci95=lo");
        assert_eq!(rows[2]["output_throughput"], json!(hi));
        assert_eq!(rows[0]["scenario"], "s");
    }

    #[test]
    fn lines_without_repeats_and_reruns_of_a_repeat() {
        let mut r = Repeats::new(2);
        let mut plain = line(1, 1.0, 1.0);
        plain["run_id"] = json!("a/x/rate=4/conc=8");
        assert!(r.add(&plain).is_none());
        assert!(r.add(&line(1, 1.0, 1.0)).is_none());
        // The same repeat again replaces the earlier line.
        assert!(r.add(&line(1, 3.0, 1.0)).is_none());
        let agg = r.add(&line(2, 5.0, 1.0)).unwrap();
        assert_eq!(agg["mean"]["output_throughput"], 4.0);
    }
}
