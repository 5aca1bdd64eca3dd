//! Ctrl-C, one listener for every command that sends requests.
//!
//! In: SIGINT. Out: a cancelled token. With [`OnCtrlC::Drain`] (`runner run`) the first
//! Ctrl-C cancels the sweep's interrupt token (the current run stops dispatching, requests in
//! flight get a grace period, the partial run is written marked `interrupted`, no further run
//! starts, exit 130) and the second exits 130 at once; results are flushed run by run, so
//! nothing already written is lost. With [`OnCtrlC::Stop`] (`runner bench`) the first cancels
//! the token and the caller stops at once, as bench_serving does.

use tokio_util::sync::CancellationToken;

use crate::engine::stop::INTERRUPT_GRACE;
use crate::exit::Exit;

/// What the first Ctrl-C does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnCtrlC {
    /// Say so and cancel the token (the sweep drains); a second Ctrl-C exits at once.
    Drain,
    /// Cancel the token, nothing else: the caller stops and says what it kept.
    Stop,
}

/// Listen for Ctrl-C on the current runtime and cancel `token` on the first.
pub fn install(token: &CancellationToken, on: OnCtrlC) {
    let token = token.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_err() {
            return;
        }
        if on == OnCtrlC::Stop {
            token.cancel();
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
            std::process::exit(Exit::Interrupted.code());
        }
    });
}
