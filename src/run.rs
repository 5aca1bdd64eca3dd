//! `runner run`: execute a plan run by run — workload, schedule, warmup, cache flush,
//! profiler, engine, token accounting, metrics, reports — with embedded servers started
//! in-process for `embedded:` targets and remote ones checked for readiness first.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result, bail};

use crate::engine::{self, Target};
use crate::metrics;
use crate::plan::Plan;
use crate::protocol;
use crate::provenance;
use crate::record::RequestRecord;
use crate::report::{self, Results, RunInfo};
use crate::scenario::{Dataset, Family, Scenario};
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
    /// A run finished: report it.
    fn run_done(
        &mut self,
        info: &RunInfo,
        summary: &metrics::Summary,
        records: &[RequestRecord],
    ) -> Result<()>;
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
        print!(
            "{}",
            crate::scenario::secrets::redact(&report::notes(summary, records))
        );
        if summary.completed == 0 {
            println!("All requests failed in run {}.", info.run_id);
        }
        self.0.run_done(info, summary, records)
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
    let mut outcome = execute_with(&s, plan, &mut ResultsSink(&mut results), origin).await?;
    outcome.dir = results.dir().to_owned();
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
        sink.workload_built(dataset, &built);
        workloads.insert(spec.dataset, built);
    }
    let mut outcome = SweepOutcome::default();
    let mut servers: HashMap<usize, serde_json::Value> = HashMap::new();
    let n = plan.runs.len();
    for spec in &plan.runs {
        eprintln!("\n[{}/{n}] {}", spec.index + 1, spec.id);
        let dataset = &s.datasets[spec.dataset];
        let requests = &workloads[&spec.dataset];
        let target = targets[spec.target].clone();
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
        let mut done = engine::execute(target.clone(), requests, &offsets, cap).await;
        if let Some(p) = &s.load.profile
            && let Err(e) = target.stop_profile(p).await
        {
            eprintln!(
                "warning: {}",
                crate::scenario::secrets::redact(&e.to_string())
            );
        }
        metrics::count_tokens(&mut done.records, tokenizer);
        let mut summary = metrics::summarize(&done.records, done.duration_s, tokenizer);
        summary.server_info = target.server_info().await;
        if let std::collections::hash_map::Entry::Vacant(e) = servers.entry(spec.target) {
            let info = summary.server_info.as_ref();
            e.insert(engine::probe_server(&target, info).await);
        }
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
            stamp: provenance::Stamp::new(started_at, &s.labels, origin, &servers[&spec.target]),
        };
        if let Some(h) = crate::hint::wrong_backend(&summary, t.backend, &target.base_url) {
            eprintln!("error: {h}");
        }
        if summary.completed == 0 {
            outcome.all_failed.push(spec.id.clone());
        }
        sink.run_done(&info, &summary, &done.records)?;
        outcome.runs += 1;
    }
    Ok(outcome)
}
