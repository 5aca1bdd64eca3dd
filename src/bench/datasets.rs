//! `--dataset-name` and its flags → the scenario's one dataset entry.
//!
//! Each bench_serving dataset is a scenario `kind:` with the same options. Flags given for a
//! dataset that does not use them are named in a note (bench_serving ignores them silently);
//! flags that cannot work together fail with the flags' names.

use super::args::{BenchArgs, DatasetArg, GroupDistribution, MooncakeWorkload, SpeedBenchCategory};
use super::setup::{UsageError, invalid};
use crate::scenario::{
    self, AgenticTraceDataset, CustomDataset, Dataset, ImageContent, ImageDataset, ImageFormat,
    LongbenchDataset, MmmuDataset, MooncakeDataset, MooncakePrompt, MooncakeRounds, OpenaiDataset,
    RandomDataset, RandomIdsDataset, SharedPrefixDataset, SharegptDataset, SpeedBenchDataset,
    TokenSource,
};

impl DatasetArg {
    /// The name as given on the command line (bench_serving's `dataset_name`).
    pub fn name(self) -> &'static str {
        match self {
            DatasetArg::AgenticTrace => "agentic-trace",
            DatasetArg::Sharegpt => "sharegpt",
            DatasetArg::Custom => "custom",
            DatasetArg::Openai => "openai",
            DatasetArg::Random => "random",
            DatasetArg::RandomIds => "random-ids",
            DatasetArg::GeneratedSharedPrefix => "generated-shared-prefix",
            DatasetArg::Mmmu => "mmmu",
            DatasetArg::Image => "image",
            DatasetArg::Mooncake => "mooncake",
            DatasetArg::LongbenchV2 => "longbench_v2",
            DatasetArg::SpeedBench => "speed-bench",
            DatasetArg::MooncakeConversation => "mooncake-conversation",
            DatasetArg::MooncakeSynthetic => "mooncake-synthetic",
            DatasetArg::MooncakeToolagent => "mooncake-toolagent",
        }
    }
}

/// The dataset kind a `--dataset-name` stands for.
fn kind(d: DatasetArg) -> &'static str {
    match d {
        DatasetArg::MooncakeConversation
        | DatasetArg::MooncakeSynthetic
        | DatasetArg::MooncakeToolagent => "mooncake",
        other => other.name(),
    }
}

