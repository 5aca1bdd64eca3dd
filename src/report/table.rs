//! The sweep table: one line per run (run id, completed/failed, req/s, output tok/s, mean and
//! p99 TTFT, mean TPOT, p99 ITL), as an aligned Markdown table that reads the same on the
//! console and in `summary.md`. In: result lines as written to `runs.jsonl`. Out: the text.

use serde_json::{Map, Value};

/// Column titles and the result keys they show (`completed`/`failed` share one column).
const COLUMNS: &[(&str, &[&str])] = &[
    ("run", &["run_id"]),
    ("completed/failed", &["completed", "failed"]),
    ("req/s", &["request_throughput"]),
    ("output tok/s", &["output_throughput"]),
    ("mean TTFT (ms)", &["mean_ttft_ms"]),
    ("p99 TTFT (ms)", &["p99_ttft_ms"]),
    ("mean TPOT (ms)", &["mean_tpot_ms"]),
    ("p99 ITL (ms)", &["p99_itl_ms"]),
];

fn cell(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) if n.is_f64() => format!("{:.2}", n.as_f64().unwrap_or(0.0)),
        Some(Value::Number(n)) => n.to_string(),
        _ => "N/A".to_owned(),
    }
}

/// The table of `rows`, columns padded to their widest cell, numbers right-aligned.
pub fn sweep_table(rows: &[Map<String, Value>]) -> String {
    let mut grid: Vec<Vec<String>> = vec![COLUMNS.iter().map(|(t, _)| (*t).to_owned()).collect()];
    for r in rows {
        grid.push(
            COLUMNS
                .iter()
                .map(|(_, keys)| {
                    keys.iter()
                        .map(|k| cell(r.get(*k)))
                        .collect::<Vec<_>>()
                        .join("/")
                })
                .collect(),
        );
    }
    let widths: Vec<usize> = (0..COLUMNS.len())
        .map(|c| {
            grid.iter()
                .map(|row| row[c].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for (i, row) in grid.iter().enumerate() {
        let cells: Vec<String> = row
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(c, (v, w))| {
                if c == 0 {
                    format!("{v:<w$}")
                } else {
                    format!("{v:>w$}")
                }
            })
            .collect();
        out.push_str(&format!("| {} |\n", cells.join(" | ")));
        if i == 0 {
            let rule: Vec<String> = widths
                .iter()
                .enumerate()
                .map(|(c, w)| {
                    let dashes = "-".repeat(*w);
                    if c == 0 {
                        format!("-{dashes}-")
                    } else {
                        format!("-{dashes}:")
                    }
                })
                .collect();
            out.push_str(&format!("|{}|\n", rule.join("|")));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn aligned_with_na_for_missing_latencies() {
        let rows: Vec<Map<String, Value>> = [
            json!({"run_id": "fast/rand/rate=20/conc=16", "completed": 60, "failed": 0,
                   "request_throughput": 19.5, "output_throughput": 624.0,
                   "mean_ttft_ms": 41.25, "p99_ttft_ms": 45.0, "mean_tpot_ms": 8.0,
                   "p99_itl_ms": 9.126}),
            json!({"run_id": "down/rand/rate=inf/conc=16", "completed": 0, "failed": 60,
                   "request_throughput": 0.0, "output_throughput": 0.0,
                   "mean_ttft_ms": null, "p99_ttft_ms": null, "mean_tpot_ms": null,
                   "p99_itl_ms": null}),
        ]
        .into_iter()
        .map(|v| v.as_object().unwrap().clone())
        .collect();
        let want = "\
| run                        | completed/failed | req/s | output tok/s | mean TTFT (ms) | p99 TTFT (ms) | mean TPOT (ms) | p99 ITL (ms) |
|----------------------------|-----------------:|------:|-------------:|---------------:|--------------:|---------------:|-------------:|
| fast/rand/rate=20/conc=16  |             60/0 | 19.50 |       624.00 |          41.25 |         45.00 |           8.00 |         9.13 |
| down/rand/rate=inf/conc=16 |             0/60 |  0.00 |         0.00 |            N/A |           N/A |            N/A |          N/A |
";
        assert_eq!(sweep_table(&rows), want);
    }
}
