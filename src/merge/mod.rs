//! `runner merge DIR... --output DIR`: the results of `runner run --shard` processes
//! combined into the results directory one process would have written.
//!
//! In: shard results directories ([`input`] checks that they are the N shards of one launch
//! of one scenario, each once). Out: `runs.jsonl`, `summary.csv`, `summary.md` (and
//! `requests/` with details) through the same writers as `runner run` ([`Results`]), the
//! result blocks on stdout, and each run's spread of shard start times.
//!
//! Counts, token totals and throughputs are exact ([`combine`]); percentiles come from the
//! merged HDR histograms, or are exact when every shard wrote its details ([`exact`]). The
//! SLO verdict is judged again on the merged line when the scenario has one.

mod combine;
mod exact;
mod info;
pub mod input;
#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde_json::Value;

use crate::exit::Exit;
use crate::repeats::Repeats;
use crate::report::{self, Results};
use crate::scenario::Slo;

pub use input::Refused;

/// `runner merge`: merge, print, and the exit code (2 when the shards are refused).
pub fn command(dirs: &[PathBuf], output: &Path) -> Exit {
    match merge(dirs, output) {
        Ok(()) => Exit::Ok,
        Err(e) => {
            eprintln!(
                "error: {}",
                crate::scenario::secrets::redact(&format!("{e:#}"))
            );
            if e.is::<Refused>() {
                Exit::Usage
            } else {
                Exit::Failure
            }
        }
    }
}

/// The scenario the shards ran (their `scenario.json`), for its SLO and repeat count.
fn scenario(dir: &Path) -> Value {
    std::fs::read_to_string(dir.join("scenario.json"))
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or(Value::Null)
}

/// Merge the shards in `dirs` into `output` (replacing its results).
pub fn merge(dirs: &[PathBuf], output: &Path) -> Result<()> {
    let input = input::read(dirs)?;
    if input::is_input(dirs, output)
        || input
            .runs
            .iter()
            .flat_map(|r| &r.1)
            .any(|s| input::is_input(std::slice::from_ref(&s.dir), output))
    {
        bail!(
            "--output {} is one of the shard directories; merge into a new directory",
            output.display()
        );
    }
    let scenario = scenario(&input.first);
    let slo = serde_json::from_value::<Option<Slo>>(scenario["slo"].clone())
        .ok()
        .flatten();
    let details = input.runs.iter().all(|(_, s)| exact::available(s));
    let mut results = Results::open(output, details, true)?;
    if !scenario.is_null() {
        let path = output.join("scenario.json");
        std::fs::write(&path, serde_json::to_string_pretty(&scenario)?)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    let mut repeats = Repeats::new(scenario["repeat"].as_u64().unwrap_or(1) as u32);
    println!(
        "merging {} run(s) from {} shards (percentiles {})",
        input.runs.len(),
        input.count,
        if details {
            "exact: every shard wrote its details"
        } else {
            "from merged HDR histograms, within 1/2048 of exact"
        }
    );
    for (run, shards) in &input.runs {
        let mut summary = combine::summary(shards).with_context(|| format!("run {run}"))?;
        let records = if details {
            let r = exact::records(shards).with_context(|| format!("run {run}"))?;
            exact::overlay(&mut summary, &r);
            r
        } else {
            Vec::new()
        };
        let mut info = info::info(shards)?;
        if let Some(slo) = &slo {
            if details || slo.per_request().is_empty() {
                let mut v = crate::slo::judge(slo, &summary, &records, summary.duration_s);
                if records.is_empty() {
                    // No per-request thresholds: every successful request is a good one.
                    let sent = (summary.completed + summary.failed).max(1) as f64;
                    v.goodput.slo_attainment = summary.completed as f64 / sent;
                    v.goodput.request_goodput = summary.request_throughput;
                }
                info.slo = Some(v);
            } else {
                eprintln!(
                    "note: run {run}: per-request SLO thresholds need every shard's details \
                     (output.details); no SLO verdict on the merged line"
                );
            }
        }
        println!("\nRun: {run}");
        print!("{}", report::block(&info, &summary));
        println!("{}", spread_note(shards));
        results.run_done(&info, &summary, &records)?;
        // The repeats see the line without the results directory's keys, as in `runner run`.
        let line = Value::Object(report::RunLine::new(&info, &summary).to_map());
        if let Some(agg) = repeats.add(&line) {
            results.aggregate_done(&agg)?;
        }
    }
    print!("\n{}", results.finish()?);
    eprintln!("\nmerged results: {}", output.join("runs.jsonl").display());
    Ok(())
}

/// The console line on a run's shard start times and clocks.
fn spread_note(shards: &[input::ShardLine]) -> String {
    let late = shards
        .iter()
        .map(|s| s.at("start_late_ms"))
        .fold(f64::NEG_INFINITY, f64::max);
    let offsets: Vec<f64> = shards
        .iter()
        .filter_map(|s| s.shard.get("clock")?.get("offset_ms")?.as_f64())
        .collect();
    let clocks = if offsets.len() == shards.len() {
        let lo = offsets.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = offsets.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        format!("; shard clocks against the target: {lo:+.1} to {hi:+.1} ms")
    } else {
        "; a shard's clock offset against the target is unknown (no Date header)".into()
    };
    format!(
        "Shards: {}, start spread {:.1} ms (latest start {:.1} ms after its instant){clocks}",
        shards.len(),
        info::start_spread_ms(shards),
        late
    )
}
