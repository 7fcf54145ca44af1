//! NumPy's `np.random.Generator` over [`Pcg64`]: the draws Gymnasium makes.
//!
//! The sampling functions are generic over any [`rand::Rng`], so spaces and environments can
//! take any generator; with a [`Generator`] (the environments' [`EnvRng`](super::EnvRng)) they
//! reproduce NumPy's numbers exactly, because they only ask the generator for
//! `next_u64` (NumPy's `next_uint64`) and `next_u32` (NumPy's buffered `next_uint32`).

use super::bounded;
use super::pcg64::Pcg64;
use super::seed_sequence::SeedSequence;
use super::ziggurat;
use crate::error::Result;
use rand::{Rng, SeedableRng};

/// A double in `[0, 1)`: the top 53 bits of a 64-bit word (NumPy's `random()`).
#[inline]
pub fn random<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    (rng.next_u64() >> 11) as f64 * (1.0 / 9_007_199_254_740_992.0)
}

/// NumPy's `uniform(low, high)`: `low + (high - low) * random()`.
///
/// NumPy refuses `high < low` (`ValueError`) and a range beyond f64 (`OverflowError`); this
/// function computes the same formula without checking (callers validate their bounds), so
/// `high < low` draws from `(high, low]` and an infinite range gives a non-finite value.
#[inline]
pub fn uniform<R: Rng + ?Sized>(rng: &mut R, low: f64, high: f64) -> f64 {
    let range = high - low;
    low + range * random(rng)
}

/// NumPy's `normal(loc, scale)`: `loc + scale * standard_normal()`.
#[inline]
pub fn normal<R: Rng + ?Sized>(rng: &mut R, loc: f64, scale: f64) -> f64 {
    loc + scale * ziggurat::standard_normal(rng)
}

/// NumPy's `exponential(scale)`: `scale * standard_exponential()`.
#[inline]
pub fn exponential<R: Rng + ?Sized>(rng: &mut R, scale: f64) -> f64 {
    scale * ziggurat::standard_exponential(rng)
}

/// The index NumPy's `choice(a)` picks for a population of `len` elements (uniform, with
/// replacement, no probabilities): `integers(0, len)`. `None` when `len == 0` (NumPy raises
/// `ValueError`).
#[inline]
pub fn choice_index<R: Rng + ?Sized>(rng: &mut R, len: usize) -> Option<usize> {
    (len > 0).then(|| bounded::below(rng, len as u64) as usize)
}

/// `np.random.Generator(np.random.PCG64(seed))`: NumPy's generator, draw for draw.
///
/// This is the generator Gymnasium's `seeding.np_random(seed)` builds, so an environment that
/// owns one and draws as Gymnasium draws (see `tokengym-envs`' classic control) starts from
/// Gymnasium's states. It implements [`rand::Rng`] (and [`rand::TryRng`],
/// [`rand::SeedableRng`]), so any `rand` code can use it too; `rand`'s own methods
/// (`random_range`, ...) draw from the same stream but are not NumPy's algorithms.
///
/// ```
/// use tokengym::seeding::Generator;
/// let mut g = Generator::new(42); // np.random.default_rng(42)
/// let u = g.random_f64(); // rng.random()
/// assert!((0.0..1.0).contains(&u));
/// let k = g.integers(0, 10)?;
/// assert!((0..10).contains(&k));
/// # Ok::<(), tokengym::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Generator {
    bitgen: Pcg64,
}

impl Generator {
    /// `np.random.default_rng(seed)` for a non-negative integer seed (any size up to 2^128).
    pub fn new(seed: u128) -> Self {
        Self::from_bit_generator(Pcg64::new(seed))
    }

    /// `np.random.Generator(np.random.PCG64(seed_sequence))`.
    pub fn from_seed_sequence(seq: &SeedSequence) -> Self {
        Self::from_bit_generator(Pcg64::from_seed_sequence(seq))
    }

    /// A generator seeded from the operating system's entropy, as `np.random.default_rng()`.
    pub fn from_entropy() -> Self {
        Self::from_seed_sequence(&SeedSequence::from_entropy())
    }

    /// Wraps a bit generator.
    pub fn from_bit_generator(bitgen: Pcg64) -> Self {
        Generator { bitgen }
    }

    /// The bit generator (NumPy's `Generator.bit_generator`).
    pub fn bit_generator(&mut self) -> &mut Pcg64 {
        &mut self.bitgen
    }

    /// The next raw 64-bit output (NumPy's `bit_generator.random_raw()`).
    #[inline]
    pub fn random_raw(&mut self) -> u64 {
        self.bitgen.next_uint64()
    }

    /// NumPy's `random()`: a double in `[0, 1)`.
    ///
    /// Named `random_f64` so that it does not shadow [`rand::RngExt::random`], which code
    /// holding an [`EnvRng`](super::EnvRng) keeps calling for other types.
    #[inline]
    pub fn random_f64(&mut self) -> f64 {
        random(self)
    }

    /// `uniform(low, high)`; see [`uniform`].
    #[inline]
    pub fn uniform(&mut self, low: f64, high: f64) -> f64 {
        uniform(self, low, high)
    }

    /// `integers(low, high)` (`int64`, `high` exclusive); an error when `low >= high`.
    #[inline]
    pub fn integers(&mut self, low: i64, high: i64) -> Result<i64> {
        bounded::integers(self, low, high)
    }

    /// `standard_normal()` (NumPy's ziggurat).
    #[inline]
    pub fn standard_normal(&mut self) -> f64 {
        ziggurat::standard_normal(self)
    }

    /// `normal(loc, scale)`.
    #[inline]
    pub fn normal(&mut self, loc: f64, scale: f64) -> f64 {
        normal(self, loc, scale)
    }

    /// `standard_exponential()` (NumPy's ziggurat, the default method).
    #[inline]
    pub fn standard_exponential(&mut self) -> f64 {
        ziggurat::standard_exponential(self)
    }

    /// `exponential(scale)`.
    #[inline]
    pub fn exponential(&mut self, scale: f64) -> f64 {
        exponential(self, scale)
    }

    /// The element `choice(items)` picks (uniform, with replacement); `None` if empty.
    pub fn choice<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        choice_index(self, items.len()).map(|i| &items[i])
    }
}

impl rand::TryRng for Generator {
    type Error = core::convert::Infallible;

    #[inline]
    fn try_next_u32(&mut self) -> core::result::Result<u32, Self::Error> {
        Ok(self.bitgen.next_uint32())
    }

    #[inline]
    fn try_next_u64(&mut self) -> core::result::Result<u64, Self::Error> {
        Ok(self.bitgen.next_uint64())
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> core::result::Result<(), Self::Error> {
        rand::TryRng::try_fill_bytes(&mut self.bitgen, dst)
    }
}

impl SeedableRng for Generator {
    /// See [`Pcg64`]'s seed: one little-endian integer, the `SeedSequence` entropy.
    type Seed = [u8; 32];

    fn from_seed(seed: Self::Seed) -> Self {
        Self::from_bit_generator(Pcg64::from_seed(seed))
    }

    /// `np.random.default_rng(state)`.
    fn seed_from_u64(state: u64) -> Self {
        Self::new(u128::from(state))
    }
}
