//! `runner bench`: a drop-in for `python -m sglang.bench_serving`. Its flags (see [`args`])
//! are sugar for a one-run scenario.

pub mod args;

pub use args::BenchArgs;

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::args::*;

    #[derive(Debug, Parser)]
    #[command(infer_long_args = true)]
    struct Cli {
        #[command(flatten)]
        bench: BenchArgs,
    }

    fn parse(args: &[&str]) -> Result<BenchArgs, clap::Error> {
        let mut argv = vec!["bench"];
        argv.extend_from_slice(args);
        Cli::try_parse_from(argv).map(|c| c.bench)
    }

    #[test]
    fn defaults_match_bench_serving() {
        let a = parse(&[]).unwrap();
        assert_eq!(a.target.backend, BackendArg::Sglang);
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
        let a = parse(&[
            "--num-prompt",
            "10",
            "--random-input",
            "256",
            "--random-output",
            "32",
            "--dataset-name",
            "random",
        ])
        .unwrap();
        assert_eq!(a.dataset.num_prompts, 10);
        assert_eq!(
            (a.random.random_input_len, a.random.random_output_len),
            (256, 32)
        );
        assert!(
            parse(&["--random", "1"]).is_err(),
            "ambiguous prefix must fail"
        );
    }

    #[test]
    fn parses_lists_choices_and_special_values() {
        let a = parse(&[
            "--backend",
            "vllm-chat",
            "--request-rate",
            "inf",
            "--header",
            "A=1",
            "B=2",
            "--lora-name",
            "x",
            "y",
            "--logprob-start-len",
            "-1",
            "--dataset-name",
            "longbench_v2",
            "--goodput",
            "ttft:100",
            "tpot:20",
            "--profile-activities",
            "CPU",
            "MEM",
        ])
        .unwrap();
        assert_eq!(a.target.backend, BackendArg::VllmChat);
        assert_eq!(a.target.header, ["A=1", "B=2"]);
        assert_eq!(a.sampling.lora_name, ["x", "y"]);
        assert_eq!(a.dataset.dataset_name, DatasetArg::LongbenchV2);
        assert_eq!(a.output.goodput, ["ttft:100", "tpot:20"]);
        assert!(parse(&["--backend", "tgi"]).is_err());
        assert!(parse(&["--profile-prefill-url", "a", "--profile-decode-url", "b"]).is_err());
        assert!(parse(&["--rust-worker-threads", "2"]).is_err());
    }
}
