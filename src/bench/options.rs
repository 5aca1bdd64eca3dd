//! Request and profiling flags → `request:` and `load.profile` of the scenario: sampling,
//! extra body, logprobs, LoRA, stream/EOS switches; the profiler's activities and steps.

use serde_json::{Map, Value, json};

use super::args::BenchArgs;
use super::usage::{UsageError, invalid};
use crate::scenario::{
    Api, Backend, CacheReport, LogprobOptions, LoraDistribution, LoraOptions, ProfileOptions,
    RequestOptions,
};

/// `--profile` and its options; notes for options given without it.
pub fn profile(
    args: &BenchArgs,
    given: &dyn Fn(&str) -> bool,
    notes: &mut Vec<String>,
) -> Result<Option<ProfileOptions>, UsageError> {
    let p = &args.profile;
    if !p.profile {
        let ids = [
            ("profile_activities", "--profile-activities"),
            ("profile_start_step", "--profile-start-step"),
            ("profile_steps", "--profile-steps"),
            ("profile_num_steps", "--profile-num-steps"),
            ("profile_by_stage", "--profile-by-stage"),
            ("profile_stages", "--profile-stages"),
            ("profile_output_dir", "--profile-output-dir"),
            ("profile_prefix", "--profile-prefix"),
        ];
        for (id, flag) in ids {
            if given(id) {
                notes.push(format!("{flag} is used only with --profile"));
            }
        }
        return Ok(None);
    }
    let steps = |v: Option<u64>, flag: &str| {
        v.map(|n| u32::try_from(n).map_err(|_| invalid(format!("{flag} {n} is too large"))))
            .transpose()
    };
    Ok(Some(ProfileOptions {
        activities: p
            .profile_activities
            .iter()
            .map(|a| {
                clap::ValueEnum::to_possible_value(a)
                    .map(|v| v.get_name().to_owned())
                    .unwrap_or_default()
            })
            .collect(),
        output_dir: p.profile_output_dir.clone(),
        num_steps: steps(p.profile_steps, "--profile-steps")?
            .or(steps(p.profile_num_steps, "--profile-num-steps")?),
        start_step: steps(p.profile_start_step, "--profile-start-step")?,
        by_stage: p.profile_by_stage,
        stages: (!p.profile_stages.is_empty()).then(|| p.profile_stages.clone()),
        prefix: p.profile_prefix.clone(),
    }))
}

/// The request options.
pub fn request(
    args: &BenchArgs,
    given: &dyn Fn(&str) -> bool,
    backend: Backend,
    notes: &mut Vec<String>,
) -> Result<RequestOptions, UsageError> {
    let s = &args.sampling;
    let mut extra_body = match &s.extra_request_body {
        None => Map::new(),
        Some(text) => match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(m)) => m,
            Ok(_) => return Err(invalid("--extra-request-body must be a JSON object")),
            Err(e) => {
                return Err(invalid(format!(
                    "--extra-request-body is not valid JSON: {e}"
                )));
            }
        },
    };
    if args.output.cache_report {
        match backend.facts().cache_report {
            CacheReport::AskDetails => {
                extra_body.insert("return_cached_tokens_details".into(), json!(true));
            }
            CacheReport::Native => {}
            CacheReport::Note => notes.push(format!(
                "--cache-report is only supported with sglang backends; with {} it counts \
                 `usage.prompt_tokens_details.cached_tokens` when the server sends it",
                backend.as_str()
            )),
        }
    }
    if s.fake_prefill {
        extra_body.insert("bootstrap_host".into(), json!("2.2.2.2"));
        extra_body.insert("bootstrap_room".into(), json!(0));
    }
    // Ranges and combinations (temperature, top_p, token ids, lora with --lora-name) are
    // the scenario loader's checks; it names the flags. Without --lora-name the scenario
    // has no `lora:` to check, so the LoRA flags are checked here.
    if s.lora_name.is_empty() {
        if s.lora_zipf_alpha.is_nan() || s.lora_zipf_alpha <= 1.0 {
            return Err(invalid(format!(
                "--lora-zipf-alpha {}: must be greater than 1",
                s.lora_zipf_alpha
            )));
        }
        if s.lora_request_distribution != LoraDistribution::Uniform {
            return Err(invalid(
                "--lora-request-distribution distinct or skewed needs more than one --lora-name",
            ));
        }
    }
    let native = backend.api() == Some(Api::Generate);
    if !native {
        for (id, flag) in [
            ("token_ids_logprob", "--token-ids-logprob"),
            ("logprob_start_len", "--logprob-start-len"),
            ("return_routed_experts", "--return-routed-experts"),
        ] {
            if given(id) {
                notes.push(format!(
                    "{flag} goes to SGLang's native API only; --backend {} does not send it",
                    backend.as_str()
                ));
            }
        }
    }
    Ok(RequestOptions {
        stream: !s.disable_stream,
        ignore_eos: !s.disable_ignore_eos,
        temperature: (s.temperature != 0.0).then_some(s.temperature),
        top_p: (s.top_p != 1.0).then_some(s.top_p),
        extra_body,
        logprobs: LogprobOptions {
            enabled: s.return_logprob,
            top_n: s.top_logprobs_num,
            token_ids: (!s.token_ids_logprob.is_empty()).then(|| s.token_ids_logprob.clone()),
            start_len: s.logprob_start_len,
        },
        return_routed_experts: s.return_routed_experts,
        lora: (!s.lora_name.is_empty()).then(|| LoraOptions {
            names: s.lora_name.clone(),
            distribution: s.lora_request_distribution,
            zipf_alpha: s.lora_zipf_alpha,
        }),
        ..RequestOptions::default()
    })
}
