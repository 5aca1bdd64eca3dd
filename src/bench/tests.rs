//! Unit tests of the flags and their mapping onto a scenario.

use clap::Parser;

use super::args::*;
use crate::scenario::Backend;

#[derive(Debug, Parser)]
#[command(infer_long_args = true)]
struct Cli {
    #[command(flatten)]
    bench: BenchArgs,
}

/// Parse a command line (its words split at white space).
pub(super) fn parse(args: &str) -> Result<BenchArgs, clap::Error> {
    Cli::try_parse_from(std::iter::once("bench").chain(args.split_whitespace())).map(|c| c.bench)
}

#[test]
fn defaults_match_bench_serving() {
    let a = parse("").unwrap();
    assert_eq!(a.target.backend, Backend::Sglang);
    assert_eq!(a.target.host, "0.0.0.0");
    assert_eq!(a.target.ready_check_timeout_sec, 60);
    assert_eq!(a.dataset.dataset_name, DatasetArg::Sharegpt);
    assert_eq!((a.dataset.num_prompts, a.dataset.seed), (1000, 42));
    assert_eq!(
        (a.random.random_input_len, a.random.random_output_len),
        (1024, 1024)
    );
    assert_eq!(a.random.random_range_ratio, 0.0);
    assert_eq!(a.random.image_resolution, "1080p");
    assert_eq!(
        (a.gsp.gsp_num_groups, a.gsp.gsp_prompts_per_group),
        (64, 16)
    );
    assert_eq!(a.gsp.gsp_range_ratio, 1.0);
    assert_eq!(a.mooncake.mooncake_workload, MooncakeWorkload::Conversation);
    assert!(a.load.request_rate.is_infinite());
    assert_eq!((a.load.max_concurrency, a.load.warmup_requests), (None, 1));
    assert_eq!(a.load.flush_cache_timeout, 60.0);
    assert_eq!((a.sampling.temperature, a.sampling.top_p), (0.0, 1.0));
    assert_eq!(a.sampling.logprob_start_len, -1);
    assert_eq!(a.sampling.lora_zipf_alpha, 1.5);
    assert_eq!(
        a.profile.profile_activities,
        vec![ProfileActivity::Cpu, ProfileActivity::Gpu]
    );
    assert_eq!(a.speed_bench.speed_bench_output_len, 512);
}

#[test]
fn accepts_unique_prefixes_like_argparse() {
    let a = parse("--num-prompt 10 --random-input 256 --random-output 32 --dataset-name random")
        .unwrap();
    assert_eq!(a.dataset.num_prompts, 10);
    assert_eq!(
        (a.random.random_input_len, a.random.random_output_len),
        (256, 32)
    );
    assert!(parse("--random 1").is_err(), "ambiguous prefix must fail");
}

#[test]
fn parses_lists_choices_and_special_values() {
    let a = parse(
        "--backend vllm-chat --request-rate inf --header A=1 B=2 --lora-name x y \
         --logprob-start-len -1 --dataset-name longbench_v2 --goodput ttft:100 tpot:20 \
         --profile-activities CPU MEM",
    )
    .unwrap();
    assert_eq!(a.target.backend, Backend::VllmChat);
    assert_eq!(a.target.header, ["A=1", "B=2"]);
    assert_eq!(a.sampling.lora_name, ["x", "y"]);
    assert_eq!(a.dataset.dataset_name, DatasetArg::LongbenchV2);
    assert_eq!(a.output.goodput, ["ttft:100", "tpot:20"]);
    assert!(parse("--backend tgi").is_err());
    assert!(parse("--profile-prefill-url a --profile-decode-url b").is_err());
    assert!(parse("--rust-worker-threads 2").is_err());
}

mod mapping {
    use clap::{CommandFactory, FromArgMatches};

    use super::Cli;
    use crate::bench::UsageError;
    use crate::bench::setup::{self, Setup};
    use crate::scenario::{Arrival, Backend, Dataset, Rate};

