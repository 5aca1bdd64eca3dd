//! The planner: a [`Scenario`] expands into an ordered list of runs, pure data.
//!
//! Axes, outermost first: targets, datasets, request rates, concurrency caps. `product`
//! takes every combination; `zip` takes the i-th entry of each axis, where an axis with a
//! single entry is used for every run. Run ids read `target/dataset/rate=R/conc=C`
//! (`rate=ramp1-50` for `arrival: ramp`); with `repeat: N` every such point runs N times in
//! a row, as `…/conc=C/rep=1` to `…/rep=N`.

use std::fmt::Write as _;

pub use crate::scenario::zip_len;
use crate::scenario::{Arrival, Concurrency, Rate, Scenario, SweepMode};

/// One run of the matrix.
#[derive(Debug, Clone, PartialEq)]
pub struct RunSpec {
    /// Position in the plan, from 0.
    pub index: usize,
    /// Stable id: `target/dataset/rate=R/conc=C`, then `/rep=K` with `repeat`.
    pub id: String,
    /// Which repeat of its point this is (from 1), with `repeat` above 1.
    pub repeat: Option<u32>,
    /// Index into `scenario.targets`.
    pub target: usize,
    /// Index into `scenario.datasets`.
    pub dataset: usize,
    /// Request rate of this run.
    pub request_rate: Rate,
    /// Concurrency cap of this run.
    pub max_concurrency: Concurrency,
    /// Seed of this run: prompts depend on (seed, dataset), arrival times on (seed, rate).
    pub seed: u64,
    /// Send only the dataset's first this many requests (search runs).
    pub limit: Option<usize>,
    /// Set on the runs of a capacity search.
    pub search: Option<SearchMark>,
}

/// What marks a run as part of a capacity search (`"search"` in `runs.jsonl`).
#[derive(
    Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
pub struct SearchMark {
    /// Target name.
    pub target: String,
    /// Dataset name.
    pub dataset: String,
    /// 0 for the throughput probe, then 1, 2, … in the order run.
    pub step: u32,
    /// Whether the run has the saturation stop ([`crate::search::run_load`]).
    #[serde(skip)]
    pub saturation_stop: bool,
}

/// The expanded matrix.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// Runs in execution order.
    pub runs: Vec<RunSpec>,
}

/// Expand a validated scenario into its runs.
pub fn build(s: &Scenario) -> Plan {
    let rates = s.load.request_rate.values();
    let concs = s.load.max_concurrency.values();
    let mut cells = Vec::new();
    match s.sweep.mode {
        SweepMode::Product => {
            for t in 0..s.targets.len() {
                for d in 0..s.datasets.len() {
                    for &r in rates {
                        for &c in concs {
                            cells.push((t, d, r, c));
                        }
                    }
                }
            }
        }
        SweepMode::Zip => {
            let n = zip_len(s).expect("validated scenarios have equal zip lengths");
            let pick = |len: usize, i: usize| if len == 1 { 0 } else { i };
            for i in 0..n {
                cells.push((
                    pick(s.targets.len(), i),
                    pick(s.datasets.len(), i),
                    rates[pick(rates.len(), i)],
                    concs[pick(concs.len(), i)],
                ));
            }
        }
    }
    let reps = s.repeat.max(1);
    let rate_label = |r: Rate| match (s.load.arrival, &s.load.ramp) {
        (Arrival::Ramp, Some(ramp)) => ramp.label(),
        _ => r.to_string(),
    };
    let runs = cells
        .into_iter()
        .flat_map(|cell| (1..=reps).map(move |k| (cell, (reps > 1).then_some(k))))
        .enumerate()
        .map(|(index, ((t, d, r, c), repeat))| {
            let point = format!(
                "{}/{}/rate={}/conc={c}",
                s.targets[t].name,
                s.datasets[d].name(),
                rate_label(r)
            );
            RunSpec {
                index,
                id: match repeat {
                    Some(k) => format!("{point}/rep={k}"),
                    None => point,
                },
                repeat,
                target: t,
                dataset: d,
                request_rate: r,
                max_concurrency: c,
                seed: s.seed,
                limit: None,
                search: None,
            }
        })
        .collect();
    Plan { runs }
}

