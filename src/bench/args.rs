//! The flags of `runner bench`: bench_serving's (spec §1) with the same names, types,
//! defaults and choices, grouped as there. Unique prefixes work (`--random-input 1024`), as
//! with argparse.

use clap::{Args, ValueEnum};

pub use crate::scenario::{
    Backend, GroupDistribution, ImageContent, ImageFormat, LoraDistribution, MooncakeWorkload,
    SpeedBenchCategory,
};

/// `--dataset-name` choices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
#[allow(missing_docs)]
pub enum DatasetArg {
    AgenticTrace,
    Sharegpt,
    Custom,
    Openai,
    Random,
    RandomIds,
    GeneratedSharedPrefix,
    Mmmu,
    Image,
    Mooncake,
    #[value(name = "longbench_v2")]
    LongbenchV2,
    SpeedBench,
    /// Older releases' name for `mooncake` with `--mooncake-workload conversation`, still
    /// in the bench_serving guide.
    #[value(name = "mooncake-conversation", hide = true)]
    MooncakeConversation,
    /// `mooncake` with `--mooncake-workload synthetic`.
    #[value(name = "mooncake-synthetic", hide = true)]
    MooncakeSynthetic,
    /// `mooncake` with `--mooncake-workload toolagent`.
    #[value(name = "mooncake-toolagent", hide = true)]
    MooncakeToolagent,
}

/// Every flag of `runner bench`.
#[derive(Debug, Clone, Args)]
pub struct BenchArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    #[command(flatten)]
    pub dataset: DatasetArgs,
    #[command(flatten)]
    pub sharegpt: ShareGptArgs,
    #[command(flatten)]
    pub random: RandomArgs,
    #[command(flatten)]
    pub gsp: GspArgs,
    #[command(flatten)]
    pub mooncake: MooncakeArgs,
    #[command(flatten)]
    pub speed_bench: SpeedBenchArgs,
    #[command(flatten)]
    pub load: LoadArgs,
    #[command(flatten)]
    pub sampling: SamplingArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub profile: ProfileArgs,
    #[command(flatten)]
    pub rust: RustArgs,
    /// Print the equivalent scenario (YAML) and exit without sending anything.
    #[arg(long, help_heading = "runner")]
    pub dump_scenario: bool,
}

/// Target and connection.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Target / connection")]
pub struct TargetArgs {
    /// Request protocol.
    #[arg(long, value_enum, default_value = "sglang")]
    pub backend: Backend,
    /// Server base URL, used verbatim (overrides --host/--port).
    #[arg(long)]
    pub base_url: Option<String>,
    /// Server host.
    #[arg(long, default_value = "0.0.0.0")]
    pub host: String,
    /// Server port (default: per backend, e.g. 30000 for sglang, 8000 for vllm).
    #[arg(long)]
    pub port: Option<u16>,
    /// Seconds to wait for the server to become ready; 0 skips the check.
    #[arg(long, default_value_t = 60)]
    pub ready_check_timeout_sec: u64,
    /// Model name or path; read from /v1/models when unset.
    #[arg(long)]
    pub model: Option<String>,
    /// Value of the request `model` field (defaults to --model).
    #[arg(long)]
    pub served_model_name: Option<String>,
    /// Tokenizer: a Hugging Face id, a tokenizer.json or model directory, `builtin`
    /// (runner's own), or `server:URL` (the server's /tokenize).
    #[arg(long)]
    pub tokenizer: Option<String>,
    /// Extra HTTP headers as Key=Value.
    #[arg(long, num_args = 1..)]
    pub header: Vec<String>,
}

/// Dataset selection.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Dataset")]
pub struct DatasetArgs {
    /// Dataset to generate requests from.
    #[arg(long, value_enum, default_value = "sharegpt")]
    pub dataset_name: DatasetArg,
    /// Local dataset file; meaning depends on the dataset.
    #[arg(long, default_value = "")]
    pub dataset_path: String,
    /// Number of requests.
    #[arg(long, default_value_t = 1000)]
    pub num_prompts: usize,
    /// Seed of every random choice.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Apply the tokenizer's chat template to prompts (sharegpt, custom).
    #[arg(long)]
    pub apply_chat_template: bool,
    /// Send token ids instead of text (sglang backend).
    #[arg(long)]
    pub tokenize_prompt: bool,
    /// Suffix appended to each prompt (sharegpt, custom).
    #[arg(long, default_value = "")]
    pub prompt_suffix: String,
    /// Rotate the conversation list by this many entries (agentic-trace).
    #[arg(long, default_value_t = 0)]
    pub dataset_offset: usize,
    /// Cap on turns per conversation (agentic-trace).
    #[arg(long)]
    pub agentic_max_turns: Option<usize>,
}

/// ShareGPT-family options.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "ShareGPT-family")]
pub struct ShareGptArgs {
    /// Fixed output length (at least 4).
    #[arg(long)]
    pub sharegpt_output_len: Option<u32>,
    /// Drop rows whose prompt + output length exceeds this.
    #[arg(long)]
    pub sharegpt_context_len: Option<u32>,
}

