//! The barrier between a sharded sweep's runs, through the shared results directory.
//!
//! In: the barrier directory (`<results>/barrier/<start-at>/`, one per launch so markers of
//! an earlier launch never count), the run number k and the shard count. Out: each shard's
//! marker `run-<k>/shard-<I>.json` (`{"shard": I, "count": N, "end_unix_s": …}`, written
//! whole by rename), and, once all N markers of run k are there, the latest end among them:
//! run k+1 starts at that end plus [`GAP_S`] ([`next_start`]), the same instant on every
//! shard. Markers are polled every [`POLL_S`] by opening them by name (which a network file
//! system revalidates); a shard missing after [`TIMEOUT_S`] fails the wait, naming it.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};

use super::Shard;

/// Seconds between the latest end of a run and the next run's start: room for every shard
/// to see the last marker and estimate its clock.
pub const GAP_S: f64 = 3.0;

/// How often markers are looked for, in seconds.
pub const POLL_S: f64 = 0.1;

/// How long a shard waits for the others after finishing a run, in seconds.
pub const TIMEOUT_S: f64 = 900.0;

/// The barrier directory of a launch starting at `start_at` in the shared results `dir`.
pub fn dir(results: &Path, start_at: f64) -> PathBuf {
    results.join("barrier").join(format!("{start_at:.3}"))
}

fn marker(dir: &Path, k: usize, shard: u32) -> PathBuf {
    dir.join(format!("run-{k}"))
        .join(format!("shard-{shard}.json"))
}

/// Write shard `shard`'s marker for run `k` (ended at `end_s`, Unix seconds).
pub fn mark(dir: &Path, k: usize, shard: Shard, end_s: f64) -> Result<()> {
    let path = marker(dir, k, shard.index);
    let parent = path.parent().expect("a marker has a directory");
    std::fs::create_dir_all(parent)
        .with_context(|| format!("cannot create the shard barrier {}", parent.display()))?;
    let tmp = path.with_extension("tmp");
    let text = json!({"shard": shard.index, "count": shard.count, "end_unix_s": end_s});
    std::fs::write(&tmp, text.to_string())
        .and_then(|()| std::fs::rename(&tmp, &path))
        .with_context(|| format!("cannot write the shard barrier marker {}", path.display()))
}

/// The ends (Unix seconds) of run `k` by shard, `None` for shards not done yet.
fn read(dir: &Path, k: usize, count: u32) -> Vec<Option<f64>> {
    (0..count)
        .map(|i| {
            let text = std::fs::read_to_string(marker(dir, k, i)).ok()?;
            serde_json::from_str::<Value>(&text).ok()?["end_unix_s"].as_f64()
        })
        .collect()
}

/// Wait until all `count` shards have written their marker for run `k`; the latest end.
/// `next` names the run that waits, for the error.
pub async fn wait(dir: &Path, k: usize, count: u32, next: &str) -> Result<f64> {
    let started = std::time::Instant::now();
    loop {
        let ends = read(dir, k, count);
        if ends.iter().all(Option::is_some) {
            return Ok(ends.into_iter().flatten().fold(f64::MIN, f64::max));
        }
        if started.elapsed().as_secs_f64() > TIMEOUT_S {
            let missing: Vec<String> = ends
                .iter()
                .enumerate()
                .filter(|(_, e)| e.is_none())
                .map(|(i, _)| i.to_string())
                .collect();
            bail!(
                "shard barrier: before run {next}, shard(s) {} of {count} did not finish the \
                 previous run within {TIMEOUT_S:.0} s (no {}); the shards must share one \
                 results directory (--output on a shared volume)",
                missing.join(", "),
                marker(dir, k, missing[0].parse().unwrap_or(0)).display()
            );
        }
        tokio::time::sleep(Duration::from_secs_f64(POLL_S)).await;
    }
}

/// The start of the next run after a run whose latest shard ended at `latest_end_s`: the end
/// plus [`GAP_S`], rounded up to the millisecond.
pub fn next_start(latest_end_s: f64) -> f64 {
    ((latest_end_s + GAP_S) * 1000.0).ceil() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_barrier_opens_at_the_latest_end_once_every_shard_marked() {
        let tmp = tempfile::tempdir().unwrap();
        let d = dir(tmp.path(), 1000.0);
        assert!(d.ends_with("barrier/1000.000"));
        let s = |index| Shard { index, count: 3 };
        mark(&d, 0, s(0), 1010.5).unwrap();
        mark(&d, 0, s(2), 1012.25).unwrap();
        assert_eq!(read(&d, 0, 3), [Some(1010.5), None, Some(1012.25)]);
        let waiting = tokio::spawn({
            let d = d.clone();
            async move { wait(&d, 0, 3, "r1").await }
        });
        tokio::time::sleep(Duration::from_millis(250)).await;
        assert!(!waiting.is_finished());
        mark(&d, 0, s(1), 1011.0).unwrap();
        let latest = waiting.await.unwrap().unwrap();
        assert_eq!(latest, 1012.25);
        assert_eq!(next_start(latest), 1015.25);
        // Markers of another launch (another start instant) never count.
        assert_eq!(read(&dir(tmp.path(), 2000.0), 0, 3), [None, None, None]);
    }
}
