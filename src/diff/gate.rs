//! The regression gate: rules from `--fail-on` and a scenario's `gate.fail_on`, checked
//! against every compared line. A rule is crossed when the change goes its way by more than
//! its amount; with repeats on both sides the change must also be significant (adjusted
//! p < 0.05, [`super::compare`]).
//!
//! In: [`GateRule`]s and the comparison's [`Line`]s. Out: [`Failure`]s; any makes the
//! process exit 4.

use std::fmt;

use super::compare::Line;
use super::metric::glob;
use super::stats::ALPHA;
use crate::scenario::GateRule;

/// One crossed rule.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    /// The point (run id).
    pub key: String,
    /// The metric.
    pub metric: String,
    /// The input that crossed it.
    pub input: String,
    /// Baseline value (mean).
    pub base: f64,
    /// New value (mean).
    pub new: f64,
    /// Change in percent of the base, when the base is not 0.
    pub pct: Option<f64>,
    /// The rule, as written.
    pub rule: String,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "run {}: {} {:.2} -> {:.2} ({:+.2}",
            self.key,
            self.metric,
            self.base,
            self.new,
            self.new - self.base
        )?;
        if let Some(p) = self.pct {
            write!(f, ", {p:+.1} %")?;
        }
        write!(f, ") crosses {} in {}", self.rule, self.input)
    }
}

/// Check every rule against every line. `inputs` names the non-baseline inputs in order.
pub fn check(rules: &[GateRule], lines: &[Line], inputs: &[String]) -> Vec<Failure> {
    let mut out = Vec::new();
    for line in lines {
        let Some(base) = &line.base else { continue };
        for rule in rules.iter().filter(|r| glob(&r.metric, &line.metric)) {
            for (cell, input) in line.cells.iter().zip(inputs) {
                let Some(c) = cell else { continue };
                // A percentage rule skips a change from a base of 0.
                let Some(change) = (if rule.percent { c.pct } else { Some(c.delta) }) else {
                    continue;
                };
                let crossed = if rule.increase {
                    change > rule.amount
                } else {
                    change < -rule.amount
                };
                if crossed && c.p_adj.is_none_or(|p| p < ALPHA) {
                    out.push(Failure {
                        key: line.key.clone(),
                        metric: line.metric.clone(),
                        input: input.clone(),
                        base: base.mean,
                        new: c.new.mean,
                        pct: c.pct,
                        rule: rule.to_string(),
                    });
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::compare::cell;
    use super::super::stats::Stat;
    use super::*;

    fn line(metric: &str, base: &[f64], new: &[f64]) -> Line {
        let b = Stat::of(base);
        Line {
            key: "k".into(),
            metric: metric.into(),
            base: Some(b),
            cells: vec![Some(cell(metric, &b, Stat::of(new), 1.0))],
        }
    }

    fn rules(r: &[&str]) -> Vec<GateRule> {
        r.iter().map(|s| GateRule::parse(s).unwrap()).collect()
    }

    #[test]
    fn percent_and_absolute_limits() {
        let names = ["NEW".to_owned()];
        let lines = [
            line("p99_ttft_ms", &[100.0], &[111.0]),
            line("output_throughput", &[200.0], &[191.0]),
            line("mean_itl_ms", &[10.0], &[13.0]),
        ];
        let f = check(&rules(&["p99_ttft_ms:+10%"]), &lines, &names);
        assert_eq!(f.len(), 1);
        assert_eq!(
            f[0].to_string(),
            "run k: p99_ttft_ms 100.00 -> 111.00 (+11.00, +11.0 %) crosses p99_ttft_ms:+10% in NEW"
        );
        assert!(check(&rules(&["p99_ttft_ms:+11%"]), &lines, &names).is_empty());
        // -4.5 %: crosses -4 %, not -5 %.
        assert_eq!(
            check(&rules(&["output_throughput:-4%"]), &lines, &names).len(),
            1
        );
        assert!(check(&rules(&["output_throughput:-5%"]), &lines, &names).is_empty());
        // A rise never crosses a drop rule.
        assert!(check(&rules(&["p99_ttft_ms:-1%"]), &lines, &names).is_empty());
        assert_eq!(
            check(&rules(&["mean_itl_ms:+2ms"]), &lines, &names).len(),
            1
        );
        assert!(check(&rules(&["mean_itl_ms:+3"]), &lines, &names).is_empty());
        assert_eq!(check(&rules(&["*_ms:+5%"]), &lines, &names).len(), 2);
    }

    #[test]
    fn repeats_must_be_significant() {
        let names = ["NEW".to_owned()];
        // +67 % but p = 0.08: not crossed.
        let l = [line(
            "mean_ttft_ms",
            &[1.0, 2.0, 3.0, 4.0, 5.0],
            &[3.0, 4.0, 5.0, 6.0, 7.0],
        )];
        assert!(check(&rules(&["mean_ttft_ms:+10%"]), &l, &names).is_empty());
        let l = [line(
            "mean_ttft_ms",
            &[1.0, 2.0, 3.0, 4.0, 5.0],
            &[11.0, 12.0, 13.0, 14.0, 15.0],
        )];
        assert_eq!(check(&rules(&["mean_ttft_ms:+10%"]), &l, &names).len(), 1);
    }
}
