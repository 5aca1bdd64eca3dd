//! `runner run`: execute a plan run by run — workload, schedule, warmup, cache flush,
//! profiler, engine, token accounting, metrics, reports — with embedded servers started
//! in-process for `embedded:` targets and remote ones checked for readiness first.
//!
//! Long sweeps: each run goes under a [`Control`] (stop rules, Ctrl-C, live counters and
//! the progress line); `repeat: N` points are folded into aggregate lines
//! ([`crate::repeats`]); `--resume` skips the runs [`crate::resume`] finds done.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result, bail};

use serde_json::Value;
use tokio_util::sync::CancellationToken;

use crate::engine::progress;
use crate::engine::{self, StopReason, StopRules, Target};
use crate::metrics;
use crate::plan::{Plan, RunSpec};
use crate::provenance;
use crate::record::RequestRecord;
use crate::repeats::Repeats;
use crate::report::{self, Results, RunInfo};
use crate::resume::{self, Previous};
use crate::scenario::{Dataset, Scenario};
use crate::search::RunSource;
use crate::sim;
use crate::tokenizer::Tokenizer;

mod one;
use crate::workload::{self, Workload};
pub use one::{RunResult, run_spec};

/// Options of `runner run` beyond the scenario.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Results directory instead of the scenario's.
    pub output: Option<PathBuf>,
    /// Truncate earlier results instead of appending.
    pub fresh: bool,
    /// `--label KEY=VALUE` flags; they win over the scenario's `labels:`.
    pub labels: Vec<(String, String)>,
    /// The scenario file, for its git commit in the provenance.
    pub scenario_file: Option<PathBuf>,
    /// Skip the runs `runs.jsonl` already holds for this scenario (same scenario hash, not
    /// interrupted).
    pub resume: bool,
    /// No progress display on stderr.
    pub quiet: bool,
    /// Cancelled on Ctrl-C: the current run stops dispatching, and the sweep ends after it.
    pub interrupt: CancellationToken,
    /// `--shard I/N --start-at T`: the shard, and the first run's start (Unix seconds).
    pub shard: Option<(crate::shard::Shard, f64)>,
}

/// How a whole sweep went.
#[derive(Debug, Clone, Default)]
pub struct SweepOutcome {
    /// Runs executed.
    pub runs: usize,
    /// Runs skipped because they were done before (`--resume`).
    pub skipped: usize,
    /// Runs in which every request failed.
    pub all_failed: Vec<String>,
    /// Runs that stopped before their last request, with the reason (`stopped`).
    pub stopped: Vec<(String, &'static str)>,
    /// The sweep ended on Ctrl-C (exit 130).
    pub interrupted: bool,
    /// Where results went (`runner run`).
    pub dir: PathBuf,
    /// Runs outside a search that failed their SLO, with the thresholds they failed.
    pub slo_failed: Vec<(String, Vec<String>)>,
    /// Capacity rows of a search.
    pub capacity: Vec<crate::search::Row>,
}

/// The plan's runs, in order.
struct PlanSource<'a>(&'a Plan, usize);

impl RunSource for PlanSource<'_> {
    fn next(&mut self, _: Option<(&RunInfo, &metrics::Summary)>) -> Option<RunSpec> {
        let spec = self.0.runs.get(self.1).cloned();
        self.1 += 1;
        spec
    }

    fn header(&self, spec: &RunSpec) -> String {
        format!("[{}/{}] {}", spec.index + 1, self.0.runs.len(), spec.id)
    }
}

/// How a sweep is driven beyond its plan: `runner run`'s options (the defaults are
/// `runner bench`'s: no progress, no hash, nothing skipped).
#[derive(Debug, Clone, Default)]
pub struct SweepControl {
    /// Ctrl-C.
    pub interrupt: CancellationToken,
    /// Progress display of each run.
    pub progress: progress::Mode,
    /// Written on every run line.
    pub scenario_hash: Option<String>,
    /// Runs done before (`--resume`).
    pub previous: Previous,
    /// The invocation's provenance, stamped on every run.
    pub origin: serde_json::Map<String, Value>,
    /// `--shard I/N --start-at T`: this process sends its share of every run.
    pub shard: Option<Arc<crate::shard::Sharding>>,
}

