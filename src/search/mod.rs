//! Capacity search: for each target × dataset, the highest load that meets the SLOs.
//!
//! In: the scenario (its `search:` and `slo:` blocks) and, after each run, how it went.
//! Out: the next run to execute ([`Driver`] is the sweep's source of runs), then one
//! capacity [`Row`] per target × dataset (printed and written by [`table`]).
//!
//! Each search starts with a probe: `probe.requests` requests unpaced under a cap of
//! `probe.concurrency`, a closed loop whose throughput is the server's ceiling for this
//! workload (GuideLLM's "throughput" run). The first search run is at that rate (or, for
//! `axis: max_concurrency`, at a quarter of the probe's cap); [`bracket`] decides the rest.

pub mod bracket;
pub mod table;

use crate::engine::stop::Saturation;
use crate::metrics::Summary;
use crate::plan::{RunSpec, SearchMark};
use crate::report::RunInfo;
use crate::scenario::{Concurrency, Rate, Scenario, Search, SearchAxis};
use bracket::{Bracket, Status};
pub use table::Row;

/// Where the runs of a sweep come from: the plan in order, or a capacity search that
/// decides each next run from the last one ([`Driver`]).
pub trait RunSource {
    /// The next run, given how the previous one went (`None` before the first).
    fn next(&mut self, last: Option<(&RunInfo, &Summary)>) -> Option<RunSpec>;
    /// The line printed before a run.
    fn header(&self, spec: &RunSpec) -> String;
    /// The capacity rows, once every run is done (searches only).
    fn capacity(&mut self) -> Vec<Row> {
        Vec::new()
    }
}

/// One target × dataset being searched.
#[derive(Default)]
struct Cell {
    target: usize,
    dataset: usize,
    /// Requests the dataset has.
    len: usize,
    /// `None` until the probe has run (when there is one).
    bracket: Option<Bracket>,
    /// Throughput ceiling the probe measured, req/s.
    ceiling: Option<f64>,
    /// Median end-to-end latency in the probe, s: search runs last at least twice that.
    lifetime_s: f64,
    /// 99th percentile of it, s: the time the backlog takes to settle ([`saturation_stop`]).
    longest_s: f64,
    step: u32,
    run_ids: Vec<String>,
    /// (value, request_goodput) of passing runs; (value, failed thresholds) of failing ones.
    passed: Vec<(f64, Option<f64>)>,
    failed: Vec<(f64, Vec<String>)>,
    /// The value of the run in flight.
    pending: Option<f64>,
}

/// The sweep's source of runs when the scenario has a `search:` block.
pub struct Driver<'a> {
    s: &'a Scenario,
    search: &'a Search,
    cells: Vec<Cell>,
    current: usize,
    rows: Vec<Row>,
}