    /// Build the setup from a command line; every flag id the mapping asks about must exist.
    fn setup(args: &str) -> Result<Setup, UsageError> {
        let cmd = Cli::command();
        let known: Vec<String> = cmd
            .get_arguments()
            .map(|a| a.get_id().to_string())
            .collect();
        let m = cmd
            .try_get_matches_from(std::iter::once("bench").chain(args.split_whitespace()))
            .unwrap();
        let bench = Cli::from_arg_matches(&m).unwrap().bench;
        let given = |id: &str| {
            assert!(known.iter().any(|k| k == id), "unknown flag id `{id}`");
            m.value_source(id) == Some(clap::parser::ValueSource::CommandLine)
        };
        setup::build(&bench, &given)
    }

    fn err(args: &str) -> String {
        setup(args).unwrap_err().to_string()
    }

    #[test]
    fn ports_per_backend_and_urls() {
        let url = |a: &str| {
            setup(a).unwrap().scenario.targets[0]
                .base_url
                .clone()
                .unwrap()
        };
        assert_eq!(url(""), "http://0.0.0.0:30000");
        assert_eq!(url("--backend vllm"), "http://0.0.0.0:8000");
        assert_eq!(url("--backend vllm-chat"), "http://0.0.0.0:30000");
        assert_eq!(url("--backend lmdeploy"), "http://0.0.0.0:23333");
        assert_eq!(url("--backend trt --model m"), "http://0.0.0.0:8000");
        assert_eq!(url("--backend truss --model m"), "http://0.0.0.0:8080");
        assert_eq!(url("--host ::1 --port 9"), "http://[::1]:9");
        assert_eq!(url("--base-url http://h:1/x/ --port 9"), "http://h:1/x/");
    }

    #[test]
    fn flags_map_onto_the_scenario() {
        let s = setup(
            "--backend vllm-chat --model org/m --served-model-name served --dataset-name random \
             --random-input 64 --random-output 8 --random-range-ratio 0.5 --num-prompts 7 \
             --seed 3 --request-rate 4 --max-concurrency 2 --warmup-requests 0 --header X-A=b=c \
             --temperature 0.7 --top-p 0.9 --extra-request-body {\"seed\":1} --fake-prefill \
             --disable-stream --disable-ignore-eos --lora-name a b \
             --lora-request-distribution distinct --flush-cache --profile --profile-steps 3",
        )
        .unwrap()
        .scenario;
        assert_eq!(s.model.as_deref(), Some("served"));
        assert_eq!(s.tokenizer.as_deref(), Some("org/m"));
        assert_eq!(s.seed, 3);
        let t = &s.targets[0];
        assert_eq!(t.backend, Backend::VllmChat);
        assert_eq!(t.headers["X-A"], "b=c");
        let Dataset::Random(d) = &s.datasets[0] else {
            panic!()
        };
        assert_eq!(
            (d.num_prompts, d.input_len, d.output_len, d.range_ratio),
            (7, 64, 8, 0.5)
        );
        assert_eq!(s.load.request_rate.values(), &[Rate::PerSecond(4.0)]);
        assert_eq!(s.load.max_concurrency.values()[0].limit(), Some(2));
        assert_eq!(s.load.warmup_requests, 0);
        assert!(s.load.flush_cache);
        assert_eq!(s.load.profile.as_ref().unwrap().num_steps, Some(3));
        let r = &s.request;
        assert!(!r.stream && !r.ignore_eos);
        assert_eq!((r.temperature, r.top_p), (Some(0.7), Some(0.9)));
        assert_eq!(
            serde_json::Value::Object(r.extra_body.clone()),
            serde_json::json!({"seed": 1, "bootstrap_host": "2.2.2.2", "bootstrap_room": 0})
        );
        assert_eq!(r.lora.as_ref().unwrap().names, ["a", "b"]);
        let moon = setup("--dataset-name mooncake-conversation --dataset-path t.jsonl").unwrap();
        assert_eq!(moon.scenario.load.arrival, Arrival::Trace);
    }

