//! Checks of a typed scenario that a schema cannot express: unique names, where each target
//! points, embedded-server settings and faults, dataset options, zip lengths, options that only
//! make sense together. In: a [`Scenario`]. Out: every [`Problem`], with its field's pointer.

use std::collections::HashSet;

use super::{Arrival, Problem, Scenario, SweepMode, checks, dataset, zip_len};

/// Checks a schema cannot express, in file order: targets, datasets, load, request, gates,
/// SLOs, search, sweep.
pub fn problems(s: &Scenario) -> Vec<Problem> {
    let mut out = targets(s);
    out.extend(datasets(s));
    out.extend(arrival(s));
    out.extend(super::long::problems(&s.load));
    out.extend(checks::request_problems(&s.request));
    out.extend(s.gate.iter().flat_map(super::regress::problems));
    out.extend(s.slo.as_ref().map(super::slo::problems).unwrap_or_default());
    out.extend(super::search::problems(s));
    out.extend(zip(s));
    out
}

/// A name used twice in `list` (`targets`, `datasets`).
fn duplicate(list: &str, i: usize, name: &str) -> Problem {
    let what = list.trim_end_matches('s');
    Problem::new(
        format!("/{list}/{i}/name"),
        format!("{what} name `{name}` is used twice"),
    )
    .hint("run ids are built from names, so each must be unique")
}

/// Unique names, where each active target points (a URL or embedded-server settings that
/// resolve), backends this build supports.
fn targets(s: &Scenario) -> Vec<Problem> {
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    for (i, t) in s.targets.iter().enumerate() {
        if !seen.insert(t.name.as_str()) {
            out.push(duplicate("targets", i, &t.name));
        }
        if super::optional::inactive(t.when_env.as_deref()).is_some() {
            continue;
        }
        let at = format!("/targets/{i}");
        match (&t.base_url, &t.embedded) {
            (None, None) => out.push(
                Problem::new(&at, "a target needs `base_url` or `embedded`").hint(
                    "add `base_url: http://host:port`, or `embedded: {}` for the built-in server",
                ),
            ),
            (Some(_), Some(_)) => out.push(
                Problem::new(
                    format!("{at}/embedded"),
                    "`base_url` and `embedded` exclude each other",
                )
                .hint("an embedded target gets its own loopback address"),
            ),
            (Some(url), None) => {
                if let Err(e) = reqwest::Url::parse(url) {
                    out.push(
                        Problem::new(
                            format!("{at}/base_url"),
                            format!("`{url}` is not a valid URL: {e}"),
                        )
                        .hint("write it like http://127.0.0.1:30000"),
                    );
                }
            }
            (None, Some(cfg)) => {
                let problems = cfg.resolve_checked().err().unwrap_or_default();
                out.extend(
                    problems
                        .into_iter()
                        .map(|p| p.under(&format!("{at}/embedded"))),
                );
            }
        }
        if let Some(why) = t.backend.unsupported() {
            out.push(Problem::new(format!("{at}/backend"), why));
        }
    }
    out
}

/// Unique names, datasets the arrival process and every target's backend can replay, each
/// dataset's own options.
fn datasets(s: &Scenario) -> Vec<Problem> {
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    for (i, d) in s.datasets.iter().enumerate() {
        if !seen.insert(d.name()) {
            out.push(duplicate("datasets", i, d.name()));
        }
        if s.load.arrival == Arrival::Trace && !d.has_timestamps() {
            out.push(
                Problem::new(
                    format!("/datasets/{i}/kind"),
                    format!(
                        "`arrival: trace` needs timestamps, and `{}` datasets have none",
                        d.kind()
                    ),
                )
                .hint("use a `mooncake` dataset, or another arrival process"),
            );
        }
        for t in s.targets.iter().filter(|t| !t.backend.is_chat()) {
            if d.multi_turn() {
                out.push(
                    Problem::new(
                        format!("/datasets/{i}/kind"),
                        format!(
                            "dataset `{}` replays multi-turn conversations, which need a chat \
                             backend; target `{}` uses `{}`",
                            d.name(),
                            t.name,
                            t.backend.as_str()
                        ),
                    )
                    .hint("use sglang-oai-chat, vllm-chat or lmdeploy-chat for this target"),
                );
            }
        }
        let own = dataset::problems(d).into_iter();
        out.extend(own.map(|p| p.under(&format!("/datasets/{i}"))));
    }
    out
}

/// `burstiness` given exactly when `arrival: gamma` uses it.
fn arrival(s: &Scenario) -> Option<Problem> {
    match (s.load.arrival, s.load.burstiness) {
        (Arrival::Gamma, None) => Some(
            Problem::new("/load/arrival", "`arrival: gamma` needs `burstiness`")
                .hint("burstiness 1.0 is Poisson; lower is burstier"),
        ),
        (Arrival::Gamma, Some(b)) if b <= 0.0 => Some(Problem::new(
            "/load/burstiness",
            "burstiness must be greater than 0",
        )),
        (Arrival::Poisson | Arrival::Constant, Some(_)) => Some(Problem::new(
            "/load/burstiness",
            "`burstiness` only applies to `arrival: gamma`",
        )),
        _ => None,
    }
}

/// `sweep.mode: zip` over lists of one length.
fn zip(s: &Scenario) -> Option<Problem> {
    let axes = match s.sweep.mode {
        SweepMode::Zip => zip_len(s).err()?,
        SweepMode::Product => return None,
    };
    let lens: Vec<String> = axes.iter().map(|(n, l)| format!("{n} has {l}")).collect();
    Some(
        Problem::new(
            "/sweep/mode",
            format!(
                "`sweep.mode: zip` needs lists of equal length ({})",
                lens.join(", ")
            ),
        )
        .hint("make the lists the same length, give a single value, or use `mode: product`"),
    )
}
