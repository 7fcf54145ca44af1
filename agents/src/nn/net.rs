//! [`PolicyValueNet`], the network interface, and [`NetSpec`], the shape of a network.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::nn::architecture::{Activation, Trunk};

/// What the policy head parameterises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ActionHead {
    /// A categorical distribution over `n` actions; the head outputs `n` logits per row.
    Categorical {
        /// Number of actions.
        n: usize,
    },
    /// A diagonal Gaussian over `dim` dimensions with a state-independent log-std parameter;
    /// the head outputs `dim` means per row.
    Gaussian {
        /// Action dimensions.
        dim: usize,
    },
}

impl ActionHead {
    /// Number of policy-head outputs per row (`n` logits or `dim` means).
    pub fn policy_dim(&self) -> usize {
        match *self {
            Self::Categorical { n } => n,
            Self::Gaussian { dim } => dim,
        }
    }

    /// Number of `f32` values one action takes in a flat action buffer (1 for a categorical
    /// index, stored as `f32`; `dim` for a Gaussian).
    pub fn action_dim(&self) -> usize {
        match *self {
            Self::Categorical { .. } => 1,
            Self::Gaussian { dim } => dim,
        }
    }

    /// Length of the log-std parameter (0 for categorical).
    pub fn log_std_dim(&self) -> usize {
        match *self {
            Self::Categorical { .. } => 0,
            Self::Gaussian { dim } => dim,
        }
    }
}

/// Adam's settings (PyTorch's `Adam`, no weight decay).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AdamConfig {
    /// First-moment decay.
    pub beta1: f32,
    /// Second-moment decay.
    pub beta2: f32,
    /// Denominator epsilon (Stable-Baselines3 and CleanRL use `1e-5` for PPO).
    pub eps: f32,
}

impl Default for AdamConfig {
    fn default() -> Self {
        Self {
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-5,
        }
    }
}

/// The shape of a policy-value network.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NetSpec {
    /// Observation size (flattened).
    pub obs_dim: usize,
    /// The policy head.
    pub head: ActionHead,
    /// Hidden layer widths (the same for actor and critic, or of the shared trunk).
    pub hidden: Vec<usize>,
    /// Nonlinearity after every hidden layer.
    #[serde(with = "activation_serde")]
    pub activation: Activation,
    /// Separate actor/critic MLPs or one shared trunk.
    #[serde(with = "trunk_serde")]
    pub trunk: Trunk,
    /// Initial value of every log-std entry (Gaussian heads only).
    pub log_std_init: f32,
    /// Optimiser settings.
    pub adam: AdamConfig,
}

impl NetSpec {
    /// The number of rows `n` described by flat observation (`[n, obs_dim]`), policy-output
    /// (`[n, policy_dim]`) and value (`[n]`) buffers; a shape error when they disagree (what
    /// every backend checks before a forward pass).
    pub(crate) fn rows(&self, obs: &[f32], policy_out: &[f32], values: &[f32]) -> Result<usize> {
        let (od, pd) = (self.obs_dim, self.head.policy_dim());
        let n = obs.len() / od;
        if !obs.len().is_multiple_of(od) || policy_out.len() != n * pd || values.len() != n {
            return Err(Error::Shape(format!(
                "observations of {} values ({od} per row), policy buffer of {} ({pd} per row) \
                 and value buffer of {} do not describe the same number of rows",
                obs.len(),
                policy_out.len(),
                values.len()
            )));
        }
        Ok(n)
    }

