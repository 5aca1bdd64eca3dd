//! Arrival processes: when each request of a run is due.
//!
//! In: the number of requests, the rate, the process and the run seed (or, for
//! `arrival: trace`, the requests' own timestamps). Out: offsets in seconds from the run
//! start, first request at 0. As in bench_serving, request `i` is due after the sum of the
//! first `i` gaps; unlike it, the schedule has its own RNG stream, so it does not change when
//! the dataset does.
//!
//! `arrival: ramp` moves the rate from `ramp.from` to `ramp.to` (vLLM's ramp-up): request
//! `i` of `n` is sent at the rate at progress `i / (n − 1)`, and in a `duration_s` run the
//! request due at time `t` at the rate at progress `t / duration_s`. Its gaps are
//! exponential, or gamma with shape `burstiness` when given. [`due_times`] gives a run's
//! due times lazily; a `duration_s` run has as many as fit in the duration.

use rand::SeedableRng;
use rand::rngs::ChaCha8Rng;
use rand_distr::{Distribution, Exp, Gamma};

use crate::scenario::{Arrival, Ramp, Rate};
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
        Arrival::Trace | Arrival::Ramp => return vec![0.0; n],
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

/// How a run's requests arrive: the scenario's `load.arrival`, `burstiness` and `ramp`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Arrivals {
    /// The process.
    pub arrival: Arrival,
    /// Gamma shape (`arrival: gamma`, optional with `ramp`).
    pub burstiness: Option<f64>,
    /// The ramp of `arrival: ramp`.
    pub ramp: Option<Ramp>,
}

impl Arrivals {
    /// The arrival settings of a scenario's `load`.
    pub fn of(load: &crate::scenario::Load) -> Arrivals {
        Arrivals {
            arrival: load.arrival,
            burstiness: load.burstiness,
            ramp: load.ramp,
        }
    }
}

/// One gap of a ramp at `rate`: exponential, or gamma with shape `k`.
fn ramp_gap(rng: &mut ChaCha8Rng, rate: f64, k: Option<f64>) -> f64 {
    match k {
        Some(k) => Gamma::new(k, 1.0 / (rate * k))
            .expect("shape and scale > 0")
            .sample(rng),
        None => Exp::new(rate).expect("rate > 0").sample(rng),
    }
}

/// Due times of `n` requests of a ramp: request `i` follows a gap drawn at the rate of
/// progress `i / (n − 1)`.
pub fn ramp_offsets(n: usize, ramp: &Ramp, burstiness: Option<f64>, seed: u64) -> Vec<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ SCHEDULE_STREAM);
    let last = n.saturating_sub(1).max(1) as f64;
    let mut t = 0.0;
    (0..n)
        .map(|i| {
            let due = t;
            t += ramp_gap(&mut rng, ramp.rate_at(i as f64 / last), burstiness);
            due
        })
        .collect()
}

