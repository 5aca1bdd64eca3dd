//! `runner bench --output-details`: every total of the result line equals the sum of its
//! per-request array over the successful requests (bench_serving's `input_lens` →
//! `total_input_tokens`); the server's own prompt counts have their own array and total.

mod support;

use runner::scenario::{Fault, FaultKind};
use runner::sim::SimConfig;
use serde_json::Value;
use support::{Sim, bench_ok, json_lines};

fn sum_ok(line: &serde_json::Map<String, Value>, key: &str) -> u64 {
    let errors = line["errors"].as_array().unwrap();
    let values = line[key].as_array().unwrap();
    assert_eq!(values.len(), errors.len(), "{key}: one entry per request");
    values
        .iter()
        .zip(errors)
        .filter(|(_, e)| *e == "")
        .map(|(v, _)| v.as_u64().unwrap_or(0))
        .sum()
}

#[test]
fn every_total_is_the_sum_of_its_detail_array() {
    let dir = tempfile::tempdir().unwrap();
    for backend in ["vllm", "sglang", "vllm-chat"] {
        // Requests 3 and 7 the server sees (the warmup is 0) fail.
        let mut cfg = SimConfig::fixed(2.0, 0.5);
        cfg.faults = vec![Fault::on_requests(FaultKind::Http, &[3, 7])];
        let sim = Sim::start(cfg);
        let file = format!("{backend}.jsonl");
        bench_ok(
            dir.path(),
            &[
                "--backend",
                backend,
                "--base-url",
                &sim.url(),
                "--dataset-name",
                "random",
                "--num-prompts",
                "24",
                "--random-input-len",
                "200",
                "--random-output-len",
                "6",
                "--random-range-ratio",
                "0.3",
                "--output-file",
                &file,
                "--output-details",
                "--cache-report",
            ],
        );
        let line = &json_lines(&dir.path().join(&file))[0];
        let errors = line["errors"].as_array().unwrap();
        let ok = errors.iter().filter(|e| *e == "").count() as u64;
        assert_eq!(line["completed"], ok, "{backend}");
        assert!(ok < 24, "{backend}: the faults failed some requests");
        assert_eq!(line["failed"], 24 - ok, "{backend}");
        for (array, total) in [
            ("input_lens", "total_input_tokens"),
            ("output_lens", "total_output_tokens"),
            ("reported_input_lens", "total_reported_input_tokens"),
        ] {
            assert_eq!(
                line[total].as_u64().unwrap(),
                sum_ok(line, array),
                "{backend}: {total} vs sum({array})"
            );
        }
        // Failed requests produced nothing and the server counted nothing for them.
        let outs = line["output_lens"].as_array().unwrap();
        let reported = line["reported_input_lens"].as_array().unwrap();
        for ((e, o), r) in errors.iter().zip(outs).zip(reported) {
            if *e != "" {
                assert_eq!((o.as_u64(), r), (Some(0), &Value::Null), "{backend}");
            }
        }
        assert_eq!(
            line["cache_report"]["total_cached_tokens"]
                .as_u64()
                .unwrap(),
            sum_ok(line, "cached_tokens"),
            "{backend}"
        );
        assert_eq!(line["ttfts"].as_array().unwrap().len(), 24);
        assert_eq!(line["itls"].as_array().unwrap().len(), 24);
        // The server reports its own count: present for every successful request.
        assert!(
            reported
                .iter()
                .zip(errors)
                .all(|(r, e)| (*e == "") == r.is_u64()),
            "{backend}: {reported:?}"
        );
    }
}
