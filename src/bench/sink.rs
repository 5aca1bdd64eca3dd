//! What `runner bench` prints and writes as the run goes: bench_serving's dataset lines
//! (`#Input tokens: N`, …), the result block (with the goodput section, `trace` as the rate
//! for trace replay), runner's notes under it, and the result line appended to the output
//! file.

use anyhow::Result;

use super::args::BenchArgs;
use super::goodput::{self, Slo};
use super::output::{self, OutputFile};
use crate::metrics::Summary;
use crate::record::RequestRecord;
use crate::report::{self, RunInfo};
use crate::run::RunSink;
use crate::scenario::Dataset;
use crate::workload::Workload;

/// The sink of one `runner bench` run.
pub struct BenchSink<'a> {
    /// The flags.
    pub args: &'a BenchArgs,
    /// `--goodput` SLOs.
    pub slos: &'a [Slo],
    /// The result file.
    pub file: OutputFile,
}

impl RunSink for BenchSink<'_> {
    fn workload_built(&mut self, dataset: &Dataset, requests: &Workload<'_>) {
        print!("{}", dataset_lines(dataset, requests));
    }

    fn keeps_records(&self) -> bool {
        self.args.output.output_details || !self.slos.is_empty()
    }

    fn run_done(&mut self, info: &RunInfo, s: &Summary, records: &[RequestRecord]) -> Result<()> {
        if s.completed == 0 {
            eprintln!(
                "warning: All requests failed. This is likely due to a misconfiguration on the \
                 benchmark arguments."
            );
        }
        let goodput =
            (!self.slos.is_empty()).then(|| goodput::compute(self.slos, records, s.duration_s));
        let extra = goodput.as_ref().map(|g| g.section()).unwrap_or_default();
        let rate = self.args.mooncake.use_trace_timestamps.then_some("trace");
        print!("{}", report::block_with(info, s, rate, &extra));
        print!(
            "{}",
            crate::scenario::secrets::redact(&report::notes(s, records))
        );
        let line = output::result_line(self.args, info, s, records, goodput.as_ref());
        self.file.append(&line)
    }
}

/// bench_serving's prints after building a dataset.
pub fn dataset_lines(dataset: &Dataset, requests: &Workload<'_>) -> String {
    let input: u64 = requests.lens().map(|(p, _)| u64::from(p)).sum();
    let output: u64 = requests.lens().map(|(_, o)| u64::from(o)).sum();
    match dataset {
        Dataset::GeneratedSharedPrefix(g) => format!(
            "\nGenerated shared prefix dataset statistics:\nNumber of groups: {}\n\
             Prompts per group: {}\nNumber of turns: {}\nGroup distribution: {}\n{}\
             Total prompts: {}\nTotal input tokens: {input}\nTotal output tokens: {output}\n",
            g.num_groups,
            g.prompts_per_group,
            g.num_turns,
            match g.group_distribution {
                crate::scenario::GroupDistribution::Uniform => "uniform",
                crate::scenario::GroupDistribution::Zipf => "zipf",
            },
            g.zipf_alpha
                .map(|a| format!("Zipf alpha: {a}\n"))
                .unwrap_or_default(),
            requests.len(),
        ),
        Dataset::Mooncake(m) => format!(
            "Using time-based Mooncake request scheduler, ignoring --request-rate.\n\
             Starting Mooncake trace replay. Sessions: {}, Rounds per session: {}. Slowdown \
             factor: {}\n",
            m.sessions(requests.len()),
            m.num_rounds,
            m.slowdown_factor
        ),
        Dataset::Image(d) => {
            let counts: Vec<usize> = requests.iter().map(|r| r.images.len()).collect();
            let total: usize = counts.iter().sum();
            let per = if d.random_image_count {
                let min = counts.iter().min().copied().unwrap_or(0);
                let max = counts.iter().max().copied().unwrap_or(0);
                let mean = total as f64 / counts.len().max(1) as f64;
                format!("min={min}, max={max}, mean={mean:.2}")
            } else {
                format!("{} (fixed)", d.image_count)
            };
            format!(
                "#Input tokens: {input}\n#Output tokens: {output}\n#Total images: {total}\n\
                 #Images per request: {per}\n"
            )
        }
        _ => format!("#Input tokens: {input}\n#Output tokens: {output}\n"),
    }
}
