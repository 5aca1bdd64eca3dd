//! One run of a sweep: in a [`RunSpec`] and the sweep's [`RunContext`]; out a
//! [`RunResult`] (its result line's info with the SLO verdict, summary, records kept, and why
//! it stopped early). Warmup, cache flush, profiler, warm connections, the engine under the
//! run's [`StopRules`], token accounting and metrics; nothing is reported here.

use std::sync::Arc;

use anyhow::{Context, Result, bail};

use super::RunContext;
use crate::engine::progress::Progress;
use crate::engine::{self, Control, StopReason, StopRules};
use crate::metrics;
use crate::plan::RunSpec;
use crate::provenance;
use crate::record::RequestRecord;
use crate::report::RunInfo;
use crate::scenario::{Arrival, Family, Rate};
use crate::schedule;

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

/// Seed of a run's arrival times: the run seed, mixed with the repeat number from the
/// second repeat on, so repeats share their prompts but not their exact schedule.
fn schedule_seed(spec: &RunSpec) -> u64 {
    match spec.repeat {
        Some(k) if k > 1 => crate::sim::hash::mix2(spec.seed, u64::from(k)),
        _ => spec.seed,
    }
}

/// Execute one run of the plan under `rules` (a capacity search's runs add the saturation
/// stop, [`crate::search::run_load`]): warmup, cache flush, profiler, warm connections,
/// the engine (records folded as they finish; every record kept with `keep` or per-request
/// SLO thresholds), token accounting, metrics and the SLO verdict. Nothing is reported.
pub async fn run_spec(
    ctx: &RunContext<'_>,
    spec: &RunSpec,
    rules: StopRules,
    keep: bool,
) -> Result<RunResult> {
    let s = ctx.s;
    let tokenizer = ctx.tokenizer;
    let dataset = &s.datasets[spec.dataset];
    let requests = &ctx.workloads[&spec.dataset];
    let requests = &requests.take(spec.limit.unwrap_or(requests.len()));
    let target = ctx.targets[spec.target].clone();
    let t = &s.targets[spec.target];
    if requests.has_conversations() && !t.backend.is_chat() {
        bail!(
            "run {}: dataset `{}` replays multi-turn conversations, which need a chat \
             backend (sglang-oai-chat, vllm-chat, lmdeploy-chat); target `{}` uses `{}`",
            spec.id,
            dataset.name(),
            t.name,
            t.backend.as_str()
        );
    }
    let first: Vec<_> = requests
        .first()
        .into_iter()
        .map(|r| r.into_owned())
        .collect();
    target
        .check(&first)
        .with_context(|| format!("run {}: cannot build request bodies", spec.id))?;
    let started_at = provenance::now_rfc3339();
    let arrivals = schedule::Arrivals::of(&s.load);
    let due = schedule::due_times(
        requests.len(),
        requests.rows(),
        spec.request_rate,
        &arrivals,
        schedule_seed(spec),
        rules.duration_s,
    );
    let mut cap = spec.max_concurrency.limit();
    // A shard keeps its share of the requests, due times and cap ([`crate::shard`]).
    let (requests, due) = match &ctx.ctl.shard {
        Some(sh) => {
            let mine = sh.share(requests, due, cap)?;
            cap = mine.cap;
            (mine.requests, mine.due)
        }
        None => (requests.clone(), due),
    };
    let requests = &requests;
    // A shard waits for the others before its warmup, and for the start instant after it.
    let planned = match &ctx.ctl.shard {
        Some(sh) => Some(
            sh.plan(&spec.id, &target.base_url, &ctx.ctl.interrupt)
                .await?,
        ),
        None => None,
    };
    let warm = s.load.warmup_requests;
    if let (true, Some(first)) = (warm > 0, first.first()) {
        println!("Starting warmup with {warm} sequences...");
        match engine::warmup(target.clone(), first, warm, cap).await {
            Ok(()) => {
                println!("Warmup completed with {warm} sequences. Starting main benchmark run...")
            }
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
    let mut control = Control::new(rules, &ctx.ctl.interrupt);
    control.closed_loop = rules.duration_s.is_some()
        && spec.request_rate == Rate::Infinite
        && s.load.arrival != Arrival::Ramp;
    let control = Arc::new(control);
    let shards = ctx.ctl.shard.as_ref().map_or(1, |sh| sh.shard.count);
    let rate = spec.request_rate.as_f64() / f64::from(shards);
    let warmed = engine::warm::before_run(&target, cap, rate, requests.len()).await;
    // Per-request SLO thresholds (goodput) need every record, past the exact budget too.
    let per_request_slo = s.slo.as_ref().is_some_and(|x| !x.per_request().is_empty());
    let mut watch = crate::hint::Watch::new(t.backend, &target.base_url);
    let mut collector = metrics::Collector::new(Some(tokenizer), keep || per_request_slo)
        .watched(move |r| watch.observe(r));
    let total = rules.duration_s.is_none().then_some(requests.len() as u64);
    let begun = match (&ctx.ctl.shard, planned) {
        (Some(sh), Some(p)) => Some(sh.begin(&spec.id, p, &ctx.ctl.interrupt).await?),
        _ => None,
    };
    let shown = Progress::start(ctx.ctl.progress, &spec.id, control.clone(), total);
    let ran = engine::execute_into_controlled(
        target.clone(),
        requests,
        due,
        cap,
        &control,
        &mut collector,
    )
    .await;
    shown.finish();
    let shard_note = match (&ctx.ctl.shard, &begun) {
        (Some(sh), Some(b)) => Some(sh.end(b, ran.start, ran.duration_s)?),
        _ => None,
    };
    let stopped = control.reason();
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
        stamp: provenance::Stamp::new(started_at, &s.labels, &ctx.ctl.origin, &server),
        slo: None,
        search: spec.search.clone(),
        repeat: spec.repeat,
        stopped: stopped.map(StopReason::as_str),
        scenario_hash: ctx.ctl.scenario_hash.clone(),
    };
    if let (Some(note), Some(p)) = (shard_note, info.stamp.provenance.as_object_mut()) {
        p.insert("shard".into(), note);
    }
    if let Some(slo) = &s.slo {
        let mut verdict = crate::slo::judge(slo, &summary, &records, ran.duration_s);
        if stopped == Some(StopReason::Saturated) {
            crate::slo::fail_saturated(&mut verdict);
        }
        info.slo = Some(verdict);
    }
    if let Some(h) = crate::hint::wrong_backend(&summary, t.backend, &target.base_url) {
        eprintln!("error: {h}");
    }
    Ok(RunResult {
        info,
        summary,
        records,
        stopped,
    })
}
