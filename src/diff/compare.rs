//! The comparison: for every point of the baseline and every metric, the baseline's value
//! and, per other input, its value, the change and a verdict by the metric's direction.
//! With repeats on both sides the values are means with 95 % CIs and the verdict needs
//! Welch's test to say p < 0.05 after the Benjamini–Hochberg correction across every
//! comparison of the table with the same input ([`super::stats::bh`]).
//!
//! In: the baseline's and the other inputs' [`Points`], the metrics. Out: [`Line`]s.

use super::join::{Point, Points};
use super::metric::{Direction, direction};
use super::stats::{ALPHA, Stat, bh, welch};

/// What a change means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Moved the good way.
    Better,
    /// Moved the bad way.
    Worse,
    /// Within the `--same-within` band (a significant change too, with repeats).
    Same,
    /// Moved, for a metric with no better direction.
    Changed,
    /// Repeats on both sides, and Welch's test (corrected for the table's many tests) found
    /// no significant difference.
    NoSignificantChange,
}

impl Verdict {
    /// As printed.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Better => "better",
            Verdict::Worse => "worse",
            Verdict::Same => "same",
            Verdict::Changed => "changed",
            Verdict::NoSignificantChange => "no significant change",
        }
    }
}

/// One metric of one point in one non-baseline input.
#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    /// The input's value(s).
    pub new: Stat,
    /// new − base (means).
    pub delta: f64,
    /// Change in percent of the base; `None` when the base is 0.
    pub pct: Option<f64>,
    /// The call.
    pub verdict: Verdict,
    /// Welch's p-value, with repeats on both sides.
    pub p: Option<f64>,
    /// `p` adjusted by Benjamini–Hochberg over every p-value of the table in this input's
    /// column (the verdict's test: significant when below 0.05).
    pub p_adj: Option<f64>,
}

/// One point × metric row of the table.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    /// The point's key (run id).
    pub key: String,
    /// The metric.
    pub metric: String,
    /// The baseline's value(s); `None` when the baseline lacks the metric.
    pub base: Option<Stat>,
    /// Per non-baseline input, `None` when it lacks the point or the metric.
    pub cells: Vec<Option<Cell>>,
}

fn stat(point: &Point, metric: &str) -> Option<Stat> {
    let values: Vec<f64> = point.rows.iter().filter_map(|r| r.num(metric)).collect();
    (!values.is_empty()).then(|| Stat::of(&values))
}

/// Compare `base` with the value of the same point in another input, as the only test of
/// its family (`p_adj` = `p`; [`lines`] corrects across the table).
pub fn cell(metric: &str, base: &Stat, new: Stat, same_within_pct: f64) -> Cell {
    let delta = new.mean - base.mean;
    let pct = (base.mean != 0.0).then(|| delta / base.mean.abs() * 100.0);
    let p = welch(base, &new).map(|w| w.p);
    Cell {
        new,
        delta,
        pct,
        verdict: judge(metric, delta, pct, p, same_within_pct),
        p,
        p_adj: p,
    }
}

/// The verdict on a change of `delta` (`pct` %), given the p-value it is judged by.
fn judge(metric: &str, delta: f64, pct: Option<f64>, p: Option<f64>, same_within: f64) -> Verdict {
    // Beyond the band of "same"; with repeats the change must also be significant.
    let beyond = pct.map_or(delta != 0.0, |pct| pct.abs() >= same_within);
    match (p, beyond, direction(metric)) {
        (Some(p), _, _) if p >= ALPHA => Verdict::NoSignificantChange,
        (_, false, _) => Verdict::Same,
        (_, true, Direction::Neutral) => Verdict::Changed,
        (_, true, Direction::HigherIsBetter) if delta > 0.0 => Verdict::Better,
        (_, true, Direction::LowerIsBetter) if delta < 0.0 => Verdict::Better,
        (_, true, _) => Verdict::Worse,
    }
}

/// The correction per input column: every tested cell of column `i` gets its adjusted
/// p-value ([`bh`]), and its verdict is judged by it.
fn correct(lines: &mut [Line], columns: usize, same_within: f64) {
    for i in 0..columns {
        let tested: Vec<(usize, f64)> = lines
            .iter()
            .enumerate()
            .filter_map(|(n, l)| Some((n, l.cells[i].as_ref()?.p?)))
            .collect();
        let ps: Vec<f64> = tested.iter().map(|(_, p)| *p).collect();
        for ((n, _), adj) in tested.iter().zip(bh(&ps)) {
            let line = &mut lines[*n];
            let c = line.cells[i].as_mut().expect("a tested cell");
            c.p_adj = Some(adj);
            c.verdict = judge(&line.metric, c.delta, c.pct, Some(adj), same_within);
        }
    }
}

