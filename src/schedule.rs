//! Arrival processes: when each request of a run is due.
//!
//! In: the number of requests, the rate, the process and the run seed (or, for
//! `arrival: trace`, the requests' own timestamps). Out: offsets in seconds from the run
//! start, first request at 0. As in bench_serving, request `i` is due after the sum of the
//! first `i` gaps; unlike it, the schedule has its own RNG stream, so it does not change when
//! the dataset does.

use rand::SeedableRng;
use rand::rngs::ChaCha8Rng;
use rand_distr::{Distribution, Exp, Gamma};

use crate::scenario::{Arrival, Rate};
use crate::workload::RequestSpec;

/// Stream of the schedule RNG.
const SCHEDULE_STREAM: u64 = 0x7363_6865_6475_6c65;

/// Due times of `requests`: with `arrival: trace`, each request's `timestamp_s` (kept
/// non-decreasing, a missing one due with the previous request); otherwise [`offsets`].
pub fn for_requests(
    requests: &[RequestSpec],
    rate: Rate,
    arrival: Arrival,
    burstiness: Option<f64>,
    seed: u64,
) -> Vec<f64> {
    if arrival != Arrival::Trace {
        return offsets(requests.len(), rate, arrival, burstiness, seed);
    }
    let mut due = 0.0f64;
    requests
        .iter()
        .map(|r| {
            due = due.max(r.timestamp_s.unwrap_or(due));
            due
        })
        .collect()
}

/// Due times (seconds from the run start) of `n` requests. `Arrival::Trace` has no
/// timestamps here and gives all zeros: use [`for_requests`].
pub fn offsets(
    n: usize,
    rate: Rate,
    arrival: Arrival,
    burstiness: Option<f64>,
    seed: u64,
) -> Vec<f64> {
    let Rate::PerSecond(rate) = rate else {
        return vec![0.0; n];
    };
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ SCHEDULE_STREAM);
    let mut gap: Box<dyn FnMut() -> f64> = match arrival {
        Arrival::Poisson => {
            let exp = Exp::new(rate).expect("rate > 0");
            Box::new(move || exp.sample(&mut rng))
        }
        Arrival::Gamma => {
            let k = burstiness.unwrap_or(1.0);
            let gamma = Gamma::new(k, 1.0 / (rate * k)).expect("shape and scale > 0");
            Box::new(move || gamma.sample(&mut rng))
        }
        Arrival::Constant => Box::new(move || 1.0 / rate),
        Arrival::Trace => return vec![0.0; n],
    };
    let mut t = 0.0;
    (0..n)
        .map(|_| {
            let due = t;
            t += gap();
            due
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mean_gap(o: &[f64]) -> f64 {
        o.last().unwrap() / (o.len() - 1) as f64
    }

    #[test]
    fn infinite_rate_sends_everything_at_once() {
        assert_eq!(
            offsets(3, Rate::Infinite, Arrival::Poisson, None, 1),
            vec![0.0; 3]
        );
    }

    #[test]
    fn constant_is_evenly_spaced() {
        let o = offsets(5, Rate::PerSecond(4.0), Arrival::Constant, None, 1);
        assert_eq!(o, vec![0.0, 0.25, 0.5, 0.75, 1.0]);
    }

    #[test]
    fn poisson_and_gamma_have_the_right_mean_and_spread() {
        let n = 20_000;
        let p = offsets(n, Rate::PerSecond(10.0), Arrival::Poisson, None, 42);
        assert_eq!(p[0], 0.0);
        assert!((mean_gap(&p) - 0.1).abs() < 0.003, "{}", mean_gap(&p));
        let cv = |o: &[f64]| {
            let gaps: Vec<f64> = o.windows(2).map(|w| w[1] - w[0]).collect();
            let m = gaps.iter().sum::<f64>() / gaps.len() as f64;
            let var = gaps.iter().map(|g| (g - m).powi(2)).sum::<f64>() / gaps.len() as f64;
            var.sqrt() / m
        };
        assert!((cv(&p) - 1.0).abs() < 0.05, "poisson cv {}", cv(&p));
        let g = offsets(n, Rate::PerSecond(10.0), Arrival::Gamma, Some(4.0), 42);
        assert!((mean_gap(&g) - 0.1).abs() < 0.003);
        assert!((cv(&g) - 0.5).abs() < 0.05, "gamma cv {}", cv(&g));
    }

    #[test]
    fn trace_uses_timestamps_whatever_the_rate() {
        let at = |t: Option<f64>| RequestSpec {
            timestamp_s: t,
            ..RequestSpec::default()
        };
        let reqs = [
            at(Some(0.0)),
            at(Some(0.5)),
            at(None),
            at(Some(0.25)),
            at(Some(2.0)),
        ];
        let o = for_requests(&reqs, Rate::PerSecond(1.0), Arrival::Trace, None, 1);
        assert_eq!(o, vec![0.0, 0.5, 0.5, 0.5, 2.0]);
        let o = for_requests(&reqs, Rate::PerSecond(4.0), Arrival::Constant, None, 1);
        assert_eq!(o, vec![0.0, 0.25, 0.5, 0.75, 1.0]);
    }

    #[test]
    fn seeded_and_reproducible() {
        let a = offsets(50, Rate::PerSecond(3.0), Arrival::Poisson, None, 9);
        assert_eq!(
            a,
            offsets(50, Rate::PerSecond(3.0), Arrival::Poisson, None, 9)
        );
        assert_ne!(
            a,
            offsets(50, Rate::PerSecond(3.0), Arrival::Poisson, None, 10)
        );
    }
}
