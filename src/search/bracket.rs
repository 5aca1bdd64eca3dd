//! The search along one load axis, without I/O: bracket, then bisect.
//!
//! In: the search settings, a first value and each run's pass/fail. Out: the next value to
//! try, then the capacity (the highest value that passed), the bracket around it and a
//! status. While every run passes the value grows by `step_up`; while every run fails it
//! shrinks by `step_down`; once one passed and one failed, the midpoint is tried until
//! (upper − lower) ≤ precision × lower (or the two are neighbouring integers).

use crate::scenario::{Search, SearchAxis};

/// How a search ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Bracketed to the precision.
    Found,
    /// Even the lowest value allowed (`min`) failed.
    BelowMin,
    /// Every run passed, up to `max` or the run budget: the capacity is at least `lower`.
    NotBracketed,
    /// The run budget ended first.
    BudgetExhausted,
}

impl Status {
    /// The name in `capacity.jsonl`.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Found => "found",
            Status::BelowMin => "below_min",
            Status::NotBracketed => "not_bracketed",
            Status::BudgetExhausted => "budget_exhausted",
        }
    }
}

/// The state of one search.
#[derive(Debug, Clone)]
pub struct Bracket {
    integer: bool,
    precision: f64,
    budget: u32,
    min: Option<f64>,
    max: Option<f64>,
    up: f64,
    down: f64,
    /// Runs counted so far (the probe included).
    pub runs: u32,
    /// Highest value that passed.
    pub lower: Option<f64>,
    /// Lowest value that failed.
    pub upper: Option<f64>,
    next: Option<f64>,
    status: Option<Status>,
}

impl Bracket {
    /// A search starting at `start`, with `used` runs already spent (the probe).
    pub fn new(s: &Search, start: f64, used: u32) -> Bracket {
        let mut b = Bracket {
            integer: s.axis == SearchAxis::MaxConcurrency,
            precision: s.precision,
            budget: s.max_runs,
            min: s.min,
            max: s.max,
            up: s.step_up,
            down: s.step_down,
            runs: used,
            lower: None,
            upper: None,
            next: None,
            status: None,
        };
        b.next = Some(b.clamp(start));
        b.check_budget();
        b
    }

    /// The value to run next; `None` when the search is over.
    pub fn next(&self) -> Option<f64> {
        self.next.filter(|_| self.status.is_none())
    }

    /// The status, once the search is over.
    pub fn status(&self) -> Option<Status> {
        self.status
    }

    /// Record the run at `value`.
    pub fn record(&mut self, value: f64, passed: bool) {
        self.runs += 1;
        if passed {
            self.lower = Some(self.lower.map_or(value, |l| l.max(value)));
        } else {
            self.upper = Some(self.upper.map_or(value, |u| u.min(value)));
        }
        self.next = None;
        match (self.lower, self.upper) {
            (Some(lo), Some(hi)) if hi <= lo => {
                // A higher value passed after a lower one failed (noise): trust the pass.
                self.upper = None;
                self.next = self.grow(lo);
            }
            (Some(lo), Some(hi)) => {
                let mid = self.round((lo + hi) / 2.0);
                if hi - lo <= self.precision * lo || mid <= lo || mid >= hi {
                    self.status = Some(Status::Found);
                } else {
                    self.next = Some(mid);
                }
            }
            (Some(lo), None) => self.next = self.grow(lo),
            (None, Some(hi)) => {
                if self.min.is_some_and(|m| hi <= m) || (self.integer && hi <= 1.0) {
                    self.status = Some(Status::BelowMin);
                } else {
                    self.next = Some(self.clamp(hi / self.down));
                }
            }
            (None, None) => unreachable!("a value was just recorded"),
        }
        self.check_budget();
    }

    fn grow(&mut self, lo: f64) -> Option<f64> {
        if self.max.is_some_and(|m| lo >= m) {
            self.status = Some(Status::NotBracketed);
            return None;
        }
        let mut v = self.clamp(lo * self.up);
        if v <= lo {
            v = lo + 1.0;
        }
        Some(v)
    }

