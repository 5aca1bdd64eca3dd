//! The command line: `run`, `diff`, `plan`, `validate`, `schema`, `dataset inspect`, `serve`,
//! and `bench` (bench_serving's flags, see [`crate::bench`]).
//!
//! Exit codes are a contract, kept in one enum ([`Exit`]): 0 ok, 1 runtime failure (including
//! a run in which every request failed), 2 invalid usage or scenario, 3 a run (outside a
//! capacity search) did not meet the scenario's SLO, 4 `diff` found a regression, 130
//! interrupted (Ctrl-C).

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

use crate::exit::Exit;
use crate::interrupt::{self, OnCtrlC};
use crate::plan;
use crate::run::{self, RunOptions, SweepOutcome};
use crate::scenario::secrets::redact;
use crate::scenario::{self, LoadError, Scenario};
use crate::sim::{self, SimConfig};

/// Benchmark LLM inference servers from scenario files.
#[derive(Debug, Parser)]
#[command(name = "runner", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run every run of a scenario and write results.
    Run {
        /// Scenario file (.yaml, .yml or .toml).
        file: PathBuf,
        /// Results directory (default: the scenario's `output.dir`, else results/<name>).
        #[arg(long, short)]
        output: Option<PathBuf>,
        /// Replace earlier results in the directory instead of appending to them.
        #[arg(long, conflicts_with = "resume")]
        fresh: bool,
        /// When the runs end, draw the plots and write report.md (as `runner report`; also the
        /// scenario's `output.report: true`).
        #[arg(long)]
        report: bool,
        /// Label every run (repeatable): KEY=VALUE, added to the scenario's `labels:`
        /// and winning over them.
        #[arg(long = "label", value_name = "KEY=VALUE", value_parser = crate::provenance::parse_label)]
        labels: Vec<(String, String)>,
        /// Skip the runs the results directory already holds for this scenario (finished,
        /// not interrupted) and run the rest; refused if the scenario changed.
        #[arg(long)]
        resume: bool,
        /// No progress display on stderr.
        #[arg(long, short)]
        quiet: bool,
        /// Send shard I of N's share of every run (I from 0), or `auto`: I and N from
        /// JOB_COMPLETION_INDEX and RUNNER_SHARDS, or SLURM_ARRAY_TASK_ID and
        /// SLURM_ARRAY_TASK_COUNT. Results go to DIR/shard-I-of-N; `runner merge` combines
        /// them.
        #[arg(long, value_name = "I/N|auto", value_parser = crate::shard::Shard::parse,
              requires = "start_at", conflicts_with = "resume")]
        shard: Option<crate::shard::Shard>,
        /// When every shard starts the first run, in Unix seconds (e.g. `$(date +%s)` plus a
        /// minute); later runs start when every shard finished the previous one.
        #[arg(long, value_name = "UNIX_TIME", requires = "shard")]
        start_at: Option<f64>,
    },
    /// Combine the results of `runner run --shard` processes into one results directory, as
    /// one process would have written it.
    Merge {
        /// Shard results directories (or a directory holding shard-I-of-N directories).
        #[arg(required = true)]
        dirs: Vec<PathBuf>,
        /// Results directory to write (replaced).
        #[arg(long, short)]
        output: PathBuf,
    },
    /// Draw a results directory's sweep (SVG and PNG plots) and write its report.md.
    Report {
        /// Results directory written by `runner run`.
        dir: PathBuf,
    },
    /// Compare results: per-metric deltas, significance with repeats, a regression gate
    /// (exit 4).
    Diff(Box<crate::diff::DiffArgs>),
    /// Print the runs a scenario expands to, without sending anything.
    Plan {
        /// Scenario file.
        file: PathBuf,
    },
    /// Check scenario files and report every problem with file, line and field.
    Validate {
        /// Scenario files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Print the JSON Schema of scenario files (`--result`: of result lines).
    Schema {
        /// Print the schema of `runs.jsonl` lines (and `runner bench --output-file` lines)
        /// instead, as committed in `schema/result.schema.json`.
        #[arg(long)]
        result: bool,
    },
    /// Look at a scenario's datasets.
    Dataset {
        #[command(subcommand)]
        command: DatasetCommand,
    },
    /// Benchmark the online serving throughput: a drop-in for `python -m
    /// sglang.bench_serving`, same flags (unique prefixes work), same output. The flags
    /// make a one-run scenario; `--dump-scenario` prints it.
    #[command(infer_long_args = true)]
    Bench(Box<crate::bench::BenchArgs>),
    /// Measure this client's own limits on this host against the embedded server: maximum
    /// request and token rates, timing overhead, scheduler lag.
    Calibrate {
        /// Requests per measurement.
        #[arg(long, default_value_t = 5000)]
        requests: usize,
        /// Concurrency cap of the throughput measurement.
        #[arg(long, default_value_t = 256)]
        concurrency: u32,
        /// Output tokens per request of the throughput measurement.
        #[arg(long, default_value_t = 64)]
        output_len: u32,
        /// Concurrent streams of the timing measurement.
        #[arg(long, default_value_t = 500)]
        streams: u32,
    },
    /// Run the embedded simulated inference server until Ctrl-C.
    Serve {
        /// Address to bind. Anything other than loopback exposes the server to the network.
        #[arg(long, default_value = "127.0.0.1")]
        host: IpAddr,
        /// Port to listen on (0 picks a free one).
        #[arg(long, default_value_t = 30000)]
        port: u16,
        #[command(flatten)]
        config: Box<SimConfig>,
    },
}

