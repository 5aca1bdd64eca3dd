//! Which charts a sweep gets. In: the runs of one dataset, its capacity lines and the SLO
//! thresholds. Out: [`Chart`]s — achieved throughput vs TTFT, vs TPOT (p50 and p99 per
//! series, SLO lines, capacity marked) and achieved throughput and goodput vs offered load.
//! A series is one target (and, when both knobs vary, one value of the other knob); a field
//! a run lacks leaves that point out.

use super::chart::{Chart, Mark, Marker, Rule, RuleKind, Series};
use super::read::{Axis, CapacityRow, Offered, RunRow};
use super::ticks::short;

/// Runs of one dataset grouped into series along the offered-load axis.
pub struct Sweep<'a> {
    /// Dataset name.
    pub dataset: String,
    /// The knob on the x axis of the offered-load chart.
    pub axis: Axis,
    /// Series name and runs in order of offered load (unbounded last).
    pub series: Vec<(String, Vec<&'a RunRow>)>,
    /// Capacity lines of this dataset.
    pub capacity: Vec<&'a CapacityRow>,
}

impl<'a> Sweep<'a> {
    /// Group `runs` (all of one dataset) into series.
    pub fn new(dataset: &str, runs: &[&'a RunRow], capacity: Vec<&'a CapacityRow>) -> Self {
        let distinct = |f: &dyn Fn(&RunRow) -> Option<Offered>| {
            let mut v: Vec<String> = runs.iter().map(|r| format!("{:?}", f(r))).collect();
            v.sort();
            v.dedup();
            v.len()
        };
        let rates = distinct(&|r| r.request_rate());
        let concs = distinct(&|r| r.max_concurrency());
        let axis = match capacity.first() {
            Some(c) => c.axis(),
            None if rates <= 1 && concs > 1 => Axis::MaxConcurrency,
            None => Axis::RequestRate,
        };
        let (other, other_varies) = match axis {
            Axis::RequestRate => (Axis::MaxConcurrency, concs > 1),
            Axis::MaxConcurrency => (Axis::RequestRate, rates > 1),
        };
        let mut series: Vec<(String, Vec<&RunRow>)> = Vec::new();
        for r in runs {
            let mut name = r.target().to_owned();
            if other_varies {
                let v = match r.offered(other) {
                    Some(Offered::Finite(x)) => short(x),
                    Some(Offered::Unbounded) => other.unbounded().to_owned(),
                    None => "?".to_owned(),
                };
                name = format!("{name} {}={v}", other.short());
            }
            match series.iter_mut().find(|(n, _)| *n == name) {
                Some((_, v)) => v.push(r),
                None => series.push((name, vec![r])),
            }
        }
        let key = |r: &RunRow| match r.offered(axis) {
            Some(Offered::Finite(x)) => x,
            Some(Offered::Unbounded) => f64::INFINITY,
            None => f64::NAN,
        };
        for (_, v) in &mut series {
            v.sort_by(|a, b| key(a).total_cmp(&key(b)));
        }
        Sweep {
            dataset: dataset.to_owned(),
            axis,
            series,
            capacity,
        }
    }

    /// Two series per target, the first solid with circles, the second dashed with
    /// triangles: `point(run, key)` of each `(key, label)`; a series without points is left out.
    fn pairs(
        &self,
        chart: &mut Chart,
        keys: [(&str, &str); 2],
        point: impl Fn(&RunRow, &str) -> Option<(f64, f64)>,
    ) {
        for (i, (name, runs)) in self.series.iter().enumerate() {
            let styles = [(false, Marker::Circle), (true, Marker::Triangle)];
            for ((key, label), (dashed, marker)) in keys.into_iter().zip(styles) {
                let points: Vec<(f64, f64)> = runs.iter().filter_map(|r| point(r, key)).collect();
                if !points.is_empty() {
                    chart.series.push(Series {
                        name: format!("{name} {label}"),
                        color: i,
                        dashed,
                        marker,
                        points,
                    });
                }
            }
        }
    }

    /// The run a capacity line points at: one of its runs at the capacity value.
    fn capacity_run(&self, c: &CapacityRow) -> Option<&'a RunRow> {
        let cap = c.num("capacity")?;
        let ids = c.run_ids();
        self.series
            .iter()
            .flat_map(|(_, v)| v.iter().copied())
            .filter(|r| ids.is_empty() || ids.contains(&r.run_id()))
            .filter(|r| Some(r.target()) == c.text("target"))
            .find(|r| {
                matches!(r.offered(c.axis()), Some(Offered::Finite(x))
                    if (x - cap).abs() <= 1e-6 * cap.abs().max(1.0))
            })
    }

