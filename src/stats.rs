//! Statistics across repeated runs: the mean of a metric and its 95 % confidence interval.
//!
//! In: one value per repeat. Out: [`MeanCi`]. The interval is Student's t with n − 1
//! degrees of freedom around the sample mean, using the sample standard deviation
//! (divisor n − 1): `mean ± t(0.975, n−1) · s / √n`. With one value there is no interval.

use statrs::distribution::{ContinuousCDF, StudentsT};

/// Mean and 95 % confidence interval of a sample.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MeanCi {
    /// Number of values.
    pub n: usize,
    /// Sample mean.
    pub mean: f64,
    /// Sample variance (divisor n − 1); 0 for one value.
    pub var: f64,
    /// Sample standard deviation, the root of `var`.
    pub std: f64,
    /// Lower and upper bound of the 95 % interval; `None` for fewer than two values.
    pub ci95: Option<(f64, f64)>,
}

/// The two-sided 95 % quantile of Student's t with `df` degrees of freedom, t(0.975, df).
pub fn t975(df: f64) -> f64 {
    StudentsT::new(0.0, 1.0, df)
        .expect("df > 0")
        .inverse_cdf(0.975)
}

impl MeanCi {
    /// Summarise `xs` (at least one value) as they are, non-finite values included.
    pub fn of(xs: &[f64]) -> MeanCi {
        let n = xs.len();
        let mean = xs.iter().sum::<f64>() / n as f64;
        if n < 2 {
            return MeanCi {
                n,
                mean,
                var: 0.0,
                std: 0.0,
                ci95: None,
            };
        }
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
        let std = var.sqrt();
        let half = t975((n - 1) as f64) * std / (n as f64).sqrt();
        MeanCi {
            n,
            mean,
            var,
            std,
            ci95: Some((mean - half, mean + half)),
        }
    }

    /// Half the width of the confidence interval.
    pub fn half_width(&self) -> Option<f64> {
        self.ci95.map(|(lo, hi)| (hi - lo) / 2.0)
    }
}

/// Mean and 95 % confidence interval of `xs`; `None` when `xs` is empty or holds a
/// non-finite value.
pub fn mean_ci95(xs: &[f64]) -> Option<MeanCi> {
    let finite = !xs.is_empty() && xs.iter().all(|x| x.is_finite());
    finite.then(|| MeanCi::of(xs))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    #[test]
    fn t_quantiles_match_the_tables() {
        // Standard t tables: t(0.975, 1) = 12.706, t(0.975, 4) = 2.776, t(0.975, 30) = 2.042.
        assert!(close(t975(1.0), 12.7062, 1e-3), "{}", t975(1.0));
        assert!(close(t975(4.0), 2.7764, 1e-3), "{}", t975(4.0));
        assert!(close(t975(30.0), 2.0423, 1e-3), "{}", t975(30.0));
    }

    #[test]
    fn five_values_by_hand() {
        // 1..5: mean 3, s² = (4+1+0+1+4)/4 = 2.5, s = 1.58114, s/√5 = 0.70711,
        // half-width 2.77645 · 0.70711 = 1.96325.
        let m = mean_ci95(&[1.0, 2.0, 3.0, 4.0, 5.0]).unwrap();
        assert_eq!(m.n, 5);
        assert_eq!(m.mean, 3.0);
        assert!(close(m.std, 1.58114, 1e-5));
        let (lo, hi) = m.ci95.unwrap();
        assert!(close(lo, 3.0 - 1.96325, 1e-4), "{lo}");
        assert!(close(hi, 3.0 + 1.96325, 1e-4), "{hi}");
    }

    #[test]
    fn two_values_by_hand() {
        // 10, 12: mean 11, s = √2, s/√2 = 1, half-width t(0.975, 1) = 12.7062.
        let m = mean_ci95(&[10.0, 12.0]).unwrap();
        let (lo, hi) = m.ci95.unwrap();
        assert!(close(lo, 11.0 - 12.7062, 1e-3) && close(hi, 11.0 + 12.7062, 1e-3));
    }

    #[test]
    fn identical_values_have_a_zero_width_interval() {
        let m = mean_ci95(&[7.0; 4]).unwrap();
        assert_eq!(m.ci95, Some((7.0, 7.0)));
    }

    #[test]
    fn one_value_has_no_interval_and_none_has_no_mean() {
        let m = mean_ci95(&[4.0]).unwrap();
        assert_eq!((m.mean, m.ci95), (4.0, None));
        assert!(mean_ci95(&[]).is_none());
        assert!(mean_ci95(&[1.0, f64::NAN]).is_none());
    }
}