impl<'a> Driver<'a> {
    /// A search over every target × dataset (targets outermost). `lens[d]` is the number
    /// of requests dataset `d` built.
    pub fn new(s: &'a Scenario, search: &'a Search, lens: &[usize]) -> Driver<'a> {
        let mut cells = Vec::new();
        for target in 0..s.targets.len() {
            for (dataset, &len) in lens.iter().enumerate() {
                cells.push(Cell {
                    target,
                    dataset,
                    len,
                    bracket: search
                        .probe
                        .is_none()
                        .then(|| Bracket::new(search, search.start.unwrap_or(1.0), 0)),
                    ..Cell::default()
                });
            }
        }
        Driver {
            s,
            search,
            cells,
            current: 0,
            rows: Vec::new(),
        }
    }

    /// Feed the last run into the current cell.
    fn record(&mut self, info: &RunInfo, summary: &Summary) {
        let search = self.search;
        let Some(cell) = self.cells.get_mut(self.current) else {
            return;
        };
        cell.run_ids.push(info.run_id.clone());
        let verdict = info.slo.as_ref();
        match (cell.bracket.as_mut(), cell.pending.take()) {
            (None, _) => {
                // The probe.
                let ceiling = ceiling(summary);
                cell.ceiling = Some(ceiling);
                cell.lifetime_s = summary.e2e_ms.median / 1000.0;
                cell.longest_s = summary.e2e_ms.p99 / 1000.0;
                let start = search.start.unwrap_or(match search.axis {
                    SearchAxis::RequestRate => ceiling,
                    SearchAxis::MaxConcurrency => {
                        let cap = search.probe.as_ref().map_or(4, |p| p.concurrency);
                        f64::from((cap / 4).max(1))
                    }
                });
                // A probe in which nothing succeeded leaves nothing to search: the budget
                // is spent at once and the row says `budget_exhausted`.
                let used = if summary.completed == 0 {
                    eprintln!("search: every probe request failed; skipping this search");
                    search.max_runs
                } else {
                    1
                };
                cell.bracket = Some(Bracket::new(search, start.max(1e-3), used));
            }
            (Some(b), Some(value)) => {
                let passed = verdict.is_some_and(|v| v.passed);
                b.record(value, passed);
                if passed {
                    cell.passed
                        .push((value, verdict.map(|v| v.goodput.request_goodput)));
                } else {
                    let names = verdict.map(|v| v.failed_names()).unwrap_or_default();
                    cell.failed.push((value, names));
                }
            }
            (Some(_), None) => {}
        }
    }

    /// The next run of the current cell, or `None` when it is done.
    fn next_of_current(&mut self) -> Option<RunSpec> {
        let (s, search) = (self.s, self.search);
        let cell = self.cells.get_mut(self.current)?;
        let saturation_stop = cell.bracket.is_some() && saturation_stop(cell.longest_s);
        let (rate, conc, limit) = match &cell.bracket {
            None => {
                let p = search.probe.as_ref().expect("no bracket means a probe");
                (
                    Rate::Infinite,
                    Concurrency(p.concurrency),
                    (p.requests as usize).min(cell.len),
                )
            }
            Some(b) => {
                let v = b.next()?;
                cell.pending = Some(v);
                let (rate, conc) = match search.axis {
                    SearchAxis::RequestRate => {
                        (Rate::PerSecond(v), s.load.max_concurrency.values()[0])
                    }
                    SearchAxis::MaxConcurrency => {
                        (s.load.request_rate.values()[0], Concurrency(v as u32))
                    }
                };
                (rate, conc, run_requests(search, cell, v))
            }
        };
        let t = &s.targets[cell.target];
        let d = &s.datasets[cell.dataset];
        let step = cell.step;
        cell.step += 1;
        Some(RunSpec {
            index: 0,
            id: format!("{}/{}/rate={rate}/conc={conc}", t.name, d.name()),
            repeat: None,
            target: cell.target,
            dataset: cell.dataset,
            request_rate: rate,
            max_concurrency: conc,
            seed: s.seed,
            limit: Some(limit),
            search: Some(SearchMark {
                target: t.name.clone(),
                dataset: d.name().to_owned(),
                step,
                saturation_stop,
            }),
        })
    }

    /// Close the current cell into a capacity row.
    fn finish_current(&mut self) {
        let cell = &self.cells[self.current];
        let b = cell
            .bracket
            .as_ref()
            .expect("a finished search has its bracket");
        let status = b.status().unwrap_or(Status::BudgetExhausted);
        let capacity = b.lower;
        let goodput = capacity.and_then(|c| {
            cell.passed
                .iter()
                .find(|(v, _)| *v == c)
                .and_then(|(_, g)| *g)
        });
        let binding = b.upper.and_then(|u| {
            cell.failed
                .iter()
                .find(|(v, _)| *v == u)
                .map(|(_, names)| names.join(", "))
        });
        self.rows.push(Row {
            scenario: self.s.name.clone(),
            target: self.s.targets[cell.target].name.clone(),
            dataset: self.s.datasets[cell.dataset].name().to_owned(),
            axis: self.search.axis.as_str(),
            capacity,
            goodput_at_capacity: goodput,
            binding_slo: binding.filter(|n| !n.is_empty()),
            runs: b.runs,
            run_ids: cell.run_ids.clone(),
            precision: self.search.precision,
            lower: b.lower,
            upper: b.upper,
            status: status.as_str(),
            slo: self
                .s
                .slo
                .as_ref()
                .map(|slo| serde_json::to_value(slo).expect("thresholds serialize"))
                .unwrap_or_default(),
        });
        self.current += 1;
    }
}

/// The throughput ceiling a probe shows, req/s: its request throughput, raised towards its
/// peak output rate (busiest one-second window) over the mean output length, by at most a
/// quarter. A short probe's request throughput is dragged down by its tail (the last,
/// longest requests finish alone); its peak window, all decoding and no prefill, overstates
/// what the engine sustains.
fn ceiling(s: &Summary) -> f64 {
    let per_request = s.total_output as f64 / s.completed.max(1) as f64;
    let peak = if per_request > 0.0 {
        s.max_output_tokens_per_s / per_request
    } else {
        0.0
    };
    s.request_throughput
        .max(peak.min(1.25 * s.request_throughput))
}

