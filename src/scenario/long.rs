//! Scenario settings of long sweeps: rate ramps, and the conditions that stop a run early.
//! In: the `load.ramp` block of a scenario file. Out: typed settings read by the schedule
//! and the engine's stop rules.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The request rate of `arrival: ramp` goes from `from` to `to` over the run (vLLM's
/// ramp-up): over the requests of a prompt-count run, over the time of a `duration_s` run.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Ramp {
    /// Rate at the start, requests per second.
    #[schemars(range(min = 0.001))]
    pub from: f64,
    /// Rate at the end, requests per second.
    #[schemars(range(min = 0.001))]
    pub to: f64,
    /// How the rate moves between them.
    #[serde(default)]
    pub shape: RampShape,
}

/// How a ramp's rate moves from `from` to `to`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum RampShape {
    /// `from + (to − from) · p`, p the progress from 0 to 1.
    #[default]
    Linear,
    /// `from · (to / from)^p`: the same factor per unit of progress.
    Exponential,
}

impl Ramp {
    /// The rate at progress `p` (0 at the start of the run, 1 at its end).
    pub fn rate_at(&self, p: f64) -> f64 {
        let p = p.clamp(0.0, 1.0);
        match self.shape {
            RampShape::Linear => self.from + (self.to - self.from) * p,
            RampShape::Exponential => self.from * (self.to / self.from).powf(p),
        }
    }

    /// The rate label in run ids: `ramp1-50` (`ramp1-50exp` for an exponential ramp).
    pub fn label(&self) -> String {
        let shape = match self.shape {
            RampShape::Linear => "",
            RampShape::Exponential => "exp",
        };
        format!("ramp{}-{}{shape}", self.from, self.to)
    }
}

/// The error rate budget applies once this many requests have finished, so that the first
/// failure of a run does not stop it.
pub const ERROR_RATE_MIN_FINISHED: u64 = 20;

/// Problems of the long-sweep settings of `load` a schema cannot see.
pub(super) fn problems(load: &super::Load) -> Vec<super::Problem> {
    use super::{Arrival, Problem, Rate};
    let mut out = Vec::new();
    let mut push = |p: &str, m: &str, h: Option<&str>| {
        let problem = Problem::new(p, m);
        out.push(match h {
            Some(h) => problem.hint(h),
            None => problem,
        });
    };
    match (load.arrival, &load.ramp) {
        (Arrival::Ramp, None) => push(
            "/load/arrival",
            "`arrival: ramp` needs `load.ramp`",
            Some("e.g. `ramp: {from: 1, to: 50, shape: linear}`"),
        ),
        (Arrival::Ramp, Some(_)) if load.request_rate.values() != [Rate::Infinite] => push(
            "/load/request_rate",
            "`request_rate` is not used with `arrival: ramp`; the ramp sets the rate",
            Some("remove `request_rate`, or use another arrival process"),
        ),
        (Arrival::Ramp, Some(_)) => {}
        (_, Some(_)) => push(
            "/load/ramp",
            "`ramp` only applies to `arrival: ramp`",
            Some("add `arrival: ramp`, or remove `ramp`"),
        ),
        _ => {}
    }
    if load.duration_s.is_some() {
        if load.arrival == Arrival::Trace {
            push(
                "/load/duration_s",
                "`duration_s` does not apply to `arrival: trace` (the trace sets the times)",
                None,
            );
        }
        let unbounded = load.arrival != Arrival::Ramp
            && load.request_rate.values().contains(&Rate::Infinite)
            && load
                .max_concurrency
                .values()
                .iter()
                .any(|c| c.limit().is_none());
        if unbounded {
            push(
                "/load/duration_s",
                "`duration_s` with an infinite request rate and no concurrency cap would send \
                 without end",
                Some("give `max_concurrency`, or a finite `request_rate`"),
            );
        }
    }
    out
}
