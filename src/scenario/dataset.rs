//! The `datasets:` entries of a scenario: one `kind:` per bench_serving `--dataset-name`, each
//! with its own options (unknown keys rejected). How each kind becomes requests is in
//! `src/dataset/`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

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

/// Options of `sharegpt`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SharegptDataset {
    /// Short name used in run ids (letters, digits, `.`, `_`, `-`).
    #[schemars(regex(pattern = r"^[A-Za-z0-9._-]+$"))]
    pub name: String,
    /// Number of requests per run; fewer when the file has fewer usable conversations.
    #[serde(default = "default_num_prompts")]
    #[schemars(range(min = 1))]
    pub num_prompts: usize,
    /// ShareGPT JSON file (`ShareGPT_V3_unfiltered_cleaned_split.json`). Without it the file
    /// is taken from runner's cache, downloaded from Hugging Face when online.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Fixed output length for every request (at least 4); default: the reply's length
    /// (`--sharegpt-output-len`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 4))]
    pub output_len: Option<u32>,
    /// Drop conversations whose prompt + output length exceeds this (`--sharegpt-context-len`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context_len: Option<u32>,
    /// Appended to every prompt before a final `Assistant:` (`--prompt-suffix`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub prompt_suffix: String,
    /// Render each prompt with the tokenizer's chat template, BOS removed
    /// (`--apply-chat-template`).
    #[serde(default)]
    pub apply_chat_template: bool,
}

/// Options of `custom`: like `sharegpt`, from a JSON-lines file.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomDataset {
    /// Short name used in run ids (letters, digits, `.`, `_`, `-`).
    #[schemars(regex(pattern = r"^[A-Za-z0-9._-]+$"))]
    pub name: String,
    /// Number of requests per run.
    #[serde(default = "default_num_prompts")]
    #[schemars(range(min = 1))]
    pub num_prompts: usize,
    /// JSON-lines file; each line has `conversations` (or `conversation`): a list of turns with
    /// `content` (or `value`). Lines that do not parse are skipped.
    pub path: String,
    /// Fixed output length for every request (at least 4); default: the reply's length.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 4))]
    pub output_len: Option<u32>,
    /// Drop conversations whose prompt + output length exceeds this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context_len: Option<u32>,
    /// Appended to every prompt before a final `Assistant:`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub prompt_suffix: String,
    /// Render each prompt with the tokenizer's chat template, BOS removed.
    #[serde(default)]
    pub apply_chat_template: bool,
}

/// Where `random` takes its prompt tokens from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum TokenSource {
    /// Tokens drawn uniformly from the tokenizer's vocabulary (no file needed).
    #[default]
    Vocab,
    /// ShareGPT prompts, encoded and cut or repeated to length: bench_serving's `random`.
    Sharegpt,
}

/// Options of `random`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RandomDataset {
    /// Short name used in run ids (letters, digits, `.`, `_`, `-`).
    #[schemars(regex(pattern = r"^[A-Za-z0-9._-]+$"))]
    pub name: String,
    /// Number of requests per run.
    #[serde(default = "default_num_prompts")]
    #[schemars(range(min = 1))]
    pub num_prompts: usize,
    /// Maximum input length in tokens (`--random-input-len`).
    #[serde(default = "default_len")]
    pub input_len: u32,
    /// Maximum output length in tokens (`--random-output-len`).
    #[serde(default = "default_len")]
    pub output_len: u32,
    /// Lower bound of the lengths as a fraction of the maximum (`--random-range-ratio`);
    /// 0 draws from `[1, len]`, 1 gives fixed lengths.
    #[serde(default)]
    #[schemars(range(min = 0.0, max = 1.0))]
    pub range_ratio: f64,
    /// `vocab`: tokens drawn from the tokenizer's vocabulary. `sharegpt`: bench_serving's
    /// text, ShareGPT prompts cut or repeated to length (needs `path` or the cached file).
    #[serde(default)]
    pub source: TokenSource,
    /// ShareGPT JSON file for `source: sharegpt`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Adjust each prompt until it re-encodes to exactly its drawn length (special tokens
    /// included). Without it, decoded text can re-encode to a different length; both the
    /// nominal and the measured length are recorded.
    #[serde(default)]
    pub exact_len: bool,
    /// Send token ids instead of text (`--tokenize-prompt`; native and completions APIs).
    #[serde(default)]
    pub tokenize_prompt: bool,
}

