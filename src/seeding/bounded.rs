//! NumPy's bounded integers (`Generator.integers`), draw for draw.
//!
//! NumPy draws an integer in the closed range `[off, off + range]` with Lemire's
//! multiply-and-reject method (`Generator` never uses the masked method, which only the legacy
//! `RandomState` does):
//! - `range == 0` draws nothing;
//! - a range that fits in 32 bits draws 32-bit words (`next_uint32`, which hands out the two
//!   halves of one 64-bit output in turn), and `range == 2^32 - 1` takes the word as it is;
//! - a wider range draws 64-bit words, and `range == 2^64 - 1` takes the word as it is;
//! - 8-bit dtypes (e.g. `MultiBinary`'s `int8`) split each 32-bit word into four bytes, low
//!   byte first, with a byte buffer that lives for one call (one array fill).

use crate::error::{Error, Result};
use rand::Rng;

/// Lemire's method on 32-bit words: a value in `[0, range]` for `range < 2^32 - 1`.
#[inline]
fn lemire32<R: Rng + ?Sized>(rng: &mut R, range: u32) -> u32 {
    let excl = range + 1;
    let mut m = u64::from(rng.next_u32()) * u64::from(excl);
    let mut leftover = m as u32;
    if leftover < excl {
        let threshold = (u32::MAX - range) % excl;
        while leftover < threshold {
            m = u64::from(rng.next_u32()) * u64::from(excl);
            leftover = m as u32;
        }
    }
    (m >> 32) as u32
}

/// Lemire's method on 64-bit words: a value in `[0, range]` for `range < 2^64 - 1`.
#[inline]
fn lemire64<R: Rng + ?Sized>(rng: &mut R, range: u64) -> u64 {
    let excl = range + 1;
    let mut m = u128::from(rng.next_u64()) * u128::from(excl);
    let mut leftover = m as u64;
    if leftover < excl {
        let threshold = (u64::MAX - range) % excl;
        while leftover < threshold {
            m = u128::from(rng.next_u64()) * u128::from(excl);
            leftover = m as u64;
        }
    }
    (m >> 64) as u64
}

/// A uniform integer in `[0, range]` (inclusive), as NumPy's `random_bounded_uint64_fill`
/// draws one element of an `int64`/`uint64` array.
#[inline]
pub fn bounded_u64<R: Rng + ?Sized>(rng: &mut R, range: u64) -> u64 {
    if range == 0 {
        0
    } else if range < u64::from(u32::MAX) {
        u64::from(lemire32(rng, range as u32))
    } else if range == u64::from(u32::MAX) {
        u64::from(rng.next_u32())
    } else if range == u64::MAX {
        rng.next_u64()
    } else {
        lemire64(rng, range)
    }
}

/// `Generator.integers(low, high)` with the default `int64` dtype: a uniform integer in
/// `[low, high)`; an error when `low >= high` (NumPy's `ValueError: low >= high`).
pub fn integers<R: Rng + ?Sized>(rng: &mut R, low: i64, high: i64) -> Result<i64> {
    if low >= high {
        return Err(Error::InvalidArgument(format!(
            "integers: low >= high ({low} >= {high})"
        )));
    }
    let range = (high as u64).wrapping_sub(low as u64).wrapping_sub(1);
    Ok((low as u64).wrapping_add(bounded_u64(rng, range)) as i64)
}

/// `Generator.integers(0, n)` for `n > 0` (e.g. `Discrete(n).sample()`): infallible form of
/// [`integers`] for a count; returns 0 when `n == 0`.
#[inline]
pub fn below<R: Rng + ?Sized>(rng: &mut R, n: u64) -> u64 {
    bounded_u64(rng, n.saturating_sub(1))
}

/// Fills `out` with uniform integers in `[off, off + range]` as one call of NumPy's
/// `random_bounded_uint8_fill` (`integers(..., size=len(out), dtype=np.int8 or np.uint8)`).
pub fn bounded_u8_fill<R: Rng + ?Sized>(rng: &mut R, off: u8, range: u8, out: &mut [u8]) {
    let mut buf = 0u32;
    let mut left = 0u32;
    let mut next_byte = |rng: &mut R| -> u8 {
        if left == 0 {
            buf = rng.next_u32();
            left = 3;
        } else {
            buf >>= 8;
            left -= 1;
        }
        buf as u8
    };
    for o in out.iter_mut() {
        *o = if range == 0 {
            off
        } else if range == u8::MAX {
            off.wrapping_add(next_byte(rng))
        } else {
            let excl = u16::from(range) + 1;
            let mut m = u16::from(next_byte(rng)) * excl;
            let mut leftover = m as u8;
            if u16::from(leftover) < excl {
                let threshold = ((u8::MAX - range) as u16 % excl) as u8;
                while leftover < threshold {
                    m = u16::from(next_byte(rng)) * excl;
                    leftover = m as u8;
                }
            }
            off.wrapping_add((m >> 8) as u8)
        };
    }
}