#[derive(Debug, Subcommand)]
enum DatasetCommand {
    /// Build each dataset of a scenario and show its length statistics, histogram and first
    /// requests, without sending anything.
    Inspect {
        /// Scenario file.
        file: PathBuf,
        /// Only the dataset with this name.
        #[arg(long)]
        dataset: Option<String>,
        /// How many requests to show per dataset.
        #[arg(long, short = 'n', default_value_t = 3)]
        requests: usize,
    },
}

/// Parse the command line, run it, print errors; returns the process exit code.
pub fn main() -> Exit {
    let matches = Cli::command().get_matches();
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    if let Command::Bench(args) = &cli.command {
        let sub = matches
            .subcommand_matches("bench")
            .expect("the bench subcommand was parsed");
        return crate::bench::main(args, sub);
    }
    match execute(cli) {
        Ok(code) => code,
        Err(e) => {
            let load = e.downcast_ref::<LoadError>();
            match load {
                // Every problem of an invalid file, each on its own line.
                Some(le) if !le.diagnostics().is_empty() => {
                    eprintln!("{}", redact(&le.to_string()))
                }
                _ => eprintln!("error: {}", redact(&format!("{e:#}"))),
            }
            // A missing or unreadable scenario file is a usage error too.
            if load.is_some() {
                Exit::Usage
            } else {
                Exit::Failure
            }
        }
    }
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

fn execute(cli: Cli) -> Result<Exit> {
    match cli.command {
        Command::Bench(_) => unreachable!("`bench` is run from `main`"),
        Command::Merge { dirs, output } => Ok(crate::merge::command(&dirs, &output)),
        Command::Report { dir } => Ok(crate::report::plot::command(&dir)),
        Command::Diff(args) => Ok(crate::diff::main(&args)),
        Command::Calibrate {
            requests,
            concurrency,
            output_len,
            streams,
        } => {
            crate::calibrate::command(crate::calibrate::Calibration {
                requests: requests.max(1),
                concurrency: concurrency.max(1),
                output_len: output_len.max(1),
                streams: streams.max(1),
            })?;
            Ok(Exit::Ok)
        }
        Command::Schema { result } => {
            match result {
                true => println!("{}", result_schema_text()),
                false => println!("{}", schema_text()),
            }
            Ok(Exit::Ok)
        }
        Command::Validate { files } => Ok(validate(&files)),
        Command::Dataset {
            command:
                DatasetCommand::Inspect {
                    file,
                    dataset,
                    requests,
                },
        } => {
            let loaded = scenario::load(&file)?;
            let s = &loaded.scenario;
            if let Some(name) = dataset.as_deref()
                && !s.datasets.iter().any(|d| d.name() == name)
            {
                let names: Vec<&str> = s.datasets.iter().map(|d| d.name()).collect();
                eprintln!(
                    "error: --dataset {name}: no dataset of that name; {} has: {}",
                    file.display(),
                    names.join(", ")
                );
                return Ok(Exit::Usage);
            }
            inspect(s, dataset.as_deref(), requests)?;
            Ok(Exit::Ok)
        }
        Command::Plan { file } => {
            let loaded = scenario::load(&file)?;
            let p = plan::build(&loaded.scenario);
            for note in &loaded.scenario.skipped_targets {
                println!("note: {note}");
            }
            match &loaded.scenario.search {
                Some(search) => print!("{}", crate::search::describe(&loaded.scenario, search)),
                None => print!("{}", p.render(&loaded.scenario)),
            }
            Ok(Exit::Ok)
        }
        Command::Run {
            file,
            output,
            fresh,
            report,
            labels,
            resume,
            quiet,
            shard,
            start_at,
        } => {
            let loaded = scenario::load(&file)?;
            if shard.is_some() && loaded.scenario.search.is_some() {
                eprintln!("error: {}", crate::shard::SEARCH_REFUSED);
                return Ok(Exit::Usage);
            }
            let p = plan::build(&loaded.scenario);
            let opts = RunOptions {
                output,
                fresh,
                labels,
                scenario_file: Some(loaded.path),
                resume,
                quiet,
                shard: shard.zip(start_at),
                ..RunOptions::default()
            };
            let outcome = runtime()?.block_on(async {
                interrupt::install(&opts.interrupt, OnCtrlC::Drain);
                run::run(&loaded.scenario, &p, &opts).await
            });
            let outcome = match outcome {
                Err(e) if e.is::<crate::resume::ScenarioChanged>() => {
                    eprintln!("error: {e}");
                    return Ok(Exit::Usage);
                }
                r => r?,
            };
            let report = report || loaded.scenario.output.report;
            if report && crate::report::plot::command(&outcome.dir) != Exit::Ok {
                return Ok(Exit::Failure);
            }
            Ok(sweep_exit(&outcome))
        }
        Command::Serve { host, port, config } => {
            if let Err(e) = config.resolve() {
                eprintln!("error: invalid server settings:\n{e}");
                return Ok(Exit::Usage);
            }
            if !host.is_loopback() {
                eprintln!(
                    "warning: binding {host}: the simulated server is reachable from the network"
                );
            }
            runtime()?.block_on(async {
                let server = sim::start(*config, SocketAddr::new(host, port)).await?;
                eprintln!(
                    "embedded server listening on {} (Ctrl-C to stop)",
                    server.base_url()
                );
                server.serve_until_ctrl_c().await
            })?;
            Ok(Exit::Ok)
        }
    }
}

/// The exit code of a finished sweep: 130 interrupted, 1 if every request of some run
/// failed, 3 if a run (outside a capacity search) did not meet the SLO, else 0 (said on
/// stderr).
fn sweep_exit(outcome: &SweepOutcome) -> Exit {
    if outcome.interrupted {
        eprintln!(
            "interrupted after {} run{}; `runner run --resume` runs the rest",
            outcome.runs,
            if outcome.runs == 1 { "" } else { "s" }
        );
        return Exit::Interrupted;
    }
    if !outcome.all_failed.is_empty() {
        eprintln!(
            "error: every request failed in {} of {} runs: {}",
            outcome.all_failed.len(),
            outcome.runs,
            outcome.all_failed.join(", ")
        );
        return Exit::Failure;
    }
    if !outcome.slo_failed.is_empty() {
        let runs: Vec<String> = outcome
            .slo_failed
            .iter()
            .map(|(id, names)| format!("{id} ({})", names.join(", ")))
            .collect();
        eprintln!(
            "error: SLO not met in {} of {} runs: {}",
            runs.len(),
            outcome.runs,
            runs.join("; ")
        );
        return Exit::SloNotMet;
    }
    Exit::Ok
}

/// `runner dataset inspect`.
fn inspect(s: &Scenario, only: Option<&str>, first: usize) -> Result<()> {
    let tokenizer = crate::tokenizer::Tokenizer::for_scenario(s)?;
    let chosen: Vec<_> = s
        .datasets
        .iter()
        .filter(|d| only.is_none_or(|n| n == d.name()))
        .collect();
    println!("tokenizer: {}, seed {}", tokenizer.name(), s.seed);
    for d in chosen {
        let requests = crate::workload::build(d, s.seed, &tokenizer)?;
        let title = format!("\ndataset {} ({})", d.name(), d.kind());
        print!(
            "{}",
            crate::dataset::inspect::render(&title, &requests, first)
        );
    }
    Ok(())
}

/// The schema as `runner schema` prints it and `schema/scenario.schema.json` stores it.
pub fn schema_text() -> String {
    serde_json::to_string_pretty(&Scenario::json_schema()).expect("schema serializes")
}

/// The schema as `runner schema --result` prints it and `schema/result.schema.json` stores it.
pub fn result_schema_text() -> String {
    serde_json::to_string_pretty(&crate::report::RunLine::json_schema()).expect("schema serializes")
}

fn validate(files: &[PathBuf]) -> Exit {
    let mut code = Exit::Ok;
    for f in files {
        match scenario::load(f) {
            Ok(l) => {
                let runs = plan::build(&l.scenario).runs.len();
                let what = match &l.scenario.search {
                    Some(search) => {
                        let pairs = l.scenario.targets.len() * l.scenario.datasets.len();
                        format!(
                            "{pairs} capacity search{} of at most {} runs",
                            if pairs == 1 { "" } else { "es" },
                            search.max_runs
                        )
                    }
                    None => format!("{runs} run{}", if runs == 1 { "" } else { "s" }),
                };
                println!("{}: ok ({what})", f.display());
            }
            Err(e @ LoadError::Invalid(_)) => {
                eprintln!("{e}");
                code = Exit::Usage;
            }
            Err(e) => {
                eprintln!("error: {:#}", anyhow::Error::from(e));
                code = Exit::Usage;
            }
        }
    }
    code
}
