//! Axis ticks and number labels for the charts. In: an axis range. Out: tick positions at
//! 1, 2, 5 × 10^k (linear or log10), a plotters axis carrying them, and short number text.

use std::ops::Range;

use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, Ranged};
use plotters::coord::types::RangedCoordf64;

/// A linear axis with the ticks given (plotters' `WithKeyPoints` on `f64` cannot take a
/// label formatter).
pub struct Ticked {
    inner: RangedCoordf64,
    ticks: Vec<f64>,
}

impl Ticked {
    pub fn new(lo: f64, hi: f64, ticks: Vec<f64>) -> Ticked {
        Ticked {
            inner: (lo..hi).into(),
            ticks,
        }
    }
}

impl Ranged for Ticked {
    type ValueType = f64;
    type FormatOption = DefaultFormatting;

    fn range(&self) -> Range<f64> {
        self.inner.range()
    }

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        self.inner.map(value, limit)
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            self.ticks.clone()
        }
    }
}

/// Ticks at 1, 2, 5 × 10^k covering `lo..=hi`, about `want` of them.
pub fn nice_ticks(lo: f64, hi: f64, want: f64) -> Vec<f64> {
    let span = (hi - lo).max(f64::MIN_POSITIVE);
    let raw = span / want;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag);
    let first = (lo / step).ceil() as i64;
    let last = (hi / step + 1e-9).floor() as i64;
    (first..=last).map(|k| k as f64 * step).collect()
}

/// Log-scale ticks (as log10 values) at 1, 2, 5 × 10^k, or every integer multiple when the
/// range is narrow.
pub fn log_ticks(lo: f64, hi: f64) -> Vec<f64> {
    let mults: &[f64] = if hi - lo < 1.2 {
        &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0]
    } else {
        &[1.0, 2.0, 5.0]
    };
    let mut out = Vec::new();
    for k in (lo.floor() as i32)..=(hi.ceil() as i32) {
        for m in mults {
            let t = (m * 10f64.powi(k)).log10();
            if t >= lo - 1e-9 && t <= hi + 1e-9 {
                out.push(t);
            }
        }
    }
    out
}

/// A number as a tick or legend shows it: no trailing zeros, at most 3 significant decimals.
pub fn short(v: f64) -> String {
    let a = v.abs();
    let s = if a >= 100.0 || a == 0.0 {
        format!("{v:.0}")
    } else if a >= 10.0 {
        format!("{v:.1}")
    } else if a >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    };
    crate::slo::goodput::trim_zeros(&s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nice_ticks_step_by_one_two_five() {
        let shown = |lo, hi, want| -> Vec<String> {
            nice_ticks(lo, hi, want).into_iter().map(short).collect()
        };
        assert_eq!(shown(0.0, 10.0, 5.0), ["0", "2", "4", "6", "8", "10"]);
        assert_eq!(shown(0.0, 0.9, 5.0), ["0", "0.2", "0.4", "0.6", "0.8"]);
        assert_eq!(shown(0.0, 0.9, 4.0), ["0", "0.5"]);
        assert_eq!(shown(0.0, 370.0, 8.0).last().unwrap(), "350");
        assert_eq!(shown(-5.0, 5.0, 5.0), ["-4", "-2", "0", "2", "4"]);
    }

    #[test]
    fn log_ticks_cover_decades() {
        let t: Vec<String> = log_ticks(1.0, 3.0)
            .iter()
            .map(|v| short(10f64.powf(*v)))
            .collect();
        assert_eq!(t, ["10", "20", "50", "100", "200", "500", "1000"]);
    }

    #[test]
    fn short_numbers_drop_trailing_zeros() {
        assert_eq!(short(1500.0), "1500");
        assert_eq!(short(12.0), "12");
        assert_eq!(short(12.25), "12.2");
        assert_eq!(short(2.5), "2.5");
        assert_eq!(short(0.125), "0.125");
        assert_eq!(short(0.0), "0");
    }
}
