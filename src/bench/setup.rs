//! Flags → scenario: every `runner bench` flag becomes part of a one-run [`Scenario`]
//! (target, dataset, load, request options), or a usage error that names it.
//!
//! In: the parsed [`BenchArgs`] and which flags were given on the command line. Out: a
//! [`Setup`]: the scenario as YAML and as the typed scenario *loaded from that YAML* (so the
//! run and `--dump-scenario` can never disagree), the goodput SLOs, and notes for flags
//! that are accepted but change nothing.

use std::collections::BTreeMap;

use super::args::{BenchArgs, DatasetArg};
use super::goodput::{self, Slo};
use super::usage::{UsageError, invalid};
use super::{datasets, flags};
use crate::scenario::{
    self, Arrival, Axis, Backend, Concurrency, Dataset, Load, OutputOptions, Rate, Scenario, Sweep,
    Target,
};

/// Everything `runner bench` runs from.
#[derive(Debug, Clone)]
pub struct Setup {
    /// The one-run scenario, loaded from [`Setup::yaml`].
    pub scenario: Scenario,
    /// The scenario file `--dump-scenario` prints (header values as `${RUNNER_HEADER_…}`).
    pub yaml: String,
    /// `--goodput` SLOs, in the order given.
    pub slos: Vec<Slo>,
    /// Accepted flags that change nothing, said once on stderr.
    pub notes: Vec<String>,
}

/// `--base-url` verbatim, else `http://{host}:{port}` (IPv6 hosts bracketed).
pub fn base_url(args: &BenchArgs) -> String {
    let t = &args.target;
    if let Some(url) = &t.base_url {
        return url.clone();
    }
    let port = t.port.unwrap_or(t.backend.facts().default_port);
    let host = if t.host.contains(':') && !t.host.starts_with('[') {
        format!("[{}]", t.host)
    } else {
        t.host.clone()
    };
    format!("http://{host}:{port}")
}

/// `--backend`, refused where runner cannot drive it: gserver, and trt or truss without the
/// `--model` their servers cannot tell.
fn backend(args: &BenchArgs) -> Result<Backend, UsageError> {
    let b = args.target.backend;
    if let Some(no) = &b.facts().unsupported {
        return Err(UsageError::Unsupported {
            flag: format!("--backend {}", b.as_str()),
            why: no.bench_why,
        });
    }
    if args.target.model.is_none() && !b.facts().lists_models {
        return Err(invalid(format!(
            "--backend {} needs --model (its server has no model list to read it from)",
            b.as_str()
        )));
    }
    Ok(b)
}

/// Flags runner does not implement; each fails when given.
fn unsupported(given: &dyn Fn(&str) -> bool) -> Result<(), UsageError> {
    let list: [(&str, &'static str, &'static str); 5] = [
        (
            "plot_throughput",
            "--plot-throughput",
            "there are no terminal plots; the peak windows are printed and written as \
             max_output_tokens_per_s and max_concurrent_requests",
        ),
        (
            "print_requests",
            "--print-requests",
            "per-request log lines are not printed; use --output-details for every request's \
             lengths, times, text and error",
        ),
        (
            "pd_separated",
            "--pd-separated",
            "profiling prefill and decode workers separately is not implemented; profile \
             each server with its own --base-url and --profile",
        ),
        (
            "profile_prefill_url",
            "--profile-prefill-url",
            "PD-separated profiling is not implemented; profile each worker with its own \
             --base-url and --profile",
        ),
        (
            "profile_decode_url",
            "--profile-decode-url",
            "PD-separated profiling is not implemented; profile each worker with its own \
             --base-url and --profile",
        ),
    ];
    for (id, flag, why) in list {
        if given(id) {
            return Err(UsageError::Unsupported {
                flag: flag.to_owned(),
                why,
            });
        }
    }
    Ok(())
}

/// Build the one-run scenario from the flags. `given(id)` says whether a flag (by its field
/// name, e.g. `random_input_len`) was on the command line.
pub fn build(args: &BenchArgs, given: &dyn Fn(&str) -> bool) -> Result<Setup, UsageError> {
    unsupported(given)?;
    let mut notes = Vec::new();
    let t = &args.target;
    let backend = backend(args)?;
    let dataset = dataset(args, given, backend, &mut notes)?;
    let headers = headers(&t.header)?;
    let tokenizer = tokenizer(args, &mut notes);
    let target = Target {
        name: backend.as_str().into(),
        backend,
        base_url: Some(base_url(args)),
        model: None,
        headers,
        embedded: None,
        template: None,
        when_env: None,
        ready_timeout_s: t.ready_check_timeout_sec as f64,
    };
    let mooncake = matches!(dataset, Dataset::Mooncake(_));
    let load = load(args, given, mooncake, &mut notes)?;
    let request = super::options::request(args, given, backend, &mut notes)?;
    let slos = goodput::parse(&args.output.goodput)?;
    if args.rust.rust_client {
        notes.push(
            "--rust-client: runner is itself a Rust client, so every run uses it".to_owned()
                + if args.rust.rust_worker_threads.is_some() {
                    "; --rust-worker-threads sets the client's runtime threads"
                } else {
                    ""
                },
        );
    }
    let scenario = Scenario {
        name: "bench".into(),
        model: t.served_model_name.clone().or(t.model.clone()),
        tokenizer,
        seed: args.dataset.seed,
        targets: vec![target],
        datasets: vec![dataset],
        load,
        sweep: Sweep::default(),
        request,
        output: OutputOptions {
            dir: None,
            details: args.output.output_details,
            cache_report: args.output.cache_report,
            ..OutputOptions::default()
        },
        // bench_serving's `--tag` is the label `tag`.
        labels: args
            .output
            .tag
            .iter()
            .map(|t| ("tag".to_owned(), t.clone()))
            .collect(),
        gate: None,
        repeat: 1,
        slo: None,
        search: None,
        skipped_targets: Vec::new(),
    };
    let dump = super::dump::without_secrets(&scenario);
    let yaml = super::dump::to_yaml(&scenario);
    let kind = datasets::kind(args.dataset.dataset_name);
    let scenario = scenario::load_str(&yaml, "runner bench", scenario::locate::Format::Yaml)
        .map_err(|e| invalid(flags::describe(&e, kind)))?;
    Ok(Setup {
        scenario,
        yaml: dump,
        slos,
        notes,
    })
}

