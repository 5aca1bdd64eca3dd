//! Run control: live counters of a run, the rules that stop it early, and why it stopped.
//!
//! In: the scenario's stop settings ([`StopRules`]), the sweep's interrupt token (Ctrl-C),
//! and counter updates from the dispatch loop and request tasks. Out: a stop signal the
//! dispatch loop waits on, and the [`StopReason`] written with the run. Stopping means no
//! new request is dispatched (and none waiting for the concurrency cap is sent); requests
//! in flight finish, unless an interrupt's grace period runs out and they are cancelled.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::scenario::{ERROR_RATE_MIN_FINISHED, Load};

/// Why a run ended before its last request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    /// `max_errors` or `max_error_rate` was exceeded.
    ErrorBudget,
    /// The saturation rule fired (`stop_on_saturation`).
    Saturated,
    /// `duration_s` passed (the normal end of a duration run).
    Duration,
    /// Ctrl-C.
    Interrupted,
}

impl StopReason {
    /// The value of `"stopped"` in runs.jsonl.
    pub fn as_str(self) -> &'static str {
        match self {
            StopReason::ErrorBudget => "error_budget",
            StopReason::Saturated => "saturated",
            StopReason::Duration => "duration",
            StopReason::Interrupted => "interrupted",
        }
    }
}

/// The console note under a run's result block saying why it stopped (`stopped` as in
/// runs.jsonl).
pub fn stop_note(stopped: &str, failed: usize, finished: usize) -> String {
    match stopped {
        "error_budget" => format!(
            "Run stopped early: error budget spent ({failed} of {finished} finished requests \
             failed); no further requests were sent."
        ),
        "saturated" => "Run stopped early: saturated (the backlog of due requests kept \
                        growing while completions lagged the offered rate)."
            .into(),
        "duration" => "Run ended at load.duration_s; requests in flight finished.".into(),
        "interrupted" => "Run interrupted (Ctrl-C): partial results are written, marked \
                          \"stopped\": \"interrupted\"."
            .into(),
        other => format!("Run stopped: {other}."),
    }
}

/// When a run stops early.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct StopRules {
    /// Stop after this many failed requests.
    pub max_errors: Option<u64>,
    /// Stop when failed / finished exceeds this, from [`ERROR_RATE_MIN_FINISHED`] finished on.
    pub max_error_rate: Option<f64>,
    /// Dispatch nothing after this many seconds.
    pub duration_s: Option<f64>,
    /// Stop when [`Saturation`] says so.
    pub saturation: bool,
}

impl StopRules {
    /// The rules a scenario's `load` sets.
    pub fn of(load: &Load) -> StopRules {
        StopRules {
            max_errors: load.max_errors,
            max_error_rate: load.max_error_rate,
            duration_s: load.duration_s,
            saturation: load.stop_on_saturation,
        }
    }
}

/// Live counts of one run, updated as it goes (read by the stop rules and the progress line).
#[derive(Debug, Default)]
pub struct Counters {
    /// Requests handed to a task (due and dispatched).
    pub dispatched: AtomicU64,
    /// Requests (turns) finished successfully.
    pub done: AtomicU64,
    /// Requests (turns) finished with a failure.
    pub failed: AtomicU64,
    /// Requests sent and not finished.
    pub in_flight: AtomicU64,
    /// Requests dispatched and waiting for a concurrency cap slot.
    pub waiting: AtomicU64,
}

/// A copy of [`Counters`] at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Snapshot {
    /// See [`Counters::dispatched`].
    pub dispatched: u64,
    /// See [`Counters::done`].
    pub done: u64,
    /// See [`Counters::failed`].
    pub failed: u64,
    /// See [`Counters::in_flight`].
    pub in_flight: u64,
    /// See [`Counters::waiting`].
    pub waiting: u64,
}

impl Counters {
    /// The counts now.
    pub fn snapshot(&self) -> Snapshot {
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        Snapshot {
            dispatched: get(&self.dispatched),
            done: get(&self.done),
            failed: get(&self.failed),
            in_flight: get(&self.in_flight),
            waiting: get(&self.waiting),
        }
    }
}

/// Add one to a counter.
pub(crate) fn inc(a: &AtomicU64) {
    a.fetch_add(1, Ordering::Relaxed);
}

/// Take one from a counter.
pub(crate) fn dec(a: &AtomicU64) {
    a.fetch_sub(1, Ordering::Relaxed);
}

