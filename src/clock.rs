//! A precise timer. Tokio's timer wheel has millisecond resolution and fires up to a
//! millisecond late; a schedule that says "request 7 at 312.4 ms" (the engine) or a server
//! that promises "first token at 50 ms" (the embedded server) must keep to it. One OS thread
//! sleeps until the earliest deadline (tens of microseconds of lateness on Linux) and wakes
//! the waiting task.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::mpsc;
use std::time::Instant;

use tokio::sync::oneshot;

struct Entry {
    due: Instant,
    seq: u64,
    wake: oneshot::Sender<()>,
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        (self.due, self.seq) == (other.due, other.seq)
    }
}
impl Eq for Entry {}
impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Entry {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.due, self.seq).cmp(&(other.due, other.seq))
    }
}

/// Handle to the timer thread; the thread ends when every handle is dropped.
#[derive(Clone)]
pub struct Clock {
    tx: mpsc::Sender<Entry>,
}

/// The process-wide clock the engine dispatches requests with.
pub fn shared() -> &'static Clock {
    static SHARED: std::sync::OnceLock<Clock> = std::sync::OnceLock::new();
    SHARED.get_or_init(|| Clock::named("runner-clock"))
}

impl Clock {
    /// Start the embedded server's timer thread.
    pub fn start() -> Clock {
        Clock::named("runner-sim-clock")
    }

    /// Start a timer thread called `name`.
    fn named(name: &str) -> Clock {
        let (tx, rx) = mpsc::channel::<Entry>();
        std::thread::Builder::new()
            .name(name.into())
            .spawn(move || run(rx))
            .expect("spawn the clock thread");
        Clock { tx }
    }

    /// Wait until `due` (a tokio instant, same clock as std's).
    pub async fn sleep_until(&self, due: tokio::time::Instant) {
        let due = due.into_std();
        if due <= Instant::now() {
            return;
        }
        let (wake, done) = oneshot::channel();
        if self.tx.send(Entry { due, seq: 0, wake }).is_err() {
            tokio::time::sleep_until(due.into()).await;
            return;
        }
        let _ = done.await;
    }
}

fn run(rx: mpsc::Receiver<Entry>) {
    let mut heap: BinaryHeap<Reverse<Entry>> = BinaryHeap::new();
    let mut seq = 0u64;
    loop {
        let now = Instant::now();
        while heap.peek().is_some_and(|e| e.0.due <= now) {
            let Reverse(e) = heap.pop().expect("peeked");
            let _ = e.wake.send(());
        }
        let next = match heap.peek() {
            Some(e) => rx.recv_timeout(e.0.due - now),
            None => rx.recv().map_err(|_| mpsc::RecvTimeoutError::Disconnected),
        };
        match next {
            Ok(mut e) => {
                seq += 1;
                e.seq = seq;
                heap.push(Reverse(e));
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
    }
}
