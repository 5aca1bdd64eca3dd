//! Checks of a typed scenario that a schema cannot express: unique names, where each target
//! points, embedded-server settings and faults, dataset options, zip lengths, options that only
//! make sense together. In: a [`Scenario`]. Out: every [`Problem`], with its field's pointer.

use std::collections::HashSet;

use super::{Arrival, Problem, Scenario, SweepMode, checks, dataset, zip_len};

/// Checks a schema cannot express: unique names, where each target points, zip lengths,
/// options that only make sense together.
pub fn problems(s: &Scenario) -> Vec<Problem> {
    let mut out = Vec::new();
    let mut push = |pointer: String, message: String, hint: Option<&str>| {
        out.push(Problem {
            pointer,
            message,
            hint: hint.map(str::to_owned),
        });
    };
    let mut seen = HashSet::new();
    for (i, t) in s.targets.iter().enumerate() {
        if !seen.insert(t.name.as_str()) {
            push(
                format!("/targets/{i}/name"),
                format!("target name `{}` is used twice", t.name),
                Some("run ids are built from names, so each must be unique"),
            );
        }
        if super::optional::inactive(t.when_env.as_deref()).is_some() {
            continue;
        }
        match (&t.base_url, &t.embedded) {
            (None, None) => push(
                format!("/targets/{i}"),
                "a target needs `base_url` or `embedded`".into(),
                Some("add `base_url: http://host:port`, or `embedded: {}` for the built-in server"),
            ),
            (Some(_), Some(_)) => push(
                format!("/targets/{i}/embedded"),
                "`base_url` and `embedded` exclude each other".into(),
                Some("an embedded target gets its own loopback address"),
            ),
            (Some(url), None) => {
                if let Err(e) = reqwest::Url::parse(url) {
                    push(
                        format!("/targets/{i}/base_url"),
                        format!("`{url}` is not a valid URL: {e}"),
                        Some("write it like http://127.0.0.1:30000"),
                    );
                }
            }
            (None, Some(cfg)) => {
                if let Err(problems) = cfg.resolve_checked() {
                    for p in problems {
                        let p = p.under(&format!("/targets/{i}/embedded"));
                        push(p.pointer, p.message, p.hint.as_deref());
                    }
                }
            }
        }
        if let Some(why) = t.backend.unsupported() {
            push(format!("/targets/{i}/backend"), why, None);
        }
    }
    let mut seen = HashSet::new();
    for (i, d) in s.datasets.iter().enumerate() {
        if !seen.insert(d.name()) {
            push(
                format!("/datasets/{i}/name"),
                format!("dataset name `{}` is used twice", d.name()),
                Some("run ids are built from names, so each must be unique"),
            );
        }
        if s.load.arrival == Arrival::Trace && !d.has_timestamps() {
            push(
                format!("/datasets/{i}/kind"),
                format!(
                    "`arrival: trace` needs timestamps, and `{}` datasets have none",
                    d.kind()
                ),
                Some("use a `mooncake` dataset, or another arrival process"),
            );
        }
        for t in s.targets.iter().filter(|t| !t.backend.is_chat()) {
            if d.multi_turn() {
                push(
                    format!("/datasets/{i}/kind"),
                    format!(
                        "dataset `{}` replays multi-turn conversations, which need a chat \
                         backend; target `{}` uses `{}`",
                        d.name(),
                        t.name,
                        t.backend.as_str()
                    ),
                    Some("use sglang-oai-chat, vllm-chat or lmdeploy-chat for this target"),
                );
            }
        }
        for p in dataset::problems(d) {
            let p = p.under(&format!("/datasets/{i}"));
            push(p.pointer, p.message, None);
        }
    }
    match (s.load.arrival, s.load.burstiness) {
        (Arrival::Gamma, None) => push(
            "/load/arrival".into(),
            "`arrival: gamma` needs `burstiness`".into(),
            Some("burstiness 1.0 is Poisson; lower is burstier"),
        ),
        (Arrival::Gamma, Some(b)) if b <= 0.0 => push(
            "/load/burstiness".into(),
            "burstiness must be greater than 0".into(),
            None,
        ),
        (Arrival::Poisson | Arrival::Constant, Some(_)) => push(
            "/load/burstiness".into(),
            "`burstiness` only applies to `arrival: gamma`".into(),
            None,
        ),
        _ => {}
    }
    for (pointer, message, hint) in super::long::problems(&s.load) {
        push(pointer, message, hint);
    }
    for p in checks::request_problems(&s.request) {
        push(p.pointer, p.message, p.hint.as_deref());
    }
    let slo = s.slo.as_ref().map(super::slo::problems).unwrap_or_default();
    let gate = s.gate.iter().flat_map(super::regress::problems);
    for p in gate.chain(slo).chain(super::search::problems(s)) {
        push(p.pointer, p.message, p.hint.as_deref());
    }
    if s.sweep.mode == SweepMode::Zip
        && let Err(axes) = zip_len(s)
    {
        let lens: Vec<String> = axes.iter().map(|(n, l)| format!("{n} has {l}")).collect();
        push(
            "/sweep/mode".into(),
            format!(
                "`sweep.mode: zip` needs lists of equal length ({})",
                lens.join(", ")
            ),
            Some("make the lists the same length, give a single value, or use `mode: product`"),
        );
    }
    out
}
