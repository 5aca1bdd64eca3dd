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

use crate::engine::progress::{self, Progress};
use crate::engine::{self, Control, StopReason, StopRules, Target};
use crate::metrics;
use crate::plan::Plan;
use crate::plan::RunSpec;
use crate::protocol;
use crate::provenance;
use crate::record::RequestRecord;
use crate::repeats::Repeats;
use crate::report::{self, Results, RunInfo};
use crate::resume::{self, Previous};
use crate::scenario::{Arrival, Dataset, Family, Rate, Scenario};
use crate::schedule;
use crate::sim;
use crate::tokenizer::Tokenizer;
use crate::workload::{self, RequestSpec};

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
            eprintln!("waiting for target `{}` at {base_url} ...", t.name);
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
    fn workload_built(&mut self, _dataset: &Dataset, _requests: &[RequestSpec]) {}
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
}

/// `runner run`'s sink: the console block and runner's notes, then the results directory.
struct ResultsSink<'a>(&'a mut Results);

impl RunSink for ResultsSink<'_> {
    fn run_done(
        &mut self,
        info: &RunInfo,
        summary: &metrics::Summary,
        records: &[RequestRecord],
    ) -> Result<()> {
        print!("{}", report::block(info, summary));
        print!("{}", report::notes(summary, records));
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
}

/// Run every run of `plan`, printing a result block per run and writing the results
/// directory.
pub async fn run(s: &Scenario, plan: &Plan, opts: &RunOptions) -> Result<SweepOutcome> {
    let dir = opts.output.clone().unwrap_or_else(|| s.output_dir());
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
    };
    let mut outcome = execute_with(&s, plan, &mut ResultsSink(&mut results), &ctl).await?;
    outcome.dir = results.dir().to_owned();
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
    let tokenizer = Tokenizer::for_scenario(s)?;
    let client = engine::client_for(&s.request)?;
    let mut servers = Vec::new();
    let targets = connect(s, &client, &mut servers).await;
    let targets = match targets {
        Ok(t) => t,
        Err(e) => {
            for server in servers {
                server.stop().await;
            }
            return Err(e);
        }
    };
    let outcome = sweep(s, plan, &targets, &tokenizer, sink, ctl).await;
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
    pub workloads: &'a HashMap<usize, Vec<RequestSpec>>,
    /// The tokenizer.
    pub tokenizer: &'a Tokenizer,
    /// Ctrl-C, progress, scenario hash, provenance.
    pub ctl: &'a SweepControl,
    /// What each target said about itself (by target index), probed after its first run.
    pub servers: std::sync::Mutex<HashMap<usize, Value>>,
}