/// Every line: the baseline's points in order, each metric in order.
pub fn lines(
    base: &Points,
    others: &[&Points],
    metrics: &[String],
    same_within_pct: f64,
) -> Vec<Line> {
    let mut out = Vec::new();
    for point in &base.points {
        for m in metrics {
            let b = stat(point, m);
            let cells: Vec<Option<Cell>> = others
                .iter()
                .map(|o| {
                    let new = stat(o.get(&point.key)?, m)?;
                    Some(cell(m, b.as_ref()?, new, same_within_pct))
                })
                .collect();
            let any_new = others
                .iter()
                .any(|o| o.get(&point.key).and_then(|p| stat(p, m)).is_some());
            if b.is_none() && !any_new {
                continue; // Neither side has this metric for this point.
            }
            out.push(Line {
                key: point.key.clone(),
                metric: m.clone(),
                base: b,
                cells,
            });
        }
    }
    correct(&mut out, others.len(), same_within_pct);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_runs_judged_by_direction_and_band() {
        let b = Stat::of(&[100.0]);
        let c = cell("p99_ttft_ms", &b, Stat::of(&[130.0]), 1.0);
        assert_eq!(
            (c.delta, c.pct, c.verdict),
            (30.0, Some(30.0), Verdict::Worse)
        );
        let c = cell("output_throughput", &b, Stat::of(&[130.0]), 1.0);
        assert_eq!(c.verdict, Verdict::Better);
        let c = cell("output_throughput", &b, Stat::of(&[100.5]), 1.0);
        assert_eq!(c.verdict, Verdict::Same);
        let c = cell("concurrency", &b, Stat::of(&[90.0]), 1.0);
        assert_eq!(c.verdict, Verdict::Changed);
        let c = cell("failed", &Stat::of(&[0.0]), Stat::of(&[2.0]), 1.0);
        assert_eq!((c.pct, c.verdict), (None, Verdict::Worse));
    }

    #[test]
    fn repeats_need_significance() {
        // p = 0.0805 (see stats): not significant although the mean rose 67 %.
        let b = Stat::of(&[1.0, 2.0, 3.0, 4.0, 5.0]);
        let c = cell(
            "mean_ttft_ms",
            &b,
            Stat::of(&[3.0, 4.0, 5.0, 6.0, 7.0]),
            1.0,
        );
        assert_eq!(c.verdict, Verdict::NoSignificantChange);
        assert!((c.p.unwrap() - 0.0805).abs() < 1e-3);
        let c = cell(
            "mean_ttft_ms",
            &b,
            Stat::of(&[11.0, 12.0, 13.0, 14.0, 15.0]),
            1.0,
        );
        assert_eq!(c.verdict, Verdict::Worse);
        assert!(c.p.unwrap() < 1e-4);
        // Significant (p ≈ 0.0001) but 0.2 %: inside the band, same.
        let b = Stat::of(&[100.0, 100.01, 99.99]);
        let c = cell("mean_ttft_ms", &b, Stat::of(&[100.2, 100.21, 100.19]), 1.0);
        assert!(c.p.unwrap() < ALPHA);
        assert_eq!(c.verdict, Verdict::Same);
    }

    /// A line whose one cell rose 10 % with Welch's p = `p`.
    fn tested(metric: &str, p: f64) -> Line {
        let mut c = cell(metric, &Stat::of(&[100.0]), Stat::of(&[110.0]), 1.0);
        c.p = Some(p);
        Line {
            key: "t/d/rate=1".into(),
            metric: metric.into(),
            base: Some(Stat::of(&[100.0])),
            cells: vec![Some(c), None],
        }
    }

    #[test]
    fn verdicts_use_adjusted_p_across_the_column() {
        // Alone, the first two would call a change. Benjamini–Hochberg over the three:
        // 0.01 · 3 = 0.03, 0.04 · 3/2 = 0.06, 0.06 · 3/3 = 0.06.
        let mut lines = vec![
            tested("mean_ttft_ms", 0.01),
            tested("output_throughput", 0.04),
            tested("p99_ttft_ms", 0.06),
        ];
        correct(&mut lines, 2, 1.0);
        let got: Vec<(Option<f64>, Verdict)> = lines
            .iter()
            .map(|l| {
                let c = l.cells[0].as_ref().unwrap();
                (c.p_adj.map(|p| (p * 1e9).round() / 1e9), c.verdict)
            })
            .collect();
        assert_eq!(
            got,
            [
                (Some(0.03), Verdict::Worse),
                (Some(0.06), Verdict::NoSignificantChange),
                (Some(0.06), Verdict::NoSignificantChange),
            ]
        );
        // Single runs (no p) are judged as before.
        let mut single = vec![Line {
            cells: vec![Some(cell(
                "mean_ttft_ms",
                &Stat::of(&[100.0]),
                Stat::of(&[110.0]),
                1.0,
            ))],
            ..tested("mean_ttft_ms", 0.5)
        }];
        correct(&mut single, 1, 1.0);
        let c = single[0].cells[0].as_ref().unwrap();
        assert_eq!((c.p_adj, c.verdict), (None, Verdict::Worse));
    }
}
