//! `report.md`. In: what was read from the results directory and the pictures drawn. Out:
//! Markdown text: the capacity table (with `capacity.jsonl`), the SLO thresholds, the
//! pictures per dataset and a sweep table with one line per run.

use std::fmt::Write as _;

use super::read::{CapacityRow, ResultsDir, RunRow};
use super::ticks::short;

/// One dataset's pictures, as paths relative to the report.
pub struct Pictures {
    /// Dataset name.
    pub dataset: String,
    /// Alt text and relative PNG path.
    pub png: Vec<(String, String)>,
}

fn cell(v: Option<f64>) -> String {
    v.map_or_else(|| "–".to_owned(), short)
}

fn escape(s: &str) -> String {
    s.replace('|', "\\|")
}

/// The whole report.
pub fn render(dir_name: &str, results: &ResultsDir, pictures: &[Pictures]) -> String {
    let mut out = String::new();
    let mut scenarios: Vec<&str> = results
        .runs
        .iter()
        .filter_map(|r| r.text("scenario"))
        .collect();
    scenarios.dedup();
    let title = if scenarios.is_empty() {
        dir_name.to_owned()
    } else {
        scenarios.join(", ")
    };
    let _ = writeln!(out, "# Report: {title}\n");
    let _ = writeln!(
        out,
        "Results in `{dir_name}`: {} run{}, drawn by runner {}.",
        results.runs.len(),
        if results.runs.len() == 1 { "" } else { "s" },
        env!("CARGO_PKG_VERSION")
    );
    if results.replaced_lines > 0 {
        let _ = writeln!(
            out,
            "{} earlier line(s) of rerun runs were replaced by the newest.",
            results.replaced_lines
        );
    }
    if results.skipped_lines > 0 {
        let _ = writeln!(
            out,
            "{} line(s) that were not JSON objects were skipped.",
            results.skipped_lines
        );
    }
    out.push('\n');
    if !results.capacity.is_empty() {
        capacity_table(&mut out, &results.capacity);
    }
    if !results.slo.is_empty() {
        let list: Vec<String> = results
            .slo
            .iter()
            .map(|(k, v)| format!("`{k}` {}", short(*v)))
            .collect();
        let _ = writeln!(out, "SLO thresholds: {}.\n", list.join(", "));
    }
    for p in pictures {
        let _ = writeln!(out, "## Dataset `{}`\n", p.dataset);
        for (alt, path) in &p.png {
            let _ = writeln!(out, "![{alt}]({path})\n");
        }
    }
    sweep_table(&mut out, &results.runs);
    out
}

fn capacity_table(out: &mut String, rows: &[CapacityRow]) {
    out.push_str("## Capacity\n\n");
    out.push_str(
        "| target | dataset | axis | capacity | goodput at capacity (req/s) | binding SLO | \
         status | runs | bracket |\n|---|---|---|---:|---:|---|---|---:|---|\n",
    );
    for c in rows {
        let text = |k: &str| escape(c.text(k).unwrap_or("–"));
        let bracket = match (c.num("lower"), c.num("upper")) {
            (None, None) => "–".to_owned(),
            (lo, hi) => format!("[{}, {}]", cell(lo), cell(hi)),
        };
        let runs = c
            .num("runs")
            .or_else(|| Some(c.run_ids().len() as f64).filter(|n| *n > 0.0));
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {bracket} |",
            text("target"),
            text("dataset"),
            text("axis"),
            cell(c.num("capacity")),
            cell(c.num("goodput_at_capacity")),
            text("binding_slo"),
            text("status"),
            cell(runs),
        );
    }
    out.push('\n');
}

fn sweep_table(out: &mut String, runs: &[RunRow]) {
    out.push_str("## Runs\n\n");
    let grid = sweep_cells(runs);
    for (i, row) in grid.iter().enumerate() {
        let cells: Vec<String> = row.iter().map(|c| escape(c)).collect();
        let _ = writeln!(out, "| {} |", cells.join(" | "));
        if i == 0 {
            let rule: Vec<&str> = row
                .iter()
                .enumerate()
                .map(|(c, title)| match (c, title.as_str()) {
                    (0, _) | (_, "SLO") => "---",
                    _ => "---:",
                })
                .collect();
            let _ = writeln!(out, "|{}|", rule.join("|"));
        }
    }
}

/// The sweep table's cells, titles first: one row per run (run id, completed / failed,
/// req/s, output tok/s, mean and p99 TTFT, mean TPOT, p99 ITL, then goodput and the SLO
/// verdict when any run has one). Used by report.md, the console and `summary.md`.
pub fn sweep_cells(runs: &[RunRow]) -> Vec<Vec<String>> {
    let with_slo = runs.iter().any(|r| r.slo_passed().is_some());
    let mut titles: Vec<String> = [
        "run",
        "completed / failed",
        "req/s",
        "output tok/s",
        "mean TTFT (ms)",
        "p99 TTFT (ms)",
        "mean TPOT (ms)",
        "p99 ITL (ms)",
    ]
    .map(str::to_owned)
    .to_vec();
    if with_slo {
        titles.extend(["goodput (req/s)".to_owned(), "SLO".to_owned()]);
    }
    let mut grid = vec![titles];
    for r in runs {
        let mut row = vec![
            r.run_id(),
            format!("{} / {}", cell(r.num("completed")), cell(r.num("failed"))),
            cell(r.num("request_throughput")),
            cell(r.num("output_throughput")),
            cell(r.num("mean_ttft_ms")),
            cell(r.num("p99_ttft_ms")),
            cell(r.num("mean_tpot_ms")),
            cell(r.num("p99_itl_ms")),
        ];
        if with_slo {
            let verdict = match r.slo_passed() {
                Some(true) => "pass".to_owned(),
                Some(false) => format!("fail: {}", r.slo_failed().join(", ")),
                None => "–".to_owned(),
            };
            row.extend([cell(r.num("request_goodput")), verdict]);
        }
        grid.push(row);
    }
    grid
}
