//! The prefix cache: prompt prefixes whose KV was computed before, in 16-token blocks.
//!
//! In: a prompt's chained block hashes. Out: how many leading blocks are cached. Blocks are
//! inserted when a request's prefill completes and evicted least recently used first
//! (deepest first among equals, so a chain is never cut in the middle) once the cache holds
//! more than its capacity.

use std::cmp::Reverse;
use std::collections::{BTreeSet, HashMap};

use super::text::BLOCK;

/// An LRU set of prefix blocks.
#[derive(Debug, Default)]
pub struct PrefixCache {
    capacity_blocks: usize,
    /// Block hash → (last use, depth in its chain).
    blocks: HashMap<u64, (u64, u32)>,
    lru: BTreeSet<(u64, Reverse<u32>, u64)>,
    clock: u64,
}

impl PrefixCache {
    /// A cache holding up to `tokens` tokens (0 turns it off).
    pub fn new(tokens: u64) -> PrefixCache {
        PrefixCache {
            capacity_blocks: (tokens / u64::from(BLOCK)) as usize,
            ..PrefixCache::default()
        }
    }

    /// Tokens held.
    pub fn tokens(&self) -> u64 {
        self.blocks.len() as u64 * u64::from(BLOCK)
    }

    /// Number of leading blocks of `chain` that are cached; marks them used.
    pub fn lookup(&mut self, chain: &[u64]) -> usize {
        self.clock += 1;
        let mut n = 0;
        for h in chain {
            if !self.blocks.contains_key(h) {
                break;
            }
            self.touch(*h, n as u32);
            n += 1;
        }
        n
    }

    /// Insert every block of `chain`, evicting the least recently used beyond capacity.
    pub fn insert(&mut self, chain: &[u64]) {
        if self.capacity_blocks == 0 {
            return;
        }
        self.clock += 1;
        for (depth, h) in chain.iter().enumerate() {
            self.touch(*h, depth as u32);
        }
        while self.blocks.len() > self.capacity_blocks {
            let Some((_, _, h)) = self.lru.pop_first() else {
                break;
            };
            self.blocks.remove(&h);
        }
    }

    /// Empty the cache.
    pub fn clear(&mut self) {
        self.blocks.clear();
        self.lru.clear();
    }

    fn touch(&mut self, h: u64, depth: u32) {
        if let Some((used, d)) = self.blocks.insert(h, (self.clock, depth)) {
            self.lru.remove(&(used, Reverse(d), h));
        }
        self.lru.insert((self.clock, Reverse(depth), h));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_leading_blocks_only() {
        let mut c = PrefixCache::new(1000);
        c.insert(&[1, 2, 3]);
        assert_eq!(c.lookup(&[1, 2, 3, 4]), 3);
        assert_eq!(c.lookup(&[1, 9, 3]), 1);
        assert_eq!(c.lookup(&[9, 2]), 0);
        assert_eq!(c.tokens(), 48);
        c.clear();
        assert_eq!(c.lookup(&[1]), 0);
    }

    #[test]
    fn evicts_least_recent_deepest_first() {
        let mut c = PrefixCache::new(4 * 16);
        c.insert(&[1, 2, 3]);
        c.insert(&[7, 8]);
        // Five blocks for four places: the oldest chain loses its deepest block.
        assert_eq!(c.lookup(&[1, 2, 3]), 2);
        assert_eq!(c.lookup(&[7, 8]), 2);
    }

    #[test]
    fn zero_capacity_is_off() {
        let mut c = PrefixCache::new(0);
        c.insert(&[1]);
        assert_eq!(c.lookup(&[1]), 0);
    }
}
