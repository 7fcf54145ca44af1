//! Classic-control environments, bit-identical to Gymnasium 1.4.0 given the same state and
//! actions.

pub mod acrobot;
pub mod pendulum;

pub use acrobot::{Acrobot, AcrobotConfig, AcrobotDynamics};
pub use pendulum::{Pendulum, PendulumConfig};
