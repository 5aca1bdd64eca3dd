//! The latency distributions of a run by name: one enum, so a `match` over it (no `_ =>`)
//! makes the compiler find every place a new distribution must be handled.
//!
//! In: a [`Metric`]. Out: its name in `runs.jsonl` (`{stat}_{name}_ms`) and its [`Dist`]
//! in a [`Summary`].

use super::{Dist, Summary};

/// A latency distribution of a run, reported as six statistics (`mean`, `median`, `std`,
/// `p90`, `p95`, `p99`) named `{stat}_{name}_ms`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Metric {
    /// End-to-end latency from the send time (`e2e_latency`).
    E2eLatency,
    /// Time to first token from the send time (`ttft`).
    Ttft,
    /// Time per output token after the first (`tpot`).
    Tpot,
    /// Inter-token latency (`itl`).
    Itl,
    /// Time to first token from the due time, cap wait included (`ttft_from_schedule`).
    TtftFromSchedule,
    /// End-to-end latency from the due time, cap wait included (`e2e_from_schedule`).
    E2eFromSchedule,
    /// Time held back by the concurrency cap (`queue_wait`).
    QueueWait,
    /// How late the client dispatched requests against their due times (`schedule_lag`).
    ScheduleLag,
}

impl Metric {
    /// Every distribution, in the order of the result line.
    pub const ALL: [Metric; 8] = [
        Metric::E2eLatency,
        Metric::Ttft,
        Metric::Tpot,
        Metric::Itl,
        Metric::TtftFromSchedule,
        Metric::E2eFromSchedule,
        Metric::QueueWait,
        Metric::ScheduleLag,
    ];

    /// The name in `runs.jsonl` keys and in the `histograms` map (`ttft`, `e2e_latency`, …).
    pub fn name(self) -> &'static str {
        match self {
            Metric::E2eLatency => "e2e_latency",
            Metric::Ttft => "ttft",
            Metric::Tpot => "tpot",
            Metric::Itl => "itl",
            Metric::TtftFromSchedule => "ttft_from_schedule",
            Metric::E2eFromSchedule => "e2e_from_schedule",
            Metric::QueueWait => "queue_wait",
            Metric::ScheduleLag => "schedule_lag",
        }
    }
}

impl Summary {
    /// The distribution of `m`.
    pub fn dist(&self, m: Metric) -> &Dist {
        match m {
            Metric::E2eLatency => &self.e2e_ms,
            Metric::Ttft => &self.ttft_ms,
            Metric::Tpot => &self.tpot_ms,
            Metric::Itl => &self.itl_ms,
            Metric::TtftFromSchedule => &self.ttft_from_schedule_ms,
            Metric::E2eFromSchedule => &self.e2e_from_schedule_ms,
            Metric::QueueWait => &self.queue_wait_ms,
            Metric::ScheduleLag => &self.schedule_lag_ms,
        }
    }

    /// A summary metric by its `runs.jsonl` name (`p99_ttft_ms`, `max_itl_ms`): the names an
    /// SLO limit may use ([`crate::scenario::summary_metric_names`]); `None` for another.
    pub fn summary_metric(&self, name: &str) -> Option<f64> {
        if name == "max_itl_ms" {
            return Some(self.max_itl_ms);
        }
        let (stat, metric) = name.strip_suffix("_ms")?.split_once('_')?;
        let m = Metric::ALL.into_iter().find(|m| m.name() == metric)?;
        let d = self.dist(m);
        match stat {
            "mean" => Some(d.mean),
            "median" => Some(d.median),
            "std" => Some(d.std),
            "p90" => Some(d.p90),
            "p95" => Some(d.p95),
            "p99" => Some(d.p99),
            _ => None,
        }
    }

    /// The distribution of `m`, to set it.
    pub fn dist_mut(&mut self, m: Metric) -> &mut Dist {
        match m {
            Metric::E2eLatency => &mut self.e2e_ms,
            Metric::Ttft => &mut self.ttft_ms,
            Metric::Tpot => &mut self.tpot_ms,
            Metric::Itl => &mut self.itl_ms,
            Metric::TtftFromSchedule => &mut self.ttft_from_schedule_ms,
            Metric::E2eFromSchedule => &mut self.e2e_from_schedule_ms,
            Metric::QueueWait => &mut self.queue_wait_ms,
            Metric::ScheduleLag => &mut self.schedule_lag_ms,
        }
    }
}

impl crate::slo::Measured for Summary {
    fn completed(&self) -> usize {
        self.completed
    }

    fn failed(&self) -> usize {
        self.failed
    }

    fn summary_metric(&self, name: &str) -> Option<f64> {
        Summary::summary_metric(self, name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_names_are_the_scenario_s_distributions() {
        let names: Vec<&str> = Metric::ALL.iter().map(|m| m.name()).collect();
        assert_eq!(names, crate::scenario::SLO_DISTRIBUTIONS);
    }

    #[test]
    fn every_slo_name_is_a_summary_metric() {
        let mut s = Summary::default();
        s.ttft_from_schedule_ms.p95 = 7.0;
        s.max_itl_ms = 3.0;
        for name in crate::scenario::summary_metric_names() {
            assert!(s.summary_metric(&name).is_some(), "{name}");
        }
        assert_eq!(s.summary_metric("p95_ttft_from_schedule_ms"), Some(7.0));
        assert_eq!(s.summary_metric("max_itl_ms"), Some(3.0));
        assert_eq!(s.summary_metric("p98_ttft_ms"), None);
        assert_eq!(s.summary_metric("p99_ttfat_ms"), None);
    }
}
