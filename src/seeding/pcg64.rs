//! NumPy's `PCG64` bit generator: PCG XSL-RR 128/64, seeded from a [`SeedSequence`], with
//! NumPy's buffered 32-bit output.
//!
//! The 128-bit LCG and its XSL-RR output are `rand_pcg`'s [`rand_pcg::Pcg64`] (the same
//! multiplier, the same "advance, then output" order and the same `(state, stream)` seeding
//! as the PCG reference code NumPy uses). What NumPy adds, and this type reproduces:
//! - seeding: `SeedSequence(seed).generate_state(4, uint64)` gives words `w`; the initial
//!   state is `w[0] << 64 | w[1]` and the stream `w[2] << 64 | w[3]`;
//! - `next_uint32`: each 64-bit output is used twice, low half first, then the high half on
//!   the next call; 64-bit draws leave the buffered half in place. Bounded integers with small
//!   ranges draw 32-bit words, so this buffering decides which numbers follow.

use super::seed_sequence::SeedSequence;
use rand::{Rng, SeedableRng};

/// The bit generator of `np.random.PCG64`, including its 32-bit buffer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pcg64 {
    lcg: rand_pcg::Pcg64,
    /// The high half of the last 64-bit word, when [`Pcg64::next_uint32`] has one pending.
    pending: Option<u32>,
}

impl Pcg64 {
    /// `np.random.PCG64(seed_sequence)`.
    pub fn from_seed_sequence(seq: &SeedSequence) -> Self {
        let w = seq.generate_state_u64::<4>();
        let state = (u128::from(w[0]) << 64) | u128::from(w[1]);
        let stream = (u128::from(w[2]) << 64) | u128::from(w[3]);
        Pcg64 {
            lcg: rand_pcg::Pcg64::new(state, stream),
            pending: None,
        }
    }

    /// `np.random.PCG64(seed)` for a non-negative integer seed.
    pub fn new(seed: u128) -> Self {
        Self::from_seed_sequence(&SeedSequence::new(seed))
    }

    /// The next 64-bit output (NumPy's `random_raw()` / `next_uint64`).
    #[inline]
    pub fn next_uint64(&mut self) -> u64 {
        self.lcg.next_u64()
    }

    /// The next 32-bit output (NumPy's `next_uint32`): the low half of a fresh 64-bit word,
    /// or the high half of the previous one if it is still pending.
    #[inline]
    pub fn next_uint32(&mut self) -> u32 {
        match self.pending.take() {
            Some(high) => high,
            None => {
                let word = self.next_uint64();
                self.pending = Some((word >> 32) as u32);
                word as u32
            }
        }
    }

    /// A double in `[0, 1)` from the top 53 bits of a 64-bit output (NumPy's `next_double`).
    #[inline]
    pub fn next_double(&mut self) -> f64 {
        (self.next_uint64() >> 11) as f64 * (1.0 / 9_007_199_254_740_992.0)
    }
}

impl Default for Pcg64 {
    /// `np.random.PCG64(0)`.
    fn default() -> Self {
        Self::new(0)
    }
}

impl rand::TryRng for Pcg64 {
    type Error = core::convert::Infallible;

    #[inline]
    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        Ok(self.next_uint32())
    }

    #[inline]
    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        Ok(self.next_uint64())
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        for chunk in dst.chunks_mut(8) {
            let bytes = self.next_uint64().to_le_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
        Ok(())
    }
}

impl SeedableRng for Pcg64 {
    /// 32 bytes read as one little-endian 256-bit integer, the `SeedSequence` entropy: so
    /// `from_seed(b)` is `np.random.PCG64(int.from_bytes(b, "little"))`.
    type Seed = [u8; 32];

    fn from_seed(seed: Self::Seed) -> Self {
        Self::from_seed_sequence(&SeedSequence::from_le_bytes(&seed))
    }

    /// `np.random.PCG64(state)`: the same generator NumPy builds from the integer seed.
    fn seed_from_u64(state: u64) -> Self {
        Self::new(u128::from(state))
    }
}