/// A run's due times in seconds from its start, lazily, for `n` requests whose rows (for
/// trace timestamps) may not be at hand: a drawn workload has no timestamps. Without
/// `duration_s`: one per request ([`for_requests`], [`offsets`] or [`ramp_offsets`]). With it:
/// as many as are due before `duration_s` (requests are recycled); an infinite rate gives
/// zeros without end (the engine then sends as the concurrency cap allows).
pub fn due_times(
    n: usize,
    rows: Option<&[RequestSpec]>,
    rate: Rate,
    a: &Arrivals,
    seed: u64,
    duration_s: Option<f64>,
) -> Box<dyn Iterator<Item = f64> + Send> {
    let Some(d) = duration_s else {
        let v = match (a.arrival, &a.ramp, rows) {
            (Arrival::Ramp, Some(r), _) => ramp_offsets(n, r, a.burstiness, seed),
            (_, _, Some(rows)) => for_requests(rows, rate, a.arrival, a.burstiness, seed),
            (_, _, None) => offsets(n, rate, a.arrival, a.burstiness, seed),
        };
        return Box::new(v.into_iter());
    };
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ SCHEDULE_STREAM);
    let mut gap: Box<dyn FnMut(f64) -> f64 + Send> = match (a.arrival, a.ramp, rate) {
        (Arrival::Ramp, Some(r), _) => {
            let k = a.burstiness;
            Box::new(move |t| ramp_gap(&mut rng, r.rate_at(t / d), k))
        }
        (_, _, Rate::Infinite) => return Box::new(std::iter::repeat(0.0)),
        (Arrival::Gamma, _, Rate::PerSecond(rate)) => {
            let k = a.burstiness.unwrap_or(1.0);
            let gamma = Gamma::new(k, 1.0 / (rate * k)).expect("shape and scale > 0");
            Box::new(move |_| gamma.sample(&mut rng))
        }
        (Arrival::Constant, _, Rate::PerSecond(rate)) => Box::new(move |_| 1.0 / rate),
        (_, _, Rate::PerSecond(rate)) => {
            let exp = Exp::new(rate).expect("rate > 0");
            Box::new(move |_| exp.sample(&mut rng))
        }
    };
    let mut t = 0.0;
    Box::new(std::iter::from_fn(move || {
        if t >= d {
            return None;
        }
        let due = t;
        t += gap(t);
        Some(due)
    }))
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
        let cv = |o: &[f64]| gap_stats(o).1;
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

    use crate::scenario::RampShape;

    /// Mean and coefficient of variation of the gaps of `o`.
    fn gap_stats(o: &[f64]) -> (f64, f64) {
        let gaps: Vec<f64> = o.windows(2).map(|w| w[1] - w[0]).collect();
        let m = gaps.iter().sum::<f64>() / gaps.len() as f64;
        let var = gaps.iter().map(|g| (g - m).powi(2)).sum::<f64>() / gaps.len() as f64;
        (m, var.sqrt() / m)
    }

    #[test]
    fn gamma_burstiness_sets_the_spread_not_the_mean() {
        // Gamma gaps with shape k and mean 1/rate have CV 1/√k: √2 = 1.414 for k = 0.5
        // (burstier than Poisson), 1/√2 = 0.707 for k = 2 (smoother).
        let n = 40_000;
        for (k, want_cv) in [(0.5, 2f64.sqrt()), (2.0, 0.5f64.sqrt())] {
            let o = offsets(n, Rate::PerSecond(20.0), Arrival::Gamma, Some(k), 7);
            let (mean, cv) = gap_stats(&o);
            eprintln!(
                "gamma k={k}: mean gap {mean:.5} s (want 0.05), cv {cv:.4} (want {want_cv:.4})"
            );
            assert!((mean - 0.05).abs() < 0.05 * 0.03, "k={k}: mean gap {mean}");
            assert!((cv - want_cv).abs() < want_cv * 0.04, "k={k}: cv {cv}");
        }
    }

    fn ramp(from: f64, to: f64, shape: RampShape) -> Ramp {
        Ramp { from, to, shape }
    }

    #[test]
    fn linear_ramp_gaps_follow_the_rate_of_their_progress() {
        // From 10/s to 100/s over n requests: the gap after request i has mean
        // 1 / (10 + 90 · i/(n−1)); each tenth of the run is compared with the sum of those.
        let n = 50_000;
        let r = ramp(10.0, 100.0, RampShape::Linear);
        let o = ramp_offsets(n, &r, None, 3);
        assert_eq!(o[0], 0.0);
        let expected_gap = |i: usize| 1.0 / (10.0 + 90.0 * i as f64 / (n - 1) as f64);
        let tenth = n / 10;
        for b in 0..9 {
            let (a, z) = (b * tenth, (b + 1) * tenth);
            let got = o[z] - o[a];
            let want: f64 = (a..z).map(expected_gap).sum();
            eprintln!("ramp tenth {b}: {got:.2} s (want {want:.2})");
            assert!(
                (got / want - 1.0).abs() < 0.04,
                "tenth {b}: {got} vs {want}"
            );
        }
        // The whole run: n · ∫₀¹ dp / (10 + 90p) = n · ln(10) / 90 seconds.
        let total = *o.last().unwrap();
        let want = n as f64 * 10f64.ln() / 90.0;
        assert!((total / want - 1.0).abs() < 0.01, "{total} vs {want}");
        // Rate at the ends, from the first and last 2 % of the gaps.
        let k = n / 50;
        let first = k as f64 / o[k];
        let last = k as f64 / (o[n - 1] - o[n - 1 - k]);
        eprintln!(
            "ramp total {total:.1} s (want {want:.1}), start rate {first:.2}, end rate {last:.2}"
        );
        assert!((first - 11.0).abs() < 1.0, "start rate {first}");
        assert!((last - 99.0).abs() < 6.0, "end rate {last}");
    }

    #[test]
    fn exponential_ramp_multiplies_the_rate() {
        let r = ramp(2.0, 32.0, RampShape::Exponential);
        assert_eq!(r.rate_at(0.0), 2.0);
        assert!((r.rate_at(0.5) - 8.0).abs() < 1e-9);
        assert!((r.rate_at(1.0) - 32.0).abs() < 1e-9);
        assert_eq!(r.label(), "ramp2-32exp");
        let lin = ramp(1.0, 50.0, RampShape::Linear);
        assert_eq!(lin.rate_at(0.5), 25.5);
        assert_eq!(lin.label(), "ramp1-50");
    }

    #[test]
    fn duration_runs_fill_the_time_and_recycle() {
        let reqs = vec![RequestSpec::default(); 3];
        let poisson = Arrivals {
            arrival: Arrival::Poisson,
            burstiness: None,
            ramp: None,
        };
        // 200/s for 50 s: about 10 000 due times, all before 50 s.
        let o: Vec<f64> = due_times(
            3,
            Some(&reqs),
            Rate::PerSecond(200.0),
            &poisson,
            1,
            Some(50.0),
        )
        .collect();
        assert!((o.len() as f64 - 10_000.0).abs() < 400.0, "{}", o.len());
        assert!(*o.last().unwrap() < 50.0);
        // A linear ramp from 10/s to 190/s over 100 s: ∫ rate dt = 100 · (10 + 190) / 2.
        let ramped = Arrivals {
            arrival: Arrival::Ramp,
            burstiness: None,
            ramp: Some(ramp(10.0, 190.0, RampShape::Linear)),
        };
        let o: Vec<f64> =
            due_times(3, Some(&reqs), Rate::Infinite, &ramped, 1, Some(100.0)).collect();
        assert!((o.len() as f64 - 10_000.0).abs() < 400.0, "{}", o.len());
        let first_half = o.iter().filter(|&&t| t < 50.0).count() as f64;
        // ∫₀⁵⁰ (10 + 1.8 t) dt = 500 + 2250 = 2750.
        assert!((first_half - 2750.0).abs() < 200.0, "{first_half}");
        // Without a duration there is one due time per request.
        assert_eq!(
            due_times(3, Some(&reqs), Rate::Infinite, &poisson, 1, None).count(),
            3
        );
    }
}
