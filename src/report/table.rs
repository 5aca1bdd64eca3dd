//! The sweep table: one line per run (run id, completed/failed, req/s, output tok/s, mean and
//! p99 TTFT, mean TPOT, p99 ITL; goodput and SLO verdict when runs have them), as an aligned
//! Markdown table that reads the same on the console and in `summary.md`; its cells are
//! report.md's. In: result lines as written to `runs.jsonl`. Out: the text.

use super::RunLine;
use super::plot::markdown::sweep_cells;
use super::plot::read::RunRow;

/// The table of `rows`, columns padded to their widest cell, numbers right-aligned. The
/// cells are report.md's ([`super::plot::markdown::sweep_cells`]): one definition.
pub fn sweep_table(rows: &[RunLine]) -> String {
    let runs: Vec<RunRow> = rows.iter().map(|r| RunRow { fields: r.to_map() }).collect();
    let grid = sweep_cells(&runs);
    let columns = grid.first().map_or(0, Vec::len);
    let widths: Vec<usize> = (0..columns)
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
                let pad = w - v.chars().count();
                if c == 0 || grid[0][c] == "SLO" {
                    format!("{v}{}", " ".repeat(pad))
                } else {
                    format!("{}{v}", " ".repeat(pad))
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
                    if c == 0 || grid[0][c] == "SLO" {
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
    fn aligned_with_a_dash_for_missing_latencies() {
        let rows: Vec<RunLine> = [
            json!({"run_id": "fast/rand/rate=20/conc=16", "completed": 60, "failed": 0,
                   "request_throughput": 19.5, "output_throughput": 624.0,
                   "mean_ttft_ms": 41.26, "p99_ttft_ms": 45.0, "mean_tpot_ms": 8.0,
                   "p99_itl_ms": 9.126}),
            json!({"run_id": "down/rand/rate=inf/conc=16", "completed": 0, "failed": 60,
                   "request_throughput": 0.0, "output_throughput": 0.0,
                   "mean_ttft_ms": null, "p99_ttft_ms": null, "mean_tpot_ms": null,
                   "p99_itl_ms": null}),
        ]
        .into_iter()
        .map(|v| serde_json::from_value(v).unwrap())
        .collect();
        let want = "\
| run                        | completed / failed | req/s | output tok/s | mean TTFT (ms) | p99 TTFT (ms) | mean TPOT (ms) | p99 ITL (ms) |
|----------------------------|-------------------:|------:|-------------:|---------------:|--------------:|---------------:|-------------:|
| fast/rand/rate=20/conc=16  |             60 / 0 |  19.5 |          624 |           41.3 |            45 |              8 |         9.13 |
| down/rand/rate=inf/conc=16 |             0 / 60 |     0 |            0 |              – |             – |              – |            – |
";
        assert_eq!(sweep_table(&rows), want);
    }
}