/// A run id without its `/rep=K` suffix.
pub fn point_id(run_id: &str) -> &str {
    match run_id.rsplit_once("/rep=") {
        Some((point, k)) if !k.is_empty() && k.bytes().all(|b| b.is_ascii_digit()) => point,
        _ => run_id,
    }
}

impl Plan {
    /// The plan as `runner plan` prints it: one line per run.
    pub fn render(&self, s: &Scenario) -> String {
        let mut out = String::new();
        let n = self.runs.len();
        let _ = writeln!(
            out,
            "scenario {}: {n} run{} ({} sweep), seed {}",
            s.name,
            if n == 1 { "" } else { "s" },
            match s.sweep.mode {
                SweepMode::Product => "product",
                SweepMode::Zip => "zip",
            },
            s.seed
        );
        let width = self.runs.iter().map(|r| r.id.len()).max().unwrap_or(0);
        for r in &self.runs {
            let t = &s.targets[r.target];
            let d = &s.datasets[r.dataset];
            let place = match (&t.base_url, &t.embedded) {
                (Some(url), _) => crate::scenario::secrets::redact(url).into_owned(),
                (None, _) => "embedded".into(),
            };
            let _ = writeln!(
                out,
                "{:>3}  {:<width$}  {} @ {}; {}",
                r.index + 1,
                r.id,
                t.backend.as_str(),
                place,
                d.describe(),
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::locate::Format;

    const TWO: &str = "  - {name: x, kind: random}\n  - {name: y, kind: random}\n";

    fn scenario(datasets: &str, extra: &str) -> Scenario {
        let text = format!(
            "name: t\ntargets:\n  - {{name: a, backend: vllm, base_url: 'http://127.0.0.1:1'}}\n  - {{name: b, backend: vllm, base_url: 'http://127.0.0.1:2'}}\n  - {{name: c, backend: vllm, base_url: 'http://127.0.0.1:3'}}\ndatasets:\n{datasets}{extra}"
        );
        crate::scenario::load_str(&text, "t.yaml", Format::Yaml).unwrap()
    }

    #[test]
    fn product_expands_every_combination_in_order() {
        let s = scenario(TWO, "load: {request_rate: [4, inf]}\n");
        let p = build(&s);
        assert_eq!(p.runs.len(), 12);
        assert_eq!(p.runs[0].id, "a/x/rate=4/conc=none");
        assert_eq!(p.runs[1].id, "a/x/rate=inf/conc=none");
        assert_eq!(p.runs[2].id, "a/y/rate=4/conc=none");
        assert_eq!(p.runs[11].id, "c/y/rate=inf/conc=none");
    }

    #[test]
    fn zip_pairs_entries_and_broadcasts_single_values() {
        let s = scenario(
            "  - {name: x, kind: random}\n  - {name: y, kind: random}\n  - {name: z, kind: random}\n",
            "load: {request_rate: [1, 2, 3], max_concurrency: 8}\nsweep: {mode: zip}\n",
        );
        let p = build(&s);
        let ids: Vec<&str> = p.runs.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "a/x/rate=1/conc=8",
                "b/y/rate=2/conc=8",
                "c/z/rate=3/conc=8"
            ]
        );
    }

    #[test]
    fn repeats_follow_each_other_and_ramps_name_their_rate() {
        let s = scenario(
            "  - {name: x, kind: random}\n",
            "repeat: 3\nload: {arrival: ramp, ramp: {from: 1, to: 50}}\n",
        );
        let p = build(&s);
        assert_eq!(p.runs.len(), 9);
        assert_eq!(p.runs[0].id, "a/x/rate=ramp1-50/conc=none/rep=1");
        assert_eq!(p.runs[2].id, "a/x/rate=ramp1-50/conc=none/rep=3");
        assert_eq!(p.runs[3].id, "b/x/rate=ramp1-50/conc=none/rep=1");
        assert_eq!(p.runs[2].repeat, Some(3));
        assert_eq!(point_id(&p.runs[2].id), "a/x/rate=ramp1-50/conc=none");
        assert_eq!(point_id("a/x/rate=4/conc=none"), "a/x/rate=4/conc=none");
        let one = build(&scenario("  - {name: x, kind: random}\n", ""));
        assert_eq!(one.runs[0].repeat, None);
        assert_eq!(one.runs[0].id, "a/x/rate=inf/conc=none");
    }
}
