//! The `--output-file` line (spec §7): bench_serving's keys in its order, then goodput, then
//! the `--output-details` arrays, then runner's own keys; appended, one line per run. The
//! line is the typed [`RunLine`] with bench_serving's flags set, serialized, then the goodput
//! keys and details arrays spliced in after bench_serving's last key (a map: their place in
//! bench_serving's order is not the run line's).
//! Strict JSON: an infinite request rate is the string `"inf"`.

use std::fs::{File, OpenOptions};
use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde_json::{Map, Value, json};

use super::args::{BenchArgs, DatasetArg};
use super::goodput::Goodput;
use crate::metrics::Summary;
use crate::provenance::civil_from_days;
use crate::record::RequestRecord;
use crate::report::{RunInfo, RunLine};

/// The last key of bench_serving's result; goodput and details follow it.
const LAST_BENCH_KEY: &str = "max_concurrent_requests";

/// The auto file name (in the current directory) when `--output-file` is not given:
/// `{backend}_{MMDD}_{num_prompts}_…` as bench_serving, with `mmdd` the date.
pub fn auto_name(args: &BenchArgs, mmdd: &str) -> String {
    let backend = args.target.backend.as_str();
    let n = args.dataset.num_prompts;
    let r = &args.random;
    let name = args.dataset.dataset_name.name();
    if args.dataset.dataset_name == DatasetArg::Image {
        format!(
            "{backend}_{mmdd}_{n}_{}_{}_{}imgs_{}.jsonl",
            r.random_input_len, r.random_output_len, r.image_count, r.image_resolution
        )
    } else if name.starts_with("random") {
        format!(
            "{backend}_{mmdd}_{n}_{}_{}.jsonl",
            r.random_input_len, r.random_output_len
        )
    } else {
        format!("{backend}_{mmdd}_{n}_{name}.jsonl")
    }
}

/// Today's month and day (`MMDD`) in UTC.
pub fn today_mmdd() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (_, m, d) = civil_from_days((secs / 86_400) as i64);
    format!("{m:02}{d:02}")
}

/// The result file, opened for appending before anything is sent.
pub struct OutputFile {
    path: PathBuf,
    file: File,
}

impl OutputFile {
    /// Open (create) `path` for appending.
    pub fn open(path: &Path) -> Result<OutputFile> {
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .with_context(|| {
                format!("cannot open --output-file {} for appending", path.display())
            })?;
        Ok(OutputFile {
            path: path.to_owned(),
            file,
        })
    }

    /// Where lines go.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Append one line and flush (registered secrets replaced).
    pub fn append(&mut self, line: &Map<String, Value>) -> Result<()> {
        let text = Value::Object(line.clone()).to_string();
        writeln!(self.file, "{}", crate::scenario::secrets::redact(&text))
            .and_then(|()| self.file.flush())
            .with_context(|| format!("cannot write {}", self.path.display()))
    }
}

/// The per-request arrays of `--output-details`, one entry per request in dispatch order.
/// Each total of the result line is the sum of its array over the successful requests:
/// `input_lens` (the dataset's prompt length, as bench_serving) → `total_input_tokens`,
/// `output_lens` → `total_output_tokens`; runner's own `reported_input_lens` (the server's
/// prompt length, null when it gave none or the request failed; last in the line, see
/// [`reported_input_lens`]) → `total_reported_input_tokens`.
pub fn details(records: &[RequestRecord], cache_report: bool) -> Map<String, Value> {
    let mut m = Map::new();
    let col = |f: &dyn Fn(&RequestRecord) -> Value| Value::Array(records.iter().map(f).collect());
    m.insert("input_lens".into(), col(&|r| json!(r.prompt_len)));
    m.insert(
        "output_lens".into(),
        col(&|r| json!(if r.outcome.is_ok() { r.output_len() } else { 0 })),
    );
    m.insert("ttfts".into(), col(&|r| json!(r.ttft_s().unwrap_or(0.0))));
    m.insert("itls".into(), col(&|r| json!(r.itl_s)));
    m.insert("generated_texts".into(), col(&|r| json!(r.text)));
    m.insert(
        "errors".into(),
        col(&|r| json!(r.error.as_deref().unwrap_or(""))),
    );
    if cache_report {
        m.insert(
            "cached_tokens".into(),
            col(&|r| json!(r.cached_tokens.unwrap_or(0))),
        );
        m.insert(
            "cached_tokens_details".into(),
            col(&|r| json!(r.cached_tokens_details)),
        );
    }
    m
}

