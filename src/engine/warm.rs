//! Warm connections: open the pool's keep-alive connections before a run's clock starts, so
//! no TCP handshake lands in a measured TTFT, and tell which requests still opened one.
//!
//! In: a [`Target`], the run's concurrency cap, rate and request count. Out: that many idle
//! connections in the client's pool ([`connect`] times the ones a run still opens).
//!
//! How many ([`warm_count`]): the concurrency cap when there is one; otherwise one second of
//! arrivals at the request rate (all requests for rate `inf`); never more than the requests,
//! [`MAX_WARM`], or the open-file limit less a margin. Connections are opened by concurrent
//! `GET /health` requests ([`open`]); a 404 keeps the connection just as well.

use std::time::Duration;

use tokio::sync::watch;
use tokio::time::Instant;

use super::connect;
use super::target::Target;
use crate::scenario::ConnectionMode;

/// Most connections opened ahead of a run.
pub const MAX_WARM: usize = 2000;

/// Connections to open ahead of a run (see the module notes).
pub fn warm_count(cap: Option<u32>, rate: f64, requests: usize, nofile: u64) -> usize {
    let want = match cap {
        Some(c) => c as usize,
        None if rate.is_finite() => rate.ceil().max(1.0) as usize,
        None => requests,
    };
    let files = nofile.saturating_sub(64) as usize;
    want.min(requests).min(MAX_WARM).min(files)
}

/// What warming did.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Warmed {
    /// Connections asked for.
    pub wanted: usize,
    /// New connections the warm-up requests came over.
    pub opened: usize,
    /// Connections the pool holds for the run: the most warm-up requests of one round that
    /// were answered, each over a connection of its own (new or already in the pool).
    pub ready: usize,
    /// How long it took, seconds.
    pub elapsed_s: f64,
}

/// Before a run in pooled mode: open [`warm_count`] connections (per-request mode: none,
/// as bench_serving). Returns how many opened.
pub async fn before_run(target: &Target, cap: Option<u32>, rate: f64, requests: usize) -> usize {
    if target.options.connection == ConnectionMode::PerRequest {
        return 0;
    }
    let n = warm_count(cap, rate, requests, crate::nofile::limit());
    if n == 0 {
        return 0;
    }
    let w = open(target, n, target.options.timeouts.connect_s.max(1.0) * 2.0).await;
    // Connections the pool already held (from an earlier run, the readiness wait or admin
    // calls) serve the run as well as new ones.
    if w.ready < w.wanted / 2 {
        eprintln!(
            "warning: only {} of {} connections could be opened before the run; the rest \
             open during it and their handshakes count in TTFT",
            w.ready, w.wanted
        );
    }
    w.opened
}

/// Open `n` connections to `target` and leave them idle in its pool (best effort: failures
/// only mean fewer warm connections). Gives up after `timeout_s`.
///
/// A round makes `n` concurrent `GET /health` from one task, each with an empty chunked
/// request body held open, and polls every request a few times (until each has asked the
/// pool for a connection) before it releases the bodies and awaits the answers. A
/// connection stays busy until its request body has ended, so no request of the round can
/// take a connection another one of the round was given: each finds an idle connection or
/// starts its own connect (a connect whose request then got a freed connection still
/// completes, into the pool), and the pool ends up holding `n`. Requests spread over tasks
/// would not: on a busy client core, a fast server's first answers free connections before
/// the last requests have asked for one (500 asked on one core opened about 400). Servers
/// answer such a `/health` at once or once its body has ended; either keeps the connection.
/// Rounds repeat (at most 16) until `n` new connections are open or a round opens none.
pub async fn open(target: &Target, n: usize, timeout_s: f64) -> Warmed {
    let t0 = Instant::now();
    let before = connect::opened();
    let url = format!("{}/health", target.base_url);
    let deadline = t0 + Duration::from_secs_f64(timeout_s);
    let opened = || (connect::opened() - before) as usize;
    let mut ready = 0;
    for _ in 0..16 {
        if opened() >= n || Instant::now() >= deadline {
            break;
        }
        let round_start = connect::opened();
        let (release, held) = watch::channel(false);
        let answered = std::sync::atomic::AtomicUsize::new(0);
        let answered = &answered;
        let requests = (0..n).map(|_| {
            let mut held = held.clone();
            let body = futures_util::stream::once(async move {
                let _ = held.wait_for(|go| *go).await;
                Ok::<_, std::convert::Infallible>(bytes::Bytes::new())
            });
            let req = target
                .client
                .get(&url)
                .headers(target.headers.clone())
                .body(reqwest::Body::wrap_stream(body));
            Box::pin(async move {
                if let Ok(Ok(r)) = tokio::time::timeout_at(deadline, req.send()).await
                    && let Ok(Ok(_)) = tokio::time::timeout_at(deadline, r.bytes()).await
                {
                    answered.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
            })
        });
        let mut waiting: Vec<_> = requests.collect();
        // A request may need more than one poll to reach the pool: with one, the 300-
        // connection test once opened 288 of 290; with three, all in 16 runs.
        for _ in 0..3 {
            let mut still = Vec::with_capacity(waiting.len());
            for mut r in waiting {
                if futures_util::poll!(r.as_mut()).is_pending() {
                    still.push(r);
                }
            }
            waiting = still;
        }
        let _ = release.send(true);
        futures_util::future::join_all(waiting).await;
        ready = ready.max(answered.load(std::sync::atomic::Ordering::Relaxed));
        if connect::opened() == round_start {
            break;
        }
    }
    Warmed {
        wanted: n,
        opened: opened(),
        ready: ready.max(opened().min(n)),
        elapsed_s: t0.elapsed().as_secs_f64(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warm_count_follows_the_cap_then_one_second_of_arrivals() {
        assert_eq!(warm_count(Some(64), f64::INFINITY, 1000, 65_536), 64);
        assert_eq!(warm_count(Some(64), 10.0, 20, 65_536), 20);
        assert_eq!(warm_count(None, 250.5, 1000, 65_536), 251);
        assert_eq!(warm_count(None, f64::INFINITY, 500, 65_536), 500);
        assert_eq!(warm_count(None, f64::INFINITY, 10_000, 65_536), MAX_WARM);
        assert_eq!(warm_count(Some(500), 1.0, 1000, 256), 192);
    }
}
