//! Seeding: one RNG per environment, the generator Gymnasium builds for the same seed.
//!
//! Gymnasium's `reset(seed=s)` and `space.seed(s)` call `seeding.np_random(s)`, i.e.
//! `np.random.Generator(np.random.PCG64(np.random.SeedSequence(s)))`. This module reproduces
//! that chain bit for bit:
//! - [`SeedSequence`] (`seed_sequence.rs`): NumPy's seed hashing, for any seed up to 2^128;
//! - [`Pcg64`] (`pcg64.rs`): the PCG XSL-RR 128/64 bit generator (`rand_pcg`'s) seeded as
//!   NumPy seeds it, with NumPy's buffered 32-bit output;
//! - [`Generator`] (`generator.rs`): NumPy's `random`, `uniform`, `integers` (`bounded.rs`,
//!   Lemire's method with NumPy's 32/64-bit paths), `standard_normal`/`normal` and
//!   `standard_exponential`/`exponential` (`ziggurat.rs` over NumPy's tables,
//!   `ziggurat_tables.rs`), and `choice`.
//!
//! [`EnvRng`] is [`Generator`]: `rng_from_seed(Some(s))` equals `np.random.default_rng(s)`, and
//! without a seed the generator is seeded from 128 bits of OS entropy, as NumPy does.

mod bounded;
mod generator;
mod pcg64;
mod seed_sequence;
mod ziggurat;
mod ziggurat_tables;

pub use bounded::{below, bounded_u8_fill, bounded_u64, integers};
pub use generator::{Generator, choice_index, exponential, normal, random, uniform};
pub use pcg64::Pcg64;
pub use seed_sequence::{POOL_SIZE, SeedSequence};
pub use ziggurat::{standard_exponential, standard_normal};

/// The random number generator every environment owns: NumPy's `Generator(PCG64)`.
///
/// It implements `rand`'s [`Rng`](rand::Rng) and [`SeedableRng`](rand::SeedableRng);
/// `EnvRng::seed_from_u64(s)` is `np.random.default_rng(s)`.
pub type EnvRng = Generator;

/// Fills `bytes` from the OS entropy source; false when it is unavailable.
fn os_entropy(bytes: &mut [u8]) -> bool {
    use rand::TryRng;
    rand::rngs::SysRng.try_fill_bytes(bytes).is_ok()
}

/// A time- and process-based fallback, only used when the OS entropy source fails.
fn fallback_entropy() -> u128 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    nanos ^ (u128::from(std::process::id()) << 96)
}

/// 128 bits from the OS entropy source (what `np.random.SeedSequence()` draws).
pub(crate) fn entropy_u128() -> u128 {
    let mut bytes = [0u8; 16];
    if os_entropy(&mut bytes) {
        u128::from_le_bytes(bytes)
    } else {
        fallback_entropy()
    }
}

/// A seed drawn from the operating system's entropy source.
pub fn entropy_seed() -> u64 {
    entropy_u128() as u64
}

/// An [`EnvRng`] seeded with `seed` (`np.random.default_rng(seed)`), or from 128 bits of OS
/// entropy when `seed` is `None` (`np.random.default_rng()`).
pub fn rng_from_seed(seed: Option<u64>) -> EnvRng {
    match seed {
        Some(s) => Generator::new(u128::from(s)),
        None => Generator::from_entropy(),
    }
}

/// The seed of sub-environment `index` of a vector environment seeded with `seed`.
///
/// As in Gymnasium, sub-environment `i` gets `seed + i` (wrapping), so `make_vec(id, n)` reset with
/// seed `s` reproduces `make(id)` reset with seeds `s, s + 1, ...`.
pub fn sub_seed(seed: u64, index: usize) -> u64 {
    seed.wrapping_add(index as u64)
}
