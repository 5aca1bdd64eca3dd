//! Reading a results directory back, tolerantly. In: `runs.jsonl`, `capacity.jsonl` (when
//! present) and a scenario copy (when present, for its `slo:` block). Out: [`RunRow`]s,
//! [`CapacityRow`]s and SLO thresholds. A missing or malformed field leaves that value out;
//! a line that is not JSON is skipped and counted, never fatal.

use std::collections::HashMap;
use std::path::Path;

use anyhow::{Context, Result};
use serde_json::{Map, Value};

/// An offered load on one axis: a finite value or unbounded (`"inf"` rate, no concurrency cap).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Offered {
    /// A finite rate (req/s) or concurrency cap.
    Finite(f64),
    /// `"request_rate": "inf"` or `"max_concurrency": null`.
    Unbounded,
}

/// One line of `runs.jsonl` or `capacity.jsonl`.
#[derive(Debug, Clone)]
pub struct Row {
    /// The line as written.
    pub fields: Map<String, Value>,
}

/// One run line of `runs.jsonl`.
pub type RunRow = Row;

/// One line of `capacity.jsonl`: the capacity of a target × dataset under the SLOs.
pub type CapacityRow = Row;

impl Row {
    /// A number, when the field is a finite number (or a numeric string).
    pub fn num(&self, key: &str) -> Option<f64> {
        number(self.fields.get(key)?)
    }

    /// A string field.
    pub fn text(&self, key: &str) -> Option<&str> {
        self.fields.get(key)?.as_str()
    }

    /// The run id, or `line N` when the line has none.
    pub fn run_id(&self) -> String {
        self.text("run_id").map_or_else(
            || format!("line {}", self.num("_line").unwrap_or(0.0)),
            str::to_owned,
        )
    }

    /// Target name (`backend` when the line has no `target`).
    pub fn target(&self) -> &str {
        self.text("target")
            .or_else(|| self.text("backend"))
            .unwrap_or("target")
    }

    /// Dataset name (`dataset_name` when the line has no `dataset`).
    pub fn dataset(&self) -> &str {
        self.text("dataset")
            .or_else(|| self.text("dataset_name"))
            .unwrap_or("dataset")
    }

    /// Offered request rate; `None` when the line has none.
    pub fn request_rate(&self) -> Option<Offered> {
        match self.fields.get("request_rate")? {
            Value::String(s) if is_inf(s) => Some(Offered::Unbounded),
            v => number(v).map(Offered::Finite),
        }
    }

    /// Concurrency cap; `null` is unbounded, an absent key is `None`.
    pub fn max_concurrency(&self) -> Option<Offered> {
        match self.fields.get("max_concurrency")? {
            Value::Null => Some(Offered::Unbounded),
            Value::String(s) if is_inf(s) => Some(Offered::Unbounded),
            v => number(v).map(Offered::Finite),
        }
    }

    /// The offered load on `axis`.
    pub fn offered(&self, axis: Axis) -> Option<Offered> {
        match axis {
            Axis::RequestRate => self.request_rate(),
            Axis::MaxConcurrency => self.max_concurrency(),
        }
    }

    /// The SLO verdict: `Some(true)` passed, `Some(false)` failed, `None` without SLOs.
    pub fn slo_passed(&self) -> Option<bool> {
        self.fields.get("slo_passed")?.as_bool()
    }

    /// Names of the thresholds the run failed.
    pub fn slo_failed(&self) -> Vec<String> {
        strings(self.fields.get("slo_failed"))
    }
}

/// The runs as plotted: repeats of one point (run ids ending in `/rep=K`) become one row
/// whose numbers are the repeats' means, under the id without `/rep=K`.
pub fn merge_repeats(runs: &[RunRow]) -> Vec<RunRow> {
    let mut out: Vec<(String, Vec<&RunRow>)> = Vec::new();
    for r in runs {
        let id = r.run_id();
        let point = match id.rsplit_once("/rep=") {
            Some((p, k)) if k.parse::<u32>().is_ok() => p.to_owned(),
            _ => id,
        };
        match out.iter_mut().find(|(p, _)| *p == point) {
            Some((_, v)) => v.push(r),
            None => out.push((point, vec![r])),
        }
    }
    out.into_iter()
        .map(|(point, reps)| {
            if reps.len() == 1 {
                return reps[0].clone();
            }
            let mut fields = reps[0].fields.clone();
            for (k, v) in fields.iter_mut() {
                if !v.is_number() {
                    continue;
                }
                let xs: Vec<f64> = reps.iter().filter_map(|r| r.num(k)).collect();
                if let Some(mean) =
                    serde_json::Number::from_f64(xs.iter().sum::<f64>() / xs.len().max(1) as f64)
                {
                    *v = Value::Number(mean);
                }
            }
            fields.insert("run_id".into(), Value::String(point));
            RunRow { fields }
        })
        .collect()
}

