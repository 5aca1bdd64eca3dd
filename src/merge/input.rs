//! The shard results `runner merge` reads, checked before anything is combined.
//!
//! In: directories given on the command line (each a shard's results directory, or one
//! holding `shard-I-of-N` directories). Out: every run's shard lines, shard 0 first, or
//! the refusal saying which shard is wrong: one of another scenario or launch, one missing,
//! one counted twice, or a line that is no shard's.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde_json::{Map, Value};

use crate::report::RunLine;

/// Why shards cannot be merged. Each names the directories involved.
#[derive(Debug, thiserror::Error)]
pub enum Refused {
    /// A directory has no results.
    #[error("{0}: no runs.jsonl and no shard-I-of-N directories in it")]
    Empty(String),
    /// A result line was written without `--shard`.
    #[error(
        "{dir}/runs.jsonl line {line} (run {run}) is not a shard's result (no provenance.shard); \
         only results of `runner run --shard I/N` merge"
    )]
    NotShard {
        /// The directory.
        dir: String,
        /// 1-based line number.
        line: usize,
        /// Its run id.
        run: String,
    },
    /// Shards of different scenarios, shard counts or launches.
    #[error(
        "shards do not belong together: {a} has {what} {va}, {b} has {vb}; merge only the \
         shards of one launch of one scenario"
    )]
    Mismatch {
        /// What differs (`scenario_hash`, `shard count`, `start_at`).
        what: &'static str,
        /// First directory and its value.
        a: String,
        /// Its value.
        va: String,
        /// The other directory.
        b: String,
        /// Its value.
        vb: String,
    },
    /// A shard of a run is not among the inputs.
    #[error(
        "run {run}: shard {missing} of {count} is missing (have {have}); pass every shard's \
         results directory"
    )]
    Missing {
        /// The run.
        run: String,
        /// The missing shard indices.
        missing: String,
        /// The shard count.
        count: u32,
        /// The shards present.
        have: String,
    },
    /// The same shard of a run appears twice.
    #[error(
        "run {run}: shard {index} of {count} is counted twice ({a} and {b}); pass each shard \
         once (a directory appended to by two launches needs `runner run --fresh`)"
    )]
    Duplicate {
        /// The run.
        run: String,
        /// The shard index.
        index: u32,
        /// The shard count.
        count: u32,
        /// Where it was first.
        a: String,
        /// Where it was again.
        b: String,
    },
}

/// One shard's result line of one run.
#[derive(Debug, Clone)]
pub struct ShardLine {
    /// The shard's results directory.
    pub dir: PathBuf,
    /// The line.
    pub line: RunLine,
    /// Its `provenance.shard`.
    pub shard: Map<String, Value>,
    /// Shard index.
    pub index: u32,
}

impl ShardLine {
    /// A number of `provenance.shard` (0 when absent).
    pub fn at(&self, key: &str) -> f64 {
        self.shard.get(key).and_then(Value::as_f64).unwrap_or(0.0)
    }
}

/// Every run's shards, in the order the runs first appear.
#[derive(Debug)]
pub struct Input {
    /// (run id, its shard lines by index).
    pub runs: Vec<(String, Vec<ShardLine>)>,
    /// The shard count.
    pub count: u32,
    /// The first directory (for its `scenario.json`).
    pub first: PathBuf,
}

/// The shard results directories `dirs` stand for: each itself when it holds runs.jsonl,
/// else its `shard-I-of-N` subdirectories.
fn expand(dirs: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for d in dirs {
        if d.join("runs.jsonl").is_file() {
            out.push(d.clone());
            continue;
        }
        let mut subs: Vec<PathBuf> = std::fs::read_dir(d)
            .with_context(|| format!("cannot read {}", d.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("shard-") && n.contains("-of-"))
                    && p.join("runs.jsonl").is_file()
            })
            .collect();
        if subs.is_empty() {
            return Err(Refused::Empty(d.display().to_string()).into());
        }
        subs.sort();
        out.extend(subs);
    }
    Ok(out)
}

