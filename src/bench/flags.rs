//! Scenario keys → `runner bench` flags: the one table of which flag sets which scenario
//! field, so that problems the scenario loader finds, and hints that name scenario keys
//! (`` `path:` ``, `` `ready_timeout_s` ``), are told in the flags the user typed.
//!
//! In: a field pointer (`/datasets/0/range_ratio`) or a message, and the dataset kind. Out:
//! the flag, or the message with its scenario keys replaced by flags.

use crate::scenario;

/// (key, flag). A key is the field's path without list indices (`datasets.range_ratio`).
const FLAGS: &[(&str, &str)] = &[
    ("tokenizer", "--tokenizer"),
    ("targets.base_url", "--base-url / --host / --port"),
    ("targets.ready_timeout_s", "--ready-check-timeout-sec"),
    ("targets.headers", "--header"),
    ("datasets.path", "--dataset-path"),
    ("datasets.num_prompts", "--num-prompts"),
    ("datasets.prompt_suffix", "--prompt-suffix"),
    ("datasets.apply_chat_template", "--apply-chat-template"),
    ("datasets.tokenize_prompt", "--tokenize-prompt"),
    ("datasets.output_len", "--sharegpt-output-len"),
    ("datasets.context_len", "--sharegpt-context-len"),
    ("datasets.input_len", "--random-input-len"),
    ("datasets.range_ratio", "--random-range-ratio"),
    ("datasets.image_count", "--image-count"),
    ("datasets.resolution", "--image-resolution"),
    ("load.request_rate", "--request-rate"),
    ("load.max_concurrency", "--max-concurrency"),
    ("load.warmup_requests", "--warmup-requests"),
    ("load.flush_cache_timeout_s", "--flush-cache-timeout"),
    ("request.temperature", "--temperature"),
    ("request.top_p", "--top-p"),
    ("request.extra_body", "--extra-request-body"),
    ("request.logprobs.top_n", "--top-logprobs-num"),
    ("request.logprobs.token_ids", "--token-ids-logprob"),
    ("request.logprobs.start_len", "--logprob-start-len"),
    ("request.lora.names", "--lora-name"),
    ("request.lora.distribution", "--lora-request-distribution"),
    ("request.lora.zipf_alpha", "--lora-zipf-alpha"),
];

/// The flags that depend on the dataset kind, by kind; they win over [`FLAGS`].
const KIND_FLAGS: &[(&str, &[(&str, &str)])] = &[
    ("random", &[("datasets.output_len", "--random-output-len")]),
    (
        "random-ids",
        &[("datasets.output_len", "--random-output-len")],
    ),
    ("image", &[("datasets.output_len", "--random-output-len")]),
    ("mmmu", &[("datasets.output_len", "--random-output-len")]),
    (
        "generated-shared-prefix",
        &[
            ("datasets.num_groups", "--gsp-num-groups"),
            ("datasets.prompts_per_group", "--gsp-prompts-per-group"),
            ("datasets.system_prompt_len", "--gsp-system-prompt-len"),
            ("datasets.question_len", "--gsp-question-len"),
            ("datasets.output_len", "--gsp-output-len"),
            ("datasets.range_ratio", "--gsp-range-ratio"),
            ("datasets.num_turns", "--gsp-num-turns"),
            ("datasets.zipf_alpha", "--gsp-zipf-alpha"),
        ],
    ),
    (
        "mooncake",
        &[
            ("datasets.slowdown_factor", "--mooncake-slowdown-factor"),
            ("datasets.num_rounds", "--mooncake-num-rounds"),
        ],
    ),
    (
        "speed-bench",
        &[("datasets.output_len", "--speed-bench-output-len")],
    ),
    (
        "agentic-trace",
        &[
            ("datasets.offset", "--dataset-offset"),
            ("datasets.max_turns", "--agentic-max-turns"),
        ],
    ),
];

/// The flag behind the field at `pointer` (`/datasets/0/range_ratio`).
pub fn of_pointer(pointer: &str, kind: &str) -> Option<&'static str> {
    let key: Vec<&str> = pointer
        .split('/')
        .filter(|s| !s.is_empty() && !s.bytes().all(|b| b.is_ascii_digit()))
        .collect();
    let key = key.join(".");
    find(kind, |k| k == key)
}

/// The flag behind a scenario key named by its last part (`path`, `ready_timeout_s`).
fn of_name(name: &str, kind: &str) -> Option<&'static str> {
    find(kind, |k| k == name || k.rsplit('.').next() == Some(name))
}

/// The first entry for `kind` whose key matches, else the first for any kind.
fn find(kind: &str, matches: impl Fn(&str) -> bool) -> Option<&'static str> {
    let scoped = KIND_FLAGS.iter().filter(|(k, _)| *k == kind);
    scoped
        .flat_map(|(_, flags)| flags.iter())
        .chain(FLAGS)
        .find(|(k, _)| matches(k))
        .map(|(_, flag)| *flag)
}

/// `msg` with every backticked scenario key (`` `path:` ``, `` `zipf_alpha` ``) written as
/// its flag.
pub fn in_flag_terms(msg: &str, kind: &str) -> String {
    msg.split('`')
        .enumerate()
        .map(|(i, part)| {
            let name = part.strip_suffix(':').unwrap_or(part);
            match of_name(name, kind) {
                Some(flag) if i % 2 == 1 => flag.to_owned(),
                _ => part.to_owned(),
            }
        })
        .collect::<Vec<_>>()
        .join("`")
}

/// A scenario that does not load, one line per problem, in flag terms where the field has
/// a flag.
pub fn describe(e: &scenario::LoadError, kind: &str) -> String {
    let diags = e.diagnostics();
    if diags.is_empty() {
        return in_flag_terms(&e.to_string(), kind);
    }
    let lines: Vec<String> = diags
        .iter()
        .map(|d| {
            let what = of_pointer(&d.pointer, kind)
                .map(str::to_owned)
                .unwrap_or_else(|| format!("scenario field {}", d.pointer));
            let message = in_flag_terms(&d.message, kind);
            match &d.hint {
                Some(h) => format!("{what}: {message} ({})", in_flag_terms(h, kind)),
                None => format!("{what}: {message}"),
            }
        })
        .collect();
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_and_keys_become_the_flags_that_set_them() {
        assert_eq!(
            of_pointer("/datasets/0/range_ratio", "generated-shared-prefix"),
            Some("--gsp-range-ratio")
        );
        assert_eq!(
            of_pointer("/datasets/0/range_ratio", "random"),
            Some("--random-range-ratio")
        );
        assert_eq!(
            of_pointer("/datasets/0/output_len", "sharegpt"),
            Some("--sharegpt-output-len")
        );
        assert_eq!(of_pointer("/sweep/mode", "random"), None);
        assert_eq!(
            in_flag_terms(
                "give its path as the dataset's `path:`; raise `ready_timeout_s`, or `tokenizer:`",
                "sharegpt"
            ),
            "give its path as the dataset's `--dataset-path`; raise \
             `--ready-check-timeout-sec`, or `--tokenizer`"
        );
        assert_eq!(
            in_flag_terms("`tokenizer: server` needs a base_url", "random"),
            "`tokenizer: server` needs a base_url"
        );
    }
}