/// Options of `random-ids`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RandomIdsDataset {
    /// Short name used in run ids (letters, digits, `.`, `_`, `-`).
    #[schemars(regex(pattern = r"^[A-Za-z0-9._-]+$"))]
    pub name: String,
    /// Number of requests per run.
    #[serde(default = "default_num_prompts")]
    #[schemars(range(min = 1))]
    pub num_prompts: usize,
    /// Maximum input length in tokens.
    #[serde(default = "default_len")]
    pub input_len: u32,
    /// Maximum output length in tokens.
    #[serde(default = "default_len")]
    pub output_len: u32,
    /// Lower bound of the lengths as a fraction of the maximum.
    #[serde(default)]
    #[schemars(range(min = 0.0, max = 1.0))]
    pub range_ratio: f64,
    /// Send token ids instead of decoded text.
    #[serde(default)]
    pub tokenize_prompt: bool,
}

/// Image encoding.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ImageFormat {
    /// JPEG, quality 85.
    #[default]
    Jpeg,
    /// PNG.
    Png,
}

/// Image pixels.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ImageContent {
    /// Uniform random noise.
    #[default]
    Random,
    /// All white.
    Blank,
}

/// How many prompt tokens an image is counted as (the dataset-side estimate; the server's
/// own count, when it reports one, is recorded separately).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ImageTokens {
    /// One token per `patch_px`×`patch_px` square, rounded up on each side (28 for
    /// Qwen2-VL-style 14 px patches merged 2×2).
    PatchPx(u32),
    /// The same count for every image.
    PerImage(u32),
}

impl Default for ImageTokens {
    fn default() -> Self {
        ImageTokens::PatchPx(28)
    }
}

/// Options of `image`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ImageDataset {
    /// Short name used in run ids (letters, digits, `.`, `_`, `-`).
    #[schemars(regex(pattern = r"^[A-Za-z0-9._-]+$"))]
    pub name: String,
    /// Number of requests per run.
    #[serde(default = "default_num_prompts")]
    #[schemars(range(min = 1))]
    pub num_prompts: usize,
    /// Maximum text length in tokens.
    #[serde(default = "default_len")]
    pub input_len: u32,
    /// Maximum output length in tokens.
    #[serde(default = "default_len")]
    pub output_len: u32,
    /// Lower bound of the lengths as a fraction of the maximum.
    #[serde(default)]
    #[schemars(range(min = 0.0, max = 1.0))]
    pub range_ratio: f64,
    /// Images per request (the maximum when `random_image_count`).
    #[serde(default = "one")]
    #[schemars(range(min = 1))]
    pub image_count: u32,
    /// Draw each request's image count uniformly from `[1, image_count]`.
    #[serde(default)]
    pub random_image_count: bool,
    /// `4k`, `1080p`, `720p`, `360p`, `HxW` (height first, e.g. `1080x1920`), or
    /// `random:minHxminW-maxHxmaxW` (each image's height and width drawn independently).
    #[serde(default = "default_resolution")]
    #[schemars(regex(
        pattern = r"^(4k|1080p|720p|360p|[0-9]+x[0-9]+|random:[0-9]+x[0-9]+-[0-9]+x[0-9]+)$"
    ))]
    pub resolution: String,
    /// `jpeg` or `png`.
    #[serde(default)]
    pub format: ImageFormat,
    /// `random` noise or `blank` (white).
    #[serde(default)]
    pub content: ImageContent,
    /// Prompt tokens counted per image: `{patch_px: 28}` (default) or `{per_image: N}`.
    #[serde(default)]
    pub image_tokens: ImageTokens,
}