/// Start or reach every target: embedded servers start, remote ones must answer the
/// readiness check; the model comes from the target, the scenario, or `/v1/models`.
async fn connect(
    s: &Scenario,
    client: &reqwest::Client,
    servers: &mut Vec<sim::Server>,
) -> Result<Vec<Arc<Target>>> {
    let mut targets = Vec::new();
    for (i, t) in s.targets.iter().enumerate() {
        let named = t.model.clone().or(s.model.clone());
        let (base_url, model) = match (&t.embedded, &t.base_url) {
            (Some(cfg), _) => {
                let server = sim::start_local(cfg.clone()).await?;
                let url = server.base_url();
                eprintln!("embedded server for target `{}` listening on {url}", t.name);
                servers.push(server);
                (url, named.unwrap_or(cfg.model.clone()))
            }
            (None, Some(url)) => (url.clone(), named.unwrap_or_default()),
            (None, None) => bail!("target `{}` has neither base_url nor embedded", t.name),
        };
        let mut target = Target::new(
            client.clone(),
            &base_url,
            t.backend,
            model,
            s.request.clone(),
        )
        .with_context(|| format!("target `{}`", t.name))?
        .with_headers(&t.headers)
        .with_context(|| format!("target `{}`", t.name))?
        .with_seed(s.seed);
        if let Some(src) = &t.template {
            target = target.with_template(&format!("targets[{i}].template"), src)?;
        }
        if t.embedded.is_none() {
            eprintln!(
                "waiting for target `{}` at {} ...",
                t.name,
                crate::scenario::secrets::redact(&base_url)
            );
            target
                .wait_ready(t.ready_timeout_s)
                .await
                .with_context(|| format!("target `{}`", t.name))?;
        }
        if target.model().is_empty() {
            let model = engine::first_model(client, &base_url, target.headers())
                .await
                .with_context(|| {
                    format!(
                        "target `{}`: no `model` given and none could be read from \
                         {base_url}/v1/models",
                        t.name
                    )
                })?;
            eprintln!("target `{}`: model `{model}` (from /v1/models)", t.name);
            target = target.with_model(model);
        }
        targets.push(Arc::new(target));
    }
    Ok(targets)
}

/// Where a sweep reports as it goes. `runner run` prints a result block per run and writes
/// the results directory ([`run`]); `runner bench` prints bench_serving's output and appends
/// to its output file.
pub trait RunSink {
    /// A dataset's requests were built (every dataset is built before the first run).
    fn workload_built(&mut self, _dataset: &Dataset, _requests: &Workload<'_>) {}
    /// Whether `run_done` needs every record whole (details files, per-request goodput);
    /// otherwise records are folded as requests finish and memory stays bounded.
    fn keeps_records(&self) -> bool {
        false
    }
    /// A run finished: report it.
    fn run_done(
        &mut self,
        info: &RunInfo,
        summary: &metrics::Summary,
        records: &[RequestRecord],
    ) -> Result<()>;
    /// The last repeat of a point finished: report the aggregate line ([`crate::repeats`]).
    fn aggregate_done(&mut self, _aggregate: &Value) -> Result<()> {
        Ok(())
    }
    /// A capacity search ended: report its table.
    fn capacity_done(&mut self, _rows: &[crate::search::Row]) -> Result<()> {
        Ok(())
    }
}

/// `runner run`'s sink: the console block and runner's notes, then the results directory.
struct ResultsSink<'a>(&'a mut Results, bool);

impl RunSink for ResultsSink<'_> {
    fn keeps_records(&self) -> bool {
        self.0.details()
    }

    fn run_done(
        &mut self,
        info: &RunInfo,
        summary: &metrics::Summary,
        records: &[RequestRecord],
    ) -> Result<()> {
        println!("\nRun: {}", info.run_id);
        let goodput = info.slo.as_ref().map(|v| &v.goodput);
        let extra = goodput.filter(|g| !g.slos.is_empty()).map(|g| g.section());
        print!(
            "{}",
            report::block_with(info, summary, None, &extra.unwrap_or_default())
        );
        print!(
            "{}",
            crate::scenario::secrets::redact(&report::notes(summary, records))
        );
        if let Some(v) = &info.slo {
            print!("{}", v.line());
        }
        if let Some(instant) = report::in_flight::peak_of(summary, records)
            && instant != summary.max_concurrent_requests
        {
            println!(
                "Peak in-flight requests (at one instant): {instant}; \"Peak concurrent \
                 requests\" counts those active within the same second, as bench_serving does"
            );
        }
        if let Some(why) = info.stopped {
            let finished = summary.completed + summary.failed;
            println!("{}", engine::stop::stop_note(why, summary.failed, finished));
        }
        if summary.completed == 0 {
            println!("All requests failed in run {}.", info.run_id);
        }
        self.0.run_done(info, summary, records)
    }

    fn aggregate_done(&mut self, aggregate: &Value) -> Result<()> {
        print!("{}", crate::repeats::console(aggregate));
        self.0.aggregate_done(aggregate)
    }

    fn capacity_done(&mut self, rows: &[crate::search::Row]) -> Result<()> {
        print!("{}", crate::search::table::render(rows));
        crate::search::table::write(self.0.dir(), rows, self.1)
    }
}

