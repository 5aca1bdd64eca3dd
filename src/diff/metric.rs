//! Which metrics `runner diff` compares and which way is better: the default set, `--metrics`
//! globs, and the one table of metric directions.

/// Which way a metric improves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Throughputs, goodput, completions.
    HigherIsBetter,
    /// Latencies, failures.
    LowerIsBetter,
    /// Neither (concurrency, token totals): a change is reported, not judged.
    Neutral,
}

/// Metric directions, first matching pattern wins. The one place this is written.
const DIRECTIONS: &[(&str, Direction)] = &[
    ("*_throughput", Direction::HigherIsBetter),
    ("request_goodput", Direction::HigherIsBetter),
    ("slo_attainment", Direction::HigherIsBetter),
    ("completed", Direction::HigherIsBetter),
    ("max_output_tokens_per_s", Direction::HigherIsBetter),
    ("accept_length", Direction::HigherIsBetter),
    ("*_ms", Direction::LowerIsBetter),
    ("failed", Direction::LowerIsBetter),
    ("duration", Direction::LowerIsBetter),
    ("queued_requests", Direction::LowerIsBetter),
    ("retried_requests", Direction::LowerIsBetter),
];

/// The direction of `metric`.
pub fn direction(metric: &str) -> Direction {
    DIRECTIONS
        .iter()
        .find(|(p, _)| glob(p, metric))
        .map_or(Direction::Neutral, |(_, d)| *d)
}

/// Compared when `--metrics` is not given (those present in the inputs).
pub const DEFAULT: &[&str] = &[
    "request_throughput",
    "output_throughput",
    "total_throughput",
    "mean_ttft_ms",
    "median_ttft_ms",
    "p99_ttft_ms",
    "mean_tpot_ms",
    "median_tpot_ms",
    "p99_tpot_ms",
    "mean_itl_ms",
    "median_itl_ms",
    "p99_itl_ms",
    "mean_e2e_latency_ms",
    "median_e2e_latency_ms",
    "p99_e2e_latency_ms",
];

/// `*` matches any run of characters, `?` one character; anything else itself.
pub fn glob(pattern: &str, name: &str) -> bool {
    let (p, n): (Vec<char>, Vec<char>) = (pattern.chars().collect(), name.chars().collect());
    // Classic two-pointer match with backtracking to the last `*`.
    let (mut i, mut j, mut star, mut mark) = (0, 0, None, 0);
    while j < n.len() {
        if i < p.len() && (p[i] == '?' || p[i] == n[j]) {
            i += 1;
            j += 1;
        } else if i < p.len() && p[i] == '*' {
            star = Some(i);
            mark = j;
            i += 1;
        } else if let Some(s) = star {
            i = s + 1;
            mark += 1;
            j = mark;
        } else {
            return false;
        }
    }
    p[i..].iter().all(|c| *c == '*')
}

/// The metrics to compare: each pattern of `wanted` (or [`DEFAULT`]) expanded against the
/// numeric fields `available`, in the order given, without repeats. Out: the metrics and
/// the patterns that matched nothing.
pub fn select(wanted: &[String], available: &[String]) -> (Vec<String>, Vec<String>) {
    let patterns: Vec<String> = if wanted.is_empty() {
        DEFAULT.iter().map(|s| (*s).to_owned()).collect()
    } else {
        wanted.to_vec()
    };
    let (mut out, mut unmatched) = (Vec::new(), Vec::new());
    for p in &patterns {
        let hits: Vec<&String> = available.iter().filter(|a| glob(p, a)).collect();
        if hits.is_empty() && !wanted.is_empty() {
            unmatched.push(p.clone());
        }
        for h in hits {
            if !out.contains(h) {
                out.push(h.clone());
            }
        }
    }
    (out, unmatched)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob("p99_*", "p99_ttft_ms"));
        assert!(glob("*_ms", "mean_itl_ms"));
        assert!(glob("p9?_ttft_ms", "p95_ttft_ms"));
        assert!(glob("*tt*", "p99_ttft_ms"));
        assert!(!glob("p99_*", "mean_ttft_ms"));
        assert!(!glob("*_ms", "output_throughput"));
        assert!(glob("exact", "exact") && !glob("exact", "exactly"));
    }

    #[test]
    fn directions() {
        assert_eq!(direction("output_throughput"), Direction::HigherIsBetter);
        assert_eq!(direction("p99_ttft_ms"), Direction::LowerIsBetter);
        assert_eq!(direction("failed"), Direction::LowerIsBetter);
        assert_eq!(direction("concurrency"), Direction::Neutral);
    }

    #[test]
    fn selection_keeps_order_and_reports_misses() {
        let avail: Vec<String> = [
            "mean_ttft_ms",
            "p99_ttft_ms",
            "p99_itl_ms",
            "output_throughput",
        ]
        .map(String::from)
        .to_vec();
        let (m, miss) = select(
            &["p99_*".into(), "p99_ttft_ms".into(), "nope*".into()],
            &avail,
        );
        assert_eq!(m, ["p99_ttft_ms", "p99_itl_ms"]);
        assert_eq!(miss, ["nope*"]);
        let (m, miss) = select(&[], &avail);
        assert_eq!(
            m,
            [
                "output_throughput",
                "mean_ttft_ms",
                "p99_ttft_ms",
                "p99_itl_ms"
            ]
        );
        assert!(miss.is_empty());
    }
}
