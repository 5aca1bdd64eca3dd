//! The console block, line for line as bench_serving prints it (spec §6): rows are
//! `"{:<40} {:<10}"`, floats with two decimals, section titles centred in 50 characters.

use std::fmt::Write as _;

use super::RunInfo;
use crate::metrics::{CacheReport, Dist, Summary};
use crate::record::RequestRecord;
use crate::scenario::Backend;

fn row(out: &mut String, label: &str, value: impl std::fmt::Display) {
    let _ = writeln!(out, "{label:<40} {value:<10}");
}

fn rowf(out: &mut String, label: &str, value: f64) {
    let _ = writeln!(out, "{label:<40} {value:<10.2}");
}

fn section(out: &mut String, title: &str) {
    let _ = writeln!(out, "{title:-^50}");
}

/// A latency distribution; `N/A` everywhere when no request completed (nothing measured).
fn dist(out: &mut String, name: &str, d: &Dist, measured: bool) {
    for (stat, v) in [
        ("Mean", d.mean),
        ("Median", d.median),
        ("P90", d.p90),
        ("P95", d.p95),
        ("P99", d.p99),
    ] {
        let label = format!("{stat} {name} (ms):");
        if measured {
            rowf(out, &label, v);
        } else {
            row(out, &label, "N/A");
        }
    }
}

/// The result block of one run, starting with a blank line, ending with a `=` rule.
pub fn block(info: &RunInfo, s: &Summary) -> String {
    block_with(info, s, None, "")
}

/// The result block with `rate` printed as the traffic request rate instead of the run's
/// (bench_serving prints `trace` for trace replay) and `extra` lines (the goodput section)
/// after the concurrency lines. Image and MMMU runs add the vision-token line; embedding
/// backends leave out every token-generation line, as bench_serving does.
pub fn block_with(info: &RunInfo, s: &Summary, rate: Option<&str>, extra: &str) -> String {
    let embedding = Backend::from_name(&info.backend).is_some_and(Backend::is_embedding);
    let vision = matches!(info.dataset_kind.as_str(), "image" | "mmmu");
    let measured = s.completed > 0;
    let mut out = String::new();
    let _ = writeln!(out, "\n{:=^50}", " Serving Benchmark Result ");
    row(&mut out, "Backend:", &info.backend);
    match rate {
        Some(r) => row(&mut out, "Traffic request rate:", r),
        None => row(
            &mut out,
            "Traffic request rate:",
            info.request_rate.python_str(),
        ),
    }
    match info.max_concurrency.limit() {
        Some(n) => row(&mut out, "Max request concurrency:", n),
        None => row(&mut out, "Max request concurrency:", "not set"),
    }
    row(&mut out, "Successful requests:", s.completed);
    rowf(&mut out, "Benchmark duration (s):", s.duration_s);
    row(&mut out, "Total input tokens:", s.total_input);
    row(&mut out, "Total input text tokens:", s.total_input_text);
    if vision {
        row(&mut out, "Total input vision tokens:", s.total_input_vision);
    }
    if !embedding {
        row(&mut out, "Total generated tokens:", s.total_output);
        row(
            &mut out,
            "Total generated tokens (retokenized):",
            s.total_output_retokenized,
        );
    }
    rowf(
        &mut out,
        "Request throughput (req/s):",
        s.request_throughput,
    );
    rowf(
        &mut out,
        "Input token throughput (tok/s):",
        s.input_throughput,
    );
    if !embedding {
        rowf(
            &mut out,
            "Output token throughput (tok/s):",
            s.output_throughput,
        );
        rowf(
            &mut out,
            "Peak output token throughput (tok/s):",
            s.max_output_tokens_per_s,
        );
    }
    row(
        &mut out,
        "Peak concurrent requests:",
        s.max_concurrent_requests,
    );
    if !embedding {
        rowf(
            &mut out,
            "Total token throughput (tok/s):",
            s.total_throughput,
        );
    }
    rowf(&mut out, "Concurrency:", s.concurrency);
    if let Some(a) = s.accept_length.filter(|a| *a > 0.0) {
        rowf(&mut out, "Accept length:", a);
    }
    out.push_str(extra);
    section(&mut out, "End-to-End Latency");
    dist(&mut out, "E2E Latency", &s.e2e_ms, measured);
    if embedding {
        let _ = writeln!(out, "{}", "=".repeat(50));
        return out;
    }
    section(&mut out, "Time to First Token");
    dist(&mut out, "TTFT", &s.ttft_ms, measured);
    section(&mut out, "Time per Output Token (excl. 1st token)");
    dist(&mut out, "TPOT", &s.tpot_ms, measured);
    section(&mut out, "Inter-Token Latency");
    dist(&mut out, "ITL", &s.itl_ms, measured);
    if measured {
        rowf(&mut out, "Max ITL (ms):", s.max_itl_ms);
    } else {
        row(&mut out, "Max ITL (ms):", "N/A");
    }
    if info.cache_report {
        cache_section(&mut out, &s.cache);
    }
    let _ = writeln!(out, "{}", "=".repeat(50));
    out
}