/// Run every run of `plan`, printing a result block per run and writing the results
/// directory.
pub async fn run(s: &Scenario, plan: &Plan, opts: &RunOptions) -> Result<SweepOutcome> {
    let dir = opts.output.clone().unwrap_or_else(|| s.output_dir());
    let sharding = crate::shard::for_sweep(s, opts.shard, &dir)?;
    let dir = sharding
        .as_ref()
        .map_or(dir, |sh| sh.shard.dir(&sh.results));
    let mut results = Results::open(&dir, s.output.details, opts.fresh)?;
    let value = resume::scenario_value(s);
    let hash = resume::hash(&value);
    resume::record_scenario(results.dir(), &value, opts.resume)?;
    let previous = if opts.resume {
        resume::previous(&results.dir().join("runs.jsonl"), &hash)?
    } else {
        Previous::default()
    };
    let mut s = s.clone();
    s.labels.extend(opts.labels.iter().cloned());
    let ctl = SweepControl {
        interrupt: opts.interrupt.clone(),
        progress: progress::Mode::detect(opts.quiet),
        scenario_hash: Some(hash),
        previous,
        origin: provenance::invocation(opts.scenario_file.as_deref()),
        shard: sharding.map(Arc::new),
    };
    let mut sink = ResultsSink(&mut results, opts.fresh);
    let mut outcome = execute_with(&s, plan, &mut sink, &ctl).await?;
    outcome.dir = results.dir().to_owned();
    print!("\n{}", results.finish()?);
    eprintln!("\nresults: {}", outcome.dir.join("runs.jsonl").display());
    Ok(outcome)
}

/// Run every run of `plan`, reporting each to `sink`: start embedded servers, reach remote
/// targets, build every dataset, then run one after another.
pub async fn execute(s: &Scenario, plan: &Plan, sink: &mut dyn RunSink) -> Result<SweepOutcome> {
    let ctl = SweepControl {
        origin: provenance::invocation(None),
        ..SweepControl::default()
    };
    execute_with(s, plan, sink, &ctl).await
}

/// [`execute`] under `ctl`: Ctrl-C, progress, the scenario hash, runs to skip, and the
/// invocation's provenance (host, runner version, scenario file and commit) to stamp on
/// every run.
pub async fn execute_with(
    s: &Scenario,
    plan: &Plan,
    sink: &mut dyn RunSink,
    ctl: &SweepControl,
) -> Result<SweepOutcome> {
    crate::nofile::raise();
    for note in &s.skipped_targets {
        eprintln!("note: {note}");
    }
    let tokenizer = Tokenizer::for_scenario(s)?;
    let client = engine::client_for(&s.request)?;
    let mut servers = Vec::new();
    let outcome = match connect(s, &client, &mut servers).await {
        Ok(targets) => sweep(s, plan, &targets, &tokenizer, sink, ctl).await,
        Err(e) => Err(e),
    };
    for server in servers {
        server.stop().await;
    }
    outcome
}

/// What one run needs besides its [`RunSpec`]: the scenario, reached targets, built
/// workloads (by dataset index), the tokenizer, and the sweep's control.
pub struct RunContext<'a> {
    /// The scenario.
    pub s: &'a Scenario,
    /// Targets by index, reached.
    pub targets: &'a [Arc<Target>],
    /// Requests of each dataset, by index.
    pub workloads: &'a HashMap<usize, Workload<'a>>,
    /// The tokenizer.
    pub tokenizer: &'a Tokenizer,
    /// Ctrl-C, progress, scenario hash, provenance.
    pub ctl: &'a SweepControl,
    /// What each target said about itself (by target index), probed after its first run.
    pub servers: std::sync::Mutex<HashMap<usize, Value>>,
}