/// The dataset entry for `backend`: refused where the backend cannot send it (images or
/// traces to an embeddings API, token ids to a chat API, conversations to a non-chat one).
fn dataset(
    args: &BenchArgs,
    given: &dyn Fn(&str) -> bool,
    backend: Backend,
    notes: &mut Vec<String>,
) -> Result<Dataset, UsageError> {
    let kind = args.dataset.dataset_name;
    if backend.is_embedding()
        && matches!(
            kind,
            DatasetArg::Image
                | DatasetArg::Mmmu
                | DatasetArg::Mooncake
                | DatasetArg::MooncakeConversation
                | DatasetArg::MooncakeSynthetic
                | DatasetArg::MooncakeToolagent
        )
    {
        return Err(invalid(format!(
            "--dataset-name {} is unsupported for embeddings benchmark (--backend {})",
            kind.name(),
            backend.as_str()
        )));
    }
    let ids_ok = backend.api().is_some_and(|api| api.facts().token_ids);
    if args.dataset.tokenize_prompt && !ids_ok {
        return Err(invalid(format!(
            "--tokenize-prompt sends token ids, which only the native (sglang, sglang-native) and \
             completions (sglang-oai, vllm, lmdeploy) APIs take, not --backend {}",
            backend.as_str()
        )));
    }
    let mut dataset = datasets::dataset(args, given, notes)?;
    if let Dataset::Mooncake(m) = &mut dataset {
        mooncake_rounds(m, backend, notes);
    }
    if dataset.multi_turn() && !backend.is_chat() {
        return Err(invalid(format!(
            "--dataset-name {} replays multi-turn conversations turn by turn, which needs a chat \
             backend (sglang-oai-chat, vllm-chat, lmdeploy-chat), not --backend {}",
            kind.name(),
            backend.as_str()
        )));
    }
    Ok(dataset)
}

/// `--tokenizer`, else `--model`; with neither, the built-in tokenizer and a note saying so.
fn tokenizer(args: &BenchArgs, notes: &mut Vec<String>) -> Option<String> {
    let t = &args.target;
    let name = t.tokenizer.clone().or_else(|| t.model.clone());
    if name.is_none() {
        notes.push(
            "no --tokenizer or --model: prompts are built and tokens counted with runner's \
             built-in tokenizer; pass --tokenizer (an HF id or a path) for the served model's"
                .into(),
        );
    }
    name
}

/// Multi-round Mooncake on a non-chat backend runs as bench_serving does (all rounds of a
/// session at once, placeholder replies); chat backends keep the turn-by-turn replay.
fn mooncake_rounds(m: &mut scenario::MooncakeDataset, backend: Backend, notes: &mut Vec<String>) {
    if m.num_rounds < 2 || backend.is_chat() {
        return;
    }
    m.rounds = scenario::MooncakeRounds::AllAtOnce;
    notes.push(format!(
        "--mooncake-num-rounds {}: all rounds of a session are sent at once with placeholder \
         replies, as bench_serving does; for the more faithful turn-by-turn replay (each round \
         after the real reply) use a chat backend (--backend sglang-oai-chat) or a scenario \
         with `rounds: turn-by-turn`",
        m.num_rounds
    ));
}

/// `--header Key=Value …`: split at the first `=`.
fn headers(pairs: &[String]) -> Result<BTreeMap<String, String>, UsageError> {
    let mut out = BTreeMap::new();
    for p in pairs {
        match p.split_once('=') {
            Some((k, v)) if !k.trim().is_empty() && !v.is_empty() => {
                out.insert(k.trim().to_owned(), v.to_owned());
            }
            _ => {
                return Err(invalid(format!(
                    "--header `{p}`: expected Key=Value with a non-empty key and value"
                )));
            }
        }
    }
    Ok(out)
}

fn load(
    args: &BenchArgs,
    given: &dyn Fn(&str) -> bool,
    mooncake: bool,
    notes: &mut Vec<String>,
) -> Result<Load, UsageError> {
    let l = &args.load;
    let rate = l.request_rate;
    // Checked by the scenario loader (> 0), which names --request-rate.
    let request_rate = if rate == f64::INFINITY {
        Rate::Infinite
    } else {
        Rate::PerSecond(rate)
    };
    if mooncake && given("request_rate") {
        notes.push(
            "--request-rate: mooncake traces are replayed at their timestamps, so the rate is \
             not used (as in bench_serving)"
                .into(),
        );
    }
    if given("flush_cache_timeout") && !l.flush_cache {
        notes.push("--flush-cache-timeout is used only with --flush-cache".into());
    }
    Ok(Load {
        request_rate: Axis::One(request_rate),
        max_concurrency: Axis::One(Concurrency(l.max_concurrency.unwrap_or(0))),
        arrival: if mooncake {
            Arrival::Trace
        } else {
            Arrival::Poisson
        },
        burstiness: None,
        warmup_requests: l.warmup_requests,
        flush_cache: l.flush_cache,
        flush_cache_timeout_s: l.flush_cache_timeout,
        profile: super::options::profile(args, given, notes)?,
        ..Load::default()
    })
}
