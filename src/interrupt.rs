//! Ctrl-C for `runner run`, and its exit code.
//!
//! In: SIGINT. Out: the first cancels the sweep's interrupt token (the current run stops
//! dispatching, requests in flight get a grace period, the partial run is written marked
//! `interrupted`, no further run starts, exit 130); the second exits 130 at once. Results
//! are flushed run by run, so nothing already written is lost.

use tokio_util::sync::CancellationToken;

use crate::engine::stop::INTERRUPT_GRACE;
use crate::run::SweepOutcome;

/// Exit code of an interrupted sweep (128 + SIGINT).
pub const EXIT_INTERRUPTED: i32 = 130;

/// Listen for Ctrl-C on the current runtime and cancel `token` on the first.
pub fn install(token: &CancellationToken) {
    let token = token.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_err() {
            return;
        }
        eprintln!(
            "\ninterrupted: sending no more requests; waiting up to {} s for those in flight \
             (Ctrl-C again to abort at once)",
            INTERRUPT_GRACE.as_secs()
        );
        token.cancel();
        if tokio::signal::ctrl_c().await.is_ok() {
            eprintln!("aborted");
            std::process::exit(EXIT_INTERRUPTED);
        }
    });
}

/// The exit code of a finished sweep: 130 interrupted, 1 if every request of some run
/// failed, 3 if a run (outside a capacity search) did not meet the SLO, else 0 (said on
/// stderr).
pub fn exit_code(outcome: &SweepOutcome) -> i32 {
    if outcome.interrupted {
        eprintln!(
            "interrupted after {} run{}; `runner run --resume` runs the rest",
            outcome.runs,
            if outcome.runs == 1 { "" } else { "s" }
        );
        return EXIT_INTERRUPTED;
    }
    if !outcome.all_failed.is_empty() {
        eprintln!(
            "error: every request failed in {} of {} runs: {}",
            outcome.all_failed.len(),
            outcome.runs,
            outcome.all_failed.join(", ")
        );
        return 1;
    }
    if !outcome.slo_failed.is_empty() {
        let runs: Vec<String> = outcome
            .slo_failed
            .iter()
            .map(|(id, names)| format!("{id} ({})", names.join(", ")))
            .collect();
        eprintln!(
            "error: SLO not met in {} of {} runs: {}",
            runs.len(),
            outcome.runs,
            runs.join("; ")
        );
        return 3;
    }
    0
}