/// Random and image options.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Random / image")]
pub struct RandomArgs {
    /// Maximum input tokens.
    #[arg(long, default_value_t = 1024)]
    pub random_input_len: u32,
    /// Maximum output tokens.
    #[arg(long, default_value_t = 1024)]
    pub random_output_len: u32,
    /// Lower bound of lengths as a fraction of the maximum (0 draws from [1, N]).
    #[arg(long, allow_negative_numbers = true, default_value_t = 0.0)]
    pub random_range_ratio: f64,
    /// Images per request (the maximum with --random-image-count).
    #[arg(long, default_value_t = 1)]
    pub image_count: u32,
    /// Draw each request's image count uniformly from [1, --image-count].
    #[arg(long)]
    pub random_image_count: bool,
    /// 4k, 1080p, 720p, 360p, HxW, or random:<minH>x<minW>-<maxH>x<maxW>.
    #[arg(long, default_value = "1080p")]
    pub image_resolution: String,
    /// Image encoding.
    #[arg(long, value_enum, ignore_case = true, default_value = "jpeg")]
    pub image_format: ImageFormat,
    /// Image content.
    #[arg(long, value_enum, default_value = "random")]
    pub image_content: ImageContent,
}

/// Generated-shared-prefix options.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "generated-shared-prefix dataset arguments")]
pub struct GspArgs {
    /// Number of prefix groups.
    #[arg(long, default_value_t = 64)]
    pub gsp_num_groups: usize,
    /// Prompts per group.
    #[arg(long, default_value_t = 16)]
    pub gsp_prompts_per_group: usize,
    /// System prompt (shared prefix) length.
    #[arg(long, default_value_t = 2048)]
    pub gsp_system_prompt_len: u32,
    /// Question length.
    #[arg(long, default_value_t = 128)]
    pub gsp_question_len: u32,
    /// Output length.
    #[arg(long, default_value_t = 256)]
    pub gsp_output_len: u32,
    /// Lower bound of lengths as a fraction of the maximum.
    #[arg(long, allow_negative_numbers = true, default_value_t = 1.0)]
    pub gsp_range_ratio: f64,
    /// Skip tokenizing prompts (prompt lengths recorded as 1).
    #[arg(long)]
    pub gsp_fast_prepare: bool,
    /// Send the group's routing key in `X-SMG-Routing-Key`.
    #[arg(long)]
    pub gsp_send_routing_key: bool,
    /// Turns per conversation (>1 replays multi-turn chats).
    #[arg(long, default_value_t = 1)]
    pub gsp_num_turns: u32,
    /// Keep group order (no shuffle).
    #[arg(long)]
    pub gsp_ordered: bool,
    /// How prompts are spread over groups.
    #[arg(long, value_enum, default_value = "uniform")]
    pub gsp_group_distribution: GroupDistribution,
    /// Zipf exponent (required with zipf).
    #[arg(long, allow_negative_numbers = true)]
    pub gsp_zipf_alpha: Option<f64>,
}

/// Mooncake trace replay options.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "mooncake dataset arguments")]
pub struct MooncakeArgs {
    /// Multiplies trace inter-arrival times.
    #[arg(long, allow_negative_numbers = true, default_value_t = 1.0)]
    pub mooncake_slowdown_factor: f64,
    /// Rounds per session.
    #[arg(long, default_value_t = 1)]
    pub mooncake_num_rounds: u32,
    /// Which trace.
    #[arg(long, value_enum, default_value = "conversation")]
    pub mooncake_workload: MooncakeWorkload,
    /// Report the request rate as `trace` (mooncake is always replayed at its timestamps).
    /// Takes an optional true/false, as the bench_serving guide writes it.
    #[arg(long, num_args = 0..=1, default_value_t = false, default_missing_value = "true",
          action = clap::ArgAction::Set, value_name = "BOOL")]
    pub use_trace_timestamps: bool,
}

/// SPEED-bench options.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "speed-bench")]
pub struct SpeedBenchArgs {
    /// Only this category (default: all).
    #[arg(long, value_enum)]
    pub speed_bench_category: Option<SpeedBenchCategory>,
    /// Output length.
    #[arg(long, default_value_t = 512)]
    pub speed_bench_output_len: u32,
}

/// Load shape.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Load shape")]
pub struct LoadArgs {
    /// Mean request rate (Poisson); inf sends everything at once.
    #[arg(long, allow_negative_numbers = true, default_value_t = f64::INFINITY)]
    pub request_rate: f64,
    /// Maximum requests in flight (0 or unset: unlimited).
    #[arg(long)]
    pub max_concurrency: Option<u32>,
    /// Warmup requests before measuring.
    #[arg(long, default_value_t = 1)]
    pub warmup_requests: u32,
    /// Flush the server's prefix cache after warmup.
    #[arg(long)]
    pub flush_cache: bool,
    /// `timeout` sent to SGLang's /flush_cache, in seconds.
    #[arg(long, allow_negative_numbers = true, default_value_t = 60.0)]
    pub flush_cache_timeout: f64,
}