/// How groups are assigned to prompts in `generated-shared-prefix`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum GroupDistribution {
    /// Every group gets `prompts_per_group` prompts.
    #[default]
    Uniform,
    /// Group of rank r (from 1) is drawn with probability ∝ 1/r^zipf_alpha.
    Zipf,
}

/// Options of `generated-shared-prefix`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SharedPrefixDataset {
    /// Short name used in run ids (letters, digits, `.`, `_`, `-`).
    #[schemars(regex(pattern = r"^[A-Za-z0-9._-]+$"))]
    pub name: String,
    /// Number of groups (distinct system prompts).
    #[serde(default = "default_groups")]
    #[schemars(range(min = 1))]
    pub num_groups: usize,
    /// Prompts per group; the run sends `num_groups × prompts_per_group` requests.
    #[serde(default = "default_per_group")]
    #[schemars(range(min = 1))]
    pub prompts_per_group: usize,
    /// System prompt length in tokens (maximum, with `range_ratio`).
    #[serde(default = "default_system_len")]
    pub system_prompt_len: u32,
    /// Question length in tokens (maximum, with `range_ratio`).
    #[serde(default = "default_question_len")]
    pub question_len: u32,
    /// Output length in tokens (maximum, with `range_ratio`).
    #[serde(default = "default_gsp_output_len")]
    pub output_len: u32,
    /// Lower bound of the lengths as a fraction of the maximum; 1 (default) gives fixed lengths.
    #[serde(default = "one_f64")]
    #[schemars(range(min = 0.0, max = 1.0))]
    pub range_ratio: f64,
    /// Turns per conversation; above 1 each request is a multi-turn chat replayed turn by turn.
    #[serde(default = "one")]
    #[schemars(range(min = 1))]
    pub num_turns: u32,
    /// Keep group order instead of shuffling.
    #[serde(default)]
    pub ordered: bool,
    /// `uniform` or `zipf` (needs `zipf_alpha`).
    #[serde(default)]
    pub group_distribution: GroupDistribution,
    /// Zipf exponent (> 0), only with `group_distribution: zipf`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zipf_alpha: Option<f64>,
    /// Give each request a routing key (`X-SMG-Routing-Key`) naming its group.
    #[serde(default)]
    pub send_routing_key: bool,
    /// Send token ids instead of text (single-turn only).
    #[serde(default)]
    pub tokenize_prompt: bool,
}

/// Options of `mmmu`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MmmuDataset {
    /// Short name used in run ids (letters, digits, `.`, `_`, `-`).
    #[schemars(regex(pattern = r"^[A-Za-z0-9._-]+$"))]
    pub name: String,
    /// Number of requests; a seeded sample when the file has more rows.
    #[serde(default = "default_num_prompts")]
    #[schemars(range(min = 1))]
    pub num_prompts: usize,
    /// JSON-lines export of the MMMU Math test split: `question` and `image_1` (base64 PNG or
    /// JPEG, a data URI, `{"bytes": base64}` or `{"path": file}`) per line. See the README.
    pub path: String,
    /// Output length of every request (bench_serving uses `--random-output-len`).
    #[serde(default = "default_len")]
    pub output_len: u32,
    /// Prompt tokens counted per image.
    #[serde(default)]
    pub image_tokens: ImageTokens,
}

/// Which Mooncake trace.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum MooncakeWorkload {
    /// `arxiv-trace/mooncake_trace.jsonl`.
    Mooncake,
    /// `traces/conversation_trace.jsonl`.
    #[default]
    Conversation,
    /// `traces/synthetic_trace.jsonl`.
    Synthetic,
    /// `traces/toolagent_trace.jsonl`.
    Toolagent,
}

