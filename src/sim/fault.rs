//! Fault injection: which request breaks and how.
//!
//! In: the configured [`Fault`] rules, the server seed and a request's arrival index. Out: the
//! fault that request gets, if any. Each rule fires for listed request indices, or with a
//! probability decided by a hash of (seed, index, rule), so a seed reproduces the same faults
//! on the same requests whatever the timing.

use super::hash::{mix2, unit};
pub use crate::scenario::{Fault, FaultKind};

/// The fault request `seq` gets: the first rule that fires.
pub fn pick(faults: &[Fault], seed: u64, seq: u64) -> Option<&Fault> {
    faults
        .iter()
        .enumerate()
        .find(|(i, f)| fires(f, seed, *i, seq))
        .map(|(_, f)| f)
}

fn fires(f: &Fault, seed: u64, index: usize, seq: u64) -> bool {
    if f.requests.contains(&seq) {
        return true;
    }
    f.probability > 0.0 && unit(mix2(mix2(seed, seq), index as u64)) < f.probability
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listed_requests_fire_and_first_rule_wins() {
        let rules = vec![
            Fault::on_requests(FaultKind::Reset, &[2]),
            Fault::on_requests(FaultKind::Stall, &[2, 3]),
        ];
        assert_eq!(pick(&rules, 0, 1), None);
        assert_eq!(pick(&rules, 0, 2).unwrap().kind, FaultKind::Reset);
        assert_eq!(pick(&rules, 0, 3).unwrap().kind, FaultKind::Stall);
    }

    #[test]
    fn probability_is_seeded_and_about_right() {
        let rules = vec![Fault {
            probability: 0.1,
            ..Fault::on_requests(FaultKind::Http, &[])
        }];
        let hits = |seed| -> Vec<u64> {
            (0..2000)
                .filter(|&s| pick(&rules, seed, s).is_some())
                .collect()
        };
        let a = hits(7);
        assert_eq!(a, hits(7), "same seed, same requests");
        assert_ne!(a, hits(8), "another seed, other requests");
        assert!((150..250).contains(&a.len()), "{}", a.len());
    }
}
