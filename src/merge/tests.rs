//! Merging shard lines written from known records against one process's summary of all of
//! them.

use std::path::Path;

use serde_json::{Map, Value, json};

use super::merge;
use crate::metrics::{Fold, Percentiles, hist};
use crate::record::RequestRecord;
use crate::report::{RunInfo, RunLine};
use crate::scenario::Rate;

fn info() -> RunInfo {
    RunInfo {
        request_rate: Rate::PerSecond(10.0),
        scenario_hash: Some("00000000000000aa".into()),
        ..RunInfo::for_test("sim/rand/rate=10/conc=none", "sglang-oai", "random")
    }
}

/// Request `i` of 200, on the timeline of a start at 0: sent at i/10 s, first token after
/// 20 + (i·37 mod 50) ms, 4 output tokens 5 + (i mod 7) ms apart, 10 prompt tokens.
fn record(i: usize) -> RequestRecord {
    let sent = i as f64 / 10.0;
    let mut r = RequestRecord::new(i, sent, 4);
    r.dispatched_s = sent;
    r.sent_s = sent;
    let ttft = 0.020 + ((i * 37) % 50) as f64 / 1000.0;
    let gap = 0.005 + (i % 7) as f64 / 1000.0;
    r.first_token_s = Some(sent + ttft);
    r.itl_s = vec![gap; 3];
    r.end_s = sent + ttft + 3.0 * gap;
    r.prompt_len = 10;
    r.reported_output_len = Some(4);
    r.retokenized_output_len = Some(4);
    r.chunks = 4;
    r
}

/// Request `i` on the timeline of a shard that started `late_s` after the shared instant.
fn late_record(i: usize, late_s: f64) -> RequestRecord {
    let mut r = record(i);
    for t in [
        &mut r.intended_s,
        &mut r.dispatched_s,
        &mut r.sent_s,
        &mut r.end_s,
    ] {
        *t -= late_s;
    }
    r.first_token_s = r.first_token_s.map(|t| t - late_s);
    r
}

/// Shard `k` of `n`'s result line: its records (i % n == k) on its own timeline, which
/// started `late_s` after the shared instant 1000.
fn shard_line(k: usize, n: usize, late_s: f64) -> Map<String, Value> {
    let mut fold = Fold::default();
    for i in (0..200).filter(|i| i % n == k) {
        fold.add(&late_record(i, late_s));
    }
    let mut i = info();
    let start = 1000.0 + late_s;
    let mut line = RunLine::new(&i, &fold.summary(fold.max_end_s)).to_map();
    i.stamp.provenance = json!({"shard": {
        "index": k, "count": n, "start_at": 1000.0, "start_unix_s": start,
        "start_late_ms": late_s * 1000.0, "end_unix_s": start + fold.max_end_s,
        "clock": {"method": "http_date", "offset_ms": 0.5, "uncertainty_ms": 1.0},
    }});
    line.insert("provenance".into(), i.stamp.provenance);
    line
}

fn write(dir: &Path, lines: &[Map<String, Value>]) {
    std::fs::create_dir_all(dir).unwrap();
    let text: String = lines
        .iter()
        .map(|l| format!("{}\n", Value::Object(l.clone())))
        .collect();
    std::fs::write(dir.join("runs.jsonl"), text).unwrap();
}

