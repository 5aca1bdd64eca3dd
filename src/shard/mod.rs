//! `runner run --shard I/N --start-at T`: one of N identical processes sending its share of
//! every run, all starting each run at the same wall-clock instant.
//!
//! In: the shard (`I/N`, or `auto` from `JOB_COMPLETION_INDEX` + `RUNNER_SHARDS`, or
//! `SLURM_ARRAY_TASK_ID` / `SLURM_ARRAY_TASK_COUNT`), the first run's start instant, and the
//! shared results directory. Out, per run: the shard's requests and due times
//! ([`Sharding::share`]); before its warmup the run's start instant, after the barrier
//! ([`Sharding::plan`]); after warmup a wait until that instant ([`Sharding::begin`]); and
//! after the run what the shard writes into its result line's `provenance.shard`
//! ([`Sharding::end`]). Warmup, cache flush and warm connections happen between the barrier
//! and the start instant, so they never overlap another shard's measured run.
//!
//! **The share.** The single-process schedule is computed whole, then shard I keeps the
//! requests (and their due times) with index `i % N == I`: together the shards send exactly
//! the requests one process would, at the instants it would (rate / N each), without overlap.
//! A concurrency cap C is split as C / N (the first C % N shards take one more).
//!
//! **The barrier.** Run 1 starts at `--start-at`. Run k+1 starts when every shard has
//! finished run k: each shard writes `barrier/<start-at>/run-<k>/shard-<I>.json` (its run's
//! end, Unix seconds) into the shared results directory and waits for the other N − 1
//! markers; run k+1 then starts at the latest end plus [`barrier::GAP_S`], an instant every
//! shard computes alike from the same markers ([`barrier`]).

pub mod barrier;
pub mod clock;

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Result, bail};
use serde_json::{Value, json};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::workload::Workload;

/// Shard `index` of `count` (from 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// This shard, from 0.
    pub index: u32,
    /// How many shards there are.
    pub count: u32,
}

/// The environment variable giving the shard count beside `JOB_COMPLETION_INDEX`
/// (Kubernetes does not export `completions`).
pub const SHARDS_ENV: &str = "RUNNER_SHARDS";

impl Shard {
    /// `I/N` with 0 ≤ I < N, or `auto` (from the environment, see [`Shard::from_env`]).
    pub fn parse(text: &str) -> Result<Shard, String> {
        if text == "auto" {
            return Shard::from_env(|k| std::env::var(k).ok());
        }
        let bad = || format!("--shard {text}: expected I/N (e.g. 0/4, with 0 <= I < N) or auto");
        let (i, n) = text.split_once('/').ok_or_else(bad)?;
        let (index, count) = (
            i.trim().parse::<u32>().map_err(|_| bad())?,
            n.trim().parse::<u32>().map_err(|_| bad())?,
        );
        if count == 0 || index >= count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }

    /// The shard from a Kubernetes Indexed Job (`JOB_COMPLETION_INDEX` and [`SHARDS_ENV`])
    /// or a Slurm array (`SLURM_ARRAY_TASK_ID` from `SLURM_ARRAY_TASK_MIN`,
    /// `SLURM_ARRAY_TASK_COUNT`).
    pub fn from_env(get: impl Fn(&str) -> Option<String>) -> Result<Shard, String> {
        let num = |k: &str| -> Result<Option<u32>, String> {
            match get(k) {
                None => Ok(None),
                Some(v) => v
                    .trim()
                    .parse()
                    .map(Some)
                    .map_err(|_| format!("--shard auto: {k}={v} is not a whole number")),
            }
        };
        let (index, count) = if let Some(i) = num("JOB_COMPLETION_INDEX")? {
            let n = num(SHARDS_ENV)?.ok_or_else(|| {
                format!(
                    "--shard auto: JOB_COMPLETION_INDEX is set but {SHARDS_ENV} is not; set \
                     it to the Job's `completions`"
                )
            })?;
            (i, n)
        } else if let Some(id) = num("SLURM_ARRAY_TASK_ID")? {
            let min = num("SLURM_ARRAY_TASK_MIN")?.unwrap_or(0);
            let n = num("SLURM_ARRAY_TASK_COUNT")?.ok_or(
                "--shard auto: SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_COUNT is not",
            )?;
            (id.saturating_sub(min), n)
        } else {
            return Err(format!(
                "--shard auto: neither JOB_COMPLETION_INDEX (with {SHARDS_ENV}) nor \
                 SLURM_ARRAY_TASK_ID is set; pass --shard I/N"
            ));
        };
        if n_ok(index, count) {
            Ok(Shard { index, count })
        } else {
            Err(format!(
                "--shard auto: shard index {index} is not below the count {count}"
            ))
        }
    }

    /// Whether global index `i` is this shard's.
    pub fn owns(self, i: usize) -> bool {
        i % self.count as usize == self.index as usize
    }

