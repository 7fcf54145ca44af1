//! Equality of observations and infos, exact or within NumPy's `allclose` tolerance (Gymnasium's
//! `data_equivalence`). NaN equals NaN here: NaNs are reported by their own checks, so they should
//! not also show up as non-determinism.

use crate::info::{Info, InfoValue};
use crate::space::Value;

const RTOL: f64 = 1e-5;
const ATOL: f64 = 1e-5;

/// How strictly to compare numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Tolerance {
    /// Bit-for-bit equal (up to NaN == NaN and 0.0 == -0.0).
    Exact,
    /// `|a - b| <= atol + rtol * |b|`.
    Close,
}

/// Whether two numbers are equal under `tol`.
pub(crate) fn numbers_equal(a: f64, b: f64, tol: Tolerance) -> bool {
    if a == b || (a.is_nan() && b.is_nan()) {
        return true;
    }
    match tol {
        Tolerance::Exact => false,
        Tolerance::Close => (a - b).abs() <= ATOL + RTOL * b.abs(),
    }
}

fn slices_equal<T: Copy>(a: &[T], b: &[T], tol: Tolerance, f: impl Fn(T) -> f64) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|(&x, &y)| numbers_equal(f(x), f(y), tol))
}

/// Whether two values are equal under `tol` (only floats get a tolerance).
pub(crate) fn values_equal(a: &Value, b: &Value, tol: Tolerance) -> bool {
    match (a, b) {
        (Value::BoxF32(x), Value::BoxF32(y)) => slices_equal(x, y, tol, f64::from),
        (Value::BoxF64(x), Value::BoxF64(y)) => slices_equal(x, y, tol, |v| v),
        (Value::Tuple(x), Value::Tuple(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| values_equal(p, q, tol))
        }
        (Value::Dict(x), Value::Dict(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|((kp, p), (kq, q))| kp == kq && values_equal(p, q, tol))
        }
        _ => a == b,
    }
}

fn info_values_equal(a: &InfoValue, b: &InfoValue, tol: Tolerance) -> bool {
    match (a, b) {
        (InfoValue::Float(x), InfoValue::Float(y)) => numbers_equal(*x, *y, tol),
        (InfoValue::Floats(x), InfoValue::Floats(y)) => slices_equal(x, y, tol, |v| v),
        (InfoValue::Value(x), InfoValue::Value(y)) => values_equal(x, y, tol),
        _ => a == b,
    }
}

/// Whether two infos are equal under `tol`. Episode wall-clock times are not compared.
pub(crate) fn infos_equal(a: &Info, b: &Info, tol: Tolerance) -> bool {
    let episodes = match (a.episode(), b.episode()) {
        (None, None) => true,
        (Some(x), Some(y)) => x.len == y.len && numbers_equal(x.ret, y.ret, tol),
        _ => false,
    };
    episodes
        && a.iter().count() == b.iter().count()
        && a.iter()
            .zip(b.iter())
            .all(|((ka, va), (kb, vb))| ka == kb && info_values_equal(va, vb, tol))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::info::EpisodeStats;

    #[test]
    fn numbers() {
        assert!(numbers_equal(f64::NAN, f64::NAN, Tolerance::Exact));
        assert!(numbers_equal(1.0, 1.0 + 1e-7, Tolerance::Close));
        assert!(!numbers_equal(1.0, 1.0 + 1e-7, Tolerance::Exact));
        assert!(!numbers_equal(1.0, 1.1, Tolerance::Close));
    }

    #[test]
    fn values_and_infos() {
        let a = Value::Tuple(vec![Value::Discrete(1), Value::BoxF32(vec![1.0, 2.0])]);
        let b = Value::Tuple(vec![Value::Discrete(1), Value::BoxF32(vec![1.0, 2.000001])]);
        assert!(values_equal(&a, &b, Tolerance::Close));
        assert!(!values_equal(&a, &b, Tolerance::Exact));
        assert!(!values_equal(&a, &Value::Discrete(1), Tolerance::Close));

        let mut x = Info::new().with("k", InfoValue::Float(1.0));
        let mut y = Info::new().with("k", InfoValue::Float(1.0));
        x.set_episode(Some(EpisodeStats {
            ret: 1.0,
            len: 3,
            time: 0.1,
        }));
        y.set_episode(Some(EpisodeStats {
            ret: 1.0,
            len: 3,
            time: 0.2,
        }));
        assert!(infos_equal(&x, &y, Tolerance::Exact));
        y.insert("extra", InfoValue::Bool(true));
        assert!(!infos_equal(&x, &y, Tolerance::Close));
    }
}
