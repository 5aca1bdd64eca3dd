//! The live progress of a run on stderr, from its [`Counters`](super::stop::Counters).
//!
//! In: the run id, its control (counters and rules), the number of requests when known.
//! Out: an indicatif bar (done / failed / in flight / waiting / achieved rate / ETA) when
//! stderr is a terminal, else a plain `PROGRESS` line at most every 5 s; nothing with
//! `--quiet`. Never on stdout, which carries the result blocks.

use std::io::IsTerminal as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

use super::stop::{Control, Snapshot};

/// How progress is shown.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Mode {
    /// Nothing.
    #[default]
    Off,
    /// An indicatif bar, redrawn in place.
    Bar,
    /// A plain line every [`LINE_PERIOD`].
    Lines,
}

/// Time between plain progress lines.
pub const LINE_PERIOD: Duration = Duration::from_secs(5);

impl Mode {
    /// `Off` when quiet, else a bar on a terminal and lines otherwise.
    pub fn detect(quiet: bool) -> Mode {
        if quiet {
            Mode::Off
        } else if std::io::stderr().is_terminal() {
            Mode::Bar
        } else {
            Mode::Lines
        }
    }
}

/// The plain line: `PROGRESS run: 40/60 done, 2 failed, 8 in flight, 0 waiting, 19.8 req/s,
/// ETA 1 s`. `total` is the run's requests, or `None` for a duration run (then the ETA is
/// the time left of `duration_s`).
pub fn line(
    run_id: &str,
    s: &Snapshot,
    total: Option<u64>,
    elapsed: f64,
    duration_s: Option<f64>,
) -> String {
    let finished = s.done + s.failed;
    let rate = if elapsed > 0.0 {
        finished as f64 / elapsed
    } else {
        0.0
    };
    let of = total.map(|t| format!("/{t}")).unwrap_or_default();
    let eta = match (total, duration_s) {
        (_, Some(d)) => Some((d - elapsed).max(0.0)),
        (Some(t), None) if rate > 0.0 => Some(t.saturating_sub(finished) as f64 / rate),
        _ => None,
    };
    let eta = eta.map(|e| format!(", ETA {e:.0} s")).unwrap_or_default();
    format!(
        "PROGRESS {run_id}: {finished}{of} finished ({} failed), {} in flight, {} waiting, \
         {rate:.1} req/s{eta}",
        s.failed, s.in_flight, s.waiting
    )
}

/// A running progress display; [`Progress::finish`] removes it.
pub struct Progress {
    task: Option<tokio::task::JoinHandle<()>>,
    bar: Option<ProgressBar>,
}

impl Progress {
    /// Start showing the progress of `run_id`.
    pub fn start(mode: Mode, run_id: &str, control: Arc<Control>, total: Option<u64>) -> Progress {
        let started = Instant::now();
        let duration_s = control.rules.duration_s;
        let id = run_id.to_owned();
        match mode {
            Mode::Off => Progress {
                task: None,
                bar: None,
            },
            Mode::Lines => {
                let task = tokio::spawn(async move {
                    loop {
                        tokio::time::sleep(LINE_PERIOD).await;
                        let s = control.counters.snapshot();
                        let t = started.elapsed().as_secs_f64();
                        eprintln!("{}", line(&id, &s, total, t, duration_s));
                    }
                });
                Progress {
                    task: Some(task),
                    bar: None,
                }
            }
            Mode::Bar => {
                let bar = match total {
                    Some(t) => ProgressBar::new(t),
                    None => ProgressBar::new_spinner(),
                };
                let style =
                    ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} {msg} ETA {eta}")
                        .expect("valid template")
                        .progress_chars("=> ");
                if total.is_some() {
                    bar.set_style(style);
                }
                bar.set_prefix(id);
                let b = bar.clone();
                let task = tokio::spawn(async move {
                    loop {
                        let s = control.counters.snapshot();
                        let t = started.elapsed().as_secs_f64();
                        let finished = s.done + s.failed;
                        b.set_position(finished);
                        let rate = if t > 0.0 { finished as f64 / t } else { 0.0 };
                        let left = duration_s
                            .map(|d| format!(", {:.0} s left", (d - t).max(0.0)))
                            .unwrap_or_default();
                        b.set_message(format!(
                            "{} failed, {} in flight, {} waiting, {rate:.1} req/s{left}",
                            s.failed, s.in_flight, s.waiting
                        ));
                        tokio::time::sleep(Duration::from_millis(200)).await;
                    }
                });
                Progress {
                    task: Some(task),
                    bar: Some(bar),
                }
            }
        }
    }

    /// Stop and clear the display.
    pub fn finish(self) {
        if let Some(t) = self.task {
            t.abort();
        }
        if let Some(b) = self.bar {
            b.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_line_with_count_and_with_duration() {
        let s = Snapshot {
            dispatched: 50,
            done: 38,
            failed: 2,
            in_flight: 8,
            waiting: 2,
        };
        assert_eq!(
            line("a/b/rate=20/conc=16", &s, Some(60), 2.0, None),
            "PROGRESS a/b/rate=20/conc=16: 40/60 finished (2 failed), 8 in flight, 2 waiting, \
             20.0 req/s, ETA 1 s"
        );
        assert_eq!(
            line("x", &s, None, 4.0, Some(20.0)),
            "PROGRESS x: 40 finished (2 failed), 8 in flight, 2 waiting, 10.0 req/s, ETA 16 s"
        );
    }
}