/// How a Mooncake record becomes a prompt.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum MooncakePrompt {
    /// One block of `block_size` tokens per hash id (the same id always gives the same
    /// block, so shared prefixes stay shared), cut to the record's `input_length`.
    #[default]
    Blocks,
    /// bench_serving's text: per hash id `"{id}"` + 128 × `" hi"`, then
    /// `"Tell me a story based on this context."`, chat-templated; `input_length` ignored.
    Sglang,
}

/// Options of `mooncake`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MooncakeDataset {
    /// Short name used in run ids (letters, digits, `.`, `_`, `-`).
    #[schemars(regex(pattern = r"^[A-Za-z0-9._-]+$"))]
    pub name: String,
    /// Number of trace records (the first ones in the file).
    #[serde(default = "default_num_prompts")]
    #[schemars(range(min = 1))]
    pub num_prompts: usize,
    /// Trace file (JSON lines with `timestamp` in ms, `hash_ids`, `input_length`,
    /// `output_length`). Without it the `workload` trace is taken from runner's cache,
    /// downloaded when online.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Which published trace to use without `path`.
    #[serde(default)]
    pub workload: MooncakeWorkload,
    /// Multiplies trace times: 2 replays at half speed (`--mooncake-slowdown-factor`).
    #[serde(default = "one_f64")]
    #[schemars(range(min = 0.0))]
    pub slowdown_factor: f64,
    /// Rounds per session; above 1 each request is a multi-turn chat whose turns are sent
    /// one after another with the real replies in the history (`--mooncake-num-rounds`).
    #[serde(default = "one")]
    #[schemars(range(min = 1))]
    pub num_rounds: u32,
    /// `blocks` (default) or `sglang` (bench_serving's prompt text).
    #[serde(default)]
    pub prompt: MooncakePrompt,
    /// Tokens per hash block for `prompt: blocks` (Mooncake traces use 512).
    #[serde(default = "default_block")]
    #[schemars(range(min = 1))]
    pub block_size: u32,
    /// Output length of records without `output_length`.
    #[serde(default = "default_mooncake_output")]
    pub output_len: u32,
}

/// Options of `openai`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenaiDataset {
    /// Short name used in run ids (letters, digits, `.`, `_`, `-`).
    #[schemars(regex(pattern = r"^[A-Za-z0-9._-]+$"))]
    pub name: String,
    /// Number of requests: the first valid lines; 0 takes every line.
    #[serde(default = "default_num_prompts")]
    pub num_prompts: usize,
    /// JSON-lines file of chat requests: `messages` (required), `max_tokens` (output length,
    /// default 256), `tools`, and any other body field, which is sent with that request.
    pub path: String,
    /// Output length of every request, over the lines' `max_tokens`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_len: Option<u32>,
}

/// Options of `longbench_v2`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LongbenchDataset {
    /// Short name used in run ids (letters, digits, `.`, `_`, `-`).
    #[schemars(regex(pattern = r"^[A-Za-z0-9._-]+$"))]
    pub name: String,
    /// Number of requests.
    #[serde(default = "default_num_prompts")]
    #[schemars(range(min = 1))]
    pub num_prompts: usize,
    /// JSON-lines export of `THUDM/LongBench-v2` (fields `context`, `question`,
    /// `choice_A`…`choice_D`).
    pub path: String,
    /// Output length (default 10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_len: Option<u32>,
    /// Drop questions whose prompt + output length exceeds this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context_len: Option<u32>,
}

/// SPEED-Bench category.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SpeedBenchCategory {
    /// Low-entropy prompts.
    LowEntropy,
    /// Mixed prompts.
    Mixed,
    /// High-entropy prompts.
    HighEntropy,
}

/// Options of `speed-bench`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SpeedBenchDataset {
    /// Short name used in run ids (letters, digits, `.`, `_`, `-`).
    #[schemars(regex(pattern = r"^[A-Za-z0-9._-]+$"))]
    pub name: String,
    /// Number of requests: sampled without replacement, or repeated and shuffled when the
    /// file has fewer prompts.
    #[serde(default = "default_num_prompts")]
    #[schemars(range(min = 1))]
    pub num_prompts: usize,
    /// JSON-lines file with `turns` (the first is the prompt) and `category`.
    pub path: String,
    /// Only this category.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<SpeedBenchCategory>,
    /// Output length of every request.
    #[serde(default = "default_speed_output")]
    pub output_len: u32,
}

