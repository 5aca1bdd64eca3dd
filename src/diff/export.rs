//! The comparison for machines: one JSON document (`--format json`) or one CSV row per point ×
//! metric × other input (`--format csv`).
//!
//! In: a [`Report`]. Out: text.

use serde_json::{Value, json};

use super::Report;
use super::stats::Stat;

fn stat_json(s: &Stat) -> Value {
    json!({"n": s.n, "mean": s.mean, "ci95": s.ci95.map(|(lo, hi)| [lo, hi])})
}

/// `{"inputs", "key", "comparisons": [{"run", "metric", "base", "new": [{input, n, mean,
/// ci95, delta, delta_pct, verdict, p_value, p_adjusted}]}], "unmatched", "notes", "gate"}`.
pub fn json(r: &Report) -> String {
    let comparisons: Vec<Value> = r
        .lines
        .iter()
        .map(|l| {
            let new: Vec<Value> = l
                .cells
                .iter()
                .zip(&r.inputs[1..])
                .map(|(c, input)| match c {
                    Some(c) => {
                        let mut v = stat_json(&c.new);
                        v["input"] = json!(input);
                        v["delta"] = json!(c.delta);
                        v["delta_pct"] = json!(c.pct);
                        v["verdict"] = json!(c.verdict.as_str());
                        v["p_value"] = json!(c.p);
                        v["p_adjusted"] = json!(c.p_adj);
                        v
                    }
                    None => json!({"input": input, "missing": true}),
                })
                .collect();
            json!({"run": l.key, "metric": l.metric,
                "base": l.base.as_ref().map(stat_json), "new": new})
        })
        .collect();
    let failures: Vec<Value> = r
        .failures
        .iter()
        .map(|f| {
            json!({"run": f.key, "metric": f.metric, "input": f.input, "base": f.base,
                "new": f.new, "delta_pct": f.pct, "rule": f.rule, "message": f.to_string()})
        })
        .collect();
    let doc = json!({
        "inputs": r.inputs,
        "key": r.key,
        "comparisons": comparisons,
        "unmatched": r.unmatched,
        "notes": r.notes,
        "gate": {"rules": r.rules, "passed": r.failures.is_empty(), "failures": failures},
    });
    serde_json::to_string_pretty(&doc).expect("JSON serializes") + "\n"
}

/// Columns of `--format csv`.
pub const CSV_COLUMNS: &[&str] = &[
    "run",
    "metric",
    "input",
    "base",
    "base_n",
    "base_ci_low",
    "base_ci_high",
    "new",
    "new_n",
    "new_ci_low",
    "new_ci_high",
    "delta",
    "delta_pct",
    "verdict",
    "p_value",
    "p_adjusted",
];

/// One row per point × metric × other input, columns [`CSV_COLUMNS`].
pub fn csv(r: &Report) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    let num = |v: Option<f64>| v.map_or(String::new(), |v| v.to_string());
    let stat = |s: Option<&Stat>| {
        [
            num(s.map(|s| s.mean)),
            s.map_or(String::new(), |s| s.n.to_string()),
            num(s.and_then(|s| s.ci95).map(|c| c.0)),
            num(s.and_then(|s| s.ci95).map(|c| c.1)),
        ]
    };
    w.write_record(CSV_COLUMNS).expect("writing to memory");
    for l in &r.lines {
        for (c, input) in l.cells.iter().zip(&r.inputs[1..]) {
            let mut row = vec![l.key.clone(), l.metric.clone(), input.clone()];
            row.extend(stat(l.base.as_ref()));
            row.extend(stat(c.as_ref().map(|c| &c.new)));
            row.push(num(c.as_ref().map(|c| c.delta)));
            row.push(num(c.as_ref().and_then(|c| c.pct)));
            row.push(c.as_ref().map_or("missing", |c| c.verdict.as_str()).into());
            row.push(num(c.as_ref().and_then(|c| c.p)));
            row.push(num(c.as_ref().and_then(|c| c.p_adj)));
            w.write_record(&row).expect("writing to memory");
        }
    }
    String::from_utf8(w.into_inner().expect("flush to memory")).expect("CSV is UTF-8")
}
