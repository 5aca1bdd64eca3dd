//! `runner run`: execute a plan run by run — workload, schedule, warmup, cache flush,
//! profiler, engine, token accounting, metrics, reports — with embedded servers started
//! in-process for `embedded:` targets and remote ones checked for readiness first.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result, bail};

use crate::engine::{self, Target};
use crate::metrics;
use crate::plan::{Plan, RunSpec};
use crate::provenance;
use crate::record::RequestRecord;
use crate::report::{self, Results, RunInfo};
use crate::scenario::{Dataset, Family, Scenario};
use crate::schedule;
use crate::search::RunSource;
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
}

/// How a whole sweep went.
#[derive(Debug, Clone, Default)]
pub struct SweepOutcome {
    /// Runs executed.
    pub runs: usize,
    /// Runs in which every request failed.
    pub all_failed: Vec<String>,
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
    fn workload_built(&mut self, _dataset: &Dataset, _requests: &[RequestSpec]) {}
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
        if summary.completed == 0 {
            println!("All requests failed in run {}.", info.run_id);
        }
        self.0.run_done(info, summary, records)
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
    let mut results = Results::open(&dir, s.output.details, opts.fresh)?;
    let mut s = s.clone();
    s.labels.extend(opts.labels.iter().cloned());
    let origin = provenance::invocation(opts.scenario_file.as_deref());
    let mut outcome =
        execute_with(&s, plan, &mut ResultsSink(&mut results, opts.fresh), origin).await?;
    outcome.dir = results.dir().to_owned();
    print!("\n{}", results.finish()?);
    eprintln!("\nresults: {}", outcome.dir.join("runs.jsonl").display());
    Ok(outcome)
}

/// Run every run of `plan`, reporting each to `sink`: start embedded servers, reach remote
/// targets, build every dataset, then run one after another.
pub async fn execute(s: &Scenario, plan: &Plan, sink: &mut dyn RunSink) -> Result<SweepOutcome> {
    execute_with(s, plan, sink, provenance::invocation(None)).await
}

/// [`execute`] with the invocation's provenance (host, runner version, scenario file and
/// commit) to stamp on every run.
pub async fn execute_with(
    s: &Scenario,
    plan: &Plan,
    sink: &mut dyn RunSink,
    origin: serde_json::Map<String, serde_json::Value>,
) -> Result<SweepOutcome> {
    engine::warm::raise_nofile_limit();
    for note in &s.skipped_targets {
        eprintln!("note: {note}");
    }
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
    let outcome = sweep(s, plan, &targets, &tokenizer, sink, &origin).await;
    for server in servers {
        server.stop().await;
    }
    outcome
}

async fn sweep(
    s: &Scenario,
    plan: &Plan,
    targets: &[Arc<Target>],
    tokenizer: &Tokenizer,
    sink: &mut dyn RunSink,
    origin: &serde_json::Map<String, serde_json::Value>,
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
        tokenizer
            .take_errors()
            .warn(&format!("dataset `{}`", dataset.name()));
        sink.workload_built(dataset, &built);
        workloads.insert(spec.dataset, built);
    }
    let mut outcome = SweepOutcome::default();
    let mut servers: HashMap<usize, serde_json::Value> = HashMap::new();
    let lens: Vec<usize> = (0..s.datasets.len())
        .map(|d| workloads.get(&d).map_or(0, Vec::len))
        .collect();
    let mut source: Box<dyn RunSource> = match &s.search {
        Some(search) => Box::new(crate::search::Driver::new(s, search, &lens)),
        None => Box::new(PlanSource(plan, 0)),
    };
    let mut last: Option<(RunInfo, metrics::Summary)> = None;
    while let Some(spec) = source.next(last.as_ref().map(|(i, s)| (i, s))) {
        let spec = &spec;
        eprintln!("\n{}", source.header(spec));
        let dataset = &s.datasets[spec.dataset];
        let requests = &workloads[&spec.dataset];
        let requests = &requests[..spec.limit.unwrap_or(requests.len()).min(requests.len())];
        let target = targets[spec.target].clone();
        let t = &s.targets[spec.target];
        target
            .check(requests)
            .with_context(|| format!("run {}: cannot build request bodies", spec.id))?;
        let started_at = provenance::now_rfc3339();
        let cap = spec.max_concurrency.limit();
        let warm = s.load.warmup_requests;
        if warm > 0 && !requests.is_empty() {
            println!("Starting warmup with {warm} sequences...");
            match engine::warmup(target.clone(), &requests[0], warm, cap).await {
                Ok(()) => println!(
                    "Warmup completed with {warm} sequences. Starting main benchmark run..."
                ),
                Err(e) => eprintln!(
                    "warning: warmup failed (every warmup request failed): {}",
                    crate::scenario::secrets::redact(&e.to_string())
                ),
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
        let offsets = schedule::for_requests(
            requests,
            spec.request_rate,
            s.load.arrival,
            s.load.burstiness,
            spec.seed,
        );
        let warmed =
            engine::warm::before_run(&target, cap, spec.request_rate.as_f64(), requests.len())
                .await;
        // Per-request SLO thresholds (goodput) need every record, past the exact budget too.
        let per_request_slo = s.slo.as_ref().is_some_and(|x| !x.per_request().is_empty());
        let keep = sink.keeps_records() || per_request_slo;
        let mut collector = metrics::Collector::new(Some(tokenizer), keep);
        let ran =
            engine::execute_into(target.clone(), requests, &offsets, cap, &mut collector).await;
        if let Some(p) = &s.load.profile
            && let Err(e) = target.stop_profile(p).await
        {
            eprintln!(
                "warning: {}",
                crate::scenario::secrets::redact(&e.to_string())
            );
        }
        let (mut summary, records) = collector.finish(ran.duration_s);
        summary.warm_connections = warmed;
        engine::pace::judge(&mut summary, &ran.pace);
        summary.tokenizer_errors = tokenizer.take_errors().warn(&format!("run {}", spec.id));
        summary.server_info = target.server_info().await;
        if let std::collections::hash_map::Entry::Vacant(e) = servers.entry(spec.target) {
            let info = summary.server_info.as_ref();
            e.insert(engine::probe_server(&target, info).await);
        }
        if t.backend.family() == Family::Sglang {
            summary.accept_length = summary.server_info.as_ref().and_then(engine::accept_length);
        }
        let mut info = RunInfo {
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
            stamp: provenance::Stamp::new(started_at, &s.labels, origin, &servers[&spec.target]),
            slo: None,
            search: spec.search.clone(),
        };
        if let Some(slo) = &s.slo {
            let result = report::result_json(&info, &summary);
            let verdict = crate::slo::judge(slo, &result, &records, ran.duration_s);
            if !verdict.passed && spec.search.is_none() {
                outcome
                    .slo_failed
                    .push((spec.id.clone(), verdict.failed_names()));
            }
            info.slo = Some(verdict);
        }
        if let Some(h) = crate::hint::wrong_backend(&summary, t.backend, &target.base_url) {
            eprintln!("error: {h}");
        }
        if summary.completed == 0 {
            outcome.all_failed.push(spec.id.clone());
        }
        sink.run_done(&info, &summary, &records)?;
        outcome.runs += 1;
        last = Some((info, summary));
    }
    outcome.capacity = source.capacity();
    if !outcome.capacity.is_empty() {
        sink.capacity_done(&outcome.capacity)?;
    }
    Ok(outcome)
}