/// Options of `agentic-trace`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AgenticTraceDataset {
    /// Short name used in run ids (letters, digits, `.`, `_`, `-`).
    #[schemars(regex(pattern = r"^[A-Za-z0-9._-]+$"))]
    pub name: String,
    /// Number of conversations; 0 takes all.
    #[serde(default = "default_num_prompts")]
    pub num_prompts: usize,
    /// JSON file `{"conversations": [[{"messages": [...], "prompt_tokens": N}, ...], ...]}`:
    /// each turn holds the new non-assistant messages of that turn.
    pub path: String,
    /// Output length of every turn (default 220).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_len: Option<u32>,
    /// Start at this conversation (the list is rotated).
    #[serde(default)]
    pub offset: usize,
    /// Keep at most this many turns per conversation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub max_turns: Option<usize>,
}

fn default_num_prompts() -> usize {
    1000
}
fn default_len() -> u32 {
    1024
}
fn one() -> u32 {
    1
}
fn one_f64() -> f64 {
    1.0
}
fn default_resolution() -> String {
    "1080p".into()
}
fn default_groups() -> usize {
    64
}
fn default_per_group() -> usize {
    16
}
fn default_system_len() -> u32 {
    2048
}
fn default_question_len() -> u32 {
    128
}
fn default_gsp_output_len() -> u32 {
    256
}
fn default_block() -> u32 {
    512
}
fn default_mooncake_output() -> u32 {
    256
}
fn default_speed_output() -> u32 {
    512
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

    /// Requests one run sends at most (file-based datasets may yield fewer).
    pub fn num_requests(&self) -> usize {
        use Dataset::*;
        match self {
            Sharegpt(d) => d.num_prompts,
            Random(d) => d.num_prompts,
            RandomIds(d) => d.num_prompts,
            Image(d) => d.num_prompts,
            GeneratedSharedPrefix(d) => d.num_groups * d.prompts_per_group,
            Mmmu(d) => d.num_prompts,
            Mooncake(d) => d.num_prompts,
            Custom(d) => d.num_prompts,
            Openai(d) => d.num_prompts,
            LongbenchV2(d) => d.num_prompts,
            SpeedBench(d) => d.num_prompts,
            AgenticTrace(d) => d.num_prompts,
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
                "mooncake, {} records from {}, slowdown {}, {} round(s)",
                d.num_prompts,
                path(&d.path),
                d.slowdown_factor,
                d.num_rounds
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

/// Problems a schema cannot express, as (field, message).
pub fn problems(d: &Dataset) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    if let Dataset::GeneratedSharedPrefix(g) = d {
        match (g.group_distribution, g.zipf_alpha) {
            (GroupDistribution::Zipf, None) => out.push((
                "zipf_alpha",
                "`group_distribution: zipf` needs `zipf_alpha`".into(),
            )),
            (GroupDistribution::Zipf, Some(a)) if !(a.is_finite() && a > 0.0) => out.push((
                "zipf_alpha",
                "zipf_alpha must be a finite number > 0".into(),
            )),
            (GroupDistribution::Uniform, Some(_)) => out.push((
                "zipf_alpha",
                "zipf_alpha is only used with `group_distribution: zipf`".into(),
            )),
            _ => {}
        }
        if g.tokenize_prompt && g.num_turns > 1 {
            out.push((
                "tokenize_prompt",
                "tokenize_prompt works only with num_turns: 1".into(),
            ));
        }
    }
    if let Dataset::Random(r) = d
        && r.path.is_some()
        && r.source != TokenSource::Sharegpt
    {
        out.push((
            "path",
            "`path` is the ShareGPT file of `source: sharegpt`".into(),
        ));
    }
    out
}