    /// This shard's part of a concurrency cap `cap` (the first `cap % N` shards take one
    /// more); an error when the cap is smaller than the shard count.
    pub fn cap(self, cap: Option<u32>) -> Result<Option<u32>> {
        let Some(c) = cap else { return Ok(None) };
        if c < self.count {
            bail!(
                "max_concurrency {c} cannot be split over {} shards (each shard needs at least \
                 1); use fewer shards or a higher max_concurrency",
                self.count
            );
        }
        Ok(Some(
            c / self.count + u32::from(self.index < c % self.count),
        ))
    }

    /// The directory of this shard's results inside the shared results directory `dir`.
    pub fn dir(self, dir: &Path) -> PathBuf {
        dir.join(format!("shard-{}-of-{}", self.index, self.count))
    }
}

fn n_ok(index: u32, count: u32) -> bool {
    count > 0 && index < count
}

/// A shard's requests and due times for one run.
pub struct Share<'a> {
    /// The requests with `i % N == I`, in order.
    pub requests: Workload<'a>,
    /// Their due times (seconds from the shared start), lazily.
    pub due: Box<dyn Iterator<Item = f64> + Send>,
    /// The shard's concurrency cap.
    pub cap: Option<u32>,
}

/// Seconds since the Unix epoch of `t`.
pub fn unix_s(t: SystemTime) -> f64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// A run's start instant and the clock estimate taken before it ([`Sharding::plan`]).
#[derive(Debug, Clone)]
pub struct Planned {
    /// The start instant, Unix seconds.
    pub start_s: f64,
    /// The clock estimate ([`clock::estimate`]).
    pub clock: Value,
}

/// What [`Sharding::begin`] saw when a run started.
#[derive(Debug, Clone)]
pub struct Begin {
    /// The instant the run was to start, Unix seconds.
    pub planned_s: f64,
    /// The wall clock and monotonic clock read together when the wait ended.
    wall: SystemTime,
    mono: Instant,
    /// The clock estimate ([`clock::estimate`]).
    clock: Value,
}

/// The sweep's sharding from `runner run`'s `--shard` and `--start-at` (`shard`), the
/// shared results directory `dir`; refused for a capacity search (whose next run depends on
/// the whole of the last one's results).
pub fn for_sweep(
    s: &crate::scenario::Scenario,
    shard: Option<(Shard, f64)>,
    dir: &Path,
) -> Result<Option<Sharding>> {
    let Some((shard, start_at)) = shard else {
        return Ok(None);
    };
    if s.search.is_some() {
        bail!("{SEARCH_REFUSED}");
    }
    Ok(Some(Sharding::new(shard, start_at, dir)))
}

/// Why `--shard` and a `search:` block do not go together.
pub const SEARCH_REFUSED: &str = "--shard: a scenario with a `search:` block cannot be \
     sharded (each run's rate depends on the previous run's whole results); run the search \
     in one process, then shard fixed-rate runs at the rates it found";

/// A sharded sweep: the shard, the shared start, the barrier directory, the run count.
#[derive(Debug)]
pub struct Sharding {
    /// This shard.
    pub shard: Shard,
    /// The first run's start, Unix seconds.
    pub start_at: f64,
    /// The shared results directory (this shard writes into [`Shard::dir`] of it).
    pub results: PathBuf,
    barrier: PathBuf,
    /// Runs ended so far.
    state: Mutex<usize>,
}

impl Sharding {
    /// Shard `shard` of a sweep starting at `start_at` whose shared results directory is `dir`.
    pub fn new(shard: Shard, start_at: f64, dir: &Path) -> Sharding {
        Sharding {
            shard,
            start_at,
            results: dir.to_owned(),
            barrier: barrier::dir(dir, start_at),
            state: Mutex::new(0),
        }
    }

