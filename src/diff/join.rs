//! Grouping and joining rows: each input's rows become points (a run id without its
//! `/rep=K`, or the values of the `--key` columns), reruns are resolved (newest wins), and
//! the points of every input are matched with the baseline's.
//!
//! In: [`Input`]s and the key. Out: [`Points`] per input, the matched keys, and what did not
//! match, listed rather than dropped.

use std::collections::HashMap;

use super::input::{Input, Row};

/// Default key columns for bench_serving result files, which carry no run id.
pub const BENCH_KEYS: &[&str] = &["backend", "dataset_name", "request_rate", "max_concurrency"];

/// How rows are matched.
#[derive(Debug, Clone, PartialEq)]
pub enum Key {
    /// By `run_id`, with `/rep=K` grouped under the id without it.
    RunId,
    /// By the values of these columns.
    Columns(Vec<String>),
}

/// One point of one input: its rows (one, or one per repeat).
#[derive(Debug, Clone)]
pub struct Point {
    /// The join key as shown.
    pub key: String,
    /// The rows: one per repeat, or the single (newest) row.
    pub rows: Vec<Row>,
}

/// An input's points in order of first appearance, and notes on what was resolved.
#[derive(Debug, Clone, Default)]
pub struct Points {
    /// Points.
    pub points: Vec<Point>,
    /// What was replaced or ignored, to say in the output.
    pub notes: Vec<String>,
}

impl Points {
    /// The point with this key.
    pub fn get(&self, key: &str) -> Option<&Point> {
        self.points.iter().find(|p| p.key == key)
    }
}

/// Split `a/b/rate=1/conc=2/rep=3` into `a/b/rate=1/conc=2` and 3.
pub fn split_rep(id: &str) -> (&str, Option<u32>) {
    match id.rsplit_once("/rep=") {
        Some((base, k)) => match k.parse() {
            Ok(k) => (base, Some(k)),
            Err(_) => (id, None),
        },
        None => (id, None),
    }
}

fn key_of(row: &Row, key: &Key) -> (String, Option<u32>) {
    match key {
        Key::RunId => {
            let id = row.text("run_id");
            let (base, rep) = split_rep(&id);
            (base.to_owned(), rep)
        }
        Key::Columns(cols) => {
            let parts: Vec<String> = cols
                .iter()
                .map(|c| format!("{c}={}", row.text(c)))
                .collect();
            (parts.join(" "), None)
        }
    }
}

/// Group one input's rows into points. Several rows with the same key and repeat number are
/// reruns: the newest wins (by `started_at` when both rows have one, else the later line).
/// When a point has repeat rows, a row of it without a repeat number is ignored.
pub fn points(input: &Input, key: &Key) -> Points {
    let name = input.file.display();
    let mut kept: Vec<(String, Option<u32>, Row)> = Vec::new();
    let mut index: HashMap<(String, Option<u32>), usize> = HashMap::new();
    let (mut by_time, mut by_order) = (0, 0);
    for row in &input.rows {
        let (k, rep) = key_of(row, key);
        match index.get(&(k.clone(), rep)) {
            Some(&i) => {
                let old = &kept[i].2;
                let newer = match (old.fields.get("started_at"), row.fields.get("started_at")) {
                    (Some(a), Some(b)) if a.is_string() && b.is_string() => {
                        by_time += 1;
                        b.as_str() >= a.as_str()
                    }
                    _ => {
                        by_order += 1;
                        true
                    }
                };
                if newer {
                    kept[i].2 = row.clone();
                }
            }
            None => {
                index.insert((k.clone(), rep), kept.len());
                kept.push((k, rep, row.clone()));
            }
        }
    }
    let mut out = Points::default();
    let replaced = by_time + by_order;
    if replaced > 0 {
        let how = match (by_time, by_order) {
            (_, 0) => "by started_at",
            (0, _) => "by line order",
            _ => "by started_at, else line order",
        };
        out.notes.push(format!(
            "{name}: {replaced} row(s) rerun under the same id; newest wins ({how})"
        ));
    }
    let with_reps: Vec<&String> = kept
        .iter()
        .filter(|(_, rep, _)| rep.is_some())
        .map(|(k, _, _)| k)
        .collect();
    let mut ignored = 0;
    for (k, rep, row) in &kept {
        if rep.is_none() && with_reps.contains(&k) {
            ignored += 1;
            continue;
        }
        match out.points.iter_mut().find(|p| p.key == *k) {
            Some(p) => p.rows.push(row.clone()),
            None => out.points.push(Point {
                key: k.clone(),
                rows: vec![row.clone()],
            }),
        }
    }
    if ignored > 0 {
        out.notes.push(format!(
            "{name}: {ignored} row(s) without /rep=K ignored beside repeats of the same point"
        ));
    }
    if input.aggregates > 0 {
        out.notes.push(format!(
            "{name}: {} aggregate line(s) skipped (recomputed from the repeats)",
            input.aggregates
        ));
    }
    out
}

