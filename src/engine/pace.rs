//! Whether the client kept up: the dispatcher's pace against the schedule, its lag, and the
//! process's CPU during a run.
//!
//! In: what the engine saw while dispatching ([`Pace`]) and the run's scheduler-lag p90.
//! Out: why the client, not the server, limited the run ([`Pace::client_bound`]), if it did.
//!
//! The rule (for scheduled runs; a rate-`inf` run is due all at once, so lag only measures
//! the dispatch loop and is not judged): the last request was dispatched more than
//! max(10 ms, 5 % of the schedule's span) late (the achieved dispatch rate fell below the
//! target), or at least a tenth of the requests were dispatched more than 10 ms late (p90
//! scheduler lag; a single hiccup is not a verdict); the process's CPU share is named when
//! it was near all of the host's cores.

use crate::metrics::Summary;

/// Lag beyond which a scheduled run counts as client-bound, in ms.
pub const LAG_LIMIT_MS: f64 = 10.0;

/// How the dispatcher went in one run.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Pace {
    /// Requests dispatched.
    pub requests: usize,
    /// Due time of the last request, seconds from the run start.
    pub last_due_s: f64,
    /// When the last request was dispatched.
    pub last_dispatched_s: f64,
    /// CPU seconds (user + system) this process used during the run.
    pub cpu_s: f64,
    /// Wall-clock seconds of the run.
    pub wall_s: f64,
}

impl Pace {
    /// Requests per second the schedule asked for (0 for a rate-`inf` run).
    pub fn target_rate(&self) -> f64 {
        if self.last_due_s > 0.0 && self.requests > 1 {
            (self.requests - 1) as f64 / self.last_due_s
        } else {
            0.0
        }
    }

    /// Requests per second actually dispatched.
    pub fn achieved_rate(&self) -> f64 {
        if self.last_dispatched_s > 0.0 && self.requests > 1 {
            (self.requests - 1) as f64 / self.last_dispatched_s
        } else {
            0.0
        }
    }

    /// The process's CPU use in percent of one core.
    pub fn cpu_pct(&self) -> f64 {
        if self.wall_s > 0.0 {
            self.cpu_s / self.wall_s * 100.0
        } else {
            0.0
        }
    }

    /// Why the client limited the run, or `None` when it kept up.
    pub fn client_bound(&self, lag_p90_ms: f64) -> Option<String> {
        if self.target_rate() == 0.0 {
            return None;
        }
        let late_ms = (self.last_dispatched_s - self.last_due_s) * 1000.0;
        let mut why = if late_ms > LAG_LIMIT_MS.max(self.last_due_s * 50.0) {
            format!(
                "dispatch fell behind the schedule: {:.0} req/s achieved vs {:.0} req/s due, \
                 the last request {late_ms:.0} ms late",
                self.achieved_rate(),
                self.target_rate()
            )
        } else if lag_p90_ms > LAG_LIMIT_MS {
            format!("scheduler lag p90 {lag_p90_ms:.1} ms (limit {LAG_LIMIT_MS} ms)")
        } else {
            return None;
        };
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
        if self.cpu_pct() >= 90.0 * cores {
            why.push_str(&format!("; this process used {:.0} % CPU", self.cpu_pct()));
        }
        Some(why)
    }
}

/// Put the pace figures and the verdict into `s`, and warn on stderr when the client was
/// the limit.
pub fn judge(s: &mut Summary, pace: &Pace) {
    s.dispatch_rate = pace.achieved_rate();
    s.target_dispatch_rate = pace.target_rate();
    s.client_cpu_pct = pace.cpu_pct();
    s.client_bound_reason = pace.client_bound(s.schedule_lag_ms.p90);
    if let Some(why) = &s.client_bound_reason {
        eprintln!(
            "warning: the client, not the server, limited this run ({why}); its figures \
             understate the server. Lower the rate, or see `runner calibrate` for this \
             host's limits"
        );
    }
}

/// CPU seconds (user + system) this process has used.
pub fn cpu_seconds() -> f64 {
    // SAFETY: getrusage only writes the struct passed to it.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut u) } != 0 {
        return 0.0;
    }
    let t = |tv: libc::timeval| tv.tv_sec as f64 + tv.tv_usec as f64 / 1e6;
    t(u.ru_utime) + t(u.ru_stime)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pace(last_due_s: f64, last_dispatched_s: f64) -> Pace {
        Pace {
            requests: 1001,
            last_due_s,
            last_dispatched_s,
            cpu_s: 0.5,
            wall_s: 1.0,
        }
    }

    #[test]
    fn a_dispatcher_behind_its_schedule_is_the_limit() {
        // 1000 gaps due in 0.5 s (2000 req/s), dispatched over 1 s (1000 req/s).
        let why = pace(0.5, 1.0).client_bound(0.1).unwrap();
        assert!(
            why.contains("1000 req/s achieved vs 2000 req/s due"),
            "{why}"
        );
        assert!(why.contains("500 ms late"), "{why}");
        // 20 ms late on a 1 s schedule is within 5 %; a high p90 lag still counts.
        assert_eq!(pace(1.0, 1.02).client_bound(2.0), None);
        assert!(
            pace(1.0, 1.02)
                .client_bound(12.0)
                .unwrap()
                .contains("p90 12.0 ms")
        );
        // rate inf: not judged
        assert_eq!(pace(0.0, 3.0).client_bound(500.0), None);
        assert_eq!(pace(0.5, 1.0).cpu_pct(), 50.0);
    }
}
