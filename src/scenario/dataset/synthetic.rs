//! Options of the generated kinds: `random`, `random-ids`, `image`, `generated-shared-prefix`;
//! and the defaults every kind shares.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

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
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema, clap::ValueEnum,
)]
#[serde(rename_all = "kebab-case")]
pub enum ImageFormat {
    /// JPEG, quality 85.
    #[default]
    #[value(alias = "jpg")]
    Jpeg,
    /// PNG.
    Png,
}

/// Image pixels.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema, clap::ValueEnum,
)]
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
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema, clap::ValueEnum,
)]
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

pub(super) fn default_num_prompts() -> usize {
    1000
}
pub(super) fn default_len() -> u32 {
    1024
}
pub(super) fn one() -> u32 {
    1
}
pub(super) fn one_f64() -> f64 {
    1.0
}
pub(super) fn default_resolution() -> String {
    "1080p".into()
}
pub(super) fn default_groups() -> usize {
    64
}
pub(super) fn default_per_group() -> usize {
    16
}
pub(super) fn default_system_len() -> u32 {
    2048
}
pub(super) fn default_question_len() -> u32 {
    128
}
pub(super) fn default_gsp_output_len() -> u32 {
    256
}
pub(super) fn default_block() -> u32 {
    512
}
pub(super) fn default_mooncake_output() -> u32 {
    256
}
pub(super) fn default_speed_output() -> u32 {
    512
}
