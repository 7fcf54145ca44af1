//! `x**2` exactly as NumPy (Python's `float.__pow__`, i.e. libm `pow`) computes it, fast.
//!
//! glibc's `pow` is not correctly rounded: its error is below 0.52 ULP, so for a few inputs in a
//! thousand `pow(x, 2)` differs from the correctly rounded `x * x` by one ULP, and a bit-identical
//! replay of Gymnasium must reproduce that. Calling `pow` every time is slow (it dominated
//! Acrobot's step). But whenever the exact square lies within 0.47 ULP of `x * x`, the other
//! neighbours are more than 0.53 ULP away, so a result with error below 0.52 ULP *is* `x * x`;
//! only in the remaining ~6% of cases is `pow` called. The tests compare against libm on
//! millions of values.

use std::hint::black_box;

/// `pow(x, 2.0)` as glibc computes it, bit for bit.
pub(crate) fn numpy_square(x: f64) -> f64 {
    let hi = x * x;
    // Far enough from the subnormal range that the rounding error `lo` is itself exact.
    if hi.is_finite() && hi >= 1e-290 {
        // The exact square is hi + lo (an FMA computes the rounding error exactly).
        let lo = x.mul_add(x, -hi);
        // Spacing to the nearer neighbour of hi (half as wide below a power of two).
        let spacing = (hi.next_up() - hi).min(hi - hi.next_down());
        if lo.abs() <= 0.47 * spacing {
            return hi;
        }
    }
    // Near a rounding midpoint, or subnormal/overflowing/non-finite: ask libm. `black_box`
    // keeps the compiler from rewriting `pow(x, 2)` into `x * x`.
    x.powf(black_box(2.0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rand::{RngExt, SeedableRng};

    fn libm_square(x: f64) -> f64 {
        x.powf(black_box(2.0))
    }

    #[test]
    fn agrees_with_libm_pow_on_millions_of_values() {
        let mut rng = tokengym::EnvRng::seed_from_u64(1);
        let mut differs_from_mul = 0;
        for i in 0..2_000_000u32 {
            // Angles, angular velocities (Acrobot's range) and arbitrary magnitudes.
            let x: f64 = match i % 3 {
                0 => rng.random_range(-4.0 * std::f64::consts::PI..4.0 * std::f64::consts::PI),
                1 => rng.random_range(-30.0..30.0),
                _ => f64::from_bits(rng.random::<u64>() >> 2) * if i % 2 == 0 { 1.0 } else { -1.0 },
            };
            let want = libm_square(x);
            assert_eq!(numpy_square(x).to_bits(), want.to_bits(), "x = {x:e}");
            differs_from_mul += usize::from((x * x).to_bits() != want.to_bits());
        }
        // The shortcut matters: pow really does differ from x * x sometimes.
        assert!(differs_from_mul > 0);
    }

    #[test]
    fn special_values() {
        for x in [
            0.0,
            -0.0,
            1.0,
            -1.0,
            0.5,
            f64::MIN_POSITIVE,
            1e-300,
            1e200,
            f64::MAX,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::EPSILON,
        ] {
            assert_eq!(
                numpy_square(x).to_bits(),
                libm_square(x).to_bits(),
                "x = {x:e}"
            );
        }
        assert!(numpy_square(f64::NAN).is_nan());
    }

    proptest! {
        #[test]
        fn any_finite_value(x in proptest::num::f64::NORMAL | proptest::num::f64::SUBNORMAL | proptest::num::f64::ZERO) {
            prop_assert_eq!(numpy_square(x).to_bits(), libm_square(x).to_bits());
        }
    }
}
