//! The classic-control environments of Gymnasium, reproduced bit for bit.
//!
//! Each environment follows Gymnasium 1.4.0's arithmetic operation by operation (same order, same
//! precision, including NumPy's float32/float64 promotion rules), so a Gymnasium trajectory
//! replayed from the same state gives identical observations, rewards and flags; the
//! `gymnasium_replay` tests check this against recorded fixtures. The random starting states are
//! Gymnasium's too: each environment owns an [`EnvRng`] (NumPy's `Generator(PCG64)`), re-seeded
//! by `reset(Some(seed))` exactly as `seeding.np_random(seed)` seeds Gymnasium's, and draws
//! from it as Gymnasium's `reset` does, so `reset(Some(s))` and the unseeded resets after it give
//! Gymnasium's observations for any `u64` seed (`seeded_resets` tests).
//!
//! | Environment | Gymnasium id | Observation | Action |
//! |---|---|---|---|
//! | [`CartPole`] | `CartPole-v1` | `Box(4)` f32 | `Discrete(2)` |
//! | [`MountainCar`] | `MountainCar-v0` | `Box(2)` f32 | `Discrete(3)` |
//! | [`ContinuousMountainCar`] | `MountainCarContinuous-v0` | `Box(2)` f32 | `Box(1)` f32 |
//! | [`Acrobot`] | `Acrobot-v1` | `Box(6)` f32 | `Discrete(3)` |
//! | [`Pendulum`] | `Pendulum-v1` | `Box(3)` f32 | `Box(1)` f32 |
//!
//! Every environment exposes its state in Gymnasium's `env.unwrapped.state` order through
//! [`StateVector`](crate::StateVector), and renders as text ([`RenderMode::Ansi`]) or as a
//! picture ([`RenderMode::RgbArray`]; 600x400, or 500x500 for Acrobot and Pendulum, as in
//! Gymnasium).
//!
//! [`RenderMode::Ansi`]: tokengym::RenderMode::Ansi
//! [`RenderMode::RgbArray`]: tokengym::RenderMode::RgbArray

pub mod acrobot;
pub mod cartpole;
pub mod continuous_mountain_car;
pub mod mountain_car;
mod numpy_square;
pub mod pendulum;
mod physical_state;

pub use acrobot::{Acrobot, AcrobotConfig, AcrobotDynamics};
pub use cartpole::{CartPole, CartPoleConfig};
pub use continuous_mountain_car::{ContinuousMountainCar, ContinuousMountainCarConfig};
pub use mountain_car::{MountainCar, MountainCarConfig};
pub use pendulum::{Pendulum, PendulumConfig};

pub(crate) use physical_state::{PhysicalState, RENDER_MODES};

use tokengym::{EnvRng, Error, ResetOptions, Result};

/// A uniform draw from `[low, high)`, NumPy's `uniform` (`low + (high - low) * random()`).
pub(crate) fn uniform(rng: &mut EnvRng, low: f64, high: f64) -> f64 {
    tokengym::seeding::uniform(rng, low, high)
}

/// Gymnasium's `utils.maybe_parse_reset_bounds(options, default_low, default_high)`: the reset
/// options `low` and `high` (the defaults where absent), finite with `low <= high`; any other
/// option is an error.
pub(crate) fn reset_bounds(
    env: &str,
    options: &ResetOptions,
    default_low: f64,
    default_high: f64,
) -> Result<(f64, f64)> {
    options.check_keys_as(&["high", "low"], "reset option")?;
    let low = options.get_f64("low", default_low)?;
    let high = options.get_f64("high", default_high)?;
    if !(low.is_finite() && high.is_finite()) || low > high {
        return Err(Error::invalid_argument(format!(
            "{env} reset options need finite low <= high, got low={low}, high={high}"
        )));
    }
    Ok((low, high))
}