/// Keys of `others` that the baseline lacks and keys of the baseline each other input
/// lacks, as lines to print.
pub fn unmatched(base: &Points, others: &[(String, &Points)], base_name: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (name, p) in others {
        for b in &base.points {
            if p.get(&b.key).is_none() {
                out.push(format!(
                    "{}: only in {base_name} (missing from {name})",
                    b.key
                ));
            }
        }
        for n in &p.points {
            if base.get(&n.key).is_none() {
                out.push(format!(
                    "{}: only in {name} (missing from {base_name})",
                    n.key
                ));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    fn input(lines: &[Value]) -> Input {
        Input {
            path: "x".into(),
            file: "x.jsonl".into(),
            rows: lines
                .iter()
                .map(|v| Row {
                    fields: v.as_object().unwrap().clone(),
                })
                .collect(),
            aggregates: 0,
        }
    }

    #[test]
    fn repeats_group_and_reruns_resolve() {
        let inp = input(&[
            json!({"run_id": "a/r=1", "v": 1}),
            json!({"run_id": "b/r=1/rep=1", "v": 10}),
            json!({"run_id": "b/r=1/rep=2", "v": 11}),
            json!({"run_id": "a/r=1", "v": 2}),
            json!({"run_id": "b/r=1", "v": 99}),
        ]);
        let p = points(&inp, &Key::RunId);
        assert_eq!(p.points.len(), 2);
        assert_eq!(p.points[0].key, "a/r=1");
        assert_eq!(p.points[0].rows.len(), 1);
        assert_eq!(p.points[0].rows[0].num("v"), Some(2.0));
        let b: Vec<f64> = p.points[1]
            .rows
            .iter()
            .map(|r| r.num("v").unwrap())
            .collect();
        assert_eq!(b, [10.0, 11.0]);
        assert_eq!(p.notes.len(), 2, "{:?}", p.notes);
        assert!(p.notes[0].contains("newest wins (by line order)"));
    }

    #[test]
    fn started_at_decides_over_line_order() {
        let inp = input(&[
            json!({"run_id": "a", "v": 1, "started_at": "2026-01-02T00:00:00.000Z"}),
            json!({"run_id": "a", "v": 2, "started_at": "2026-01-01T00:00:00.000Z"}),
        ]);
        let p = points(&inp, &Key::RunId);
        assert_eq!(p.points[0].rows[0].num("v"), Some(1.0));
        assert!(p.notes[0].contains("by started_at"));
    }

    #[test]
    fn column_keys_and_unmatched() {
        let key = Key::Columns(BENCH_KEYS.iter().map(|s| (*s).to_owned()).collect());
        let a = points(
            &input(&[
                json!({"backend": "sglang", "dataset_name": "random", "request_rate": "inf", "max_concurrency": 16}),
                json!({"backend": "sglang", "dataset_name": "random", "request_rate": 4.0, "max_concurrency": null}),
            ]),
            &key,
        );
        let b = points(
            &input(&[
                json!({"backend": "sglang", "dataset_name": "random", "request_rate": "inf", "max_concurrency": 16.0}),
                json!({"backend": "vllm", "dataset_name": "random", "request_rate": 4, "max_concurrency": null}),
            ]),
            &key,
        );
        assert_eq!(
            a.points[0].key,
            "backend=sglang dataset_name=random request_rate=inf max_concurrency=16"
        );
        assert!(b.get(&a.points[0].key).is_some());
        let u = unmatched(&a, &[("NEW".into(), &b)], "BASE");
        assert_eq!(u.len(), 2, "{u:?}");
        assert!(u[0].starts_with(
            "backend=sglang dataset_name=random request_rate=4 max_concurrency=-: only in BASE"
        ));
        assert!(u[1].contains("backend=vllm") && u[1].contains("only in NEW"));
    }
}
