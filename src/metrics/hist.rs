//! Latency histograms for runs past the exact budget, and for merging runs later.
//!
//! In: latencies in seconds. Out: NumPy-style percentiles read from an HDR histogram, and the
//! histogram as base64 text in HdrHistogram's V2 deflate format (readable by the Java and
//! Python HdrHistogram tools), which [`merge`] reads back and adds up.
//!
//! Precision: values are recorded in whole nanoseconds with 3 significant digits, so every
//! bucket is at most 1/1024 of its values wide; a percentile is read as the midpoint of the
//! bucket holding each order statistic NumPy interpolates between, and so lies within
//! [`RELATIVE_PRECISION`] (1/2048 ≈ 0.05 %) plus 1 ns of NumPy's value on the same data.

use anyhow::{Context, Result};
use base64::Engine as _;
use hdrhistogram::Histogram;
use hdrhistogram::serialization::{Deserializer, Serializer, V2DeflateSerializer};

/// Significant decimal digits kept by every histogram.
pub const SIGNIFICANT_DIGITS: u8 = 3;

/// Largest relative error of a histogram percentile against NumPy's on the same values
/// (half a bucket), on top of the 1 ns recording unit.
pub const RELATIVE_PRECISION: f64 = 1.0 / 2048.0;

/// An HDR histogram of one latency, in nanoseconds; grows to any range.
#[derive(Debug, Clone)]
pub struct LatencyHist {
    h: Histogram<u64>,
}

impl Default for LatencyHist {
    fn default() -> Self {
        // One hour in ns as the initial range; `auto` grows it past that.
        let mut h = Histogram::new_with_bounds(1, 3_600_000_000_000, SIGNIFICANT_DIGITS)
            .expect("valid histogram bounds");
        h.auto(true);
        LatencyHist { h }
    }
}

/// Seconds as whole nanoseconds (negative values count as 0).
pub fn to_ns(seconds: f64) -> u64 {
    (seconds.max(0.0) * 1e9).round() as u64
}

impl LatencyHist {
    /// Record one latency in seconds.
    pub fn record(&mut self, seconds: f64) {
        self.h.saturating_record(to_ns(seconds));
    }

    /// NumPy's linear percentiles (`q` in 0..=100, ascending) in seconds, each order
    /// statistic read as its bucket's midpoint and clamped to `[min_s, max_s]` (the exact
    /// extremes, when known). Empty → zeros.
    pub fn percentiles(&self, qs: &[f64], min_s: f64, max_s: f64) -> Vec<f64> {
        percentiles(&self.h, qs)
            .into_iter()
            .map(|v| v.clamp(min_s, max_s.max(min_s)))
            .collect()
    }

    /// The histogram in V2 deflate format, base64 (standard alphabet, padded).
    pub fn encode(&self) -> String {
        encode(&self.h)
    }
}

/// NumPy's linear percentiles of the values in `h`, in seconds: for each `q`, the order
/// statistics at ranks ⌊q/100·(n−1)⌋ and the next one, read as their buckets' midpoints and
/// interpolated as [`super::percentile`] does. One pass over the recorded buckets.
pub fn percentiles(h: &Histogram<u64>, qs: &[f64]) -> Vec<f64> {
    let n = h.len();
    if n == 0 {
        return vec![0.0; qs.len()];
    }
    let mut ranks: Vec<u64> = Vec::with_capacity(qs.len() * 2);
    let pos: Vec<f64> = qs.iter().map(|q| q / 100.0 * (n - 1) as f64).collect();
    for p in &pos {
        let lo = p.floor() as u64;
        ranks.push(lo);
        ranks.push((lo + 1).min(n - 1));
    }
    let mut order: Vec<usize> = (0..ranks.len()).collect();
    order.sort_by_key(|&i| ranks[i]);
    let mut at = vec![0.0; ranks.len()];
    let mut next = 0;
    let mut seen = 0u64;
    for v in h.iter_recorded() {
        seen += v.count_at_value();
        let mid = h.median_equivalent(v.value_iterated_to()) as f64 / 1e9;
        while next < order.len() && ranks[order[next]] < seen {
            at[order[next]] = mid;
            next += 1;
        }
        if next == order.len() {
            break;
        }
    }
    pos.iter()
        .enumerate()
        .map(|(i, p)| {
            let (a, b) = (at[2 * i], at[2 * i + 1]);
            let t = p - p.floor();
            let d = b - a;
            if t >= 0.5 {
                b - d * (1.0 - t)
            } else {
                a + d * t
            }
        })
        .collect()
}

/// `h` in V2 deflate format, base64.
pub fn encode(h: &Histogram<u64>) -> String {
    let mut buf = Vec::new();
    V2DeflateSerializer::new()
        .serialize(h, &mut buf)
        .expect("serialising to memory does not fail");
    base64::engine::general_purpose::STANDARD.encode(buf)
}

/// Read one histogram written by [`encode`] (or any V2 / V2 deflate serialiser).
pub fn decode(text: &str) -> Result<Histogram<u64>> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .context("histogram is not base64")?;
    let h: Histogram<u64> = Deserializer::new()
        .deserialize(&mut bytes.as_slice())
        .map_err(|e| anyhow::anyhow!("histogram is not in HdrHistogram V2 format: {e:?}"))?;
    Ok(h)
}

/// Decode every histogram and add them up (the same metric from several runs): the merged
/// histogram covers every source's range.
pub fn merge<'a>(encoded: impl IntoIterator<Item = &'a str>) -> Result<Histogram<u64>> {
    let mut total = LatencyHist::default().h;
    for (i, text) in encoded.into_iter().enumerate() {
        let h = decode(text).with_context(|| format!("histogram {}", i + 1))?;
        total
            .add(&h)
            .map_err(|e| anyhow::anyhow!("histogram {}: cannot merge: {e:?}", i + 1))?;
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_values_are_exact() {
        // Below 2048 ns every bucket is 1 ns wide: np.percentile([1..=1000] ns, 50) = 500.5 ns.
        let mut h = LatencyHist::default();
        for i in 1..=1000 {
            h.record(i as f64 * 1e-9);
        }
        let p = h.percentiles(&[50.0, 99.0], 0.0, 1.0);
        assert!((p[0] - 500.5e-9).abs() < 1e-15, "{}", p[0]);
        // rank 989.01 → 990 + 0.01 ns
        assert!((p[1] - 990.01e-9).abs() < 1e-15, "{}", p[1]);
    }

    #[test]
    fn encoded_histograms_merge_to_the_sum_of_their_counts() {
        let mut a = LatencyHist::default();
        let mut b = LatencyHist::default();
        for i in 0..500 {
            a.record(0.001 * (i + 1) as f64);
            b.record(10.0 + i as f64);
        }
        let m = merge([a.encode().as_str(), b.encode().as_str()]).unwrap();
        assert_eq!(m.len(), 1000);
        // median of 1..=500 ms and 10..=509 s lies between 0.5 s and 10 s: ranks 499, 500
        let p = percentiles(&m, &[50.0]);
        assert!(
            (p[0] - (0.5 + 10.0) / 2.0).abs() < 10.0 * RELATIVE_PRECISION,
            "{p:?}"
        );
        assert_eq!(m.max(), m.highest_equivalent(509_000_000_000));
        assert!(merge(["not base64!"]).is_err());
        assert!(merge(["aGVsbG8="]).is_err());
    }
}
