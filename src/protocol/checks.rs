//! Checks of `request:` options that a schema cannot express, for `runner validate`:
//! (JSON pointer, message, hint) per problem.

use crate::scenario::{LoraDistribution, RequestOptions};

use super::template::BodyTemplate;

/// Every problem with the request options.
pub fn request_problems(r: &RequestOptions) -> Vec<(String, String, Option<&'static str>)> {
    let mut out = Vec::new();
    if let Some(src) = &r.template
        && let Err(e) = BodyTemplate::compile("request.template", src)
    {
        out.push((
            "/request/template".into(),
            format!("template line {}: {}", e.line, e.message),
            None,
        ));
    }
    if let Some(l) = &r.lora {
        if l.distribution != LoraDistribution::Uniform && l.names.len() < 2 {
            out.push((
                "/request/lora/names".into(),
                format!(
                    "`distribution: {}` needs at least 2 adapter names",
                    match l.distribution {
                        LoraDistribution::Distinct => "distinct",
                        _ => "skewed",
                    }
                ),
                Some("add names, or use `distribution: uniform`"),
            ));
        }
        if l.zipf_alpha <= 1.0 {
            out.push((
                "/request/lora/zipf_alpha".into(),
                "`zipf_alpha` must be greater than 1".into(),
                None,
            ));
        }
    }
    if r.logprobs.token_ids.is_some() && !r.logprobs.enabled {
        out.push((
            "/request/logprobs/token_ids".into(),
            "`token_ids` has no effect unless `enabled: true`".into(),
            None,
        ));
    }
    out
}
