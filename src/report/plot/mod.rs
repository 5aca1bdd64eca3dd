//! `runner report DIR` (and `runner run --report`): the sweep drawn. In: a results directory
//! (`runs.jsonl`, and `capacity.jsonl` and the SLO thresholds when present). Out: in
//! `DIR/plots/`, per dataset, `<dataset>-ttft`, `<dataset>-tpot` and `<dataset>-goodput` as
//! SVG and PNG (1200×800), and `DIR/report.md` embedding the PNGs with the capacity table and
//! a sweep table.

pub mod chart;
mod figures;
mod glyphs;
pub mod markdown;
pub mod read;
mod ticks;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use figures::Sweep;
use read::RunRow;

use crate::exit::Exit;

/// Why there is nothing to report.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// The directory does not exist or holds no `runs.jsonl` (a usage error, exit 2).
    #[error("{0}")]
    NotResults(String),
    /// `runs.jsonl` holds no run yet (exit 1).
    #[error("no runs in {0}: nothing to report (did the sweep finish a run?)")]
    NoRuns(String),
}

/// What [`write`] produced.
#[derive(Debug, Clone)]
pub struct Written {
    /// `report.md`.
    pub report: PathBuf,
    /// Every picture written (SVG and PNG).
    pub pictures: Vec<PathBuf>,
    /// Runs reported.
    pub runs: usize,
}

/// Draw the plots and write `report.md` for the results in `dir`.
pub fn write(dir: &Path) -> Result<Written> {
    if !dir.is_dir() {
        return Err(ReportError::NotResults(format!(
            "results directory {} does not exist; give the directory `runner run` wrote \
             (its --output, or the scenario's output.dir)",
            dir.display()
        ))
        .into());
    }
    let runs_path = dir.join("runs.jsonl");
    if !runs_path.is_file() {
        return Err(ReportError::NotResults(format!(
            "{} has no runs.jsonl: not a results directory of `runner run`",
            dir.display()
        ))
        .into());
    }
    let results = read::read(dir)?;
    if results.runs.is_empty() {
        return Err(ReportError::NoRuns(runs_path.display().to_string()).into());
    }
    let plots = dir.join("plots");
    std::fs::create_dir_all(&plots)
        .with_context(|| format!("cannot create {}", plots.display()))?;
    let mut datasets: Vec<&str> = Vec::new();
    for r in &results.runs {
        if !datasets.contains(&r.dataset()) {
            datasets.push(r.dataset());
        }
    }
    let plotted = read::merge_repeats(&results.runs);
    let mut pictures = Vec::new();
    let mut sections = Vec::new();
    for (n, dataset) in datasets.iter().enumerate() {
        let runs: Vec<&RunRow> = plotted.iter().filter(|r| r.dataset() == *dataset).collect();
        let capacity = results
            .capacity
            .iter()
            .filter(|c| c.text("dataset").is_none_or(|d| d == *dataset))
            .collect();
        let sweep = Sweep::new(dataset, &runs, capacity);
        let slug = slug(dataset, n);
        let mut section = markdown::Pictures {
            dataset: dataset.to_string(),
            png: Vec::new(),
        };
        for (name, alt, chart) in [
            (
                "ttft",
                "TTFT vs throughput",
                sweep.latency_chart("ttft", &results.slo),
            ),
            (
                "tpot",
                "TPOT vs throughput",
                sweep.latency_chart("tpot", &results.slo),
            ),
            ("goodput", "goodput vs offered load", sweep.goodput_chart()),
        ] {
            if chart.series.is_empty() {
                continue;
            }
            let base = format!("{slug}-{name}");
            let svg = plots.join(format!("{base}.svg"));
            let png = plots.join(format!("{base}.png"));
            std::fs::write(&svg, chart::svg(&chart)?)
                .with_context(|| format!("cannot write {}", svg.display()))?;
            std::fs::write(&png, chart::png(&chart)?)
                .with_context(|| format!("cannot write {}", png.display()))?;
            section
                .png
                .push((format!("{dataset}: {alt}"), format!("plots/{base}.png")));
            pictures.extend([svg, png]);
        }
        sections.push(section);
    }
    let name = dir
        .file_name()
        .map_or_else(|| dir.display().to_string(), |n| n.to_string_lossy().into());
    let report = dir.join("report.md");
    std::fs::write(&report, markdown::render(&name, &results, &sections))
        .with_context(|| format!("cannot write {}", report.display()))?;
    Ok(Written {
        report,
        pictures,
        runs: results.runs.len(),
    })
}

/// `runner report DIR`: write the report, print where it went; returns the exit code.
pub fn command(dir: &Path) -> Exit {
    match write(dir) {
        Ok(w) => {
            println!(
                "report: {} ({} runs, {} pictures in {})",
                w.report.display(),
                w.runs,
                w.pictures.len(),
                dir.join("plots").display()
            );
            Exit::Ok
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            match e.downcast_ref::<ReportError>() {
                Some(ReportError::NotResults(_)) => Exit::Usage,
                _ => Exit::Failure,
            }
        }
    }
}

/// A file-name-safe form of a dataset name (its index when nothing is left).
fn slug(name: &str, index: usize) -> String {
    let s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if s.trim_matches('_').is_empty() {
        format!("dataset{index}")
    } else {
        s
    }
}