/// Dataset flags and the kinds that use them: (field id, flag, kinds).
const DATASET_FLAGS: &[(&str, &str, &[&str])] = &[
    (
        "sharegpt_output_len",
        "--sharegpt-output-len",
        &[
            "sharegpt",
            "custom",
            "openai",
            "longbench_v2",
            "agentic-trace",
        ],
    ),
    (
        "sharegpt_context_len",
        "--sharegpt-context-len",
        &["sharegpt", "custom", "longbench_v2"],
    ),
    (
        "random_input_len",
        "--random-input-len",
        &["random", "random-ids", "image"],
    ),
    (
        "random_output_len",
        "--random-output-len",
        &["random", "random-ids", "image", "mmmu"],
    ),
    (
        "random_range_ratio",
        "--random-range-ratio",
        &["random", "random-ids", "image"],
    ),
    ("image_count", "--image-count", &["image"]),
    ("random_image_count", "--random-image-count", &["image"]),
    ("image_resolution", "--image-resolution", &["image"]),
    ("image_format", "--image-format", &["image"]),
    ("image_content", "--image-content", &["image"]),
    (
        "gsp_num_groups",
        "--gsp-num-groups",
        &["generated-shared-prefix"],
    ),
    (
        "gsp_prompts_per_group",
        "--gsp-prompts-per-group",
        &["generated-shared-prefix"],
    ),
    (
        "gsp_system_prompt_len",
        "--gsp-system-prompt-len",
        &["generated-shared-prefix"],
    ),
    (
        "gsp_question_len",
        "--gsp-question-len",
        &["generated-shared-prefix"],
    ),
    (
        "gsp_output_len",
        "--gsp-output-len",
        &["generated-shared-prefix"],
    ),
    (
        "gsp_range_ratio",
        "--gsp-range-ratio",
        &["generated-shared-prefix"],
    ),
    (
        "gsp_fast_prepare",
        "--gsp-fast-prepare",
        &["generated-shared-prefix"],
    ),
    (
        "gsp_send_routing_key",
        "--gsp-send-routing-key",
        &["generated-shared-prefix"],
    ),
    (
        "gsp_num_turns",
        "--gsp-num-turns",
        &["generated-shared-prefix"],
    ),
    ("gsp_ordered", "--gsp-ordered", &["generated-shared-prefix"]),
    (
        "gsp_group_distribution",
        "--gsp-group-distribution",
        &["generated-shared-prefix"],
    ),
    (
        "gsp_zipf_alpha",
        "--gsp-zipf-alpha",
        &["generated-shared-prefix"],
    ),
    (
        "mooncake_slowdown_factor",
        "--mooncake-slowdown-factor",
        &["mooncake"],
    ),
    (
        "mooncake_num_rounds",
        "--mooncake-num-rounds",
        &["mooncake"],
    ),
    ("mooncake_workload", "--mooncake-workload", &["mooncake"]),
    (
        "use_trace_timestamps",
        "--use-trace-timestamps",
        &["mooncake"],
    ),
    (
        "speed_bench_category",
        "--speed-bench-category",
        &["speed-bench"],
    ),
    (
        "speed_bench_output_len",
        "--speed-bench-output-len",
        &["speed-bench"],
    ),
    ("dataset_offset", "--dataset-offset", &["agentic-trace"]),
    (
        "agentic_max_turns",
        "--agentic-max-turns",
        &["agentic-trace"],
    ),
    (
        "apply_chat_template",
        "--apply-chat-template",
        &["sharegpt", "custom", "image", "mmmu"],
    ),
    ("prompt_suffix", "--prompt-suffix", &["sharegpt", "custom"]),
    (
        "dataset_path",
        "--dataset-path",
        &[
            "sharegpt",
            "custom",
            "openai",
            "random",
            "mmmu",
            "mooncake",
            "longbench_v2",
            "speed-bench",
            "agentic-trace",
        ],
    ),
];

