//! Regression tracking settings of a scenario: the `gate:` block read by `runner diff
//! --scenario FILE`, and the syntax of one gate rule (`p99_ttft_ms:+10%`), shared with
//! `runner diff --fail-on`.

use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::Problem;

/// Limits `runner diff --scenario FILE` applies to the comparison (exit 4 when one is crossed).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Gate {
    /// Rules `METRIC:±AMOUNT[%|ms]`: `p99_ttft_ms:+10%` fails when the new p99 TTFT is more
    /// than 10 % above the base; `output_throughput:-5%` when throughput drops more than 5 %;
    /// `mean_itl_ms:+2ms` (or `:+2`) on an absolute change. METRIC may use `*` globs.
    #[serde(default)]
    pub fail_on: Vec<String>,
}

/// One parsed gate rule.
#[derive(Debug, Clone, PartialEq)]
pub struct GateRule {
    /// Metric name or glob (`p99_*_ms`).
    pub metric: String,
    /// `+`: fail on an increase beyond `amount`; `-`: on a decrease.
    pub increase: bool,
    /// The allowed change (positive).
    pub amount: f64,
    /// `amount` is a percentage of the base rather than an absolute value.
    pub percent: bool,
}

impl GateRule {
    /// Parse `METRIC:+10%`, `METRIC:-5%`, `METRIC:+20ms`, `METRIC:+20`.
    pub fn parse(s: &str) -> Result<GateRule, String> {
        let hint = "write METRIC:+10% (fail on a rise of more than 10 %), METRIC:-5% (a drop), \
                    or METRIC:+20ms (an absolute rise)";
        let Some((metric, limit)) = s.rsplit_once(':') else {
            return Err(format!("gate rule `{s}` has no `:`; {hint}"));
        };
        let metric = metric.trim();
        if metric.is_empty() {
            return Err(format!("gate rule `{s}` names no metric; {hint}"));
        }
        let limit = limit.trim();
        let increase = match limit.chars().next() {
            Some('+') => true,
            Some('-') => false,
            _ => return Err(format!("gate rule `{s}`: the limit needs a sign; {hint}")),
        };
        let body = &limit[1..];
        let (number, percent) = if let Some(n) = body.strip_suffix('%') {
            (n, true)
        } else if let Some(n) = body.strip_suffix("ms") {
            if !metric.ends_with("_ms") && !metric.ends_with('*') {
                return Err(format!(
                    "gate rule `{s}`: `ms` applies to metrics ending in _ms; drop the unit"
                ));
            }
            (n, false)
        } else {
            (body, false)
        };
        let amount: f64 = number
            .trim()
            .parse()
            .ok()
            .filter(|a: &f64| a.is_finite() && *a >= 0.0)
            .ok_or_else(|| format!("gate rule `{s}`: `{number}` is not a number; {hint}"))?;
        Ok(GateRule {
            metric: metric.to_owned(),
            increase,
            amount,
            percent,
        })
    }
}

/// Every rule of `gate.fail_on` that does not parse, at its field.
pub fn problems(gate: &Gate) -> Vec<Problem> {
    gate.fail_on
        .iter()
        .enumerate()
        .filter_map(|(i, r)| {
            let e = GateRule::parse(r).err()?;
            Some(Problem::new(format!("/gate/fail_on/{i}"), e))
        })
        .collect()
}

impl fmt::Display for GateRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.increase { '+' } else { '-' };
        let unit = if self.percent {
            "%"
        } else if self.metric.ends_with("_ms") {
            "ms"
        } else {
            ""
        };
        write!(f, "{}:{sign}{}{unit}", self.metric, self.amount)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_parse() {
        let r = GateRule::parse("p99_ttft_ms:+10%").unwrap();
        assert_eq!(
            r,
            GateRule {
                metric: "p99_ttft_ms".into(),
                increase: true,
                amount: 10.0,
                percent: true
            }
        );
        let r = GateRule::parse("output_throughput:-5%").unwrap();
        assert!(!r.increase && r.percent && r.amount == 5.0);
        let r = GateRule::parse("mean_itl_ms:+20ms").unwrap();
        assert!(r.increase && !r.percent && r.amount == 20.0);
        assert_eq!(r.to_string(), "mean_itl_ms:+20ms");
        let r = GateRule::parse("mean_itl_ms:+2.5").unwrap();
        assert_eq!(r.amount, 2.5);
        let gate = Gate {
            fail_on: vec!["p99_ttft_ms:+10%".into(), "p99_ttft_ms:10%".into()],
        };
        let p = problems(&gate);
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].pointer, "/gate/fail_on/1");
        assert!(p[0].message.contains("needs a sign"), "{}", p[0].message);
        for bad in [
            "p99_ttft_ms",
            "p99_ttft_ms:10%",
            ":+1",
            "x:+abc%",
            "output_throughput:+3ms",
        ] {
            assert!(GateRule::parse(bad).is_err(), "{bad}");
        }
    }
}