    /// Checks sizes: positive observation size, action count/dimension and hidden widths, a
    /// finite log-std and positive Adam epsilon.
    pub fn validate(&self) -> Result<()> {
        if self.obs_dim == 0 {
            return Err(Error::InvalidArgument(
                "observation size must be positive".to_owned(),
            ));
        }
        if self.head.policy_dim() == 0 {
            return Err(Error::InvalidArgument(
                "the action space has no actions/dimensions".to_owned(),
            ));
        }
        if self.hidden.contains(&0) {
            return Err(Error::InvalidArgument(format!(
                "hidden layer widths must be positive, got {:?}",
                self.hidden
            )));
        }
        if self.trunk == Trunk::Shared && self.hidden.is_empty() {
            return Err(Error::InvalidArgument(
                "a shared trunk needs at least one hidden layer".to_owned(),
            ));
        }
        if !self.log_std_init.is_finite() {
            return Err(Error::InvalidArgument(format!(
                "log_std_init must be finite, got {}",
                self.log_std_init
            )));
        }
        let a = &self.adam;
        if !(a.eps.is_finite()
            && a.eps > 0.0
            && (0.0..1.0).contains(&a.beta1)
            && (0.0..1.0).contains(&a.beta2))
        {
            return Err(Error::InvalidArgument(format!(
                "Adam needs a finite eps > 0 and betas in [0, 1), got {a:?}"
            )));
        }
        Ok(())
    }
}

/// A named `f32` tensor in row-major order: the unit of checkpoints shared by all backends.
///
/// Parameter names: `actor.{i}.weight` / `actor.{i}.bias` (layer `i` of the actor MLP, the last
/// one being the policy head), `critic.{i}.weight` / `critic.{i}.bias`, with a shared trunk
/// `trunk.{i}.*` plus `actor.0.*` and `critic.0.*` heads, and `log_std` for Gaussian heads.
/// Weights have shape `[out, in]` (PyTorch's `nn.Linear` layout). Optimiser state uses the
/// prefixes `adam.m.` / `adam.v.` before a parameter name and `adam.step` (shape `[1]`).
#[derive(Debug, Clone, PartialEq)]
pub struct NamedTensor {
    /// Name, as above.
    pub name: String,
    /// Shape.
    pub shape: Vec<usize>,
    /// Row-major values (`shape.iter().product()` of them).
    pub data: Vec<f32>,
}

/// A policy-value network that is trained from loss gradients with respect to its outputs.
///
/// Buffers are row-major: `obs` is `[n, obs_dim]`, `policy_out` `[n, policy_dim]`, `values`
/// `[n]`; `n` is `obs.len() / obs_dim`. A length mismatch is an [`Error::Shape`].
pub trait PolicyValueNet: Send {
    /// The network's shape.
    fn spec(&self) -> &NetSpec;

    /// Inference (no gradient bookkeeping): writes the policy outputs and values of `n` rows.
    fn infer(&mut self, obs: &[f32], policy_out: &mut [f32], values: &mut [f32]) -> Result<()>;

    /// Training forward pass: like [`infer`](Self::infer), and remembers what
    /// [`backward`](Self::backward) needs.
    fn forward(&mut self, obs: &[f32], policy_out: &mut [f32], values: &mut [f32]) -> Result<()>;

    /// Backpropagates the gradients of a scalar loss with respect to the outputs of the last
    /// [`forward`](Self::forward) (`d_policy` `[n, policy_dim]`, `d_values` `[n]`, `d_log_std`
    /// `[log_std_dim]`) and *adds* them to the parameter gradients.
    fn backward(&mut self, d_policy: &[f32], d_values: &[f32], d_log_std: &[f32]) -> Result<()>;

    /// Clips the accumulated gradient to global L2 norm `max_grad_norm` (over all parameters,
    /// log-std included), applies one Adam step with learning rate `lr` and zeroes the
    /// gradients. Returns the gradient norm before clipping.
    fn step(&mut self, lr: f32, max_grad_norm: Option<f32>) -> Result<f32>;

    /// The current log-std parameter (empty for a categorical head).
    fn log_std(&self) -> Vec<f32>;

    /// Writes the current log-std parameter into `out` (cleared first). Backends that hold it
    /// on the host override this to avoid the allocation of [`log_std`](Self::log_std): the
    /// acting path calls it on every step.
    fn log_std_into(&self, out: &mut Vec<f32>) {
        out.clear();
        out.extend(self.log_std());
    }