    fn check_budget(&mut self) {
        if self.status.is_none() && self.runs >= self.budget {
            self.status = Some(match (self.lower, self.upper) {
                (Some(_), None) => Status::NotBracketed,
                _ => Status::BudgetExhausted,
            });
        }
    }

    fn clamp(&self, v: f64) -> f64 {
        let v = self.round(v);
        let v = self.min.map_or(v, |m| v.max(m));
        self.max.map_or(v, |m| v.min(m))
    }

    /// Integers for concurrency (at least 1); 3 significant digits for rates.
    fn round(&self, v: f64) -> f64 {
        if self.integer {
            return v.round().max(1.0);
        }
        if v <= 0.0 || !v.is_finite() {
            return v;
        }
        let scale = 10f64.powi(2 - v.log10().floor() as i32);
        (v * scale).round() / scale
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn search(json: serde_json::Value) -> Search {
        serde_json::from_value(json).unwrap()
    }

    /// Run a search against a pass rule; returns the values tried and the bracket.
    fn drive(s: &Search, start: f64, used: u32, pass: impl Fn(f64) -> bool) -> (Vec<f64>, Bracket) {
        let mut b = Bracket::new(s, start, used);
        let mut tried = Vec::new();
        while let Some(v) = b.next() {
            tried.push(v);
            b.record(v, pass(v));
        }
        (tried, b)
    }

    #[test]
    fn brackets_up_then_bisects_to_the_precision() {
        let s = search(serde_json::json!({}));
        let (tried, b) = drive(&s, 100.0, 1, |v| v <= 123.0);
        // 100 passes, ×1.25 = 125 fails, then midpoints 119 (of 113, 125), 122: 3 ≤ 5 % of 122.
        assert_eq!(tried, [100.0, 125.0, 113.0, 119.0, 122.0]);
        assert_eq!(b.status(), Some(Status::Found));
        let (lo, hi) = (b.lower.unwrap(), b.upper.unwrap());
        assert!(
            lo <= 123.0 && hi > 123.0 && (hi - lo) <= 0.05 * lo,
            "{lo} {hi}"
        );
        assert!(b.runs <= 8, "{}", b.runs);
    }

    #[test]
    fn shrinks_by_half_while_failing_and_stops_at_min() {
        let s = search(serde_json::json!({"min": 10}));
        let (tried, b) = drive(&s, 100.0, 0, |v| v <= 30.0);
        assert_eq!(&tried[..3], &[100.0, 50.0, 25.0]);
        assert!(b.lower.unwrap() <= 30.0);
        let (tried, b) = drive(&s, 100.0, 0, |_| false);
        assert_eq!(tried, [100.0, 50.0, 25.0, 12.5, 10.0]);
        assert_eq!(b.status(), Some(Status::BelowMin));
    }

    #[test]
    fn the_budget_and_max_end_a_search() {
        let s = search(serde_json::json!({"max_runs": 3, "max": 150}));
        let (tried, b) = drive(&s, 100.0, 1, |_| true);
        assert_eq!(tried, [100.0, 125.0]);
        assert_eq!(b.status(), Some(Status::NotBracketed));
        let s = search(serde_json::json!({"max": 110}));
        let (tried, b) = drive(&s, 100.0, 1, |_| true);
        assert_eq!(tried, [100.0, 110.0]);
        assert_eq!(
            (b.status(), b.lower),
            (Some(Status::NotBracketed), Some(110.0))
        );
        let s = search(serde_json::json!({"max_runs": 4}));
        let (_, b) = drive(&s, 100.0, 1, |v| v < 101.0);
        assert_eq!(b.status(), Some(Status::BudgetExhausted));
    }

    #[test]
    fn concurrency_moves_in_whole_steps() {
        let s = search(serde_json::json!({"axis": "max_concurrency", "precision": 0.01}));
        let (tried, b) = drive(&s, 8.0, 1, |v| v <= 13.0);
        assert!(tried.iter().all(|v| v.fract() == 0.0), "{tried:?}");
        assert_eq!((b.lower, b.upper), (Some(13.0), Some(14.0)));
        assert_eq!(b.status(), Some(Status::Found));
    }
}
