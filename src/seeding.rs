//! Seeding: one RNG per environment, reproducible from a `u64` seed.

use rand::SeedableRng;

/// The random number generator every environment owns.
///
/// Xoshiro256++ is fast, has a documented algorithm that does not change between `rand`
/// versions, and is seeded from a `u64` through SplitMix64. The same seed gives the same stream
/// on every machine.
pub type EnvRng = rand::rngs::Xoshiro256PlusPlus;

/// A seed drawn from the operating system's entropy source (used when no seed is given).
pub fn entropy_seed() -> u64 {
    let mut bytes = [0u8; 8];
    if getrandom_fill(&mut bytes) {
        u64::from_le_bytes(bytes)
    } else {
        // Fallback: time-based; only reached when the OS source is unavailable.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        nanos ^ (std::process::id() as u64).rotate_left(32)
    }
}

fn getrandom_fill(bytes: &mut [u8]) -> bool {
    use rand::TryRng;
    rand::rngs::SysRng.try_fill_bytes(bytes).is_ok()
}

/// An [`EnvRng`] seeded with `seed`, or from OS entropy when `seed` is `None`.
pub fn rng_from_seed(seed: Option<u64>) -> EnvRng {
    EnvRng::seed_from_u64(seed.unwrap_or_else(entropy_seed))
}

/// The seed of sub-environment `index` of a vector environment seeded with `seed`.
///
/// As in Gymnasium, sub-environment `i` gets `seed + i` (wrapping), so `make_vec(id, n)` reset with
/// seed `s` reproduces `make(id)` reset with seeds `s, s + 1, ...`.
pub fn sub_seed(seed: u64, index: usize) -> u64 {
    seed.wrapping_add(index as u64)
}
