//! The user-facing network settings of the policy-gradient agents (the `[net]` table of a
//! config file), turned into a [`NetSpec`] once the environment's spaces are known.

use serde::{Deserialize, Serialize};

use crate::nn::architecture::{Activation, Trunk};
use crate::nn::net::{ActionHead, AdamConfig, NetSpec};

/// Which implementation runs the network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Backend {
    /// The hand-written CPU MLP (`nn::native`) for `--device cpu`, tch for CUDA.
    #[default]
    Auto,
    /// Always the hand-written CPU MLP.
    Native,
    /// Always tch (libtorch), on the chosen device.
    Tch,
}

/// Network settings: hidden sizes, activation, trunk, initial log-std, Adam epsilon, backend.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NetConfig {
    /// Hidden layer widths.
    pub hidden: Vec<usize>,
    /// `"tanh"` or `"relu"`.
    pub activation: String,
    /// `"separate"` (actor and critic MLPs) or `"shared"` (one trunk, two heads).
    pub trunk: String,
    /// Initial log-std of Gaussian policies.
    pub log_std_init: f32,
    /// Adam's epsilon.
    pub adam_eps: f32,
    /// Which implementation runs the network.
    pub backend: Backend,
}

impl Default for NetConfig {
    fn default() -> Self {
        Self {
            hidden: vec![64, 64],
            activation: "tanh".to_owned(),
            trunk: "separate".to_owned(),
            log_std_init: 0.0,
            adam_eps: 1e-5,
            backend: Backend::Auto,
        }
    }
}

impl NetConfig {
    /// Checks what can be checked before the environment is known: positive hidden widths, a
    /// finite initial log-std, and a finite positive Adam epsilon (an infinite one makes every
    /// update zero: the run would "train" without learning).
    pub fn validate(&self) -> crate::error::Result<()> {
        let bad = |msg: String| Err(crate::error::Error::InvalidArgument(msg));
        if self.hidden.contains(&0) {
            return bad(format!(
                "net.hidden widths must be positive, got {:?}",
                self.hidden
            ));
        }
        if !self.log_std_init.is_finite() {
            return bad(format!(
                "net.log_std_init must be finite, got {}",
                self.log_std_init
            ));
        }
        if !(self.adam_eps.is_finite() && self.adam_eps > 0.0) {
            return bad(format!(
                "net.adam_eps must be positive and finite, got {}",
                self.adam_eps
            ));
        }
        Ok(())
    }

    /// The network shape for `obs_dim` observations and `head`; errors on unknown activation or
    /// trunk names and on invalid sizes.
    pub fn spec(&self, obs_dim: usize, head: ActionHead) -> crate::error::Result<NetSpec> {
        let activation: Activation = self.activation.parse()?;
        let trunk = match self.trunk.trim().to_ascii_lowercase().as_str() {
            "separate" => Trunk::Separate,
            "shared" => Trunk::Shared,
            other => {
                return Err(crate::error::Error::InvalidArgument(format!(
                    "unknown trunk {other:?}: expected separate or shared"
                )));
            }
        };
        let spec = NetSpec {
            obs_dim,
            head,
            hidden: self.hidden.clone(),
            activation,
            trunk,
            log_std_init: self.log_std_init,
            adam: AdamConfig {
                eps: self.adam_eps,
                ..AdamConfig::default()
            },
        };
        spec.validate()?;
        Ok(spec)
    }
}
