//! `runner bench … --dump-scenario` round-trips: the printed YAML, run with `runner run`,
//! sends the requests `runner bench` sends (same bodies, same prompts, same schedule).

mod support;

use std::collections::HashMap;

use clap::{CommandFactory, FromArgMatches, Parser};
use runner::bench::BenchArgs;
use runner::engine::{self, Target};
use runner::scenario::{self, Scenario};
use runner::tokenizer::Tokenizer;
use runner::{schedule, workload};
use support::*;

#[derive(Parser)]
#[command(infer_long_args = true)]
struct Cli {
    #[command(flatten)]
    bench: BenchArgs,
}

/// The scenario `runner bench` runs for `args`, built in-process.
fn bench_scenario(args: &[&str]) -> Scenario {
    let m = Cli::command()
        .try_get_matches_from(std::iter::once("bench").chain(args.iter().copied()))
        .unwrap();
    let bench = Cli::from_arg_matches(&m).unwrap().bench;
    let given = |id: &str| m.value_source(id) == Some(clap::parser::ValueSource::CommandLine);
    runner::bench::setup::build(&bench, &given)
        .unwrap()
        .scenario
}

/// The scenario `runner bench … --dump-scenario` prints, loaded as `runner run` loads it.
fn dumped_scenario(dir: &std::path::Path, args: &[&str]) -> (Scenario, String) {
    let mut all = args.to_vec();
    all.push("--dump-scenario");
    let (yaml, _) = bench_ok(dir, &all);
    // The dump names `--header` values as variables instead of writing them.
    // SAFETY: tests in this file set this one variable to one value.
    unsafe { std::env::set_var("RUNNER_HEADER_X_TEAM", "bench") };
    let s = scenario::load_str(&yaml, "dump.yaml", scenario::locate::Format::Yaml)
        .unwrap_or_else(|e| panic!("{e}\n{yaml}"));
    (s, yaml)
}

/// Every request body (bytes) and due time a scenario's one run has.
fn bodies_and_schedule(s: &Scenario) -> (Vec<bytes::Bytes>, Vec<f64>) {
    let tok = Tokenizer::for_scenario(s).unwrap();
    let requests = workload::build(&s.datasets[0], s.seed, &tok).unwrap();
    let t = &s.targets[0];
    let target = Target::new(
        engine::client(&s.request.timeouts).unwrap(),
        t.base_url.as_deref().unwrap(),
        t.backend,
        s.model.clone().unwrap_or_else(|| "auto".into()),
        s.request.clone(),
    )
    .unwrap()
    .with_headers(&t.headers)
    .unwrap()
    .with_seed(s.seed);
    let bodies = target
        .prepare(&requests)
        .into_iter()
        .map(|p| p.unwrap().body)
        .collect();
    let offsets = schedule::for_requests(
        &requests,
        s.load.request_rate.values()[0],
        s.load.arrival,
        s.load.burstiness,
        s.seed,
    );
    (bodies, offsets)
}

