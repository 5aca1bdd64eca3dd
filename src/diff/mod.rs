//! `runner diff BASE NEW [NEW…]`: did it get better or worse?
//!
//! In: result directories, `runs.jsonl` / `summary.csv` files and bench_serving JSONL files
//! ([`input`]); rows grouped into points and joined with the baseline's ([`join`]); per
//! metric the change and a verdict by its direction ([`metric`], [`compare`]), with means,
//! 95 % CIs and Welch's test when both sides have repeats ([`stats`]); the gate ([`gate`]).
//! Out: a text, Markdown, JSON or CSV report on stdout ([`render`], [`export`]) and the exit
//! code: 0, 2 for unusable inputs or flags, 4 when a gate rule is crossed.

mod compare;
mod export;
mod gate;
mod input;
mod join;
mod metric;
mod render;
mod stats;

use std::io::IsTerminal as _;
use std::path::PathBuf;

use clap::{Args, ValueEnum};

pub use compare::{Line, Verdict};
pub use gate::Failure;
pub use input::python_json;
pub use stats::{Stat, welch};

use crate::exit::Exit;
use crate::scenario::{self, GateRule};

/// `runner diff`'s flags.
#[derive(Debug, Clone, Args)]
pub struct DiffArgs {
    /// Results to compare, the baseline first: result directories (their runs.jsonl, else
    /// summary.csv), runs.jsonl or summary.csv files, or bench_serving JSONL result files.
    #[arg(required = true, num_args = 2.., value_name = "BASE NEW")]
    pub inputs: Vec<PathBuf>,
    /// Join rows on these columns instead of the run id (comma-separated or repeated).
    /// Default: run_id, or backend,dataset_name,request_rate,max_concurrency when an input
    /// has no run ids (bench_serving files).
    #[arg(long = "key", value_delimiter = ',')]
    pub keys: Vec<String>,
    /// Metrics to compare, `*` globs allowed (comma-separated or repeated). Default: request,
    /// output and total throughput and mean, median and p99 of TTFT, TPOT, ITL and E2E latency.
    #[arg(long, value_delimiter = ',')]
    pub metrics: Vec<String>,
    /// Gate rule METRIC:±AMOUNT[%|ms] (repeatable): `p99_ttft_ms:+10%` fails when p99 TTFT
    /// rises more than 10 %, `output_throughput:-5%` when throughput drops more than 5 %,
    /// `mean_itl_ms:+2ms` on an absolute rise. Exit 4 when one is crossed.
    #[arg(long = "fail-on", value_name = "RULE")]
    pub fail_on: Vec<String>,
    /// Also apply the `gate.fail_on` rules of this scenario file.
    #[arg(long)]
    pub scenario: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// A change smaller than this many percent is "same" (with repeats: even when
    /// significant).
    #[arg(long, default_value_t = 1.0, value_name = "PCT")]
    pub same_within: f64,
}

/// `--format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Aligned table (coloured on a terminal unless NO_COLOR is set).
    Text,
    /// GitHub-flavoured Markdown, for a pull-request comment.
    Markdown,
    /// One JSON document.
    Json,
    /// One row per run × metric × input.
    Csv,
}

/// Everything a report shows.
#[derive(Debug, Clone)]
pub struct Report {
    /// Input paths as given, the baseline first.
    pub inputs: Vec<String>,
    /// How rows were joined.
    pub key: String,
    /// Point × metric lines.
    pub lines: Vec<Line>,
    /// Points without a partner.
    pub unmatched: Vec<String>,
    /// What was resolved on the way (reruns, aggregates, ignored rows).
    pub notes: Vec<String>,
    /// Gate rules, as written.
    pub rules: Vec<String>,
    /// Crossed rules.
    pub failures: Vec<Failure>,
}

