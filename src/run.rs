//! `runner run`: execute a plan run by run — workload, schedule, warmup, engine, metrics,
//! reports — with embedded servers started in-process for `embedded:` targets.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result, bail};

use crate::engine::{self, Target};
use crate::metrics;
use crate::plan::Plan;
use crate::protocol;
use crate::report::{self, Results, RunInfo};
use crate::scenario::Scenario;
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
}

/// How a whole sweep went.
#[derive(Debug, Clone, Default)]
pub struct SweepOutcome {
    /// Runs executed.
    pub runs: usize,
    /// Runs in which every request failed.
    pub all_failed: Vec<String>,
    /// Where results went.
    pub dir: PathBuf,
}

/// Run every run of `plan`, printing a result block per run.
pub async fn run(s: &Scenario, plan: &Plan, opts: &RunOptions) -> Result<SweepOutcome> {
    let dir = opts.output.clone().unwrap_or_else(|| s.output_dir());
    let mut results = Results::open(&dir, s.output.details, opts.fresh)?;
    let tokenizer = Tokenizer::for_scenario(s)?;
    let client = engine::client()?;

    let mut servers = HashMap::new();
    let mut targets = Vec::new();
    for (i, t) in s.targets.iter().enumerate() {
        let (base_url, model) = match (&t.embedded, &t.base_url) {
            (Some(cfg), _) => {
                let server = sim::start_local(cfg.clone()).await?;
                let url = server.base_url();
                eprintln!("embedded server for target `{}` listening on {url}", t.name);
                servers.insert(i, server);
                let model = t
                    .model
                    .clone()
                    .or(s.model.clone())
                    .unwrap_or(cfg.model.clone());
                (url, model)
            }
            (None, Some(url)) => {
                let model = match t.model.clone().or(s.model.clone()) {
                    Some(m) => m,
                    None => first_model(&client, url).await.with_context(|| {
                        format!("target `{}`: no `model` given and none could be read from {url}/v1/models", t.name)
                    })?,
                };
                (url.clone(), model)
            }
            (None, None) => bail!("target `{}` has neither base_url nor embedded", t.name),
        };
        let proto = protocol::for_backend(t.backend)
            .with_context(|| protocol::unsupported(t.backend).unwrap_or_default())?;
        let target = Target::new(
            client.clone(),
            &base_url,
            &t.headers,
            proto,
            model,
            s.request.clone(),
        )?;
        targets.push(Arc::new(target));
    }

    // Every dataset is built before the first run, so a missing file fails before any load.
    let mut workloads: HashMap<usize, Vec<RequestSpec>> = HashMap::new();
    for spec in &plan.runs {
        if workloads.contains_key(&spec.dataset) {
            continue;
        }
        let dataset = &s.datasets[spec.dataset];
        let built = workload::build(dataset, spec.seed, &tokenizer)?;
        if let Some(d) = crate::dataset::inspect::drift(&built).filter(|d| d.differing > 0) {
            eprintln!("dataset `{}`: {d}", dataset.name());
        }
        workloads.insert(spec.dataset, built);
    }
    let mut outcome = SweepOutcome {
        dir: results.dir().to_owned(),
        ..Default::default()
    };
    let n = plan.runs.len();
    for spec in &plan.runs {
        eprintln!("\n[{}/{n}] {}", spec.index + 1, spec.id);
        let dataset = &s.datasets[spec.dataset];
        let requests = &workloads[&spec.dataset];
        let target = targets[spec.target].clone();
        let cap = spec.max_concurrency.limit();
        let warm = s.load.warmup_requests;
        if warm > 0 && !requests.is_empty() {
            println!("Starting warmup with {warm} sequences...");
            match engine::warmup(target.clone(), &requests[0], warm, cap).await {
                Ok(()) => println!(
                    "Warmup completed with {warm} sequences. Starting main benchmark run..."
                ),
                Err(e) => eprintln!("warning: warmup failed (every warmup request failed): {e}"),
            }
        }
        let offsets = schedule::for_requests(
            requests,
            spec.request_rate,
            s.load.arrival,
            s.load.burstiness,
            spec.seed,
        );
        let done = engine::execute(target, requests, &offsets, cap).await;
        let summary = metrics::summarize(&done.records, done.duration_s, &tokenizer);
        let t = &s.targets[spec.target];
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
        };
        print!("{}", report::block(&info, &summary));
        if summary.failed > 0 {
            let kinds: Vec<String> = summary
                .failures
                .iter()
                .map(|(k, v)| format!("{k}: {v}"))
                .collect();
            println!("Failed requests: {} ({})", summary.failed, kinds.join(", "));
            if let Some(first) = done.records.iter().find_map(|r| r.error.as_deref()) {
                println!("First error: {first}");
            }
        }
        if summary.completed == 0 {
            println!("All requests failed in run {}.", spec.id);
            outcome.all_failed.push(spec.id.clone());
        }
        results.run_done(&info, &summary, &done.records)?;
        outcome.runs += 1;
    }
    for (_, server) in servers {
        server.stop().await;
    }
    eprintln!("\nresults: {}", outcome.dir.join("runs.jsonl").display());
    Ok(outcome)
}

/// The first model id listed by `GET {base}/v1/models` (bench_serving's auto-select).
async fn first_model(client: &reqwest::Client, base_url: &str) -> Result<String> {
    let url = format!("{}/v1/models", base_url.trim_end_matches('/'));
    let v: serde_json::Value = client
        .get(&url)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    v["data"][0]["id"]
        .as_str()
        .map(str::to_owned)
        .context("the model list is empty")
}