#[test]
fn dumped_yaml_gives_identical_bodies_and_schedule() {
    let dir = tempfile::tempdir().unwrap();
    let sharegpt = sharegpt_plain_file(dir.path(), 30);
    let trace = mooncake_file(dir.path(), 5);
    let base = "http://127.0.0.1:9";
    let cases: Vec<Vec<&str>> = vec![
        vec![
            "--base-url",
            base,
            "--dataset-name",
            "random",
            "--num-prompts",
            "12",
            "--random-input-len",
            "64",
            "--random-output-len",
            "8",
            "--request-rate",
            "10",
            "--lora-name",
            "a",
            "b",
            "--lora-request-distribution",
            "distinct",
            "--extra-request-body",
            r#"{"seed": 5, "stop": ["x"]}"#,
            "--temperature",
            "0.5",
            "--top-p",
            "0.9",
            "--return-logprob",
            "--top-logprobs-num",
            "3",
            "--seed",
            "9",
            "--header",
            "X-Team=bench",
        ],
        vec![
            "--backend",
            "vllm-chat",
            "--base-url",
            base,
            "--model",
            "m",
            "--tokenizer",
            "builtin",
            "--dataset-path",
            sharegpt.to_str().unwrap(),
            "--num-prompts",
            "8",
            "--apply-chat-template",
            "--prompt-suffix",
            "Answer briefly.",
            "--seed",
            "7",
            "--request-rate",
            "3.5",
        ],
        vec![
            "--backend",
            "sglang-oai-chat",
            "--base-url",
            base,
            "--dataset-name",
            "image",
            "--num-prompts",
            "3",
            "--image-count",
            "2",
            "--random-image-count",
            "--image-resolution",
            "64x96",
            "--random-input-len",
            "32",
        ],
        vec![
            "--base-url",
            base,
            "--dataset-name",
            "generated-shared-prefix",
            "--gsp-num-groups",
            "3",
            "--gsp-prompts-per-group",
            "4",
            "--gsp-system-prompt-len",
            "64",
            "--gsp-question-len",
            "16",
            "--gsp-group-distribution",
            "zipf",
            "--gsp-zipf-alpha",
            "1.2",
            "--gsp-send-routing-key",
            "--tokenize-prompt",
            "--max-concurrency",
            "4",
        ],
        vec![
            "--base-url",
            base,
            "--dataset-name",
            "mooncake",
            "--dataset-path",
            trace.to_str().unwrap(),
            "--num-prompts",
            "5",
            "--mooncake-slowdown-factor",
            "2",
        ],
        vec![
            "--backend",
            "vllm",
            "--base-url",
            base,
            "--dataset-name",
            "random-ids",
            "--num-prompts",
            "6",
            "--disable-stream",
            "--disable-ignore-eos",
            "--random-range-ratio",
            "0.25",
            "--request-rate",
            "5",
            "--fake-prefill",
        ],
    ];
    for args in cases {
        let ran = bench_scenario(&args);
        let (dumped, yaml) = dumped_scenario(dir.path(), &args);
        assert_eq!(
            serde_json::to_value(&dumped).unwrap(),
            serde_json::to_value(&ran).unwrap(),
            "{args:?}\n{yaml}"
        );
        let (b1, o1) = bodies_and_schedule(&ran);
        let (b2, o2) = bodies_and_schedule(&dumped);
        assert!(!b1.is_empty(), "{args:?}");
        assert_eq!(b1, b2, "{args:?}: bodies differ");
        assert_eq!(o1, o2, "{args:?}: schedules differ");
    }
}

#[test]
fn runner_run_of_the_dump_sends_what_bench_sent() {
    let sim = Sim::fast();
    let dir = tempfile::tempdir().unwrap();
    let args = [
        "--base-url",
        &sim.url(),
        "--dataset-name",
        "random",
        "--num-prompts",
        "12",
        "--random-input-len",
        "96",
        "--random-output-len",
        "6",
        "--request-rate",
        "25",
        "--warmup-requests",
        "0",
        "--seed",
        "3",
    ];
    bench_ok(dir.path(), &args);
    let first = sim.truth();
    let (_, yaml) = dumped_scenario(dir.path(), &args);
    std::fs::write(dir.path().join("dump.yaml"), &yaml).unwrap();
    let out = runner_in(dir.path(), &["run", "dump.yaml", "--output", "res"]);
    let (stdout, stderr) = texts(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let second: Vec<_> = sim.truth().into_iter().skip(first.len()).collect();
    assert_eq!((first.len(), second.len()), (12, 12));
    // Per prompt: same length, same output asked, same endpoint, and due at the same offset.
    let by_prompt = |t: &[runner::sim::Truth]| {
        let t0 = t.iter().map(|x| x.arrival).min().unwrap();
        t.iter()
            .map(|x| {
                let at = x.arrival.duration_since(t0).as_secs_f64();
                (
                    x.prompt_hash,
                    (x.prompt_tokens, x.max_tokens, x.endpoint, at),
                )
            })
            .collect::<HashMap<_, _>>()
    };
    let (a, b) = (by_prompt(&first), by_prompt(&second));
    assert_eq!(a.len(), 12, "prompts are distinct");
    let mut gaps = Vec::new();
    for (hash, (len, max, endpoint, at)) in &a {
        let (len2, max2, endpoint2, at2) = b.get(hash).expect("the same prompt was sent");
        assert_eq!((len, max, endpoint), (len2, max2, endpoint2));
        gaps.push((at - at2).abs());
    }
    gaps.sort_by(f64::total_cmp);
    let (median, worst) = (gaps[gaps.len() / 2], gaps[gaps.len() - 1]);
    eprintln!(
        "12 requests: same prompts; arrival offsets differ by {:.2} ms (median), {:.2} ms at most",
        median * 1000.0,
        worst * 1000.0
    );
    // The schedules are equal exactly (`dumped_yaml_gives_identical_bodies_and_
    // schedule`); here, at the server, most requests arrive at the same offset, within a
    // fraction of the 40 ms mean gap. A late timer on a busy machine moves single ones.
    assert!(
        median < 0.005,
        "arrival offsets differ by {median} s (median): {gaps:?}"
    );
    let last = a.values().map(|v| v.3).fold(0.0, f64::max);
    assert!(last > 0.1, "a paced schedule, not a burst ({last} s)");
}