/// Which offered-load knob a sweep or a search moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Axis {
    /// Requests per second.
    RequestRate,
    /// Concurrency cap.
    MaxConcurrency,
}

impl Axis {
    /// Axis title with its unit.
    pub fn title(self) -> &'static str {
        match self {
            Axis::RequestRate => "offered request rate (req/s)",
            Axis::MaxConcurrency => "max concurrency (requests)",
        }
    }

    /// Short name, as in run ids.
    pub fn short(self) -> &'static str {
        match self {
            Axis::RequestRate => "rate",
            Axis::MaxConcurrency => "conc",
        }
    }

    /// What an unbounded value is called on this axis.
    pub fn unbounded(self) -> &'static str {
        match self {
            Axis::RequestRate => "inf",
            Axis::MaxConcurrency => "unlimited",
        }
    }
}

impl CapacityRow {
    /// The axis searched (request rate unless it says `max_concurrency`).
    pub fn axis(&self) -> Axis {
        match self.text("axis") {
            Some("max_concurrency") => Axis::MaxConcurrency,
            _ => Axis::RequestRate,
        }
    }

    /// The run ids of the search.
    pub fn run_ids(&self) -> Vec<String> {
        strings(self.fields.get("run_ids"))
    }
}

/// Everything `runner report` reads from a results directory.
#[derive(Debug, Clone, Default)]
pub struct ResultsDir {
    /// Run lines, oldest first; a rerun of the same run (same id and offered load) replaces
    /// the earlier line.
    pub runs: Vec<RunRow>,
    /// Capacity lines (empty without `capacity.jsonl`).
    pub capacity: Vec<CapacityRow>,
    /// SLO thresholds by name (`p99_ttft_ms`, `tpot_ms`, …), see [`read`].
    pub slo: Vec<(String, f64)>,
    /// Lines that were not JSON objects, skipped.
    pub skipped_lines: usize,
    /// Run lines replaced by a later line for the same run.
    pub replaced_lines: usize,
}

/// Read a results directory. The SLO thresholds come from the first `slo` object of
/// `capacity.jsonl`, else of a run line, else of a scenario copy (`scenario.yaml`, `.yml`,
/// `.json` or `.toml`) in the directory. Fails only when `runs.jsonl` exists but cannot be read.
pub fn read(dir: &Path) -> Result<ResultsDir> {
    let mut out = ResultsDir::default();
    let runs_path = dir.join("runs.jsonl");
    if runs_path.exists() {
        let text = std::fs::read_to_string(&runs_path)
            .with_context(|| format!("cannot read {}", runs_path.display()))?;
        let mut index: HashMap<String, usize> = HashMap::new();
        for (n, line) in text.lines().enumerate() {
            let Some(mut fields) = object(line, &mut out.skipped_lines) else {
                continue;
            };
            // Derived lines (a repeat's aggregate) are not runs.
            if fields
                .get("record")
                .and_then(Value::as_str)
                .is_some_and(|r| r != "run")
            {
                continue;
            }
            fields.insert("_line".into(), Value::from(n + 1));
            let row = RunRow { fields };
            let key = format!(
                "{}|{:?}|{:?}",
                row.run_id(),
                row.request_rate(),
                row.max_concurrency()
            );
            match index.get(&key) {
                Some(&i) => {
                    out.runs[i] = row;
                    out.replaced_lines += 1;
                }
                None => {
                    index.insert(key, out.runs.len());
                    out.runs.push(row);
                }
            }
        }
    }
    let cap_path = dir.join("capacity.jsonl");
    if let Ok(text) = std::fs::read_to_string(&cap_path) {
        for line in text.lines() {
            if let Some(fields) = object(line, &mut out.skipped_lines) {
                out.capacity.push(CapacityRow { fields });
            }
        }
    }
    let slo = out
        .capacity
        .iter()
        .find_map(|c| c.fields.get("slo").and_then(Value::as_object).cloned())
        .or_else(|| {
            out.runs
                .iter()
                .find_map(|r| r.fields.get("slo").and_then(Value::as_object).cloned())
        })
        .or_else(|| scenario_slo(dir));
    if let Some(slo) = slo {
        out.slo = slo
            .iter()
            .filter_map(|(k, v)| Some((k.clone(), number(v)?)))
            .collect();
    }
    Ok(out)
}

/// The `slo:` block of a scenario copy in the directory, if there is one.
fn scenario_slo(dir: &Path) -> Option<Map<String, Value>> {
    for name in [
        "scenario.yaml",
        "scenario.yml",
        "scenario.json",
        "scenario.toml",
    ] {
        let Ok(text) = std::fs::read_to_string(dir.join(name)) else {
            continue;
        };
        let doc: Option<Value> = if name.ends_with(".toml") {
            toml::from_str(&text).ok()
        } else {
            serde_yaml_ng::from_str(&text).ok()
        };
        if let Some(slo) = doc
            .as_ref()
            .and_then(|d| d.get("slo")?.as_object().cloned())
        {
            return Some(slo);
        }
    }
    None
}