/// runner's own details array: the server-reported prompt length of each successful request
/// (null when the server gave none or the request failed); sums to
/// `total_reported_input_tokens`.
pub fn reported_input_lens(records: &[RequestRecord]) -> Value {
    let len = |r: &RequestRecord| r.reported_prompt_len.filter(|_| r.outcome.is_ok());
    Value::Array(records.iter().map(|r| json!(len(r))).collect())
}

/// The result line of one run.
pub fn result_line(
    args: &BenchArgs,
    info: &RunInfo,
    s: &Summary,
    records: &[RequestRecord],
    goodput: Option<&Goodput>,
) -> Map<String, Value> {
    // Keys that bench_serving fills from its own flags.
    let r = &args.random;
    let line = RunLine {
        tag: args.output.tag.clone(),
        dataset_name: args.dataset.dataset_name.name().to_owned(),
        max_concurrency: args.load.max_concurrency,
        sharegpt_output_len: args.sharegpt.sharegpt_output_len,
        random_input_len: Some(r.random_input_len),
        random_output_len: Some(r.random_output_len),
        random_range_ratio: Some(r.random_range_ratio),
        ..RunLine::new(info, s)
    };
    let mut base = line.to_map();
    if args.mooncake.use_trace_timestamps {
        base.insert("request_rate".into(), json!("trace"));
    }
    // bench_serving's order: its result keys, the goodput keys, `cache_report`, then the
    // details arrays; runner's own keys follow.
    let cache = base.remove("cache_report");
    let mut out = Map::new();
    for (k, v) in base {
        let last = k == LAST_BENCH_KEY;
        out.insert(k, v);
        if last {
            if let Some(g) = goodput {
                out.extend(g.keys());
            }
            if let Some(c) = cache.clone() {
                out.insert("cache_report".into(), c);
            }
            if args.output.output_details {
                out.extend(details(records, args.output.cache_report));
            }
        }
    }
    if args.output.output_details {
        out.insert("reported_input_lens".into(), reported_input_lens(records));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::tests::parse;

    fn args(a: &str) -> BenchArgs {
        parse(a).unwrap()
    }

    #[test]
    fn auto_names_follow_bench_serving() {
        let a = args("--dataset-name random --num-prompts 10");
        assert_eq!(auto_name(&a, "0412"), "sglang_0412_10_1024_1024.jsonl");
        let a = args(
            "--backend vllm-chat --dataset-name image --image-count 3 --image-resolution 720p \
             --random-input-len 512",
        );
        assert_eq!(
            auto_name(&a, "0101"),
            "vllm-chat_0101_1000_512_1024_3imgs_720p.jsonl"
        );
        let a = args("--backend trt --dataset-name random-ids");
        assert_eq!(auto_name(&a, "1231"), "trt_1231_1000_1024_1024.jsonl");
        let a = args("--dataset-name mooncake-conversation");
        assert_eq!(
            auto_name(&a, "0704"),
            "sglang_0704_1000_mooncake-conversation.jsonl"
        );
        assert_eq!(
            auto_name(&args(""), "0704"),
            "sglang_0704_1000_sharegpt.jsonl"
        );
    }

    #[test]
    fn civil_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        // 2024-02-29 is day 19782; 2000-03-01 is 11017.
        assert_eq!(civil_from_days(19_782), (2024, 2, 29));
        assert_eq!(civil_from_days(11_017), (2000, 3, 1));
        assert_eq!(today_mmdd().len(), 4);
    }
}
