//! Where a response's tokens come from, and when: the fixed timing model or the engine.
//!
//! In: a request (arrival time, output limit, EOS position). Out: a stream of
//! [`Delivery`]s — how many new tokens are ready, at the moment they are ready. With fixed
//! timing, token `k` is due at `arrival + ttft + k·itl` (absolute deadlines on the precise
//! clock); with the engine model, deliveries are the engine thread's step emissions.

use std::time::Duration;

use tokio::sync::mpsc::UnboundedReceiver;
use tokio::time::Instant;

use super::batcher::{Emission, Finish};
use crate::clock::Clock;

/// New tokens ready to write.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Delivery {
    /// How many.
    pub tokens: u32,
    /// Set with the last tokens.
    pub finish: Option<Finish>,
    /// Prompt tokens found in the prefix cache.
    pub cached: u32,
    /// Decode steps so far.
    pub verify_steps: u32,
}

/// A request's token source.
pub enum Source {
    /// Fixed timing.
    Fixed {
        /// The precise timer.
        clock: Clock,
        /// When token 0 is due.
        first: Instant,
        /// Gap between tokens.
        itl: Duration,
        /// Tokens delivered so far.
        k: u32,
        /// Tokens to deliver.
        n: u32,
        /// Why it ends after `n`.
        finish: Finish,
        /// The last delivery was made.
        done: bool,
    },
    /// The engine model.
    Engine(UnboundedReceiver<Emission>),
}

impl Source {
    /// Fixed timing for a request that arrived at `arrival` and generates `n` tokens.
    pub fn fixed(
        clock: Clock,
        arrival: Instant,
        ttft_ms: f64,
        itl_ms: f64,
        n: u32,
        finish: Finish,
    ) -> Source {
        Source::Fixed {
            clock,
            first: arrival + Duration::from_secs_f64(ttft_ms / 1000.0),
            itl: Duration::from_secs_f64(itl_ms / 1000.0),
            k: 0,
            n,
            finish,
            done: false,
        }
    }

    /// Wait for the next delivery; `None` after the last one (or if the engine went away).
    pub async fn next(&mut self) -> Option<Delivery> {
        match self {
            Source::Fixed {
                clock,
                first,
                itl,
                k,
                n,
                finish,
                done,
            } => {
                if *done {
                    return None;
                }
                clock.sleep_until(*first + *itl * *k).await;
                let tokens = u32::from(*n > 0);
                *k += tokens;
                *done = *k >= *n;
                Some(Delivery {
                    tokens,
                    finish: done.then_some(*finish),
                    cached: 0,
                    verify_steps: k.saturating_sub(1),
                })
            }
            Source::Engine(rx) => rx.recv().await.map(|e| Delivery {
                tokens: e.tokens,
                finish: e.finish,
                cached: e.cached,
                verify_steps: e.verify_steps,
            }),
        }
    }
}