/// The scenario dataset for the flags; notes for flags given but not used by it.
pub fn dataset(
    args: &BenchArgs,
    given: &dyn Fn(&str) -> bool,
    notes: &mut Vec<String>,
) -> Result<Dataset, UsageError> {
    let d = &args.dataset;
    let k = kind(d.dataset_name);
    for (id, flag, kinds) in DATASET_FLAGS {
        if given(id) && !kinds.contains(&k) {
            notes.push(format!(
                "{flag} does not apply to --dataset-name {}; ignored (as bench_serving does)",
                d.dataset_name.name()
            ));
        }
    }
    if d.tokenize_prompt && !matches!(k, "random" | "random-ids" | "generated-shared-prefix") {
        return Err(invalid(format!(
            "--tokenize-prompt works with --dataset-name random, random-ids or \
             generated-shared-prefix, not {}",
            d.dataset_name.name()
        )));
    }
    let name = k.to_owned();
    let n = d.num_prompts;
    let path = (!d.dataset_path.is_empty()).then(|| d.dataset_path.clone());
    let need_path = || {
        path.clone().ok_or_else(|| {
            invalid(format!(
                "--dataset-name {} needs --dataset-path (a local file; runner does not download \
                 this dataset)",
                d.dataset_name.name()
            ))
        })
    };
    let sg = &args.sharegpt;
    if let Some(len) = sg.sharegpt_output_len
        && len < 4
    {
        return Err(invalid(format!(
            "--sharegpt-output-len {len}: must be at least 4"
        )));
    }
    let r = &args.random;
    for (id, flag, v) in [
        (
            "random_range_ratio",
            "--random-range-ratio",
            r.random_range_ratio,
        ),
        (
            "gsp_range_ratio",
            "--gsp-range-ratio",
            args.gsp.gsp_range_ratio,
        ),
    ] {
        if given(id) && !(0.0..=1.0).contains(&v) {
            return Err(invalid(format!("{flag} {v}: expected a number in [0, 1]")));
        }
    }
    Ok(match d.dataset_name {
        DatasetArg::Sharegpt => Dataset::Sharegpt(SharegptDataset {
            name,
            num_prompts: n,
            path,
            output_len: sg.sharegpt_output_len,
            context_len: sg.sharegpt_context_len,
            prompt_suffix: d.prompt_suffix.clone(),
            apply_chat_template: d.apply_chat_template,
        }),
        DatasetArg::Custom => Dataset::Custom(CustomDataset {
            name,
            num_prompts: n,
            path: need_path()?,
            output_len: sg.sharegpt_output_len,
            context_len: sg.sharegpt_context_len,
            prompt_suffix: d.prompt_suffix.clone(),
            apply_chat_template: d.apply_chat_template,
        }),
        DatasetArg::Openai => Dataset::Openai(OpenaiDataset {
            name,
            num_prompts: n,
            path: need_path()?,
            output_len: sg.sharegpt_output_len,
        }),
        DatasetArg::Random => Dataset::Random(RandomDataset {
            name,
            num_prompts: n,
            input_len: r.random_input_len,
            output_len: r.random_output_len,
            range_ratio: r.random_range_ratio,
            source: if path.is_some() {
                TokenSource::Sharegpt
            } else {
                TokenSource::Vocab
            },
            path,
            exact_len: false,
            tokenize_prompt: d.tokenize_prompt,
        }),
        DatasetArg::RandomIds => Dataset::RandomIds(RandomIdsDataset {
            name,
            num_prompts: n,
            input_len: r.random_input_len,
            output_len: r.random_output_len,
            range_ratio: r.random_range_ratio,
            tokenize_prompt: d.tokenize_prompt,
        }),
        DatasetArg::Image => Dataset::Image(ImageDataset {
            name,
            num_prompts: n,
            input_len: r.random_input_len,
            output_len: r.random_output_len,
            range_ratio: r.random_range_ratio,
            image_count: r.image_count,
            random_image_count: r.random_image_count,
            resolution: r.image_resolution.clone(),
            format: match r.image_format.to_ascii_lowercase().as_str() {
                "jpeg" | "jpg" => ImageFormat::Jpeg,
                "png" => ImageFormat::Png,
                other => {
                    return Err(invalid(format!(
                        "--image-format {other}: runner writes jpeg or png"
                    )));
                }
            },
            content: match r.image_content.as_str() {
                "random" => ImageContent::Random,
                "blank" => ImageContent::Blank,
                other => {
                    return Err(invalid(format!(
                        "--image-content {other}: expected random or blank"
                    )));
                }
            },
            image_tokens: Default::default(),
        }),
        DatasetArg::Mmmu => Dataset::Mmmu(MmmuDataset {
            name,
            num_prompts: n,
            path: need_path()?,
            output_len: r.random_output_len,
            image_tokens: Default::default(),
        }),
        DatasetArg::GeneratedSharedPrefix => shared_prefix(args, given, name, notes)?,
        DatasetArg::Mooncake
        | DatasetArg::MooncakeConversation
        | DatasetArg::MooncakeSynthetic
        | DatasetArg::MooncakeToolagent => {
            let m = &args.mooncake;
            let workload = match d.dataset_name {
                DatasetArg::MooncakeConversation => MooncakeWorkload::Conversation,
                DatasetArg::MooncakeSynthetic => MooncakeWorkload::Synthetic,
                DatasetArg::MooncakeToolagent => MooncakeWorkload::Toolagent,
                _ => m.mooncake_workload,
            };
            if !(m.mooncake_slowdown_factor.is_finite() && m.mooncake_slowdown_factor >= 0.0) {
                return Err(invalid(format!(
                    "--mooncake-slowdown-factor {}: expected a number >= 0",
                    m.mooncake_slowdown_factor
                )));
            }
            if m.mooncake_num_rounds == 0 {
                return Err(invalid("--mooncake-num-rounds must be at least 1"));
            }
            Dataset::Mooncake(MooncakeDataset {
                name,
                num_prompts: n,
                path,
                workload: match workload {
                    MooncakeWorkload::Mooncake => scenario::MooncakeWorkload::Mooncake,
                    MooncakeWorkload::Conversation => scenario::MooncakeWorkload::Conversation,
                    MooncakeWorkload::Synthetic => scenario::MooncakeWorkload::Synthetic,
                    MooncakeWorkload::Toolagent => scenario::MooncakeWorkload::Toolagent,
                },
                slowdown_factor: m.mooncake_slowdown_factor,
                num_rounds: m.mooncake_num_rounds,
                rounds: MooncakeRounds::TurnByTurn,
                prompt: MooncakePrompt::Sglang,
                block_size: 512,
                output_len: 256,
            })
        }
        DatasetArg::LongbenchV2 => Dataset::LongbenchV2(LongbenchDataset {
            name,
            num_prompts: n,
            path: need_path()?,
            output_len: sg.sharegpt_output_len,
            context_len: sg.sharegpt_context_len,
        }),
        DatasetArg::SpeedBench => Dataset::SpeedBench(SpeedBenchDataset {
            name,
            num_prompts: n,
            path: need_path()?,
            category: args.speed_bench.speed_bench_category.map(|c| match c {
                SpeedBenchCategory::LowEntropy => scenario::SpeedBenchCategory::LowEntropy,
                SpeedBenchCategory::Mixed => scenario::SpeedBenchCategory::Mixed,
                SpeedBenchCategory::HighEntropy => scenario::SpeedBenchCategory::HighEntropy,
            }),
            output_len: args.speed_bench.speed_bench_output_len,
        }),
        DatasetArg::AgenticTrace => Dataset::AgenticTrace(AgenticTraceDataset {
            name,
            num_prompts: n,
            path: need_path()?,
            output_len: sg.sharegpt_output_len,
            offset: d.dataset_offset,
            max_turns: d.agentic_max_turns,
        }),
    })
}

