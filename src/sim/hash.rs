//! Small deterministic hashes: the server's seeded choices (which request faults, where EOS
//! falls, which word comes next) are pure functions of the seed and the request index, so
//! they do not depend on thread timing.

/// SplitMix64 finalizer: a good 64-bit mix.
pub fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Combine two values into one hash.
pub fn mix2(a: u64, b: u64) -> u64 {
    mix(a ^ mix(b))
}

/// A uniform number in [0, 1) from a hash.
pub fn unit(h: u64) -> f64 {
    (h >> 11) as f64 / (1u64 << 53) as f64
}

/// FNV-1a over bytes.
pub fn fnv(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// The hash [`super::Truth::prompt_hash`] holds: FNV-1a of the prompt text as the server
/// received it (for chat, the message texts joined with `\n`; for token ids, their decimal
/// forms joined with `,`). Tests use it to join server records with client records.
pub fn prompt_hash(text: &str) -> u64 {
    fnv(text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unit_is_in_range_and_spread() {
        let n = 10_000;
        let below = (0..n).filter(|&i| unit(mix2(7, i)) < 0.25).count();
        assert!((2300..2700).contains(&below), "{below}");
        assert!((0..n).all(|i| (0.0..1.0).contains(&unit(mix(i)))));
    }
}