/// The control of one run: rules, counters, and the tokens that stop it.
#[derive(Debug)]
pub struct Control {
    /// The rules.
    pub rules: StopRules,
    /// Live counts.
    pub counters: Counters,
    /// How long in-flight requests may take after an interrupt before they are cancelled.
    pub grace: Duration,
    /// Acquire a concurrency slot before dispatching (closed loop: a duration run at an
    /// infinite rate, which would otherwise queue requests without end).
    pub closed_loop: bool,
    interrupt: CancellationToken,
    stop: CancellationToken,
    abort: CancellationToken,
    reason: Mutex<Option<StopReason>>,
}

/// Grace period of in-flight requests after Ctrl-C.
pub const INTERRUPT_GRACE: Duration = Duration::from_secs(10);

impl Control {
    /// A run's control under the sweep's `interrupt` token.
    pub fn new(rules: StopRules, interrupt: &CancellationToken) -> Control {
        Control {
            rules,
            counters: Counters::default(),
            grace: INTERRUPT_GRACE,
            closed_loop: false,
            interrupt: interrupt.clone(),
            stop: interrupt.child_token(),
            abort: CancellationToken::new(),
            reason: Mutex::new(None),
        }
    }

    /// A control with no rules and nothing to interrupt it.
    pub fn unbounded() -> Control {
        Control::new(StopRules::default(), &CancellationToken::new())
    }

    /// Stop dispatching; the first reason given is kept.
    pub fn stop(&self, why: StopReason) {
        let mut r = self.reason.lock().expect("stop reason lock");
        if r.is_none() {
            *r = Some(why);
        }
        drop(r);
        self.stop.cancel();
    }

    /// Whether dispatching has stopped.
    pub fn stopped(&self) -> bool {
        self.stop.is_cancelled()
    }

    /// Resolves when dispatching stops.
    pub async fn stopping(&self) {
        self.stop.cancelled().await
    }

    /// Resolves on Ctrl-C.
    pub async fn interrupted(&self) {
        self.interrupt.cancelled().await
    }

    /// Cancel the requests in flight.
    pub fn abort(&self) {
        self.abort.cancel();
    }

    /// Resolves when in-flight requests are to be cancelled.
    pub async fn aborting(&self) {
        self.abort.cancelled().await
    }

    /// Why the run stopped early, if it did.
    pub fn reason(&self) -> Option<StopReason> {
        let r = *self.reason.lock().expect("stop reason lock");
        r.or(self
            .interrupt
            .is_cancelled()
            .then_some(StopReason::Interrupted))
    }

    /// A request (turn) finished: count it and apply the error budget.
    pub fn finished(&self, ok: bool) {
        let c = &self.counters;
        inc(if ok { &c.done } else { &c.failed });
        let failed = c.failed.load(Ordering::Relaxed);
        let finished = failed + c.done.load(Ordering::Relaxed);
        if error_budget_spent(&self.rules, failed, finished) {
            self.stop(StopReason::ErrorBudget);
        }
    }
}

/// Whether `failed` failures out of `finished` requests exceed the rules' error budget.
pub fn error_budget_spent(rules: &StopRules, failed: u64, finished: u64) -> bool {
    let count = rules.max_errors.is_some_and(|m| failed >= m);
    let rate = rules.max_error_rate.is_some_and(|r| {
        finished >= ERROR_RATE_MIN_FINISHED && failed as f64 / finished as f64 > r
    });
    count || rate
}

/// The saturation rule, fed one sample a second: saturated when over the last
/// [`Saturation::WINDOW`] samples the backlog (dispatched − finished: waiting for the cap
/// or in flight) never shrank and grew by at least max(3, 10 %), while fewer than 95 % as
/// many requests finished as came due. Samples start once a request has finished: the
/// backlog's rise from 0 to its steady level at the start of every run is not saturation.
#[derive(Debug, Default)]
pub struct Saturation {
    samples: VecDeque<(u64, u64)>,
}

impl Saturation {
    /// Samples (intervals) the rule looks at.
    pub const WINDOW: usize = 5;
    /// Seconds between samples.
    pub const PERIOD: Duration = Duration::from_secs(1);