fn shared_prefix(
    args: &BenchArgs,
    given: &dyn Fn(&str) -> bool,
    name: String,
    notes: &mut Vec<String>,
) -> Result<Dataset, UsageError> {
    let g = &args.gsp;
    if args.dataset.tokenize_prompt && g.gsp_num_turns > 1 {
        return Err(invalid("--tokenize-prompt requires --gsp-num-turns=1"));
    }
    match (g.gsp_group_distribution, g.gsp_zipf_alpha) {
        (GroupDistribution::Zipf, None) => {
            return Err(invalid(
                "--gsp-group-distribution=zipf requires --gsp-zipf-alpha (a finite float > 0)",
            ));
        }
        (GroupDistribution::Zipf, Some(a)) if !(a.is_finite() && a > 0.0) => {
            return Err(invalid(format!(
                "--gsp-zipf-alpha {a}: expected a finite float > 0"
            )));
        }
        (GroupDistribution::Uniform, Some(_)) => {
            return Err(invalid(
                "--gsp-zipf-alpha is only meaningful with --gsp-group-distribution=zipf; remove \
                 --gsp-zipf-alpha or set --gsp-group-distribution=zipf",
            ));
        }
        _ => {}
    }
    if g.gsp_num_turns == 0 || g.gsp_num_groups == 0 || g.gsp_prompts_per_group == 0 {
        return Err(invalid(
            "--gsp-num-groups, --gsp-prompts-per-group and --gsp-num-turns must be at least 1",
        ));
    }
    if given("num_prompts") {
        notes.push(format!(
            "--num-prompts does not apply to generated-shared-prefix: it sends --gsp-num-groups × \
             --gsp-prompts-per-group = {} requests",
            g.gsp_num_groups * g.gsp_prompts_per_group
        ));
    }
    if g.gsp_fast_prepare {
        notes.push(
            "--gsp-fast-prepare changes nothing: runner always measures the prompts (bench_serving's \
             fast mode records a length of 1)"
                .into(),
        );
    }
    Ok(Dataset::GeneratedSharedPrefix(SharedPrefixDataset {
        name,
        num_groups: g.gsp_num_groups,
        prompts_per_group: g.gsp_prompts_per_group,
        system_prompt_len: g.gsp_system_prompt_len,
        question_len: g.gsp_question_len,
        output_len: g.gsp_output_len,
        range_ratio: g.gsp_range_ratio,
        num_turns: g.gsp_num_turns,
        ordered: g.gsp_ordered,
        group_distribution: match g.gsp_group_distribution {
            GroupDistribution::Uniform => scenario::GroupDistribution::Uniform,
            GroupDistribution::Zipf => scenario::GroupDistribution::Zipf,
        },
        zipf_alpha: g.gsp_zipf_alpha,
        send_routing_key: g.gsp_send_routing_key,
        tokenize_prompt: args.dataset.tokenize_prompt,
    }))
}
