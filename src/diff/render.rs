//! The comparison for people: an aligned text table (verdicts coloured on a terminal) and a
//! Markdown table for a pull-request comment, each followed by the notes, the unmatched
//! points and the gate's result.
//!
//! In: a [`Report`]. Out: text.

use std::fmt::Write as _;

use super::Report;
use super::compare::{Cell, Verdict};
use super::stats::Stat;

/// A value, or mean ± half the 95 % CI with repeats.
pub fn stat_text(s: &Stat) -> String {
    match s.half_width() {
        Some(h) => format!("{:.2} ± {h:.2}", s.mean),
        None => format!("{:.2}", s.mean),
    }
}

/// The verdict with Welch's p and, when the table held several tests, the adjusted p (the
/// one the verdict used).
fn verdict_text(c: &Cell) -> String {
    match (c.p, c.p_adj) {
        (Some(p), Some(adj)) if adj != p => {
            format!("{} (p={p:.3}, adjusted {adj:.3})", c.verdict.as_str())
        }
        (Some(p), _) => format!("{} (p={p:.3})", c.verdict.as_str()),
        _ => c.verdict.as_str().to_owned(),
    }
}

/// Header and cells of every table row: run, metric, base, then per other input its value,
/// Δ, Δ % and verdict.
/// One table row: its cells and, per other input, the verdict (for colour).
type Row = (Vec<String>, Vec<Option<Verdict>>);

fn table(r: &Report) -> (Vec<String>, Vec<Row>) {
    let many = r.inputs.len() > 2;
    let mut header: Vec<String> = vec!["run".into(), "metric".into(), "base".into()];
    for i in 1..r.inputs.len() {
        let tag = if many {
            format!(" #{i}")
        } else {
            String::new()
        };
        for h in ["new", "Δ", "Δ %", "verdict"] {
            header.push(format!("{h}{tag}"));
        }
    }
    let rows = r
        .lines
        .iter()
        .map(|l| {
            let mut cells = vec![
                l.key.clone(),
                l.metric.clone(),
                l.base.as_ref().map_or("—".into(), stat_text),
            ];
            let mut verdicts = Vec::new();
            for c in &l.cells {
                match c {
                    Some(c) => {
                        cells.push(stat_text(&c.new));
                        cells.push(format!("{:+.2}", c.delta));
                        cells.push(c.pct.map_or("—".into(), |p| format!("{p:+.1} %")));
                        cells.push(verdict_text(c));
                        verdicts.push(Some(c.verdict));
                    }
                    None => {
                        cells.extend(["—".into(), String::new(), String::new(), String::new()]);
                        verdicts.push(None);
                    }
                }
            }
            (cells, verdicts)
        })
        .collect();
    (header, rows)
}

fn legend(r: &Report) -> Vec<String> {
    let mut out = vec![format!("base: {}", r.inputs[0])];
    for (i, name) in r.inputs.iter().enumerate().skip(1) {
        if r.inputs.len() > 2 {
            out.push(format!("#{i}:   {name}"));
        } else {
            out.push(format!("new:  {name}"));
        }
    }
    out.push(format!("joined by {}", r.key));
    out
}

fn paint(text: &str, v: Option<Verdict>, colour: bool) -> String {
    let code = match v {
        Some(Verdict::Worse) => "31",
        Some(Verdict::Better) => "32",
        _ => return text.to_owned(),
    };
    if colour {
        format!("\x1b[{code}m{text}\x1b[0m")
    } else {
        text.to_owned()
    }
}

/// The aligned text table; `colour` paints better green and worse red.
pub fn text(r: &Report, colour: bool) -> String {
    let (header, rows) = table(r);
    let mut width: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for (cells, _) in &rows {
        for (w, c) in width.iter_mut().zip(cells) {
            *w = (*w).max(c.chars().count());
        }
    }
    let mut out = String::new();
    for l in legend(r) {
        let _ = writeln!(out, "{l}");
    }
    out.push('\n');
    let line = |cells: &[String], verdicts: &[Option<Verdict>]| {
        let mut s = String::new();
        for (i, (c, w)) in cells.iter().zip(&width).enumerate() {
            let pad = w - c.chars().count();
            let verdict_col = i >= 6 && (i - 6) % 4 == 0;
            // The verdict columns are 6, 10, …: colour them (the text, not the padding).
            let v = verdict_col
                .then(|| verdicts.get((i - 6) / 4).copied().flatten())
                .flatten();
            let body = paint(c, v, colour);
            if i >= 2 && !verdict_col {
                s.push_str(&" ".repeat(pad));
                s.push_str(&body);
            } else {
                s.push_str(&body);
                s.push_str(&" ".repeat(pad));
            }
            s.push_str("  ");
        }
        s.trim_end().to_owned()
    };
    let _ = writeln!(out, "{}", line(&header, &[]));
    let _ = writeln!(
        out,
        "{}",
        width
            .iter()
            .map(|w| "-".repeat(*w))
            .collect::<Vec<_>>()
            .join("  ")
    );
    let mut last = String::new();
    for (mut cells, verdicts) in rows {
        if cells[0] == last {
            cells[0] = String::new();
        } else {
            last = cells[0].clone();
        }
        let _ = writeln!(out, "{}", line(&cells, &verdicts));
    }
    out.push_str(&footer(r, ""));
    out
}

