//! Options of the kinds read from files: `sharegpt`, `custom`, `mmmu`, `mooncake`, `openai`,
//! `longbench_v2`, `speed-bench`, `agentic-trace`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::synthetic::{
    ImageTokens, default_block, default_len, default_mooncake_output, default_num_prompts,
    default_speed_output, one, one_f64,
};

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
    /// JPEG, a data URI, `{"bytes": base64}` or `{"path": file}`) per line. See docs/datasets.md.
    pub path: String,
    /// Output length of every request (bench_serving uses `--random-output-len`).
    #[serde(default = "default_len")]
    pub output_len: u32,
    /// Prompt tokens counted per image.
    #[serde(default)]
    pub image_tokens: ImageTokens,
}

/// Which Mooncake trace.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema, clap::ValueEnum,
)]
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

/// How the rounds of a multi-round Mooncake session are sent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum MooncakeRounds {
    /// One multi-turn chat per record: round `i` is sent after the real reply to round
    /// `i-1`, which joins the history. Needs a chat backend; the more faithful replay.
    #[default]
    TurnByTurn,
    /// bench_serving's: every round of a session is sent at the record's time without
    /// waiting for replies, one request per round whose prompt is the history so far with
    /// placeholder replies (`"story"` × the output length), rendered with the chat template
    /// (`role: content` lines without one). Any backend.
    AllAtOnce,
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
    /// Rounds per session (`--mooncake-num-rounds`); how they are sent is `rounds`.
    #[serde(default = "one")]
    #[schemars(range(min = 1))]
    pub num_rounds: u32,
    /// How a session's rounds are sent when `num_rounds` is above 1: `turn-by-turn`
    /// (default) or `all-at-once` (bench_serving's).
    #[serde(default)]
    pub rounds: MooncakeRounds,
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

impl MooncakeDataset {
    /// Whether a session's rounds are sent as separate requests at once (bench_serving's
    /// multi-round replay), not as one multi-turn chat.
    pub fn all_at_once(&self) -> bool {
        self.num_rounds > 1 && self.rounds == MooncakeRounds::AllAtOnce
    }

    /// Sessions among `requests` built requests.
    pub fn sessions(&self, requests: usize) -> usize {
        if self.all_at_once() {
            requests / self.num_rounds as usize
        } else {
            requests
        }
    }
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
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema, clap::ValueEnum,
)]
#[serde(rename_all = "snake_case")]
#[value(rename_all = "snake_case")]
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