#[test]
fn four_shards_merge_to_the_single_process_numbers() {
    let tmp = tempfile::tempdir().unwrap();
    let lates = [0.0, 0.002, 0.001, 0.003];
    for (k, late) in lates.iter().enumerate() {
        write(
            &tmp.path().join(format!("shard-{k}-of-4")),
            &[shard_line(k, 4, *late)],
        );
    }
    // The shards' scenario: its SLO is judged again on the merged numbers.
    let slo = json!({"slo": {"p99_ttft_ms": 60.0, "mean_ttft_ms": 40.0}});
    std::fs::write(
        tmp.path().join("shard-0-of-4/scenario.json"),
        slo.to_string(),
    )
    .unwrap();
    let out = tmp.path().join("merged");
    merge(&[tmp.path().to_owned()], &out).unwrap();
    let text = std::fs::read_to_string(out.join("runs.jsonl")).unwrap();
    let m: Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    // TTFTs are 20..69 ms: p99 above 60, mean (44.5) above 40.
    assert_eq!(m["slo_passed"], false, "{m}");
    assert_eq!(
        m["slo_failed"],
        json!(["mean_ttft_ms", "p99_ttft_ms"]),
        "{m}"
    );
    // Without per-request thresholds every successful request is good.
    assert_eq!(m["slo_attainment"], 1.0);
    assert_eq!(m["request_goodput"], m["request_throughput"]);
    // One process over all 200 records, started at the shared instant.
    let mut fold = Fold::default();
    (0..200).for_each(|i| fold.add(&record(i)));
    let one = fold.summary(fold.max_end_s);
    assert_eq!(m["completed"], 200);
    assert_eq!(m["total_input_tokens"], 2000);
    assert_eq!(m["total_output_tokens"], 800);
    // From the earliest start (shard 0, at 1000) to the latest end (request 199 is shard 3's).
    let d = m["duration"].as_f64().unwrap();
    assert!(
        (d - one.duration_s).abs() < 1e-9,
        "{d} vs {}",
        one.duration_s
    );
    assert!((m["output_throughput"].as_f64().unwrap() - 800.0 / d).abs() < 1e-9);
    for (key, want) in [
        ("mean_ttft_ms", one.ttft_ms.mean),
        ("std_ttft_ms", one.ttft_ms.std),
        ("mean_itl_ms", one.itl_ms.mean),
        ("std_itl_ms", one.itl_ms.std),
        ("mean_e2e_latency_ms", one.e2e_ms.mean),
        // The shards' histograms add up to the one process's: the same percentiles.
        ("median_ttft_ms", one.ttft_ms.median),
        ("p99_ttft_ms", one.ttft_ms.p99),
        ("p99_itl_ms", one.itl_ms.p99),
        ("p90_tpot_ms", one.tpot_ms.p90),
    ] {
        let got = m[key].as_f64().unwrap();
        assert!(
            (got - want).abs() < 1e-6 * want.max(1.0),
            "{key}: {got} vs {want}"
        );
    }
    // ... which lie within the stated precision of NumPy's on the values themselves.
    let all: Vec<RequestRecord> = (0..200).map(record).collect();
    let exact = crate::metrics::summarize(
        &all,
        one.duration_s,
        &crate::tokenizer::Tokenizer::builtin(),
    );
    let p99 = m["p99_ttft_ms"].as_f64().unwrap();
    assert!((p99 - exact.ttft_ms.p99).abs() <= exact.ttft_ms.p99 * hist::RELATIVE_PRECISION + 1e-6);
    assert_eq!(m["percentiles"], "hdr");
    assert_eq!(Percentiles::Hdr.as_str(), "hdr");
    let shards = &m["provenance"]["shards"];
    assert_eq!(shards["count"], 4);
    assert!(
        (shards["start_spread_ms"].as_f64().unwrap() - 3.0).abs() < 1e-6,
        "{shards}"
    );
    assert!(m["provenance"].get("shard").is_none());
    let csv = std::fs::read_to_string(out.join("summary.csv")).unwrap();
    assert_eq!(csv.lines().count(), 2, "{csv}");
}