    #[test]
    fn unsupported_flags_fail_and_name_the_flag() {
        for (args, flag) in [
            ("--plot-throughput", "--plot-throughput"),
            ("--print-requests", "--print-requests"),
            ("--pd-separated", "--pd-separated"),
            ("--profile-prefill-url http://p", "--profile-prefill-url"),
            ("--profile-decode-url", "--profile-decode-url"),
            ("--backend gserver", "--backend gserver"),
        ] {
            let e = err(args);
            assert!(e.starts_with(flag) && e.contains("not supported"), "{e}");
        }
        assert!(err("--backend trt").contains("needs --model"));
        assert!(err("--dataset-name custom").contains("needs --dataset-path"));
        assert!(err("--request-rate 0").contains("--request-rate"));
        assert!(err("--lora-zipf-alpha 1").contains("--lora-zipf-alpha"));
        assert!(err("--lora-request-distribution skewed").contains("--lora-name"));
        assert!(err("--header novalue").contains("--header"));
        assert!(err("--extra-request-body [1]").contains("JSON object"));
        assert!(err("--dataset-name sharegpt --tokenize-prompt").contains("--tokenize-prompt"));
        assert!(err("--sharegpt-output-len 3").contains("at least 4"));
        assert!(
            err("--backend vllm-chat --dataset-name random --tokenize-prompt")
                .contains("--tokenize-prompt sends token ids")
        );
        assert!(err("--dataset-name image --image-resolution big").contains("--image-resolution"));
        assert!(
            err("--dataset-name generated-shared-prefix --gsp-group-distribution zipf")
                .contains("--gsp-zipf-alpha")
        );
        assert!(
            err("--backend sglang --dataset-name generated-shared-prefix --gsp-num-turns 2")
                .contains("chat")
        );
        assert!(err("--backend vllm-embedding --dataset-name image").contains("embeddings"));
    }

    #[test]
    fn flags_that_change_nothing_get_a_note() {
        let notes = |a: &str| setup(a).unwrap().notes.join("\n");
        let n = notes("--dataset-name random --apply-chat-template --sharegpt-output-len 9");
        assert!(
            n.contains("--apply-chat-template does not apply to --dataset-name random"),
            "{n}"
        );
        assert!(n.contains("--sharegpt-output-len does not apply"), "{n}");
        let n = notes("--backend vllm --model m --logprob-start-len 3");
        assert!(
            n.contains("--logprob-start-len goes to SGLang's native API only"),
            "{n}"
        );
        assert!(!n.contains("no --tokenizer"), "{n}");
        let n = notes("--rust-client --rust-worker-threads 2 --profile-steps 3");
        assert!(
            n.contains("--rust-client")
                && n.contains("--profile-steps is used only with --profile"),
            "{n}"
        );
        let n = notes(
            "--dataset-name mooncake --dataset-path t --request-rate 3 --random-output-len 9",
        );
        assert!(
            n.contains("--request-rate: mooncake")
                && n.contains("--random-output-len does not apply"),
            "{n}"
        );
        let n =
            notes("--dataset-name generated-shared-prefix --num-prompts 1024 --gsp-fast-prepare");
        assert!(
            n.contains("--num-prompts does not apply") && n.contains("--gsp-fast-prepare"),
            "{n}"
        );
        assert!(notes("").contains("no --tokenizer or --model"));
    }

    #[test]
    fn the_dump_loads_back_to_the_same_scenario() {
        let s = setup(
            "--dataset-name image --image-count 2 --random-image-count \
             --image-resolution random:32x32-64x64 --image-format png --request-rate 2.5 \
             --goodput ttft:10",
        )
        .unwrap();
        assert!(s.yaml.starts_with("# yaml-language-server: $schema="));
        let again =
            crate::scenario::load_str(&s.yaml, "d.yaml", crate::scenario::locate::Format::Yaml)
                .unwrap();
        assert_eq!(
            serde_json::to_value(&again).unwrap(),
            serde_json::to_value(&s.scenario).unwrap()
        );
        assert_eq!(s.slos.len(), 1);
    }
}