/// Read and check the shards in `dirs`.
pub fn read(dirs: &[PathBuf]) -> Result<Input> {
    let dirs = expand(dirs)?;
    let mut runs: Vec<(String, BTreeMap<u32, ShardLine>)> = Vec::new();
    let mut first: Option<(String, String, u32, f64)> = None;
    for dir in &dirs {
        let path = dir.join("runs.jsonl");
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        for (n, raw) in text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
        {
            let line: Map<String, Value> = serde_json::from_str(raw)
                .with_context(|| format!("{} line {}: not JSON", path.display(), n + 1))?;
            if line.get("record").and_then(Value::as_str) == Some("aggregate") {
                continue;
            }
            let run = line["run_id"].as_str().unwrap_or_default().to_owned();
            let Some(shard) = line
                .get("provenance")
                .and_then(|p| p.get("shard"))
                .and_then(Value::as_object)
                .cloned()
            else {
                return Err(Refused::NotShard {
                    dir: dir.display().to_string(),
                    line: n + 1,
                    run,
                }
                .into());
            };
            let line: RunLine = serde_json::from_value(Value::Object(line))
                .with_context(|| format!("{} line {}: not a result line", path.display(), n + 1))?;
            let sl = ShardLine {
                dir: dir.clone(),
                index: shard["index"].as_u64().unwrap_or(0) as u32,
                line,
                shard,
            };
            let here = (
                dir.display().to_string(),
                sl.line
                    .scenario_hash
                    .as_deref()
                    .unwrap_or("none")
                    .to_owned(),
                sl.at("count") as u32,
                sl.at("start_at"),
            );
            check(first.get_or_insert_with(|| here.clone()), &here)?;
            let at = match runs.iter().position(|(r, _)| *r == run) {
                Some(i) => i,
                None => {
                    runs.push((run.clone(), BTreeMap::new()));
                    runs.len() - 1
                }
            };
            if let Some(before) = runs[at].1.get(&sl.index) {
                return Err(Refused::Duplicate {
                    run,
                    index: sl.index,
                    count: here.2,
                    a: before.dir.display().to_string(),
                    b: dir.display().to_string(),
                }
                .into());
            }
            runs[at].1.insert(sl.index, sl);
        }
    }
    let (dir0, _, count, _) = first.ok_or_else(|| Refused::Empty(dirs[0].display().to_string()))?;
    let mut out = Vec::new();
    for (run, shards) in runs {
        let missing: Vec<String> = (0..count)
            .filter(|i| !shards.contains_key(i))
            .map(|i| i.to_string())
            .collect();
        if !missing.is_empty() {
            let have: Vec<String> = shards.keys().map(u32::to_string).collect();
            return Err(Refused::Missing {
                run,
                missing: missing.join(", "),
                count,
                have: if have.is_empty() {
                    "none".into()
                } else {
                    have.join(", ")
                },
            }
            .into());
        }
        out.push((run, shards.into_values().collect()));
    }
    Ok(Input {
        runs: out,
        count,
        first: PathBuf::from(dir0),
    })
}

/// Refuse `b` unless it has the scenario hash, shard count and launch of `a`.
fn check(a: &(String, String, u32, f64), b: &(String, String, u32, f64)) -> Result<(), Refused> {
    let differ = |what, va: String, vb: String| Refused::Mismatch {
        what,
        a: a.0.clone(),
        va,
        b: b.0.clone(),
        vb,
    };
    if a.1 != b.1 {
        return Err(differ("scenario_hash", a.1.clone(), b.1.clone()));
    }
    if a.2 != b.2 {
        return Err(differ("shard count", a.2.to_string(), b.2.to_string()));
    }
    if a.3 != b.3 {
        return Err(differ("start_at", a.3.to_string(), b.3.to_string()));
    }
    Ok(())
}

/// Whether `path` is one of the inputs (merge never writes over a shard).
pub fn is_input(dirs: &[PathBuf], path: &Path) -> bool {
    let canon = |p: &Path| std::fs::canonicalize(p).ok();
    let out = canon(path);
    out.is_some() && dirs.iter().any(|d| canon(d) == out)
}