/// Requests in a search run at `value`: about `run_s` seconds of load (at least twice a
/// request's lifetime in the probe, so the engine reaches its steady state), at least
/// `min_requests` (and, for concurrency, two per slot), at most the dataset's.
///
/// Runs are bounded by their request count, and a saturation stop ([`run_load`]) ends
/// them as soon as the queue grows without bound.
fn run_requests(search: &Search, cell: &Cell, value: f64) -> usize {
    let (per_s, floor) = match search.axis {
        SearchAxis::RequestRate => (value, search.min_requests as usize),
        SearchAxis::MaxConcurrency => (
            cell.ceiling.unwrap_or(f64::INFINITY),
            (search.min_requests as usize).max(2 * value as usize),
        ),
    };
    let n = (per_s * search.run_s.max(2.0 * cell.lifetime_s)).ceil();
    let n = if n.is_finite() { n as usize } else { cell.len };
    n.max(floor).min(cell.len).max(1)
}

/// Whether search runs whose requests live up to `longest_s` seconds may have the
/// saturation stop. The rule ([`Saturation`]) calls a backlog that grew through its whole
/// window of samples saturated; at the start of every run the backlog grows from 0 to its
/// steady level for as long as the longest request lives, so that must be over well within
/// the window (half of it), else a healthy run of long requests (1k-token answers live 10 s
/// and more) is stopped as saturated. Such runs are bounded by their request count alone.
fn saturation_stop(longest_s: f64) -> bool {
    longest_s <= Saturation::PERIOD.as_secs_f64() * Saturation::WINDOW as f64 / 2.0
}

/// The `load` a search run runs under: the scenario's, with the saturation stop on when the
/// run's mark allows it (a run that stops as saturated fails its SLO,
/// [`crate::slo::fail_saturated`]) and no `duration_s`, as a search run is bounded by its
/// request count ([`run_requests`]).
pub fn run_load(load: &crate::scenario::Load, mark: &SearchMark) -> crate::scenario::Load {
    crate::scenario::Load {
        duration_s: None,
        stop_on_saturation: mark.saturation_stop,
        ..load.clone()
    }
}

impl RunSource for Driver<'_> {
    fn next(&mut self, last: Option<(&RunInfo, &Summary)>) -> Option<RunSpec> {
        if let Some((info, summary)) = last {
            self.record(info, summary);
        }
        while self.current < self.cells.len() {
            if let Some(spec) = self.next_of_current() {
                return Some(spec);
            }
            self.finish_current();
        }
        None
    }

    fn header(&self, spec: &RunSpec) -> String {
        let mark = spec.search.as_ref().expect("search runs are marked");
        let what = if mark.step == 0 {
            "throughput probe".to_owned()
        } else {
            format!("step {}", mark.step)
        };
        format!(
            "[search {}/{} {what}] {} ({} requests)",
            mark.target,
            mark.dataset,
            spec.id,
            spec.limit.unwrap_or(0)
        )
    }

    fn capacity(&mut self) -> Vec<Row> {
        std::mem::take(&mut self.rows)
    }
}

/// What `runner plan` prints for a search: one line per target × dataset.
pub fn describe(s: &Scenario, search: &Search) -> String {
    let mut out = format!(
        "scenario {}: capacity search along {} for {} target × dataset pair(s), \
         at most {} runs each (precision {}), seed {}\n",
        s.name,
        search.axis.as_str(),
        s.targets.len() * s.datasets.len(),
        search.max_runs,
        search.precision,
        s.seed
    );
    if let Some(p) = &search.probe {
        out.push_str(&format!(
            "  each starts with a probe: {} requests unpaced at concurrency {}\n",
            p.requests, p.concurrency
        ));
    }
    for t in &s.targets {
        for d in &s.datasets {
            out.push_str(&format!(
                "  {}/{}  {}; {}\n",
                t.name,
                d.name(),
                t.backend.as_str(),
                d.describe()
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_requests_run_without_the_saturation_stop() {
        // The rule's window is 5 one-second samples: requests living up to 2.5 s settle the
        // backlog within its first half; 1k-token answers (10 s and more) do not.
        assert!(saturation_stop(0.4));
        assert!(saturation_stop(2.5));
        assert!(!saturation_stop(2.6));
        assert!(!saturation_stop(12.0));
    }
}
