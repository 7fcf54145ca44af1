//! NumPy's ziggurat samplers for the standard normal and the standard exponential.
//!
//! Both follow `numpy/random/src/distributions/distributions.c` draw for draw: one 64-bit
//! word picks a layer (its low 8 bits) and a position; a point under the layer's inner
//! rectangle is returned at once (about 99% of draws), otherwise the wedge or the tail is
//! sampled with extra uniform draws. Tail and wedge draws use `1 - u` as NumPy does (so a
//! logarithm never sees 0).

use super::generator::random;
use super::ziggurat_tables::{EXP_R, FE, FI, KE, KI, NOR_INV_R, NOR_R, WE, WI};
use rand::Rng;

/// A standard normal draw (NumPy's `random_standard_normal`).
pub fn standard_normal<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    loop {
        let r = rng.next_u64();
        let idx = (r & 0xff) as usize;
        let r = r >> 8;
        let negative = r & 1 == 1;
        let rabs = (r >> 1) & 0x000f_ffff_ffff_ffff;
        let mut x = rabs as f64 * WI[idx];
        if negative {
            x = -x;
        }
        if rabs < KI[idx] {
            return x;
        }
        if idx == 0 {
            // The tail beyond NOR_R (Marsaglia's method).
            loop {
                let xx = -NOR_INV_R * (1.0 - random(rng)).ln();
                let yy = -(1.0 - random(rng)).ln();
                if yy + yy > xx * xx {
                    return if (rabs >> 8) & 1 == 1 {
                        -(NOR_R + xx)
                    } else {
                        NOR_R + xx
                    };
                }
            }
        } else if (FI[idx - 1] - FI[idx]) * random(rng) + FI[idx] < (-0.5 * x * x).exp() {
            return x;
        }
    }
}

/// A standard exponential draw (NumPy's `random_standard_exponential_zig`, the default
/// method of `Generator.standard_exponential` and the one `exponential` uses).
pub fn standard_exponential<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    loop {
        let ri = rng.next_u64() >> 3;
        let idx = (ri & 0xff) as usize;
        let ri = ri >> 8;
        let x = ri as f64 * WE[idx];
        if ri < KE[idx] {
            return x;
        }
        if idx == 0 {
            // The tail beyond EXP_R is EXP_R plus a fresh exponential.
            return EXP_R - (1.0 - random(rng)).ln();
        }
        if (FE[idx - 1] - FE[idx]) * random(rng) + FE[idx] < (-x).exp() {
            return x;
        }
        // Rejected in the wedge: NumPy starts over with a fresh draw.
    }
}
