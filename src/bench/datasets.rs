//! `--dataset-name` and its flags → the scenario's one dataset entry.
//!
//! Each bench_serving dataset is a scenario `kind:` with the same options. Flags given for a
//! dataset that does not use them are named in a note (bench_serving ignores them silently);
//! flags that cannot work together fail with the flags' names.

use super::args::{BenchArgs, DatasetArg};
use super::usage::{UsageError, invalid};
use crate::scenario::{
    AgenticTraceDataset, CustomDataset, Dataset, ImageDataset, LongbenchDataset, MmmuDataset,
    MooncakeDataset, MooncakePrompt, MooncakeRounds, MooncakeWorkload, OpenaiDataset,
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
pub(super) fn kind(d: DatasetArg) -> &'static str {
    match d {
        DatasetArg::MooncakeConversation
        | DatasetArg::MooncakeSynthetic
        | DatasetArg::MooncakeToolagent => "mooncake",
        other => other.name(),
    }
}

/// Dataset flags (by field id; the flag is `--` and the id in kebab case) and the kinds that
/// use them.
#[rustfmt::skip]
const DATASET_FLAGS: &[(&str, &[&str])] = &[
    ("sharegpt_output_len", &["sharegpt", "custom", "openai", "longbench_v2", "agentic-trace"]),
    ("sharegpt_context_len", &["sharegpt", "custom", "longbench_v2"]),
    ("random_input_len", &["random", "random-ids", "image"]),
    ("random_output_len", &["random", "random-ids", "image", "mmmu"]),
    ("random_range_ratio", &["random", "random-ids", "image"]),
    ("image_count", &["image"]),
    ("random_image_count", &["image"]),
    ("image_resolution", &["image"]),
    ("image_format", &["image"]),
    ("image_content", &["image"]),
    ("gsp_num_groups", &["generated-shared-prefix"]),
    ("gsp_prompts_per_group", &["generated-shared-prefix"]),
    ("gsp_system_prompt_len", &["generated-shared-prefix"]),
    ("gsp_question_len", &["generated-shared-prefix"]),
    ("gsp_output_len", &["generated-shared-prefix"]),
    ("gsp_range_ratio", &["generated-shared-prefix"]),
    ("gsp_fast_prepare", &["generated-shared-prefix"]),
    ("gsp_send_routing_key", &["generated-shared-prefix"]),
    ("gsp_num_turns", &["generated-shared-prefix"]),
    ("gsp_ordered", &["generated-shared-prefix"]),
    ("gsp_group_distribution", &["generated-shared-prefix"]),
    ("gsp_zipf_alpha", &["generated-shared-prefix"]),
    ("mooncake_slowdown_factor", &["mooncake"]),
    ("mooncake_num_rounds", &["mooncake"]),
    ("mooncake_workload", &["mooncake"]),
    ("use_trace_timestamps", &["mooncake"]),
    ("speed_bench_category", &["speed-bench"]),
    ("speed_bench_output_len", &["speed-bench"]),
    ("dataset_offset", &["agentic-trace"]),
    ("agentic_max_turns", &["agentic-trace"]),
    ("apply_chat_template", &["sharegpt", "custom", "image", "mmmu"]),
    ("prompt_suffix", &["sharegpt", "custom"]),
    ("dataset_path", &[
        "sharegpt", "custom", "openai", "random", "mmmu", "mooncake", "longbench_v2",
        "speed-bench", "agentic-trace",
    ]),
];

/// The scenario dataset for the flags; notes for flags given but not used by it.
pub fn dataset(
    args: &BenchArgs,
    given: &dyn Fn(&str) -> bool,
    notes: &mut Vec<String>,
) -> Result<Dataset, UsageError> {
    check_flags(args, given, notes)?;
    build(args, given, notes)
}

/// Notes for dataset flags the dataset does not use; `--tokenize-prompt` where it cannot work.
fn check_flags(
    args: &BenchArgs,
    given: &dyn Fn(&str) -> bool,
    notes: &mut Vec<String>,
) -> Result<(), UsageError> {
    let d = &args.dataset;
    let k = kind(d.dataset_name);
    for (id, kinds) in DATASET_FLAGS {
        if given(id) && !kinds.contains(&k) {
            notes.push(format!(
                "--{} does not apply to --dataset-name {}; ignored (as bench_serving does)",
                id.replace('_', "-"),
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
    Ok(())
}

/// The dataset entry: each `--dataset-name` is the scenario kind with the same options.
fn build(
    args: &BenchArgs,
    given: &dyn Fn(&str) -> bool,
    notes: &mut Vec<String>,
) -> Result<Dataset, UsageError> {
    let d = &args.dataset;
    let name = kind(d.dataset_name).to_owned();
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
    // Ranges (lengths, ratios, factors) are the scenario loader's checks; it names the flags.
    let sg = &args.sharegpt;
    let r = &args.random;
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
            format: r.image_format,
            content: r.image_content,
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
            Dataset::Mooncake(MooncakeDataset {
                name,
                num_prompts: n,
                path,
                workload,
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
            category: args.speed_bench.speed_bench_category,
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
        group_distribution: g.gsp_group_distribution,
        zipf_alpha: g.gsp_zipf_alpha,
        send_routing_key: g.gsp_send_routing_key,
        tokenize_prompt: args.dataset.tokenize_prompt,
    }))
}