fn pct(out: &mut String, label: &str, value: f64) {
    let _ = writeln!(out, "{label:<40} {value:.1}%");
}

/// bench_serving's "Cache Hit Details" section: totals, the tiers when the server split
/// them, the hit rate and each tier's share.
fn cache_section(out: &mut String, c: &CacheReport) {
    section(out, "Cache Hit Details");
    row(out, "Total prompt tokens:", c.total_prompt_tokens);
    row(out, "Total cached tokens:", c.total_cached_tokens);
    let tiers = c.has_details && c.total_cached_tokens > 0;
    let storage_label = match &c.storage_backend {
        Some(b) => format!("  Storage ({b}):"),
        None => "  Storage:".to_owned(),
    };
    if tiers {
        row(out, "  Device:", c.device);
        row(out, "  Host:", c.host);
        if c.storage > 0 {
            row(out, &storage_label, c.storage);
        }
    }
    pct(out, "Cache hit rate:", c.hit_rate_pct());
    if tiers {
        let share = |n: u64| n as f64 / c.total_cached_tokens as f64 * 100.0;
        pct(out, "  Device:", share(c.device));
        pct(out, "  Host:", share(c.host));
        if c.storage > 0 {
            pct(out, &storage_label, share(c.storage));
        }
    }
}

/// runner's lines under the block: failures by kind with the first error, token counts
/// that disagree, requests held back by the concurrency cap, a client that fell behind.
pub fn notes(s: &Summary, records: &[RequestRecord]) -> String {
    let mut out = String::new();
    if s.failed > 0 {
        let kinds: Vec<String> = s
            .failures
            .iter()
            .map(|(k, v)| format!("{k}: {v}"))
            .collect();
        let _ = writeln!(out, "Failed requests: {} ({})", s.failed, kinds.join(", "));
        if let Some(first) = records.iter().find_map(|r| r.error.as_deref()) {
            let first: String = first.chars().take(300).collect();
            let _ = writeln!(out, "First error: {first}");
        }
    }
    if s.output_len_assumed > 0 {
        let _ = writeln!(
            out,
            "Output length assumed (server reported none): {} requests; TPOT and output \
             throughput use the requested length for them",
            s.output_len_assumed
        );
    }
    if s.token_counts_disagree() {
        let _ = writeln!(
            out,
            "Token counts disagree: server-reported {} vs retokenized {} output tokens ({} \
             requests off by more than 5 %); set `tokenizer` to the served model's tokenizer",
            s.total_output, s.total_output_retokenized, s.retokenized_mismatch
        );
    }
    if s.chunk_mismatch > 0 {
        let _ = writeln!(
            out,
            "Chunks carried several tokens: {} chunks for {} tokens ({} requests); ITL splits \
             each gap over the chunk's tokens",
            s.total_output_chunks, s.total_output, s.chunk_mismatch
        );
    }
    if s.queued_requests > 0 {
        let _ = writeln!(
            out,
            "Held back by the concurrency cap: {} requests (P99 wait {:.2} ms; P99 TTFT from \
             the due time {:.2} ms)",
            s.queued_requests, s.queue_wait_ms.p99, s.ttft_from_schedule_ms.p99
        );
    }
    if s.retried_requests > 0 {
        let _ = writeln!(
            out,
            "Resent on a new connection: {} requests (the server had closed their pooled \
             keep-alive connection before reading them)",
            s.retried_requests
        );
    }
    if s.schedule_lag_ms.p99 > 10.0 {
        let _ = writeln!(
            out,
            "Client behind schedule: P99 dispatch lag {:.2} ms",
            s.schedule_lag_ms.p99
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{Concurrency, Rate};

    #[test]
    fn block_has_bench_serving_layout() {
        let info = RunInfo {
            request_rate: Rate::PerSecond(8.0),
            ..RunInfo::for_test("a/b/rate=8/conc=none", "sglang", "random")
        };
        let s = Summary {
            completed: 10,
            duration_s: 2.345,
            total_input: 1000,
            total_input_text: 1000,
            request_throughput: 4.264,
            ttft_ms: Dist {
                mean: 50.125,
                ..Dist::default()
            },
            max_itl_ms: 12.0,
            ..Summary::default()
        };
        let text = block(&info, &s);
        let lines: Vec<&str> = text.lines().collect();
        for (i, want) in [
            (0, ""),
            (1, "============ Serving Benchmark Result ============"),
            (2, "Backend:                                 sglang    "),
            (3, "Traffic request rate:                    8.0       "),
            (4, "Max request concurrency:                 not set   "),
            (5, "Successful requests:                     10        "),
            (6, "Benchmark duration (s):                  2.35      "),
            (11, "Request throughput (req/s):              4.26      "),
            (18, "----------------End-to-End Latency----------------"),
            (24, "---------------Time to First Token----------------"),
            (25, "Mean TTFT (ms):                          50.12     "),
            (30, "-----Time per Output Token (excl. 1st token)------"),
            (36, "---------------Inter-Token Latency----------------"),
            (42, "Max ITL (ms):                            12.00     "),
        ] {
            assert_eq!(lines[i], want, "line {i}");
        }
        assert_eq!(lines[43], "=".repeat(50));
        assert_eq!(lines.len(), 44);
    }

    #[test]
    fn image_and_embedding_variants() {
        let mut info = RunInfo {
            max_concurrency: Concurrency(4),
            ..RunInfo::for_test("a/b/rate=inf/conc=none", "sglang-oai-chat", "image")
        };
        let s = Summary {
            total_input: 300,
            total_input_text: 100,
            total_input_vision: 200,
            ..Summary::default()
        };
        let text = block_with(&info, &s, Some("trace"), "GOODPUT\n");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[3],
            format!("{:<40} {:<10}", "Traffic request rate:", "trace")
        );
        assert_eq!(
            lines[4],
            format!("{:<40} {:<10}", "Max request concurrency:", 4)
        );
        assert_eq!(
            lines[9],
            format!("{:<40} {:<10}", "Total input vision tokens:", 200)
        );
        assert_eq!(lines.len(), 46);
        assert_eq!(lines[19], "GOODPUT");
        info.backend = "vllm-embedding".into();
        info.dataset_kind = "random".into();
        let text = block(&info, &s);
        for gone in [
            "generated",
            "Output token",
            "Total token",
            "TTFT",
            "TPOT",
            "ITL",
        ] {
            assert!(!text.contains(gone), "{gone} in\n{text}");
        }
        assert!(text.contains("Peak concurrent requests:"));
        assert!(text.contains("P99 E2E Latency (ms):"));
        assert_eq!(text.lines().count(), 20);
    }
}

#[cfg(test)]
mod cache_tests {
    use super::*;

    #[test]
    fn cache_section_matches_bench_serving() {
        let c = CacheReport {
            total_prompt_tokens: 1000,
            total_cached_tokens: 250,
            has_details: true,
            device: 200,
            host: 0,
            storage: 50,
            storage_backend: Some("hf3fs".into()),
        };
        let mut out = String::new();
        cache_section(&mut out, &c);
        let want = "\
----------------Cache Hit Details-----------------
Total prompt tokens:                     1000      
Total cached tokens:                     250       
  Device:                                200       
  Host:                                  0         
  Storage (hf3fs):                       50        
Cache hit rate:                          25.0%
  Device:                                80.0%
  Host:                                  0.0%
  Storage (hf3fs):                       20.0%
";
        assert_eq!(out, want);
        let mut out = String::new();
        cache_section(
            &mut out,
            &CacheReport {
                total_prompt_tokens: 3,
                ..CacheReport::default()
            },
        );
        assert!(
            out.ends_with("Cache hit rate:                          0.0%\n"),
            "{out}"
        );
        assert!(!out.contains("Device"));
    }
}