/// Build the report from the flags. Errors are usage errors (exit 2): they name the file,
/// rule or flag.
pub fn build(args: &DiffArgs) -> Result<Report, String> {
    let mut rules = Vec::new();
    for r in &args.fail_on {
        rules.push(GateRule::parse(r).map_err(|e| format!("--fail-on: {e}"))?);
    }
    if let Some(f) = &args.scenario {
        let loaded = scenario::load(f).map_err(|e| format!("--scenario: {e}"))?;
        for r in loaded.scenario.gate.iter().flat_map(|g| &g.fail_on) {
            rules.push(GateRule::parse(r).map_err(|e| format!("{}: gate: {e}", f.display()))?);
        }
    }
    let inputs = args
        .inputs
        .iter()
        .map(|p| input::read(p))
        .collect::<Result<Vec<_>, _>>()?;
    let key = if !args.keys.is_empty() {
        join::Key::Columns(args.keys.clone())
    } else if inputs.iter().all(input::Input::has_run_ids) {
        join::Key::RunId
    } else {
        join::Key::Columns(join::BENCH_KEYS.iter().map(|s| (*s).to_owned()).collect())
    };
    let names: Vec<String> = inputs
        .iter()
        .map(|i| i.path.display().to_string())
        .collect();
    let grouped: Vec<join::Points> = inputs.iter().map(|i| join::points(i, &key)).collect();
    let mut available: Vec<String> = Vec::new();
    for row in inputs.iter().flat_map(|i| &i.rows) {
        for (k, _) in &row.fields {
            if row.num(k).is_some() && !available.contains(k) {
                available.push(k.clone());
            }
        }
    }
    let (metrics, missing) = metric::select(&args.metrics, &available);
    if !missing.is_empty() {
        return Err(format!(
            "--metrics: {} matched no numeric column of the inputs (they have e.g. {})",
            missing.join(", "),
            available
                .iter()
                .take(8)
                .cloned()
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    // A gate rule always sees its metrics, and a rule that names none of the inputs' metrics
    // is an error rather than a gate that can never fail.
    let mut metrics = metrics;
    for r in &rules {
        let hits: Vec<&String> = available
            .iter()
            .filter(|a| metric::glob(&r.metric, a))
            .collect();
        if hits.is_empty() {
            return Err(format!(
                "gate rule `{r}`: no input has a metric `{}`; check the name (e.g. p99_ttft_ms, \
                 output_throughput)",
                r.metric
            ));
        }
        for h in hits {
            if !metrics.contains(h) {
                metrics.push(h.clone());
            }
        }
    }
    let others: Vec<&join::Points> = grouped[1..].iter().collect();
    let lines = compare::lines(&grouped[0], &others, &metrics, args.same_within);
    let named: Vec<(String, &join::Points)> = names[1..]
        .iter()
        .cloned()
        .zip(others.iter().copied())
        .collect();
    let unmatched = join::unmatched(&grouped[0], &named, &names[0]);
    let failures = gate::check(&rules, &lines, &names[1..]);
    Ok(Report {
        key: match &key {
            join::Key::RunId => "run_id (repeats /rep=K grouped)".into(),
            join::Key::Columns(c) => c.join(", "),
        },
        inputs: names,
        lines,
        unmatched,
        notes: grouped.iter().flat_map(|g| g.notes.clone()).collect(),
        rules: rules.iter().map(ToString::to_string).collect(),
        failures,
    })
}

/// The report in `format`.
pub fn render(r: &Report, format: Format, colour: bool) -> String {
    match format {
        Format::Text => render::text(r, colour),
        Format::Markdown => render::markdown(r),
        Format::Json => export::json(r),
        Format::Csv => export::csv(r),
    }
}

/// `runner diff`: print the report; returns the exit code ([`Exit::Regression`] when a gate
/// rule is crossed).
pub fn main(args: &DiffArgs) -> Exit {
    let report = match build(args) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return Exit::Usage;
        }
    };
    let colour = std::io::stdout().is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    print!("{}", render(&report, args.format, colour));
    if report.failures.is_empty() {
        return Exit::Ok;
    }
    if args.format != Format::Text {
        for f in &report.failures {
            eprintln!("regression: {f}");
        }
    }
    Exit::Regression
}