fn object(line: &str, skipped: &mut usize) -> Option<Map<String, Value>> {
    if line.trim().is_empty() {
        return None;
    }
    match serde_json::from_str::<Value>(line) {
        Ok(Value::Object(m)) => Some(m),
        _ => {
            *skipped += 1;
            None
        }
    }
}

fn is_inf(s: &str) -> bool {
    matches!(
        s.trim().to_ascii_lowercase().as_str(),
        "inf" | "+inf" | "infinity"
    )
}

/// A finite number from a JSON number or a numeric string.
fn number(v: &Value) -> Option<f64> {
    let x = match v {
        Value::Number(n) => n.as_f64()?,
        Value::String(s) => s.trim().parse().ok()?,
        _ => return None,
    };
    x.is_finite().then_some(x)
}

fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(json: &str) -> RunRow {
        match serde_json::from_str(json).unwrap() {
            Value::Object(fields) => RunRow { fields },
            _ => unreachable!(),
        }
    }

    #[test]
    fn offered_loads_read_inf_strings_and_null_caps() {
        let r = row(r#"{"request_rate":"inf","max_concurrency":null}"#);
        assert_eq!(r.request_rate(), Some(Offered::Unbounded));
        assert_eq!(r.max_concurrency(), Some(Offered::Unbounded));
        let r = row(r#"{"request_rate":12.5,"max_concurrency":8}"#);
        assert_eq!(r.request_rate(), Some(Offered::Finite(12.5)));
        assert_eq!(r.offered(Axis::MaxConcurrency), Some(Offered::Finite(8.0)));
        let r = row(r#"{"request_rate":[1]}"#);
        assert_eq!(r.request_rate(), None);
        assert_eq!(r.max_concurrency(), None);
    }

    #[test]
    fn numbers_tolerate_strings_and_reject_junk() {
        let r = row(r#"{"a":"3.5","b":"x","c":null,"d":true}"#);
        assert_eq!(r.num("a"), Some(3.5));
        assert_eq!(r.num("b"), None);
        assert_eq!(r.num("c"), None);
        assert_eq!(r.num("d"), None);
        assert_eq!(r.num("missing"), None);
    }

    #[test]
    fn repeats_of_a_point_plot_as_their_mean() {
        let rows: Vec<RunRow> = [
            r#"{"run_id":"t/d/rate=5/conc=8/rep=0","request_rate":5,"p99_ttft_ms":10,"target":"t"}"#,
            r#"{"run_id":"t/d/rate=5/conc=8/rep=1","request_rate":5,"p99_ttft_ms":20,"target":"t"}"#,
            r#"{"run_id":"t/d/rate=9/conc=8","request_rate":9,"p99_ttft_ms":7}"#,
        ]
        .into_iter()
        .map(row)
        .collect();
        let merged = merge_repeats(&rows);
        assert_eq!(merged.len(), 2);
        assert_eq!(merged[0].run_id(), "t/d/rate=5/conc=8");
        assert_eq!(merged[0].num("p99_ttft_ms"), Some(15.0));
        assert_eq!(merged[0].request_rate(), Some(Offered::Finite(5.0)));
        assert_eq!(merged[0].target(), "t");
        assert_eq!(merged[1].num("p99_ttft_ms"), Some(7.0));
    }

    #[test]
    fn reruns_replace_and_junk_lines_are_counted() {
        let dir = tempfile::tempdir().unwrap();
        let lines = [
            r#"{"run_id":"a","request_rate":1,"completed":1}"#,
            "not json",
            r#"{"run_id":"b","request_rate":2}"#,
            r#"{"record":"aggregate","run_id":"a"}"#,
            r#"{"run_id":"a","request_rate":1,"completed":9}"#,
            "",
        ];
        std::fs::write(dir.path().join("runs.jsonl"), lines.join("\n")).unwrap();
        let got = read(dir.path()).unwrap();
        assert_eq!(got.runs.len(), 2);
        assert_eq!(got.runs[0].num("completed"), Some(9.0));
        assert_eq!(got.skipped_lines, 1);
        assert_eq!(got.replaced_lines, 1);
        assert!(got.capacity.is_empty() && got.slo.is_empty());
    }

    #[test]
    fn slo_comes_from_a_scenario_copy_without_capacity() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("scenario.yaml"),
            "name: x\nslo: { ttft_ms: 200, p99_tpot_ms: 40 }\n",
        )
        .unwrap();
        let got = read(dir.path()).unwrap();
        assert_eq!(
            got.slo,
            vec![
                ("ttft_ms".to_owned(), 200.0),
                ("p99_tpot_ms".to_owned(), 40.0)
            ]
        );
    }
}
