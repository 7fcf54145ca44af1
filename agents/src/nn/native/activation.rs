//! Activations applied in place to layer outputs, and their derivatives from the cached
//! outputs: a branch-free `tanh` that the compiler vectorises (the C library's `tanhf` is a
//! scalar call and would cost more than the matrix products of a small MLP) and ReLU.

use crate::nn::architecture::Activation;

const LOG2E: f32 = std::f32::consts::LOG2_E;
// ln 2 split in a part with few mantissa bits (exact products with small integers) and the rest.
const LN2_HI: f32 = 0.693_145_75;
const LN2_LO: f32 = 1.428_606_8e-6;
// 1.5 * 2^23: adding and subtracting it rounds an f32 of magnitude < 2^22 to an integer.
const ROUND_MAGIC: f32 = 12_582_912.0;

/// `tanh(x)` to within a few units in the last place of `f32` (absolute error below `2e-7`),
/// computed as `-expm1(-2|x|) / (2 + expm1(-2|x|))` with the sign of `x`; NaN stays NaN.
#[inline(always)]
pub fn tanh(x: f32) -> f32 {
    // tanh(9) = 1 - 3e-8 rounds to 1 in f32.
    let a = x.abs().min(9.0);
    let y = -2.0 * a;
    // y = k ln2 + r, |r| <= ln2 / 2; exp(y) - 1 = 2^k (expm1(r) + 1) - 1.
    let shifted = y * LOG2E + ROUND_MAGIC;
    let kf = shifted - ROUND_MAGIC;
    // The integer k sits in the low mantissa bits of `shifted` (an integer-only conversion,
    // which vectorises, unlike a saturating float-to-int cast).
    let k = (shifted.to_bits() as i32).wrapping_sub(ROUND_MAGIC.to_bits() as i32);
    let r = (y - kf * LN2_HI) - kf * LN2_LO;
    // expm1(r) by its Taylor series to r^8 (truncation error < 5e-9 on |r| <= 0.35).
    let p = r
        * (1.0
            + r * (0.5
                + r * (1.0 / 6.0
                    + r * (1.0 / 24.0
                        + r * (1.0 / 120.0
                            + r * (1.0 / 720.0 + r * (1.0 / 5040.0 + r * (1.0 / 40320.0))))))));
    let two_k = f32::from_bits(((k + 127) << 23) as u32);
    let em1 = two_k * p + (two_k - 1.0);
    let t = -em1 / (2.0 + em1);
    let t = t.copysign(x);
    if x.is_nan() { x } else { t }
}

/// Applies `activation` to every element of `xs` in place.
#[inline]
pub fn apply(activation: Activation, xs: &mut [f32]) {
    match activation {
        Activation::Tanh => {
            for x in xs {
                *x = tanh(*x);
            }
        }
        Activation::Relu => {
            for x in xs {
                *x = if *x > 0.0 { *x } else { 0.0 };
            }
        }
    }
}

/// Multiplies the upstream gradient `d` by the activation's derivative, given the activation's
/// outputs `ys` (`1 - y²` for tanh, `[y > 0]` for ReLU).
#[inline]
pub fn backprop(activation: Activation, ys: &[f32], d: &mut [f32]) {
    match activation {
        Activation::Tanh => {
            for (d, &y) in d.iter_mut().zip(ys) {
                *d *= 1.0 - y * y;
            }
        }
        Activation::Relu => {
            for (d, &y) in d.iter_mut().zip(ys) {
                if y <= 0.0 {
                    *d = 0.0;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tanh_is_accurate_over_the_whole_range() {
        let mut worst = 0.0f64;
        let mut x = -20.0f64;
        while x <= 20.0 {
            let got = f64::from(tanh(x as f32));
            let want = (x as f32 as f64).tanh();
            worst = worst.max((got - want).abs());
            x += 0.001_37;
        }
        assert!(worst < 2e-7, "max abs error {worst}");
        // Relative accuracy near zero.
        for x in [1e-3f32, -3e-5, 1e-8, 0.2] {
            let want = f64::from(x).tanh();
            let rel = ((f64::from(tanh(x)) - want) / want).abs();
            assert!(rel < 1e-6, "tanh({x}) rel error {rel}");
        }
        assert_eq!(tanh(0.0), 0.0);
        assert_eq!(tanh(f32::INFINITY), 1.0);
        assert_eq!(tanh(f32::NEG_INFINITY), -1.0);
        assert!(tanh(f32::NAN).is_nan());
    }

    #[test]
    fn relu_and_derivatives() {
        let mut xs = [-1.0f32, 0.0, 2.0];
        apply(Activation::Relu, &mut xs);
        assert_eq!(xs, [0.0, 0.0, 2.0]);
        let mut d = [1.0f32; 3];
        backprop(Activation::Relu, &xs, &mut d);
        assert_eq!(d, [0.0, 0.0, 1.0]);
        let ys = [0.5f32, -0.5];
        let mut d = [2.0f32, 1.0];
        backprop(Activation::Tanh, &ys, &mut d);
        assert_eq!(d, [1.5, 0.75]);
    }
}
