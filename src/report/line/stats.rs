//! A run line's latency distributions by [`Metric`]: each is six explicit fields of
//! [`RunLine`] (`{stat}_{name}_ms`), reached here by an exhaustive `match`, so a new
//! [`Metric`] does not compile until its fields are named.
//!
//! In: a [`Metric`] (and a [`Dist`] to set). Out: its six statistics.

use super::RunLine;
use crate::metrics::{Dist, Metric};

impl RunLine {
    /// The six statistics of `m` (`mean`, `median`, `std`, `p90`, `p95`, `p99`), ms.
    pub fn stats(&self, m: Metric) -> [Option<f64>; 6] {
        match m {
            Metric::E2eLatency => [
                self.mean_e2e_latency_ms,
                self.median_e2e_latency_ms,
                self.std_e2e_latency_ms,
                self.p90_e2e_latency_ms,
                self.p95_e2e_latency_ms,
                self.p99_e2e_latency_ms,
            ],
            Metric::Ttft => [
                self.mean_ttft_ms,
                self.median_ttft_ms,
                self.std_ttft_ms,
                self.p90_ttft_ms,
                self.p95_ttft_ms,
                self.p99_ttft_ms,
            ],
            Metric::Tpot => [
                self.mean_tpot_ms,
                self.median_tpot_ms,
                self.std_tpot_ms,
                self.p90_tpot_ms,
                self.p95_tpot_ms,
                self.p99_tpot_ms,
            ],
            Metric::Itl => [
                self.mean_itl_ms,
                self.median_itl_ms,
                self.std_itl_ms,
                self.p90_itl_ms,
                self.p95_itl_ms,
                self.p99_itl_ms,
            ],
            Metric::TtftFromSchedule => [
                self.mean_ttft_from_schedule_ms,
                self.median_ttft_from_schedule_ms,
                self.std_ttft_from_schedule_ms,
                self.p90_ttft_from_schedule_ms,
                self.p95_ttft_from_schedule_ms,
                self.p99_ttft_from_schedule_ms,
            ],
            Metric::E2eFromSchedule => [
                self.mean_e2e_from_schedule_ms,
                self.median_e2e_from_schedule_ms,
                self.std_e2e_from_schedule_ms,
                self.p90_e2e_from_schedule_ms,
                self.p95_e2e_from_schedule_ms,
                self.p99_e2e_from_schedule_ms,
            ],
            Metric::QueueWait => [
                self.mean_queue_wait_ms,
                self.median_queue_wait_ms,
                self.std_queue_wait_ms,
                self.p90_queue_wait_ms,
                self.p95_queue_wait_ms,
                self.p99_queue_wait_ms,
            ],
            Metric::ScheduleLag => [
                self.mean_schedule_lag_ms,
                self.median_schedule_lag_ms,
                self.std_schedule_lag_ms,
                self.p90_schedule_lag_ms,
                self.p95_schedule_lag_ms,
                self.p99_schedule_lag_ms,
            ],
        }
    }

    fn stats_mut(&mut self, m: Metric) -> [&mut Option<f64>; 6] {
        match m {
            Metric::E2eLatency => [
                &mut self.mean_e2e_latency_ms,
                &mut self.median_e2e_latency_ms,
                &mut self.std_e2e_latency_ms,
                &mut self.p90_e2e_latency_ms,
                &mut self.p95_e2e_latency_ms,
                &mut self.p99_e2e_latency_ms,
            ],
            Metric::Ttft => [
                &mut self.mean_ttft_ms,
                &mut self.median_ttft_ms,
                &mut self.std_ttft_ms,
                &mut self.p90_ttft_ms,
                &mut self.p95_ttft_ms,
                &mut self.p99_ttft_ms,
            ],
            Metric::Tpot => [
                &mut self.mean_tpot_ms,
                &mut self.median_tpot_ms,
                &mut self.std_tpot_ms,
                &mut self.p90_tpot_ms,
                &mut self.p95_tpot_ms,
                &mut self.p99_tpot_ms,
            ],
            Metric::Itl => [
                &mut self.mean_itl_ms,
                &mut self.median_itl_ms,
                &mut self.std_itl_ms,
                &mut self.p90_itl_ms,
                &mut self.p95_itl_ms,
                &mut self.p99_itl_ms,
            ],
            Metric::TtftFromSchedule => [
                &mut self.mean_ttft_from_schedule_ms,
                &mut self.median_ttft_from_schedule_ms,
                &mut self.std_ttft_from_schedule_ms,
                &mut self.p90_ttft_from_schedule_ms,
                &mut self.p95_ttft_from_schedule_ms,
                &mut self.p99_ttft_from_schedule_ms,
            ],
            Metric::E2eFromSchedule => [
                &mut self.mean_e2e_from_schedule_ms,
                &mut self.median_e2e_from_schedule_ms,
                &mut self.std_e2e_from_schedule_ms,
                &mut self.p90_e2e_from_schedule_ms,
                &mut self.p95_e2e_from_schedule_ms,
                &mut self.p99_e2e_from_schedule_ms,
            ],
            Metric::QueueWait => [
                &mut self.mean_queue_wait_ms,
                &mut self.median_queue_wait_ms,
                &mut self.std_queue_wait_ms,
                &mut self.p90_queue_wait_ms,
                &mut self.p95_queue_wait_ms,
                &mut self.p99_queue_wait_ms,
            ],
            Metric::ScheduleLag => [
                &mut self.mean_schedule_lag_ms,
                &mut self.median_schedule_lag_ms,
                &mut self.std_schedule_lag_ms,
                &mut self.p90_schedule_lag_ms,
                &mut self.p95_schedule_lag_ms,
                &mut self.p99_schedule_lag_ms,
            ],
        }
    }

    /// Set the statistics of `m` from `d`, all null without one.
    pub fn set_stats(&mut self, m: Metric, d: Option<&Dist>) {
        let values = d.map(|d| [d.mean, d.median, d.std, d.p90, d.p95, d.p99]);
        for (i, slot) in self.stats_mut(m).into_iter().enumerate() {
            *slot = values.map(|v| v[i]);
        }
    }
}