#[test]
fn shards_with_details_merge_exactly() {
    let tmp = tempfile::tempdir().unwrap();
    let lates = [0.0, 0.004];
    for (k, late) in lates.iter().enumerate() {
        let dir = tmp.path().join(format!("shard-{k}-of-2"));
        let mut records = Vec::new();
        for i in (0..200).filter(|i| i % 2 == k) {
            let mut r = late_record(i, *late);
            r.request = i / 2;
            records.push(serde_json::to_string(&r).unwrap() + "\n");
        }
        std::fs::create_dir_all(dir.join("requests")).unwrap();
        std::fs::write(dir.join("requests/r.jsonl"), records.concat()).unwrap();
        let mut line = shard_line(k, 2, *late);
        line.insert(
            "details".into(),
            json!({"file": "requests/r.jsonl", "first_line": 1, "lines": 100}),
        );
        write(&dir, &[line]);
    }
    let out = tmp.path().join("merged");
    merge(&[tmp.path().to_owned()], &out).unwrap();
    let text = std::fs::read_to_string(out.join("runs.jsonl")).unwrap();
    let m: Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    let all: Vec<RequestRecord> = (0..200).map(record).collect();
    let end = all.iter().map(|r| r.end_s).fold(0.0, f64::max);
    let one = crate::metrics::summarize(&all, end, &crate::tokenizer::Tokenizer::builtin());
    assert_eq!(m["percentiles"], "exact");
    for (key, want) in [
        ("median_ttft_ms", one.ttft_ms.median),
        ("p99_ttft_ms", one.ttft_ms.p99),
        ("p99_itl_ms", one.itl_ms.p99),
        ("p95_e2e_latency_ms", one.e2e_ms.p95),
        ("max_output_tokens_per_s", one.max_output_tokens_per_s),
        (
            "max_concurrent_requests",
            one.max_concurrent_requests as f64,
        ),
    ] {
        let got = m[key].as_f64().unwrap();
        assert!((got - want).abs() < 1e-9, "{key}: {got} vs {want}");
    }
    // The merged details: every request once, in global order, on one timeline.
    let details =
        std::fs::read_to_string(out.join(m["details"]["file"].as_str().unwrap())).unwrap();
    let sent: Vec<f64> = details
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["sent_s"]
                .as_f64()
                .unwrap()
        })
        .collect();
    assert_eq!(sent.len(), 200);
    for (i, s) in sent.iter().enumerate() {
        assert!(
            (s - i as f64 / 10.0).abs() < 1e-9,
            "request {i} sent at {s}"
        );
    }
}

fn refusal(dirs: &[(&str, Vec<Map<String, Value>>)]) -> String {
    let tmp = tempfile::tempdir().unwrap();
    let paths: Vec<_> = dirs
        .iter()
        .map(|(name, lines)| {
            let p = tmp.path().join(name);
            write(&p, lines);
            p
        })
        .collect();
    let e = merge(&paths, &tmp.path().join("out")).unwrap_err();
    assert!(e.is::<super::Refused>(), "{e:#}");
    format!("{e:#}")
}

#[test]
fn mismatched_missing_and_duplicated_shards_are_refused_by_name() {
    let mut other = shard_line(1, 2, 0.0);
    other.insert("scenario_hash".into(), json!("00000000000000bb"));
    let e = refusal(&[("a", vec![shard_line(0, 2, 0.0)]), ("b", vec![other])]);
    assert!(
        e.contains("scenario_hash 00000000000000aa") && e.contains("00000000000000bb"),
        "{e}"
    );
    assert!(e.contains("/a has") && e.contains("/b has"), "{e}");

    let e = refusal(&[
        ("a", vec![shard_line(0, 2, 0.0)]),
        ("b", vec![shard_line(1, 3, 0.0)]),
    ]);
    assert!(e.contains("shard count 2") && e.contains("has 3"), "{e}");

    let e = refusal(&[
        ("a", vec![shard_line(0, 3, 0.0)]),
        ("c", vec![shard_line(2, 3, 0.0)]),
    ]);
    assert!(e.contains("shard 1 of 3 is missing (have 0, 2)"), "{e}");

    let e = refusal(&[
        ("a", vec![shard_line(0, 2, 0.0)]),
        ("b", vec![shard_line(1, 2, 0.0)]),
        ("b2", vec![shard_line(1, 2, 0.0)]),
    ]);
    assert!(
        e.contains("shard 1 of 2 is counted twice") && e.contains("/b and "),
        "{e}"
    );

    let mut plain = shard_line(0, 1, 0.0);
    plain.insert("provenance".into(), json!({}));
    let e = refusal(&[("p", vec![plain])]);
    assert!(
        e.contains("p/runs.jsonl line 1") && e.contains("not a shard's result"),
        "{e}"
    );
}