/// One finished run.
#[derive(Debug)]
pub struct RunResult {
    /// What the result line says about the run (with `stopped`).
    pub info: RunInfo,
    /// Its numbers.
    pub summary: metrics::Summary,
    /// Its requests.
    pub records: Vec<RequestRecord>,
    /// Why it stopped before its last request, if it did.
    pub stopped: Option<StopReason>,
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
    let mut workloads: HashMap<usize, Vec<RequestSpec>> = HashMap::new();
    for spec in &plan.runs {
        if workloads.contains_key(&spec.dataset) {
            continue;
        }
        let dataset = &s.datasets[spec.dataset];
        let built = workload::build(dataset, spec.seed, tokenizer)?;
        if let Some(d) = crate::dataset::inspect::drift(&built).filter(|d| d.differing > 0) {
            eprintln!("dataset `{}`: {d}", dataset.name());
        }
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
    let n = plan.runs.len();
    for spec in &plan.runs {
        if ctl.previous.done.contains(&spec.id) {
            eprintln!(
                "[{}/{n}] {}: done before, skipped (--resume)",
                spec.index + 1,
                spec.id
            );
            outcome.skipped += 1;
            continue;
        }
        if ctl.interrupt.is_cancelled() {
            outcome.interrupted = true;
            break;
        }
        eprintln!("\n[{}/{n}] {}", spec.index + 1, spec.id);
        let r = run_spec(&ctx, spec, StopRules::of(&s.load)).await?;
        let interrupted = r.stopped == Some(StopReason::Interrupted);
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
        let line = Value::Object(report::result_json(&r.info, &r.summary));
        if let Some(agg) = repeats.add(&line) {
            sink.aggregate_done(&agg)?;
        }
    }
    Ok(outcome)
}

/// Seed of a run's arrival times: the run seed, mixed with the repeat number from the
/// second repeat on, so repeats share their prompts but not their exact schedule.
fn schedule_seed(spec: &RunSpec) -> u64 {
    match spec.repeat {
        Some(k) if k > 1 => crate::sim::hash::mix2(spec.seed, u64::from(k)),
        _ => spec.seed,
    }
}

/// Execute one run of the plan under `rules` (a capacity search passes
/// `StopRules { saturation: true, ..StopRules::of(&s.load) }`): warmup, cache flush,
/// profiler, the engine, token accounting and metrics. Nothing is reported.
pub async fn run_spec(ctx: &RunContext<'_>, spec: &RunSpec, rules: StopRules) -> Result<RunResult> {
    let s = ctx.s;
    let tokenizer = ctx.tokenizer;
    let dataset = &s.datasets[spec.dataset];
    let requests = &ctx.workloads[&spec.dataset];
    let target = ctx.targets[spec.target].clone();
    let t = &s.targets[spec.target];
    if requests.iter().any(|r| r.prompt.is_conversation()) && !protocol::is_chat(t.backend) {
        bail!(
            "run {}: dataset `{}` replays multi-turn conversations, which need a chat \
             backend (sglang-oai-chat, vllm-chat, lmdeploy-chat); target `{}` uses `{}`",
            spec.id,
            dataset.name(),
            t.name,
            t.backend.as_str()
        );
    }
    target
        .check(requests)
        .with_context(|| format!("run {}: cannot build request bodies", spec.id))?;
    let started_at = provenance::now_rfc3339();
    let cap = spec.max_concurrency.limit();
    let warm = s.load.warmup_requests;
    if warm > 0 && !requests.is_empty() {
        println!("Starting warmup with {warm} sequences...");
        match engine::warmup(target.clone(), &requests[0], warm, cap).await {
            Ok(()) => {
                println!("Warmup completed with {warm} sequences. Starting main benchmark run...")
            }
            Err(e) => eprintln!("warning: warmup failed (every warmup request failed): {e}"),
        }
    }
    if s.load.flush_cache {
        target
            .flush_cache(s.load.flush_cache_timeout_s)
            .await
            .with_context(|| format!("run {}", spec.id))?;
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    }
    if let Some(p) = &s.load.profile {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or(0.0);
        target
            .start_profile(p, now)
            .await
            .with_context(|| format!("run {}", spec.id))?;
    }
    let mut control = Control::new(rules, &ctx.ctl.interrupt);
    control.closed_loop = rules.duration_s.is_some()
        && spec.request_rate == Rate::Infinite
        && s.load.arrival != Arrival::Ramp;
    let control = Arc::new(control);
    let arrivals = schedule::Arrivals::of(&s.load);
    let due = schedule::due_times(
        requests,
        spec.request_rate,
        &arrivals,
        schedule_seed(spec),
        rules.duration_s,
    );
    let total = rules.duration_s.is_none().then_some(requests.len() as u64);
    let shown = Progress::start(ctx.ctl.progress, &spec.id, control.clone(), total);
    let mut done = engine::execute_controlled(target.clone(), requests, due, cap, &control).await;
    shown.finish();
    let stopped = control.reason();
    if let Some(p) = &s.load.profile
        && let Err(e) = target.stop_profile(p).await
    {
        eprintln!("warning: {e}");
    }
    metrics::count_tokens(&mut done.records, tokenizer);
    let mut summary = metrics::summarize(&done.records, done.duration_s, tokenizer);
    summary.server_info = target.server_info().await;
    let known = ctx
        .servers
        .lock()
        .expect("servers lock")
        .get(&spec.target)
        .cloned();
    let server = match known {
        Some(v) => v,
        None => {
            let v = engine::probe_server(&target, summary.server_info.as_ref()).await;
            let mut servers = ctx.servers.lock().expect("servers lock");
            servers.insert(spec.target, v.clone());
            v
        }
    };
    if t.backend.family() == Family::Sglang {
        summary.accept_length = summary.server_info.as_ref().and_then(engine::accept_length);
    }
    let info = RunInfo {
        run_id: spec.id.clone(),
        scenario: s.name.clone(),
        target: t.name.clone(),
        backend: t.backend.as_str().to_owned(),
        dataset: dataset.name().to_owned(),
        dataset_kind: dataset.kind().to_owned(),
        request_rate: spec.request_rate,
        max_concurrency: spec.max_concurrency,
        seed: spec.seed,
        random: dataset.random_lens(),
        cache_report: s.output.cache_report,
        stamp: provenance::Stamp::new(started_at, &s.labels, &ctx.ctl.origin, &server),
        repeat: spec.repeat,
        stopped: stopped.map(StopReason::as_str),
        scenario_hash: ctx.ctl.scenario_hash.clone(),
    };
    Ok(RunResult {
        info,
        summary,
        records: done.records,
        stopped,
    })
}