    /// Add a sample of (dispatched, finished); true when saturated.
    pub fn push(&mut self, dispatched: u64, finished: u64) -> bool {
        if finished == 0 {
            return false;
        }
        self.samples.push_back((dispatched, finished));
        if self.samples.len() > Self::WINDOW + 1 {
            self.samples.pop_front();
        }
        if self.samples.len() <= Self::WINDOW {
            return false;
        }
        let backlog = |(d, f): (u64, u64)| d.saturating_sub(f);
        let b: Vec<u64> = self.samples.iter().map(|&s| backlog(s)).collect();
        let never_shrank = b.windows(2).all(|w| w[1] >= w[0]);
        let (first, last) = (b[0], b[b.len() - 1]);
        let grew = last >= first + 3.max(first.div_ceil(10));
        let (d0, f0) = self.samples[0];
        let (d1, f1) = self.samples[self.samples.len() - 1];
        let slower = ((f1 - f0) as f64) < 0.95 * (d1 - d0) as f64;
        never_shrank && grew && slower
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_budget_by_count_and_by_rate_after_twenty() {
        let count = StopRules {
            max_errors: Some(5),
            ..StopRules::default()
        };
        assert!(!error_budget_spent(&count, 4, 4));
        assert!(error_budget_spent(&count, 5, 100));
        let rate = StopRules {
            max_error_rate: Some(0.2),
            ..StopRules::default()
        };
        // 10 of 19 is over 20 %, but fewer than 20 have finished.
        assert!(!error_budget_spent(&rate, 10, 19));
        assert!(!error_budget_spent(&rate, 4, 20));
        assert!(error_budget_spent(&rate, 5, 20));
        assert!(!error_budget_spent(&StopRules::default(), 1000, 1000));
    }

    #[test]
    fn the_first_reason_wins_and_interrupt_is_a_reason() {
        let token = CancellationToken::new();
        let c = Control::new(StopRules::default(), &token);
        assert_eq!(c.reason(), None);
        assert!(!c.stopped());
        token.cancel();
        assert!(c.stopped(), "the run's stop token follows the interrupt");
        assert_eq!(c.reason(), Some(StopReason::Interrupted));
        let c = Control::new(StopRules::default(), &CancellationToken::new());
        c.stop(StopReason::ErrorBudget);
        c.stop(StopReason::Saturated);
        assert_eq!(c.reason(), Some(StopReason::ErrorBudget));
    }

    #[test]
    fn finished_requests_spend_the_budget() {
        let rules = StopRules {
            max_errors: Some(2),
            ..StopRules::default()
        };
        let c = Control::new(rules, &CancellationToken::new());
        c.finished(true);
        c.finished(false);
        assert!(!c.stopped());
        c.finished(false);
        assert!(c.stopped());
        assert_eq!(c.reason(), Some(StopReason::ErrorBudget));
        let s = c.counters.snapshot();
        assert_eq!((s.done, s.failed), (1, 2));
    }

    #[test]
    fn a_growing_backlog_is_saturation_a_steady_one_is_not() {
        // 10 due per second, 6 finished: the backlog grows by 4 each second.
        let mut s = Saturation::default();
        // (The sample at 0 s, nothing finished yet, does not count.)
        let fired: Vec<bool> = (0..8).map(|t| s.push(10 * t, 6 * t)).collect();
        assert_eq!(
            fired,
            [false, false, false, false, false, false, true, true]
        );
        // A healthy start: 10 due per second, each lasting 0.8 s, so the backlog rises from
        // 0 to a steady 8 within the first second (2 finished by then).
        let mut s = Saturation::default();
        let start = [
            (0, 0),
            (10, 2),
            (20, 12),
            (30, 22),
            (40, 32),
            (50, 42),
            (60, 52),
        ];
        assert!(!start.iter().any(|&(d, f)| s.push(d, f)));
        // 10 due, 10 finished, a steady backlog of 8.
        let mut s = Saturation::default();
        assert!(!(0..10).any(|t| s.push(10 * t + 8, 10 * t)));
        // Growing, but it shrank once within the window.
        let mut s = Saturation::default();
        let pts = [(0, 1), (10, 5), (20, 10), (30, 22), (40, 25), (50, 30)];
        assert!(!pts.iter().any(|&(d, f)| s.push(d, f)));
        // Growing by one every other second: 2 over the window, less than 3.
        let mut s = Saturation::default();
        assert!(!(2..8).any(|t| s.push(10 * t, 10 * t - t / 2)));
    }
}
