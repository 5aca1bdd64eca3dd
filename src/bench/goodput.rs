//! `--goodput KEY:VALUE…`: parsing bench_serving's flag. The goodput itself is computed in
//! [`crate::slo::goodput`], shared with scenario `slo:` blocks.

pub use crate::slo::goodput::{Goodput, METRICS, Slo, compute, python_g};

use super::usage::{UsageError, invalid};

/// Parse `KEY:VALUE` pairs; a repeated key keeps its first position and its last value
/// (Python's `dict(...)`).
pub fn parse(pairs: &[String]) -> Result<Vec<Slo>, UsageError> {
    let mut out: Vec<Slo> = Vec::new();
    for p in pairs {
        let (name, value) = p.split_once(':').unwrap_or((p.as_str(), ""));
        let Some(metric) = METRICS.iter().find(|m| **m == name) else {
            return Err(invalid(format!(
                "--goodput {p:?}: expected KEY:VALUE with KEY in {}",
                METRICS.join(", ")
            )));
        };
        let ms: f64 = value
            .parse()
            .ok()
            .filter(|v: &f64| v.is_finite() && *v > 0.0)
            .ok_or_else(|| {
                invalid(format!(
                    "--goodput {p:?}: expected a finite float > 0 (milliseconds)"
                ))
            })?;
        match out.iter_mut().find(|s| s.metric == *metric) {
            Some(s) => s.ms = ms,
            None => out.push(Slo { metric, ms }),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_validates_and_keeps_dict_semantics() {
        let s = parse(&["ttft:100".into(), "tpot:20".into(), "ttft:50".into()]).unwrap();
        assert_eq!(
            s,
            vec![
                Slo {
                    metric: "ttft",
                    ms: 50.0
                },
                Slo {
                    metric: "tpot",
                    ms: 20.0
                }
            ]
        );
        assert!(parse(&["itl:5".into()]).is_err());
        assert!(parse(&["ttft:0".into()]).is_err());
        assert!(parse(&["ttft".into()]).is_err());
    }
}