    /// Achieved request throughput vs a latency metric (`ttft` or `tpot`), p50 and p99.
    pub fn latency_chart(&self, metric: &str, slo: &[(String, f64)]) -> Chart {
        let upper = metric.to_ascii_uppercase();
        let mut chart = Chart {
            title: format!("{}: {upper} vs achieved throughput", self.dataset),
            x_label: "achieved throughput (req/s)".into(),
            ..Chart::default()
        };
        self.pairs(
            &mut chart,
            [("median", "p50"), ("p99", "p99")],
            |r, stat| {
                let y = r.num(&format!("{stat}_{metric}_ms"))?;
                (r.num("completed") != Some(0.0)).then_some((r.num("request_throughput")?, y))
            },
        );
        let suffix = format!("{metric}_ms");
        for (k, v) in slo {
            if *k == suffix || k.ends_with(&format!("_{suffix}")) {
                let per_request = if *k == suffix { " (per request)" } else { "" };
                chart.hlines.push(Rule {
                    label: format!("SLO {k} = {} ms{per_request}", short(*v)),
                    at: *v,
                    kind: if *k == suffix {
                        RuleKind::SloPerRequest
                    } else {
                        RuleKind::Slo
                    },
                });
            }
        }
        for c in &self.capacity {
            let target = c.text("target").unwrap_or("?");
            let (Some(cap), Some(run)) = (c.num("capacity"), self.capacity_run(c)) else {
                continue;
            };
            let Some(x) = run.num("request_throughput") else {
                continue;
            };
            let unit = unit(c.axis());
            chart.vlines.push(Rule {
                label: format!("capacity {target}: {} {unit}", short(cap)),
                at: x,
                kind: RuleKind::Capacity,
            });
            if !chart.notes.iter().any(|n| n.starts_with("capacity line")) {
                chart
                    .notes
                    .push("capacity line: at its run's achieved rate".into());
            }
            if let Some(y) = run.num(&format!("p99_{metric}_ms")) {
                chart.marks.push(Mark {
                    label: format!("{target} p99 at capacity"),
                    at: (x, y),
                });
            }
        }
        let ys = chart
            .series
            .iter()
            .flat_map(|s| s.points.iter().map(|p| p.1));
        let (lo, hi) = ys
            .chain(chart.hlines.iter().map(|h| h.at))
            .filter(|y| *y > 0.0)
            .fold((f64::INFINITY, 0.0f64), |(l, h), y| (l.min(y), h.max(y)));
        chart.y_log = hi / lo > 30.0;
        chart.y_label = format!(
            "{upper} (ms{})",
            if chart.y_log { ", log scale" } else { "" }
        );
        chart
            .notes
            .push("p50 solid, p99 dashed; one point per run".into());
        chart
    }

    /// Achieved request throughput and goodput vs offered load, capacity marked.
    pub fn goodput_chart(&self) -> Chart {
        let axis = self.axis;
        let finite_max = self
            .series
            .iter()
            .flat_map(|(_, v)| v.iter())
            .filter_map(|r| match r.offered(axis) {
                Some(Offered::Finite(x)) => Some(x),
                _ => None,
            })
            .chain(self.capacity.iter().filter_map(|c| c.num("capacity")))
            .fold(0.0f64, f64::max);
        let any_unbounded = self
            .series
            .iter()
            .flat_map(|(_, v)| v.iter())
            .any(|r| r.offered(axis) == Some(Offered::Unbounded));
        let unbounded_at = if finite_max > 0.0 {
            finite_max * 1.3
        } else {
            1.0
        };
        let mut chart = Chart {
            title: format!("{}: throughput and goodput vs offered load", self.dataset),
            x_label: axis.title().into(),
            y_label: "requests per second".into(),
            x_unbounded: any_unbounded.then(|| (unbounded_at, axis.unbounded().to_owned())),
            ..Chart::default()
        };
        let x_of = |r: &RunRow| match r.offered(axis)? {
            Offered::Finite(x) => Some(x),
            Offered::Unbounded => Some(unbounded_at),
        };
        if axis == Axis::RequestRate && finite_max > 0.0 {
            chart.series.push(Series {
                name: "ideal: achieved = offered".into(),
                color: 7,
                dashed: true,
                marker: Marker::None,
                points: vec![(0.0, 0.0), (finite_max, finite_max)],
            });
        }
        let keys = [
            ("request_throughput", "throughput"),
            ("request_goodput", "goodput"),
        ];
        self.pairs(&mut chart, keys, |r, key| Some((x_of(r)?, r.num(key)?)));
        for c in &self.capacity {
            let target = c.text("target").unwrap_or("?");
            let Some(cap) = c.num("capacity") else {
                continue;
            };
            chart.vlines.push(Rule {
                label: format!("capacity {target}: {} {}", short(cap), unit(axis)),
                at: cap,
                kind: RuleKind::Capacity,
            });
            if let Some(g) = c.num("goodput_at_capacity") {
                chart.marks.push(Mark {
                    label: format!("{target} goodput at capacity: {} req/s", short(g)),
                    at: (cap, g),
                });
            }
        }
        let runs = self.series.iter().flat_map(|(_, v)| v.iter());
        if !runs.clone().any(|r| r.num("request_goodput").is_some()) {
            chart
                .notes
                .push("no goodput: the runs have no request_goodput".into());
        }
        if any_unbounded {
            chart.notes.push(format!(
                "{} = {}, drawn at the right end",
                axis.short(),
                axis.unbounded()
            ));
        }
        chart
    }
}

fn unit(axis: Axis) -> &'static str {
    match axis {
        Axis::RequestRate => "req/s",
        Axis::MaxConcurrency => "concurrent",
    }
}