async fn sweep(
    s: &Scenario,
    plan: &Plan,
    targets: &[Arc<Target>],
    tokenizer: &Tokenizer,
    sink: &mut dyn RunSink,
    ctl: &SweepControl,
) -> Result<SweepOutcome> {
    // Every dataset is built before the first run, so a missing file fails before any load.
    let mut workloads: HashMap<usize, Workload<'_>> = HashMap::new();
    for spec in &plan.runs {
        if workloads.contains_key(&spec.dataset) {
            continue;
        }
        let dataset = &s.datasets[spec.dataset];
        let built = workload::load(dataset, spec.seed, tokenizer)?;
        let rows = built.rows().unwrap_or_default();
        if let Some(d) = crate::dataset::inspect::drift(rows).filter(|d| d.differing > 0) {
            eprintln!("dataset `{}`: {d}", dataset.name());
        }
        tokenizer
            .take_errors()
            .warn(&format!("dataset `{}`", dataset.name()));
        sink.workload_built(dataset, &built);
        workloads.insert(spec.dataset, built);
    }
    let ctx = RunContext {
        s,
        targets,
        workloads: &workloads,
        tokenizer,
        ctl,
        servers: Default::default(),
    };
    let mut outcome = SweepOutcome::default();
    let mut repeats = Repeats::new(s.repeat);
    for line in &ctl.previous.lines {
        if let Some(agg) = repeats.add(line)
            && !ctl
                .previous
                .aggregated
                .contains(agg["run_id"].as_str().unwrap_or_default())
        {
            sink.aggregate_done(&agg)?;
        }
    }
    let lens: Vec<usize> = (0..s.datasets.len())
        .map(|d| workloads.get(&d).map_or(0, Workload::len))
        .collect();
    let mut source: Box<dyn RunSource> = match &s.search {
        Some(search) => Box::new(crate::search::Driver::new(s, search, &lens)),
        None => Box::new(PlanSource(plan, 0)),
    };
    let mut last: Option<(RunInfo, metrics::Summary)> = None;
    while let Some(spec) = source.next(last.as_ref().map(|(i, s)| (i, s))) {
        let spec = &spec;
        if spec.search.is_none() && ctl.previous.done.contains(&spec.id) {
            eprintln!("{}: done before, skipped (--resume)", source.header(spec));
            outcome.skipped += 1;
            continue;
        }
        if ctl.interrupt.is_cancelled() {
            outcome.interrupted = true;
            break;
        }
        eprintln!("\n{}", source.header(spec));
        let rules = match &spec.search {
            Some(mark) => StopRules::of(&crate::search::run_load(&s.load, mark)),
            None => StopRules::of(&s.load),
        };
        let keep = sink.keeps_records();
        let r = run_spec(&ctx, spec, rules, keep).await?;
        let interrupted = r.stopped == Some(StopReason::Interrupted);
        if let Some(v) = r.info.slo.as_ref().filter(|v| !v.passed)
            && spec.search.is_none()
        {
            outcome.slo_failed.push((spec.id.clone(), v.failed_names()));
        }
        if r.summary.completed == 0 && !interrupted {
            outcome.all_failed.push(spec.id.clone());
        }
        sink.run_done(&r.info, &r.summary, &r.records)?;
        outcome.runs += 1;
        if let Some(why) = r.stopped {
            outcome.stopped.push((spec.id.clone(), why.as_str()));
        }
        if interrupted {
            outcome.interrupted = true;
            break;
        }
        // The repeats see the line without the results directory's keys
        // (`max_in_flight_requests`, `details`).
        let line = Value::Object(report::RunLine::new(&r.info, &r.summary).to_map());
        if let Some(agg) = repeats.add(&line) {
            sink.aggregate_done(&agg)?;
        }
        last = Some((r.info, r.summary));
    }
    outcome.capacity = source.capacity();
    if !outcome.capacity.is_empty() {
        sink.capacity_done(&outcome.capacity)?;
    }
    Ok(outcome)
}