    /// All parameters, in a fixed order, named as documented on [`NamedTensor`].
    fn parameters(&self) -> Result<Vec<NamedTensor>>;

    /// Adam's moment estimates and step count, named as documented on [`NamedTensor`].
    fn optimizer_state(&self) -> Result<Vec<NamedTensor>>;

    /// Replaces parameters (and, where present, optimiser state) by the named tensors; a
    /// missing parameter, an unknown name or a wrong shape is an error and leaves the network
    /// unchanged.
    fn load(&mut self, tensors: &[NamedTensor]) -> Result<()>;
}

/// Checks the arguments of [`PolicyValueNet::step`] (shared by every backend): a finite,
/// non-negative learning rate and, if given, a finite positive gradient-norm bound.
pub(crate) fn check_step_args(lr: f32, max_grad_norm: Option<f32>) -> Result<()> {
    if !(lr.is_finite() && lr >= 0.0) {
        return Err(Error::InvalidArgument(format!(
            "learning rate must be finite and non-negative, got {lr}"
        )));
    }
    if let Some(m) = max_grad_norm
        && !(m.is_finite() && m > 0.0)
    {
        return Err(Error::InvalidArgument(format!(
            "max_grad_norm must be finite and positive, got {m}"
        )));
    }
    Ok(())
}

mod activation_serde {
    use serde::{Deserialize, Deserializer, Serializer};

    use crate::nn::architecture::Activation;

    pub fn serialize<S: Serializer>(a: &Activation, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&a.to_string())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Activation, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

mod trunk_serde {
    use serde::{Deserialize, Deserializer, Serializer};

    use crate::nn::architecture::Trunk;

    pub fn serialize<S: Serializer>(t: &Trunk, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(match t {
            Trunk::Separate => "separate",
            Trunk::Shared => "shared",
        })
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Trunk, D::Error> {
        match String::deserialize(d)?.as_str() {
            "separate" => Ok(Trunk::Separate),
            "shared" => Ok(Trunk::Shared),
            other => Err(serde::de::Error::custom(format!(
                "unknown trunk {other:?}: expected separate or shared"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> NetSpec {
        NetSpec {
            obs_dim: 4,
            head: ActionHead::Categorical { n: 2 },
            hidden: vec![64, 64],
            activation: Activation::Tanh,
            trunk: Trunk::Separate,
            log_std_init: 0.0,
            adam: AdamConfig::default(),
        }
    }

    #[test]
    fn head_sizes() {
        let c = ActionHead::Categorical { n: 3 };
        assert_eq!((c.policy_dim(), c.action_dim(), c.log_std_dim()), (3, 1, 0));
        let g = ActionHead::Gaussian { dim: 2 };
        assert_eq!((g.policy_dim(), g.action_dim(), g.log_std_dim()), (2, 2, 2));
    }

    #[test]
    fn validation_catches_bad_sizes() {
        assert!(spec().validate().is_ok());
        let mut s = spec();
        s.obs_dim = 0;
        assert!(s.validate().is_err());
        let mut s = spec();
        s.hidden = vec![64, 0];
        assert!(s.validate().is_err());
        let mut s = spec();
        s.trunk = Trunk::Shared;
        s.hidden.clear();
        assert!(s.validate().is_err());
        let mut s = spec();
        s.adam.eps = 0.0;
        assert!(s.validate().is_err());
        let mut s = spec();
        s.head = ActionHead::Gaussian { dim: 0 };
        assert!(s.validate().is_err());
    }

    #[test]
    fn spec_serde_round_trip() {
        let s = spec();
        let json = serde_json::to_string(&s).unwrap();
        assert!(json.contains("\"tanh\""), "{json}");
        let back: NetSpec = serde_json::from_str(&json).unwrap();
        assert_eq!(back, s);
        let bad = json.replace("\"separate\"", "\"both\"");
        assert!(serde_json::from_str::<NetSpec>(&bad).is_err());
    }
}