/// Sampling and request content.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Sampling / request content")]
pub struct SamplingArgs {
    /// Send `stream: false`.
    #[arg(long)]
    pub disable_stream: bool,
    /// Do not send `ignore_eos: true`.
    #[arg(long)]
    pub disable_ignore_eos: bool,
    /// Sampling temperature.
    #[arg(long, allow_negative_numbers = true, default_value_t = 0.0)]
    pub temperature: f64,
    /// Top-p (sent only when below 1).
    #[arg(long, allow_negative_numbers = true, default_value_t = 1.0)]
    pub top_p: f64,
    /// JSON object merged into every request body.
    #[arg(long)]
    pub extra_request_body: Option<String>,
    /// Ask for logprobs.
    #[arg(long)]
    pub return_logprob: bool,
    /// Number of top logprobs.
    #[arg(long, default_value_t = 0)]
    pub top_logprobs_num: u32,
    /// Token ids whose logprobs to return (native backend).
    #[arg(long, num_args = 1..)]
    pub token_ids_logprob: Vec<u32>,
    /// Logprob start position (native backend).
    #[arg(long, default_value_t = -1, allow_negative_numbers = true)]
    pub logprob_start_len: i64,
    /// Ask for routed experts (native backend).
    #[arg(long)]
    pub return_routed_experts: bool,
    /// LoRA adapter names.
    #[arg(long, num_args = 0..)]
    pub lora_name: Vec<String>,
    /// How adapters are assigned to requests.
    #[arg(long, value_enum, default_value = "uniform")]
    pub lora_request_distribution: LoraDistribution,
    /// Zipf exponent of the skewed distribution (> 1).
    #[arg(long, allow_negative_numbers = true, default_value_t = 1.5)]
    pub lora_zipf_alpha: f64,
    /// Add PD bootstrap fields that make the server skip prefill.
    #[arg(long)]
    pub fake_prefill: bool,
}

/// Output and reporting.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Output / reporting")]
pub struct OutputArgs {
    /// JSONL file the result line is appended to (default: an automatic name).
    #[arg(long)]
    pub output_file: Option<String>,
    /// Add per-request arrays to the result line.
    #[arg(long)]
    pub output_details: bool,
    /// Copied into the result line.
    #[arg(long)]
    pub tag: Option<String>,
    /// SLOs in ms as KEY:VALUE (ttft, tpot, e2el).
    #[arg(long, num_args = 1..)]
    pub goodput: Vec<String>,
    /// Report prefix-cache hits (sglang backends).
    #[arg(long)]
    pub cache_report: bool,
    /// Refused (no terminal plots): the peak windows are in the result line.
    #[arg(long)]
    pub plot_throughput: bool,
    /// Refused (no per-request log lines): use --output-details.
    #[arg(long)]
    pub print_requests: bool,
    /// No progress bar.
    #[arg(long)]
    pub disable_tqdm: bool,
}

/// `--profile-activities` choices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
#[allow(missing_docs)]
pub enum ProfileActivity {
    #[value(name = "CPU")]
    Cpu,
    #[value(name = "GPU")]
    Gpu,
    #[value(name = "CUDA_PROFILER")]
    CudaProfiler,
    #[value(name = "XPU")]
    Xpu,
    #[value(name = "MEM")]
    Mem,
}

/// Profiling and PD disaggregation.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Profiling / PD")]
pub struct ProfileArgs {
    /// Start and stop the server's profiler around the run.
    #[arg(long)]
    pub profile: bool,
    /// What to profile.
    #[arg(long, value_enum, num_args = 1.., default_values = ["CPU", "GPU"])]
    pub profile_activities: Vec<ProfileActivity>,
    /// Step to start profiling at.
    #[arg(long)]
    pub profile_start_step: Option<u64>,
    /// Steps to profile (the server stops by itself).
    #[arg(long)]
    pub profile_steps: Option<u64>,
    /// Number of steps to profile.
    #[arg(long)]
    pub profile_num_steps: Option<u64>,
    /// Profile by stage.
    #[arg(long)]
    pub profile_by_stage: bool,
    /// Stages to profile.
    #[arg(long, num_args = 1..)]
    pub profile_stages: Vec<String>,
    /// Directory for the server's profile output.
    #[arg(long)]
    pub profile_output_dir: Option<String>,
    /// Prefix of profile files.
    #[arg(long)]
    pub profile_prefix: Option<String>,
    /// Refused (PD-separated profiling is not implemented): profile each server with its
    /// own --base-url and --profile.
    #[arg(long)]
    pub pd_separated: bool,
    /// Refused, as --pd-separated.
    #[arg(long, num_args = 0.., conflicts_with = "profile_decode_url")]
    pub profile_prefill_url: Vec<String>,
    /// Refused, as --pd-separated.
    #[arg(long, num_args = 0..)]
    pub profile_decode_url: Vec<String>,
}

/// bench_serving's bridge to its Rust client (runner is the Rust client).
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Rust bridge")]
pub struct RustArgs {
    /// Accepted for compatibility: runner is already a Rust client.
    #[arg(long)]
    pub rust_client: bool,
    /// Worker threads of the Rust client.
    #[arg(long, requires = "rust_client")]
    pub rust_worker_threads: Option<usize>,
}
