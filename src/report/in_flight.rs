//! The true peak of requests in flight at once: each request counts from its send to its end
//! (failed ones too), exact to the instant. bench_serving's `Peak concurrent requests` counts
//! the requests active at any time within the same one-second bucket, which can be several
//! times higher. In: a run's records. Out: the peak.

use crate::metrics::{Percentiles, Summary};
use crate::record::RequestRecord;

/// The peak of a run when its records are all kept (within the exact budget of
/// [`crate::metrics`]); past the budget the kept records are a sample, so there is none.
pub fn peak_of(s: &Summary, records: &[RequestRecord]) -> Option<usize> {
    (s.percentiles == Percentiles::Exact).then(|| peak(records))
}

/// The largest number of requests in flight at one instant. A request ending at the instant
/// another is sent does not overlap it.
pub fn peak(records: &[RequestRecord]) -> usize {
    let mut edges: Vec<(f64, i32)> = Vec::with_capacity(records.len() * 2);
    for r in records {
        edges.push((r.sent_s, 1));
        edges.push((r.end_s.max(r.sent_s), -1));
    }
    // Ends before sends at the same instant.
    edges.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    let (mut now, mut best) = (0i32, 0i32);
    for (_, d) in edges {
        now += d;
        best = best.max(now);
    }
    best as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(sent_s: f64, end_s: f64) -> RequestRecord {
        let mut r = RequestRecord::new(0, sent_s, 1);
        (r.sent_s, r.end_s) = (sent_s, end_s);
        r
    }

    #[test]
    fn counts_overlaps_at_one_instant() {
        // [0,1) [0.5,2) [1,3) [2.5,2.6): at most two at once; 1.0 and 2.0 are hand-offs.
        let r = [rec(0.0, 1.0), rec(0.5, 2.0), rec(1.0, 3.0), rec(2.5, 2.6)];
        assert_eq!(peak(&r), 2);
        // Three requests within one second, never overlapping: bench_serving's bucket says 3.
        let r = [rec(0.0, 0.2), rec(0.3, 0.5), rec(0.6, 0.9)];
        assert_eq!(peak(&r), 1);
        assert_eq!(peak(&[]), 0);
    }
}
