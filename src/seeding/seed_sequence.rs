//! NumPy's `SeedSequence`: turns a seed (any non-negative integer) into well-mixed state words.
//!
//! This is the algorithm of `numpy.random.SeedSequence` (after Melissa O'Neill's `seed_seq`
//! design): the entropy integer is split into 32-bit words (least significant first), hashed
//! into a pool of four words, every pool word is mixed with every other, and
//! [`SeedSequence::generate_state`] draws output words from the pool with a second hash. The
//! same seed gives the same words as NumPy 2.x, which the `numpy_seeding` tests check against
//! vectors NumPy printed.

/// Number of 32-bit words in the entropy pool (NumPy's `DEFAULT_POOL_SIZE`).
pub const POOL_SIZE: usize = 4;

const INIT_A: u32 = 0x43b0_d7e5;
const MULT_A: u32 = 0x931e_8875;
const INIT_B: u32 = 0x8b51_f9dd;
const MULT_B: u32 = 0x58f3_8ded;
const MIX_MULT_L: u32 = 0xca01_f9dd;
const MIX_MULT_R: u32 = 0x4973_f715;
const XSHIFT: u32 = 16;

/// A seed turned into a mixed entropy pool, as `np.random.SeedSequence(entropy)` builds it.
///
/// ```
/// use tokengym::seeding::SeedSequence;
/// let words = SeedSequence::new(0).generate_state_u64::<4>();
/// // PCG64 is seeded from these four words, as NumPy does.
/// assert_eq!(words, SeedSequence::new(0).generate_state_u64::<4>());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeedSequence {
    pool: [u32; POOL_SIZE],
}

/// The hash that feeds a word into the pool; `hash_const` advances on every call.
fn hashmix(value: u32, hash_const: &mut u32) -> u32 {
    let mut value = value ^ *hash_const;
    *hash_const = hash_const.wrapping_mul(MULT_A);
    value = value.wrapping_mul(*hash_const);
    value ^ (value >> XSHIFT)
}

/// Combines two pool words.
fn mix(x: u32, y: u32) -> u32 {
    let result = MIX_MULT_L
        .wrapping_mul(x)
        .wrapping_sub(MIX_MULT_R.wrapping_mul(y));
    result ^ (result >> XSHIFT)
}

/// The 32-bit words of `n`, least significant first, without high zero words (`[0]` for 0),
/// as NumPy's `_int_to_uint32_array` splits a Python integer.
fn int_to_words(mut n: u128) -> Vec<u32> {
    if n == 0 {
        return vec![0];
    }
    let mut words = Vec::with_capacity(4);
    while n > 0 {
        words.push(n as u32);
        n >>= 32;
    }
    words
}

impl SeedSequence {
    /// `np.random.SeedSequence(entropy)` for a non-negative integer `entropy` (seeds of 2^32
    /// and above, up to 2^128 - 1, are split into several words exactly as NumPy splits them).
    pub fn new(entropy: u128) -> Self {
        Self::from_words(&int_to_words(entropy))
    }

    /// `np.random.SeedSequence(np.array(words, dtype=np.uint32))`: the words are used as given
    /// (high zero words included), least significant first.
    pub fn from_words(words: &[u32]) -> Self {
        SeedSequence {
            pool: Self::mix_entropy(words),
        }
    }

    /// `np.random.SeedSequence(int.from_bytes(bytes, "little"))`: the bytes as one
    /// little-endian integer of any length (high zero words dropped, as for an integer).
    pub fn from_le_bytes(bytes: &[u8]) -> Self {
        let mut words: Vec<u32> = bytes
            .chunks(4)
            .map(|c| {
                let mut b = [0u8; 4];
                b[..c.len()].copy_from_slice(c);
                u32::from_le_bytes(b)
            })
            .collect();
        while words.len() > 1 && words.last() == Some(&0) {
            words.pop();
        }
        if words.is_empty() {
            words.push(0);
        }
        Self::from_words(&words)
    }