    /// This shard's share of a run: of `requests` (recycled by index when `due` is longer)
    /// and the single-process due times `due`, the indices `i % N == I`; its part of `cap`.
    pub fn share<'a>(
        &self,
        requests: &Workload<'a>,
        due: Box<dyn Iterator<Item = f64> + Send>,
        cap: Option<u32>,
    ) -> Result<Share<'a>> {
        let shard = self.shard;
        let due = Box::new(
            due.enumerate()
                .filter(move |(i, _)| shard.owns(*i))
                .map(|(_, d)| d),
        );
        Ok(Share {
            requests: requests.every(shard.count as usize, shard.index as usize),
            due,
            cap: shard.cap(cap)?,
        })
    }

    /// Before a run's warmup: estimate the clock against `url` (the target) and, from the
    /// second run on, wait for every shard to finish the previous run. The run's start
    /// instant. Ctrl-C ends the wait with an error.
    pub async fn plan(
        &self,
        run_id: &str,
        url: &str,
        interrupt: &CancellationToken,
    ) -> Result<Planned> {
        let k = *self.state.lock().expect("shard state");
        let clock = clock::estimate(url).await;
        let start_s = if k == 0 {
            self.start_at
        } else {
            let wait = barrier::wait(&self.barrier, k - 1, self.shard.count, run_id);
            let latest = tokio::select! {
                r = wait => r?,
                _ = interrupt.cancelled() => bail!("interrupted while waiting for the other shards"),
            };
            barrier::next_start(latest)
        };
        Ok(Planned { start_s, clock })
    }

    /// Right before the run (warmup and warm connections done): sleep until its start
    /// instant, or warn that it is late.
    pub async fn begin(
        &self,
        run_id: &str,
        planned: Planned,
        interrupt: &CancellationToken,
    ) -> Result<Begin> {
        let planned_s = planned.start_s;
        let late = unix_s(SystemTime::now()) - planned_s;
        if late > 0.0 {
            eprintln!(
                "warning: shard {}/{}: run {run_id} starts {:.0} ms after its start instant \
                 {planned_s:.3}; the shards' schedules no longer line up",
                self.shard.index,
                self.shard.count,
                late * 1000.0
            );
        } else {
            let due = Instant::now() + Duration::from_secs_f64(-late);
            eprintln!(
                "shard {}/{}: run {run_id} starts at {planned_s:.3} (in {:.1} s)",
                self.shard.index, self.shard.count, -late
            );
            tokio::select! {
                _ = crate::clock::shared().sleep_until(due) => {}
                _ = interrupt.cancelled() => bail!("interrupted while waiting for the start instant"),
            }
        }
        Ok(Begin {
            planned_s,
            wall: SystemTime::now(),
            mono: Instant::now(),
            clock: planned.clock,
        })
    }

    /// After a run that started (monotonic) at `start` and ended `duration_s` later: write
    /// this shard's barrier marker and return the result line's `provenance.shard`.
    pub fn end(&self, begin: &Begin, start: Instant, duration_s: f64) -> Result<Value> {
        let mut k = self.state.lock().expect("shard state");
        let lag = start.saturating_duration_since(begin.mono).as_secs_f64();
        let start_s = unix_s(begin.wall) + lag;
        let end_s = start_s + duration_s;
        barrier::mark(&self.barrier, *k, self.shard, end_s)?;
        *k += 1;
        Ok(json!({
            "index": self.shard.index,
            "count": self.shard.count,
            "start_at": self.start_at,
            "planned_start_unix_s": begin.planned_s,
            "start_unix_s": start_s,
            "start_late_ms": (start_s - begin.planned_s) * 1000.0,
            "end_unix_s": end_s,
            "clock": begin.clock,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::RequestSpec;

    #[test]
    fn shards_parse_from_flags_and_environments() {
        assert_eq!(Shard::parse("1/4"), Ok(Shard { index: 1, count: 4 }));
        assert!(Shard::parse("4/4").unwrap_err().contains("0 <= I < N"));
        assert!(Shard::parse("1-4").is_err());
        assert!(Shard::parse("0/0").is_err());
        let env = |pairs: &'static [(&str, &str)]| {
            move |k: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
            }
        };
        let k8s = env(&[("JOB_COMPLETION_INDEX", "3"), ("RUNNER_SHARDS", "8")]);
        assert_eq!(Shard::from_env(k8s), Ok(Shard { index: 3, count: 8 }));
        let slurm = env(&[
            ("SLURM_ARRAY_TASK_ID", "4"),
            ("SLURM_ARRAY_TASK_MIN", "1"),
            ("SLURM_ARRAY_TASK_COUNT", "4"),
        ]);
        assert_eq!(Shard::from_env(slurm), Ok(Shard { index: 3, count: 4 }));
        let half = env(&[("JOB_COMPLETION_INDEX", "0")]);
        assert!(Shard::from_env(half).unwrap_err().contains("RUNNER_SHARDS"));
        assert!(
            Shard::from_env(env(&[]))
                .unwrap_err()
                .contains("--shard I/N")
        );
    }

    #[test]
    fn caps_split_to_the_whole_and_requests_without_overlap() {
        let caps: Vec<u32> = (0..4)
            .map(|i| Shard { index: i, count: 4 }.cap(Some(10)).unwrap().unwrap())
            .collect();
        assert_eq!(caps, [3, 3, 2, 2]);
        assert!(Shard { index: 0, count: 4 }.cap(Some(3)).is_err());
        assert_eq!(Shard { index: 0, count: 4 }.cap(None).unwrap(), None);
        let requests: Vec<RequestSpec> = (0..10).map(|i| RequestSpec::text("p", i, 1)).collect();
        let requests = Workload::from(requests);
        let due: Vec<f64> = (0..10).map(|i| i as f64 * 0.5).collect();
        let mut seen = Vec::new();
        for i in 0..3 {
            let s = Sharding::new(Shard { index: i, count: 3 }, 0.0, Path::new("/tmp"));
            let share = s
                .share(&requests, Box::new(due.clone().into_iter()), None)
                .unwrap();
            let due: Vec<f64> = share.due.collect();
            assert_eq!(due.len(), share.requests.len());
            for (r, d) in share.requests.iter().zip(&due) {
                assert_eq!(*d, r.prompt_len as f64 * 0.5);
                seen.push(r.prompt_len);
            }
        }
        seen.sort();
        assert_eq!(seen, (0..10).collect::<Vec<u32>>());
    }
}