/// Notes, unmatched points and the gate, each line prefixed (`- ` in Markdown).
fn footer(r: &Report, bullet: &str) -> String {
    let mut out = String::new();
    if !r.notes.is_empty() || !r.unmatched.is_empty() {
        out.push('\n');
    }
    for n in &r.notes {
        let _ = writeln!(out, "{bullet}note: {n}");
    }
    for u in &r.unmatched {
        let _ = writeln!(out, "{bullet}unmatched: {u}");
    }
    out.push('\n');
    if r.rules.is_empty() {
        let _ = writeln!(out, "{bullet}gate: no rules");
    } else if r.failures.is_empty() {
        let _ = writeln!(out, "{bullet}gate: passed ({})", r.rules.join(", "));
    } else {
        let _ = writeln!(
            out,
            "{bullet}gate: FAILED, {} regression(s) ({})",
            r.failures.len(),
            r.rules.join(", ")
        );
        for f in &r.failures {
            let _ = writeln!(out, "{bullet}regression: {f}");
        }
    }
    out
}

/// A Markdown table (GitHub-flavoured) for a pull-request comment.
pub fn markdown(r: &Report) -> String {
    let (header, rows) = table(r);
    let mut out = String::from("### runner diff\n\n");
    for l in legend(r) {
        let _ = writeln!(out, "{}  ", l.replace("#", "\\#"));
    }
    out.push('\n');
    let _ = writeln!(out, "| {} |", header.join(" | "));
    let aligns: Vec<&str> = (0..header.len())
        .map(|i| if i < 2 { "---" } else { "---:" })
        .collect();
    let _ = writeln!(out, "| {} |", aligns.join(" | "));
    for (cells, verdicts) in rows {
        let cells: Vec<String> = cells
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let verdict_col = i >= 6 && (i - 6) % 4 == 0;
                let v = verdict_col.then(|| verdicts[(i - 6) / 4]).flatten();
                let c = c.replace('|', "\\|");
                match (i, v) {
                    (0, _) => format!("`{c}`"),
                    (_, Some(Verdict::Worse)) => format!("**{c}**"),
                    _ => c,
                }
            })
            .collect();
        let _ = writeln!(out, "| {} |", cells.join(" | "));
    }
    out.push_str(&footer(r, "- "));
    out
}

#[cfg(test)]
mod tests {
    use super::super::compare::{Line, cell};
    use super::*;

    fn report() -> Report {
        let line = |metric: &str, b: f64, n: f64| {
            let base = Stat::of(&[b]);
            Line {
                key: "t/d/rate=1".into(),
                metric: metric.into(),
                base: Some(base),
                cells: vec![Some(cell(metric, &base, Stat::of(&[n]), 1.0))],
            }
        };
        Report {
            inputs: vec!["old".into(), "new".into()],
            key: "run_id".into(),
            lines: vec![
                line("p99_ttft_ms", 100.0, 120.0),
                line("output_throughput", 50.0, 60.0),
            ],
            unmatched: vec![],
            notes: vec![],
            rules: vec![],
            failures: vec![],
        }
    }

    #[test]
    fn text_is_aligned_and_coloured_only_when_asked() {
        let plain = text(&report(), false);
        assert!(!plain.contains('\x1b'));
        let rows: Vec<&str> = plain
            .lines()
            .filter(|l| l.contains("ms") || l.contains("put"))
            .collect();
        assert_eq!(
            rows,
            [
                "t/d/rate=1  p99_ttft_ms        100.00  120.00  +20.00  +20.0 %  worse",
                "            output_throughput   50.00   60.00  +10.00  +20.0 %  better",
            ]
        );
        let coloured = text(&report(), true);
        assert!(coloured.contains("\x1b[31mworse\x1b[0m"), "{coloured}");
        assert!(coloured.contains("\x1b[32mbetter"), "{coloured}");
    }

    #[test]
    fn markdown_is_a_table() {
        let md = markdown(&report());
        assert!(md.contains("| run | metric | base | new | Δ | Δ % | verdict |\n| --- | --- | ---: | ---: | ---: | ---: | ---: |\n| `t/d/rate=1` | p99_ttft_ms | 100.00 | 120.00 | +20.00 | +20.0 % | **worse** |\n"), "{md}");
        assert!(md.contains("- gate: no rules"), "{md}");
    }
}