    /// A sequence seeded from the operating system's entropy source, as
    /// `np.random.SeedSequence()` is (128 random bits).
    pub fn from_entropy() -> Self {
        Self::new(super::entropy_u128())
    }

    /// The mixed pool (NumPy's `SeedSequence.pool`).
    pub fn pool(&self) -> [u32; POOL_SIZE] {
        self.pool
    }

    fn mix_entropy(entropy: &[u32]) -> [u32; POOL_SIZE] {
        let mut hash_const = INIT_A;
        let mut mixer = [0u32; POOL_SIZE];
        for (i, m) in mixer.iter_mut().enumerate() {
            *m = hashmix(entropy.get(i).copied().unwrap_or(0), &mut hash_const);
        }
        for i_src in 0..POOL_SIZE {
            for i_dst in 0..POOL_SIZE {
                if i_src != i_dst {
                    let h = hashmix(mixer[i_src], &mut hash_const);
                    mixer[i_dst] = mix(mixer[i_dst], h);
                }
            }
        }
        for &word in entropy.iter().skip(POOL_SIZE) {
            for m in mixer.iter_mut() {
                let h = hashmix(word, &mut hash_const);
                *m = mix(*m, h);
            }
        }
        mixer
    }

    /// Fills `out` with state words (NumPy's `generate_state(len(out), np.uint32)`).
    pub fn generate_state_into(&self, out: &mut [u32]) {
        let mut hash_const = INIT_B;
        for (word, &src) in out.iter_mut().zip(self.pool.iter().cycle()) {
            let mut value = src ^ hash_const;
            hash_const = hash_const.wrapping_mul(MULT_B);
            value = value.wrapping_mul(hash_const);
            *word = value ^ (value >> XSHIFT);
        }
    }

    /// `N` 32-bit state words (NumPy's `generate_state(N, np.uint32)`).
    pub fn generate_state_u32<const N: usize>(&self) -> [u32; N] {
        let mut out = [0u32; N];
        self.generate_state_into(&mut out);
        out
    }

    /// `n` 32-bit state words as a vector (NumPy's `generate_state(n, np.uint32)`).
    pub fn generate_state(&self, n: usize) -> Vec<u32> {
        let mut out = vec![0u32; n];
        self.generate_state_into(&mut out);
        out
    }

    /// `N` 64-bit state words (NumPy's `generate_state(N, np.uint64)`: pairs of 32-bit words,
    /// the first of each pair the low half).
    pub fn generate_state_u64<const N: usize>(&self) -> [u64; N] {
        let mut words = vec![0u32; 2 * N];
        self.generate_state_into(&mut words);
        let mut out = [0u64; N];
        for (o, pair) in out.iter_mut().zip(words.chunks_exact(2)) {
            *o = u64::from(pair[0]) | (u64::from(pair[1]) << 32);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_of_integers_drop_high_zero_words() {
        assert_eq!(int_to_words(0), vec![0]);
        assert_eq!(int_to_words(1), vec![1]);
        assert_eq!(int_to_words(1 << 32), vec![0, 1]);
        assert_eq!(int_to_words(u128::MAX).len(), 4);
    }

    #[test]
    fn bytes_are_one_little_endian_integer() {
        let mut bytes = [0u8; 32];
        bytes[..8].copy_from_slice(&(5u64 << 32 | 7).to_le_bytes());
        assert_eq!(
            SeedSequence::from_le_bytes(&bytes),
            SeedSequence::new(5u128 << 32 | 7)
        );
        assert_eq!(SeedSequence::from_le_bytes(&[]), SeedSequence::new(0));
    }

    #[test]
    fn state_words_cycle_through_the_pool() {
        let s = SeedSequence::new(12345);
        let long = s.generate_state(10);
        assert_eq!(&long[..4], &s.generate_state(4)[..]);
        let pairs = s.generate_state_u64::<2>();
        assert_eq!(pairs[0] as u32, long[0]);
        assert_eq!((pairs[0] >> 32) as u32, long[1]);
    }
}
