//! # tokengym-envs
//!
//! Concrete environments for [`tokengym`], and the registry entries that name them.
//!
//! - [`toy_text`]: `FrozenLake-v1`, `FrozenLake8x8-v1`, `CliffWalking-v1`,
//!   `CliffWalkingSlippery-v1`, `Taxi-v4`, `Blackjack-v1`, draw for draw as in Gymnasium 1.4.
//! - [`classic_control`]: `CartPole-v1`, `MountainCar-v0`, `MountainCarContinuous-v0`,
//!   `Acrobot-v1`, `Pendulum-v1`, step-for-step identical to Gymnasium 1.4.
//!
//! ```
//! use tokengym::Env;
//! use tokengym_envs::classic_control::CartPole;
//!
//! // Typed: observations are `[f32; 4]`, actions `i64`.
//! let mut env = CartPole::new();
//! let (obs, _) = env.reset(Some(42))?;
//! let step = env.step(&i64::from(obs[2] > 0.0))?;
//! assert!(!step.terminated);
//!
//! // Through the registry, with Gymnasium's default wrappers (500-step time limit, ...).
//! let mut env = tokengym_envs::make("CartPole-v1")?;
//! env.reset(Some(42))?;
//! # Ok::<(), tokengym::Error>(())
//! ```

#![warn(missing_docs)]

pub mod classic_control;
pub mod registration;
pub mod state;
pub mod text;
pub mod toy;
pub mod toy_text;

pub use registration::{make, make_vec, make_vec_parallel, make_with, register_all, register_envs};

pub use state::StateVector;
