//! Statistics of repeated runs: mean with a 95 % confidence interval (Student's t),
//! Welch's unequal-variance t-test between two samples, and the Benjamini–Hochberg correction
//! of a family of p-values.
//!
//! In: the values of one metric over a point's repeats. Out: [`Stat`] and p-values.

use statrs::distribution::{ContinuousCDF, StudentsT};

/// Significance level: a change is called only when p < ALPHA.
pub const ALPHA: f64 = 0.05;

/// A metric over one or more runs of the same point: [`crate::stats`]'s mean and interval.
pub use crate::stats::MeanCi as Stat;

/// Welch's t-test: the two-sided p-value that `a` and `b` have the same mean, with the
/// statistic and the Welch–Satterthwaite degrees of freedom. `None` unless both have ≥ 2
/// values. When both variances are 0 the means either agree exactly (p = 1) or differ with
/// certainty (p = 0).
pub fn welch(a: &Stat, b: &Stat) -> Option<Welch> {
    if a.n < 2 || b.n < 2 {
        return None;
    }
    let (va, vb) = (a.var / a.n as f64, b.var / b.n as f64);
    let diff = b.mean - a.mean;
    if va + vb == 0.0 {
        let p = if diff == 0.0 { 1.0 } else { 0.0 };
        return Some(Welch {
            t: if diff == 0.0 {
                0.0
            } else {
                diff.signum() * f64::INFINITY
            },
            df: (a.n + b.n - 2) as f64,
            p,
        });
    }
    let t = diff / (va + vb).sqrt();
    let df = (va + vb).powi(2) / (va.powi(2) / (a.n - 1) as f64 + vb.powi(2) / (b.n - 1) as f64);
    let dist = StudentsT::new(0.0, 1.0, df).expect("degrees of freedom are positive");
    let p = (2.0 * (1.0 - dist.cdf(t.abs()))).clamp(0.0, 1.0);
    Some(Welch { t, df, p })
}

/// Benjamini–Hochberg adjusted p-values, in the order given: with `m` p-values sorted
/// ascending, the k-th smallest (k from 1) becomes `min over j ≥ k of min(1, m / j · p_(j))`.
/// Calling the changes whose adjusted p is below α keeps the expected share of false calls
/// among the calls at most α (Benjamini & Hochberg 1995; for tests that are independent or
/// positively dependent, as the metrics of one run are); when nothing changed, that is the
/// chance of calling any change at all.
pub fn bh(ps: &[f64]) -> Vec<f64> {
    let m = ps.len();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&a, &b| ps[a].total_cmp(&ps[b]));
    let mut out = vec![0.0; m];
    let mut running = 1.0f64;
    for (k, &i) in order.iter().enumerate().rev() {
        running = running.min(m as f64 / (k + 1) as f64 * ps[i]);
        out[i] = running;
    }
    out
}

/// Result of [`welch`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Welch {
    /// t statistic of new − base.
    pub t: f64,
    /// Degrees of freedom.
    pub df: f64,
    /// Two-sided p-value.
    pub p: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) {
        assert!((a - b).abs() < tol, "{a} vs {b}");
    }

    #[test]
    fn mean_and_confidence_interval() {
        // mean 3, s² = 2.5, s/√n = 0.70711, t(0.975, 4) = 2.776445: half width 1.963243.
        let s = Stat::of(&[1.0, 2.0, 3.0, 4.0, 5.0]);
        assert_eq!(s.mean, 3.0);
        assert_eq!(s.var, 2.5);
        let (lo, hi) = s.ci95.unwrap();
        close(lo, 1.036757, 1e-5);
        close(hi, 4.963243, 1e-5);
        let one = Stat::of(&[7.0]);
        assert_eq!((one.n, one.mean, one.ci95), (1, 7.0, None));
    }

    #[test]
    fn welch_matches_hand_computed_values() {
        // Equal variances 2.5, n = 5: se = √(0.5 + 0.5) = 1, t = 2, df = 1 / (2·0.5²/4) = 8,
        // two-sided p for t = 2 with 8 df = 0.080516.
        let w = welch(
            &Stat::of(&[1.0, 2.0, 3.0, 4.0, 5.0]),
            &Stat::of(&[3.0, 4.0, 5.0, 6.0, 7.0]),
        )
        .unwrap();
        close(w.t, 2.0, 1e-12);
        close(w.df, 8.0, 1e-12);
        close(w.p, 0.080516, 1e-5);
        // Unequal: a = [10, 12, 14] (mean 12, s² 4), b = [20, 21, 22, 23] (mean 21.5,
        // s² 5/3). va = 4/3, vb = 5/12, se² = 1.75, t = 9.5/√1.75 = 7.181325,
        // df = 1.75² / ((4/3)²/2 + (5/12)²/3) = 3.0625 / 0.946759 = 3.234722; p ≈ 0.0044.
        let w = welch(
            &Stat::of(&[10.0, 12.0, 14.0]),
            &Stat::of(&[20.0, 21.0, 22.0, 23.0]),
        )
        .unwrap();
        close(w.t, 7.181325, 1e-5);
        close(w.df, 3.234722, 1e-5);
        assert!(w.p > 0.003 && w.p < 0.006, "{}", w.p);
        // Identical constant samples: no evidence of change; different constants: certain.
        let c = Stat::of(&[2.0, 2.0]);
        assert_eq!(welch(&c, &c).unwrap().p, 1.0);
        assert_eq!(welch(&c, &Stat::of(&[3.0, 3.0])).unwrap().p, 0.0);
        assert!(welch(&c, &Stat::of(&[3.0])).is_none());
    }

    #[test]
    fn benjamini_hochberg_adjusts_by_rank_and_keeps_the_order() {
        // Sorted: 0.005 ·4/1 = 0.02, 0.01 ·4/2 = 0.02, 0.03 ·4/3 = 0.04, 0.04 ·4/4 = 0.04;
        // then the running minimum from the largest down changes nothing.
        let adj = bh(&[0.01, 0.04, 0.03, 0.005]);
        for (a, want) in adj.iter().zip([0.02, 0.04, 0.04, 0.02]) {
            close(*a, want, 1e-12);
        }
        // 0.01 ·3 = 0.03, 0.04 ·3/2 = 0.06, 0.06 ·3/3 = 0.06: the 0.04 is no longer a call.
        let adj = bh(&[0.01, 0.04, 0.06]);
        for (a, want) in adj.iter().zip([0.03, 0.06, 0.06]) {
            close(*a, want, 1e-12);
        }
        // An A/A diff of 15 metrics whose smallest p is 0.046: 15 × 0.046 = 0.69, lowered to
        // the 0.5 · 15/15 of the largest: no call.
        let mut ps = vec![0.5; 15];
        ps[3] = 0.046;
        let adj = bh(&ps);
        close(adj[3], 0.5, 1e-12);
        assert!(adj.iter().all(|&p| p >= ALPHA));
        // 0.6 · 2 capped by 0.7 · 2/2; a single test is unchanged; none is none.
        assert_eq!(bh(&[0.6, 0.7]), [0.7, 0.7]);
        assert_eq!(bh(&[0.046]), [0.046]);
        assert!(bh(&[]).is_empty());
    }
}
