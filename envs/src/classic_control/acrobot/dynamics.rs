//! Acrobot's equations of motion and integrator, operation for operation as Gymnasium's.

use super::{
    AcrobotDynamics, DT, GRAVITY, LINK_COM_POS_1, LINK_COM_POS_2, LINK_LENGTH_1, LINK_MASS_1,
    LINK_MASS_2, LINK_MOI, WRAP_LOOP_LIMIT,
};
use crate::classic_control::numpy_square::numpy_square;
use std::f64::consts::PI;

/// Gymnasium's `wrap`: shifts `x` by whole turns `M - m` until `m <= x <= M`.
pub(super) fn wrap(x: f64, m: f64, big_m: f64) -> f64 {
    let diff = big_m - m;
    if !x.is_finite() {
        return x;
    }
    if x > big_m + WRAP_LOOP_LIMIT * diff || x < m - WRAP_LOOP_LIMIT * diff {
        return (m + (x - m).rem_euclid(diff)).min(big_m);
    }
    let mut x = x;
    while x > big_m {
        x -= diff;
    }
    while x < m {
        x += diff;
    }
    x
}

/// Gymnasium's `bound`: `min(max(x, m), M)` with Python's NaN behaviour (NaN stays NaN).
pub(super) fn bound(x: f64, m: f64, big_m: f64) -> f64 {
    let x = if m > x { m } else { x };
    if big_m < x { big_m } else { x }
}

/// Time derivative of the augmented state `[θ1, θ2, θ̇1, θ̇2, τ]` (Gymnasium's `_dsdt`).
fn dsdt(s: &[f64; 5], dynamics: AcrobotDynamics) -> [f64; 5] {
    let (m1, m2) = (LINK_MASS_1, LINK_MASS_2);
    let (l1, lc1, lc2) = (LINK_LENGTH_1, LINK_COM_POS_1, LINK_COM_POS_2);
    let (i1, i2, g) = (LINK_MOI, LINK_MOI, GRAVITY);
    let [theta1, theta2, dtheta1, dtheta2, a] = *s;
    // The squares of the link constants are exact (0.25 and 1.0), so `x * x` equals NumPy's
    // `pow(x, 2)` for them and saves five libm calls per derivative.
    let (lc1_sq, l1_sq, lc2_sq) = (lc1 * lc1, l1 * l1, lc2 * lc2);
    let d1 = m1 * lc1_sq + m2 * (l1_sq + lc2_sq + 2.0 * l1 * lc2 * theta2.cos()) + i1 + i2;
    let d2 = m2 * (lc2_sq + l1 * lc2 * theta2.cos()) + i2;
    let phi2 = m2 * lc2 * g * (theta1 + theta2 - PI / 2.0).cos();
    let phi1 = -m2 * l1 * lc2 * numpy_square(dtheta2) * theta2.sin()
        - 2.0 * m2 * l1 * lc2 * dtheta2 * dtheta1 * theta2.sin()
        + (m1 * lc1 + m2 * l1) * g * (theta1 - PI / 2.0).cos()
        + phi2;
    let denom = m2 * lc2_sq + i2 - numpy_square(d2) / d1;
    let ddtheta2 = match dynamics {
        AcrobotDynamics::Nips => (a + d2 / d1 * phi1 - phi2) / denom,
        AcrobotDynamics::Book => {
            (a + d2 / d1 * phi1 - m2 * l1 * lc2 * numpy_square(dtheta1) * theta2.sin() - phi2)
                / denom
        }
    };
    let ddtheta1 = -(d2 * ddtheta2 + phi1) / d1;
    [dtheta1, dtheta2, ddtheta1, ddtheta2, 0.0]
}

/// `y + h * k`, element-wise.
fn axpy(y: &[f64; 5], h: f64, k: &[f64; 5]) -> [f64; 5] {
    std::array::from_fn(|i| y[i] + h * k[i])
}

/// One Runge–Kutta step of length [`DT`] from `y0` (Gymnasium's `rk4` over `t = [0, dt]`).
pub(super) fn rk4(y0: &[f64; 5], dynamics: AcrobotDynamics) -> [f64; 4] {
    let dt = DT - 0.0;
    let dt2 = dt / 2.0;
    let k1 = dsdt(y0, dynamics);
    let k2 = dsdt(&axpy(y0, dt2, &k1), dynamics);
    let k3 = dsdt(&axpy(y0, dt2, &k2), dynamics);
    let k4 = dsdt(&axpy(y0, dt, &k3), dynamics);
    let h = dt / 6.0;
    std::array::from_fn(|i| y0[i] + h * (k1[i] + 2.0 * k2[i] + 2.0 * k3[i] + k4[i]))
}
