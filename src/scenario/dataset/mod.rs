//! The `datasets:` entries of a scenario: one `kind:` per bench_serving `--dataset-name`, each
//! with its own options (unknown keys rejected): generated kinds in [`synthetic`], file-based
//! ones in [`files`]. How each kind becomes requests is in `src/dataset/`.

mod files;
mod synthetic;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::Problem;

pub use files::*;
pub use synthetic::*;

/// A workload: how prompts and output lengths are generated.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Dataset {
    /// ShareGPT conversations: first turn as prompt, second turn's length as output length
    /// (bench_serving `sharegpt`).
    #[serde(rename = "sharegpt")]
    Sharegpt(SharegptDataset),
    /// Random-length prompts of random tokens (bench_serving `random`).
    Random(RandomDataset),
    /// Random-length prompts of consecutive token ids (bench_serving `random-ids`).
    RandomIds(RandomIdsDataset),
    /// Random text with generated images (bench_serving `image`).
    Image(ImageDataset),
    /// Groups of prompts sharing a long system prompt (bench_serving `generated-shared-prefix`).
    GeneratedSharedPrefix(SharedPrefixDataset),
    /// MMMU questions with their first image, from a local JSON-lines file (bench_serving `mmmu`).
    Mmmu(MmmuDataset),
    /// Mooncake trace replay: requests at the trace's timestamps (bench_serving `mooncake`).
    Mooncake(MooncakeDataset),
    /// Conversations from a JSON-lines file, handled like ShareGPT (bench_serving `custom`).
    Custom(CustomDataset),
    /// Chat requests from a JSON-lines file, sent as messages with their own extra body
    /// (bench_serving `openai`).
    Openai(OpenaiDataset),
    /// LongBench v2 questions from a local JSON-lines file (bench_serving `longbench_v2`).
    #[serde(rename = "longbench_v2")]
    LongbenchV2(LongbenchDataset),
    /// SPEED-Bench prompts from a local JSON-lines file (bench_serving `speed-bench`).
    SpeedBench(SpeedBenchDataset),
    /// Multi-turn agentic conversations replayed turn by turn (bench_serving `agentic-trace`).
    AgenticTrace(AgenticTraceDataset),
}

impl Dataset {
    /// The dataset's name, used in run ids.
    pub fn name(&self) -> &str {
        use Dataset::*;
        match self {
            Sharegpt(d) => &d.name,
            Random(d) => &d.name,
            RandomIds(d) => &d.name,
            Image(d) => &d.name,
            GeneratedSharedPrefix(d) => &d.name,
            Mmmu(d) => &d.name,
            Mooncake(d) => &d.name,
            Custom(d) => &d.name,
            Openai(d) => &d.name,
            LongbenchV2(d) => &d.name,
            SpeedBench(d) => &d.name,
            AgenticTrace(d) => &d.name,
        }
    }

