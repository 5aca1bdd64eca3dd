//! `runner bench`: a drop-in for `python -m sglang.bench_serving`. Its flags (see [`args`])
//! are sugar for a one-run scenario ([`setup`]), run by the same engine as `runner run`; what
//! it prints and writes follows bench_serving ([`sink`], [`output`], [`goodput`]).
//!
//! Exit codes as the rest of runner ([`Exit`]): 0 ok, 1 runtime failure (including a run in
//! which every request failed), 2 a usage error or a flag runner does not support, 130
//! interrupted.

pub mod args;
mod datasets;
mod dump;
mod flags;
pub mod goodput;
mod options;
pub mod output;
pub mod setup;
pub mod sink;
mod usage;

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::ArgMatches;
use clap::parser::ValueSource;
use tokio_util::sync::CancellationToken;

pub use args::BenchArgs;
pub use setup::Setup;
pub use usage::UsageError;

use crate::exit::Exit;
use crate::interrupt::{self, OnCtrlC};
use crate::plan;

/// Run `runner bench` with its parsed flags; `matches` tells which flags were given.
/// Returns the exit code.
pub fn main(args: &BenchArgs, matches: &ArgMatches) -> Exit {
    let given = |id: &str| {
        matches
            .try_get_raw(id)
            .ok()
            .flatten()
            .is_some_and(|_| matches.value_source(id) == Some(ValueSource::CommandLine))
    };
    let setup = match setup::build(args, &given) {
        Ok(s) => s,
        Err(e) => {
            eprintln!(
                "error: {}",
                crate::scenario::secrets::redact(&e.to_string())
            );
            return Exit::Usage;
        }
    };
    for note in &setup.notes {
        eprintln!("note: {note}");
    }
    if args.dump_scenario {
        print!("{}", setup.yaml);
        return Exit::Ok;
    }
    match run(args, &setup) {
        Ok(code) => code,
        Err(e) => {
            let kind = datasets::kind(args.dataset.dataset_name);
            let text = format!("{e:#}");
            let msg = crate::scenario::secrets::redact(&text);
            eprintln!("error: {}", flags::in_flag_terms(&msg, kind));
            Exit::Failure
        }
    }
}

/// Run the scenario: open the output file, then warmup, flush, profile, measure, report.
fn run(args: &BenchArgs, setup: &Setup) -> Result<Exit> {
    let path = PathBuf::from(match &args.output.output_file {
        Some(p) => p.clone(),
        None => output::auto_name(args, &output::today_mmdd()),
    });
    let existed = path.exists();
    let file = output::OutputFile::open(&path)?;
    let mut rt = tokio::runtime::Builder::new_multi_thread();
    if let Some(n) = args.rust.rust_worker_threads {
        rt.worker_threads(n.max(1));
    }
    let rt = rt
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let plan = plan::build(&setup.scenario);
    let mut sink = sink::BenchSink {
        args,
        slos: &setup.slos,
        file,
    };
    // Ctrl-C stops at once, as bench_serving's KeyboardInterrupt does: no drain.
    let stop = CancellationToken::new();
    let outcome = rt.block_on(async {
        interrupt::install(&stop, OnCtrlC::Stop);
        tokio::select! {
            r = crate::run::execute(&setup.scenario, &plan, &mut sink) => Some(r),
            _ = stop.cancelled() => None,
        }
    });
    let Some(outcome) = outcome else {
        interrupted(&path, existed);
        return Ok(Exit::Interrupted);
    };
    let outcome = outcome?;
    eprintln!("\nresult appended to {}", sink.file.path().display());
    Ok(Exit::ok_if(outcome.all_failed.is_empty()))
}

/// Ctrl-C: say what was (not) written; a result file this invocation created and left empty
/// is removed.
fn interrupted(path: &std::path::Path, existed: bool) {
    let empty = std::fs::metadata(path).is_ok_and(|m| m.len() == 0);
    if empty && !existed {
        let _ = std::fs::remove_file(path);
        eprintln!(
            "\ninterrupted before any run finished; no result written ({} not created)",
            path.display()
        );
    } else {
        eprintln!(
            "\ninterrupted; the runs that finished before are in {}",
            path.display()
        );
    }
}

#[cfg(test)]
pub(crate) mod tests;
