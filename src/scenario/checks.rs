//! Checks of `request:` options that a schema cannot express. In: the request options. Out:
//! every [`Problem`] with them.

use super::{LoraDistribution, Problem, RequestOptions};

/// Every problem with the request options.
pub fn request_problems(r: &RequestOptions) -> Vec<Problem> {
    let mut out = Vec::new();
    if let Some(l) = &r.lora {
        if l.distribution != LoraDistribution::Uniform && l.names.len() < 2 {
            out.push(
                Problem::new(
                    "/request/lora/names",
                    format!(
                        "`distribution: {}` needs at least 2 adapter names",
                        match l.distribution {
                            LoraDistribution::Distinct => "distinct",
                            _ => "skewed",
                        }
                    ),
                )
                .hint("add names, or use `distribution: uniform`"),
            );
        }
        if l.zipf_alpha <= 1.0 {
            out.push(Problem::new(
                "/request/lora/zipf_alpha",
                "`zipf_alpha` must be greater than 1",
            ));
        }
    }
    if r.logprobs.token_ids.is_some() && !r.logprobs.enabled {
        out.push(Problem::new(
            "/request/logprobs/token_ids",
            "`token_ids` has no effect unless `enabled: true`",
        ));
    }
    out
}
