//! The architecture choices of a policy-value network, shared by both backends: the
//! [`Activation`], whether actor and critic share a [`Trunk`], and CleanRL's initialisation gains
//! (orthogonal weights scaled by a gain, zero biases: `sqrt(2)` for hidden layers, `1` for the
//! value head and `0.01` for the policy head, so the initial policy is close to uniform).

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, Result};

/// The gain of the hidden layers (`sqrt(2)`, as for ReLU/tanh in CleanRL).
pub const HIDDEN_GAIN: f64 = std::f64::consts::SQRT_2;
/// The gain of a policy (actor) output layer.
pub const POLICY_GAIN: f64 = 0.01;
/// The gain of a value (critic) output layer.
pub const VALUE_GAIN: f64 = 1.0;

/// The nonlinearity between layers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Activation {
    /// Hyperbolic tangent (CleanRL's PPO default).
    #[default]
    Tanh,
    /// Rectified linear unit.
    Relu,
}

impl FromStr for Activation {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "tanh" => Ok(Self::Tanh),
            "relu" => Ok(Self::Relu),
            other => Err(Error::InvalidArgument(format!(
                "unknown activation {other:?}: expected tanh or relu"
            ))),
        }
    }
}

impl fmt::Display for Activation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Tanh => "tanh",
            Self::Relu => "relu",
        })
    }
}

/// Whether actor and critic share their hidden layers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Trunk {
    /// Two separate MLPs (CleanRL's PPO for classic control).
    #[default]
    Separate,
    /// One shared hidden stack with a policy head and a value head.
    Shared,
}