    /// The `kind:` tag (bench_serving's `--dataset-name`).
    pub fn kind(&self) -> &'static str {
        use Dataset::*;
        match self {
            Sharegpt(_) => "sharegpt",
            Random(_) => "random",
            RandomIds(_) => "random-ids",
            Image(_) => "image",
            GeneratedSharedPrefix(_) => "generated-shared-prefix",
            Mmmu(_) => "mmmu",
            Mooncake(_) => "mooncake",
            Custom(_) => "custom",
            Openai(_) => "openai",
            LongbenchV2(_) => "longbench_v2",
            SpeedBench(_) => "speed-bench",
            AgenticTrace(_) => "agentic-trace",
        }
    }

    /// Whether its requests are multi-turn conversations (sent turn by turn as chat).
    pub fn multi_turn(&self) -> bool {
        match self {
            Dataset::AgenticTrace(_) => true,
            Dataset::Mooncake(d) => d.num_rounds > 1 && d.rounds == MooncakeRounds::TurnByTurn,
            Dataset::GeneratedSharedPrefix(d) => d.num_turns > 1,
            _ => false,
        }
    }

    /// Whether its requests carry trace timestamps (usable with `arrival: trace`).
    pub fn has_timestamps(&self) -> bool {
        matches!(self, Dataset::Mooncake(_))
    }

    /// `(input_len, output_len, range_ratio)` for the bench_serving result keys
    /// `random_input_len`, `random_output_len`, `random_range_ratio`.
    pub fn random_lens(&self) -> Option<(u32, u32, f64)> {
        match self {
            Dataset::Random(d) => Some((d.input_len, d.output_len, d.range_ratio)),
            Dataset::RandomIds(d) => Some((d.input_len, d.output_len, d.range_ratio)),
            Dataset::Image(d) => Some((d.input_len, d.output_len, d.range_ratio)),
            _ => None,
        }
    }

    /// One-line description for `runner plan`.
    pub fn describe(&self) -> String {
        use Dataset::*;
        let path = |p: &Option<String>| p.clone().unwrap_or_else(|| "cached download".into());
        match self {
            Random(d) => format!(
                "random, {} prompts, input {} output {} range_ratio {}",
                d.num_prompts, d.input_len, d.output_len, d.range_ratio
            ),
            RandomIds(d) => format!(
                "random-ids, {} prompts, input {} output {} range_ratio {}",
                d.num_prompts, d.input_len, d.output_len, d.range_ratio
            ),
            Image(d) => format!(
                "image, {} prompts, input {} output {}, {} × {} {:?}",
                d.num_prompts, d.input_len, d.output_len, d.image_count, d.resolution, d.format
            ),
            GeneratedSharedPrefix(d) => format!(
                "generated-shared-prefix, {} groups × {} prompts, system {} question {} output {}, {} turn(s)",
                d.num_groups,
                d.prompts_per_group,
                d.system_prompt_len,
                d.question_len,
                d.output_len,
                d.num_turns
            ),
            Sharegpt(d) => format!("sharegpt, {} prompts from {}", d.num_prompts, path(&d.path)),
            Mooncake(d) => format!(
                "mooncake, {} records from {}, slowdown {}, {} round(s){}",
                d.num_prompts,
                path(&d.path),
                d.slowdown_factor,
                d.num_rounds,
                if d.all_at_once() { " all at once" } else { "" }
            ),
            Mmmu(d) => format!("mmmu, {} prompts from {}", d.num_prompts, d.path),
            Custom(d) => format!("custom, {} prompts from {}", d.num_prompts, d.path),
            Openai(d) => format!("openai, {} requests from {}", d.num_prompts, d.path),
            LongbenchV2(d) => format!("longbench_v2, {} prompts from {}", d.num_prompts, d.path),
            SpeedBench(d) => format!("speed-bench, {} prompts from {}", d.num_prompts, d.path),
            AgenticTrace(d) => {
                format!(
                    "agentic-trace, {} conversations from {}",
                    d.num_prompts, d.path
                )
            }
        }
    }
}

/// Problems a schema cannot express (pointers relative to the dataset).
pub fn problems(d: &Dataset) -> Vec<Problem> {
    let mut out = Vec::new();
    if let Dataset::GeneratedSharedPrefix(g) = d {
        match (g.group_distribution, g.zipf_alpha) {
            (GroupDistribution::Zipf, None) => out.push(Problem::new(
                "/zipf_alpha",
                "`group_distribution: zipf` needs `zipf_alpha`",
            )),
            (GroupDistribution::Zipf, Some(a)) if !(a.is_finite() && a > 0.0) => out.push(
                Problem::new("/zipf_alpha", "zipf_alpha must be a finite number > 0"),
            ),
            (GroupDistribution::Uniform, Some(_)) => out.push(Problem::new(
                "/zipf_alpha",
                "zipf_alpha is only used with `group_distribution: zipf`",
            )),
            _ => {}
        }
        if g.tokenize_prompt && g.num_turns > 1 {
            out.push(Problem::new(
                "/tokenize_prompt",
                "tokenize_prompt works only with num_turns: 1",
            ));
        }
    }
    if let Dataset::Random(r) = d
        && r.path.is_some()
        && r.source != TokenSource::Sharegpt
    {
        out.push(Problem::new(
            "/path",
            "`path` is the ShareGPT file of `source: sharegpt`",
        ));
    }
    out
}
