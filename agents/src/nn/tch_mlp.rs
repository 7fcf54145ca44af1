//! The tch (libtorch) multi-layer perceptrons and actor-critic network of the tch backend,
//! initialised as CleanRL's `layer_init` does (see [`crate::nn::architecture`] for the gains).

use tch::Tensor;
use tch::nn::{Init, Path};

use crate::error::{Error, Result};
use crate::nn::architecture::{Activation, HIDDEN_GAIN, POLICY_GAIN, Trunk, VALUE_GAIN};

/// Applies `activation` to a tensor.
fn activate(activation: Activation, x: &Tensor) -> Result<Tensor> {
    Ok(match activation {
        Activation::Tanh => x.f_tanh()?,
        Activation::Relu => x.f_relu()?,
    })
}

/// One linear layer `y = x W^T + b` with orthogonal `W` (scaled by `gain`) and zero `b`.
#[derive(Debug)]
pub struct Linear {
    /// Weight, shape `[out, in]`.
    pub weight: Tensor,
    /// Bias, shape `[out]`.
    pub bias: Tensor,
}

impl Linear {
    /// Creates the layer's variables under `path` (names `weight` and `bias`).
    pub fn new(path: &Path, in_dim: i64, out_dim: i64, gain: f64) -> Result<Self> {
        if in_dim <= 0 || out_dim <= 0 {
            return Err(Error::InvalidArgument(format!(
                "linear layer sizes must be positive, got {in_dim} -> {out_dim}"
            )));
        }
        let weight = path.f_var("weight", &[out_dim, in_dim], Init::Orthogonal { gain })?;
        let bias = path.f_var("bias", &[out_dim], Init::Const(0.0))?;
        Ok(Self { weight, bias })
    }

    /// Applies the layer to `x` of shape `[..., in]`.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        Ok(x.f_linear(&self.weight, Some(&self.bias))?)
    }
}

/// A stack of linear layers with an activation after every hidden layer (none after the output).
#[derive(Debug)]
pub struct Mlp {
    hidden: Vec<Linear>,
    out: Option<Linear>,
    activation: Activation,
    out_dim: i64,
}

impl Mlp {
    /// An MLP `in_dim -> hidden[0] -> ... -> out_dim` with layers named `0`, `1`, ... under
    /// `path` (the output layer is `hidden.len()`); the hidden layers use [`HIDDEN_GAIN`], the
    /// output layer `out_gain`. With `out_dim = None` the network ends with the last hidden
    /// layer's activation (a trunk for several heads).
    pub fn new(
        path: &Path,
        in_dim: i64,
        hidden: &[i64],
        out_dim: Option<i64>,
        activation: Activation,
        out_gain: f64,
    ) -> Result<Self> {
        if in_dim <= 0 {
            return Err(Error::InvalidArgument(format!(
                "input size must be positive, got {in_dim}"
            )));
        }
        let mut layers = Vec::with_capacity(hidden.len());
        let mut last = in_dim;
        for (i, &h) in hidden.iter().enumerate() {
            layers.push(Linear::new(&path.sub(i.to_string()), last, h, HIDDEN_GAIN)?);
            last = h;
        }
        let out = match out_dim {
            Some(o) => Some(Linear::new(
                &path.sub(hidden.len().to_string()),
                last,
                o,
                out_gain,
            )?),
            None if hidden.is_empty() => {
                return Err(Error::InvalidArgument(
                    "an MLP without output layer needs at least one hidden layer".to_owned(),
                ));
            }
            None => None,
        };
        Ok(Self {
            hidden: layers,
            out,
            activation,
            out_dim: out_dim.unwrap_or(last),
        })
    }

    /// Size of the last dimension of the output.
    pub fn out_dim(&self) -> i64 {
        self.out_dim
    }

    /// Applies the network to `x` of shape `[..., in_dim]`.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let mut h = x.shallow_clone();
        for layer in &self.hidden {
            h = activate(self.activation, &layer.forward(&h)?)?;
        }
        match &self.out {
            Some(out) => out.forward(&h),
            None => Ok(h),
        }
    }
}

/// An actor-critic network: `forward(obs)` gives the policy head's output (logits or means,
/// `[..., act_dim]`) and the value estimate (`[...]`).
#[derive(Debug)]
pub struct ActorCritic {
    trunk: Option<Mlp>,
    actor: Mlp,
    critic: Mlp,
}

impl ActorCritic {
    /// Builds the network under `path` (sub-paths `actor`, `critic` and, when shared, `trunk`).
    pub fn new(
        path: &Path,
        obs_dim: i64,
        act_dim: i64,
        hidden: &[i64],
        activation: Activation,
        trunk: Trunk,
    ) -> Result<Self> {
        match trunk {
            Trunk::Separate => Ok(Self {
                trunk: None,
                actor: Mlp::new(
                    &path.sub("actor"),
                    obs_dim,
                    hidden,
                    Some(act_dim),
                    activation,
                    POLICY_GAIN,
                )?,
                critic: Mlp::new(
                    &path.sub("critic"),
                    obs_dim,
                    hidden,
                    Some(1),
                    activation,
                    VALUE_GAIN,
                )?,
            }),
            Trunk::Shared => {
                let shared = Mlp::new(&path.sub("trunk"), obs_dim, hidden, None, activation, 1.0)?;
                let feat = shared.out_dim();
                Ok(Self {
                    actor: Mlp::new(
                        &path.sub("actor"),
                        feat,
                        &[],
                        Some(act_dim),
                        activation,
                        POLICY_GAIN,
                    )?,
                    critic: Mlp::new(
                        &path.sub("critic"),
                        feat,
                        &[],
                        Some(1),
                        activation,
                        VALUE_GAIN,
                    )?,
                    trunk: Some(shared),
                })
            }
        }
    }

    /// Policy output `[..., act_dim]` and value `[...]` for observations `[..., obs_dim]`.
    pub fn forward(&self, obs: &Tensor) -> Result<(Tensor, Tensor)> {
        let feat = match &self.trunk {
            Some(t) => t.forward(obs)?,
            None => obs.shallow_clone(),
        };
        let out = self.actor.forward(&feat)?;
        let value = self.critic.forward(&feat)?.f_squeeze_dim(-1)?;
        Ok((out, value))
    }

    /// The value estimate `[...]` alone.
    pub fn value(&self, obs: &Tensor) -> Result<Tensor> {
        let feat = match &self.trunk {
            Some(t) => t.forward(obs)?,
            None => obs.shallow_clone(),
        };
        Ok(self.critic.forward(&feat)?.f_squeeze_dim(-1)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::nn::VarStore;
    use tch::{Device, Kind};

    #[test]
    fn shapes_and_variable_count() {
        tch::manual_seed(0);
        let vs = VarStore::new(Device::Cpu);
        let ac = ActorCritic::new(
            &vs.root(),
            4,
            2,
            &[64, 64],
            Activation::Tanh,
            Trunk::Separate,
        )
        .unwrap();
        let (logits, v) = ac
            .forward(&Tensor::zeros([8, 4], (Kind::Float, Device::Cpu)))
            .unwrap();
        assert_eq!(logits.size(), vec![8, 2]);
        assert_eq!(v.size(), vec![8]);
        // Two MLPs, three layers each, weight + bias.
        assert_eq!(vs.trainable_variables().len(), 12);
        let n: i64 = vs
            .trainable_variables()
            .iter()
            .map(|t| t.numel() as i64)
            .sum();
        assert_eq!(
            n,
            2 * (4 * 64 + 64 + 64 * 64 + 64) + (64 * 2 + 2) + (64 + 1)
        );

        let vs = VarStore::new(Device::Cpu);
        let ac =
            ActorCritic::new(&vs.root(), 3, 1, &[32], Activation::Relu, Trunk::Shared).unwrap();
        let (mean, v) = ac
            .forward(&Tensor::zeros([5, 3], (Kind::Float, Device::Cpu)))
            .unwrap();
        assert_eq!((mean.size(), v.size()), (vec![5, 1], vec![5]));
        assert_eq!(vs.trainable_variables().len(), 6);
    }

    #[test]
    fn orthogonal_init_with_gain_and_zero_bias() {
        tch::manual_seed(1);
        let vs = VarStore::new(Device::Cpu);
        let layer = Linear::new(&vs.root(), 8, 8, 2.0).unwrap();
        // W W^T = gain^2 I for a square orthogonal matrix.
        let wwt = layer.weight.matmul(&layer.weight.tr());
        let eye = Tensor::eye(8, (Kind::Float, Device::Cpu)) * 4.0;
        let err = (wwt - eye).abs().max().double_value(&[]);
        assert!(err < 1e-4, "max |W W^T - 4 I| = {err}");
        assert_eq!(layer.bias.abs().sum(Kind::Float).double_value(&[]), 0.0);

        // A wide policy head: rows orthonormal times 0.01.
        let head = Linear::new(&vs.root().sub("h"), 16, 2, POLICY_GAIN).unwrap();
        let g = head.weight.matmul(&head.weight.tr());
        let expect = Tensor::eye(2, (Kind::Float, Device::Cpu)) * (POLICY_GAIN * POLICY_GAIN);
        assert!((g - expect).abs().max().double_value(&[]) < 1e-8);
    }

    #[test]
    fn activation_is_applied_between_layers_only() {
        let vs = VarStore::new(Device::Cpu);
        let mut mlp = Mlp::new(&vs.root(), 2, &[3], Some(1), Activation::Relu, 1.0).unwrap();
        tch::no_grad(|| {
            mlp.hidden[0]
                .weight
                .copy_(&Tensor::from_slice(&[1.0f32, 0.0, -1.0, 0.0, 0.0, 1.0]).view([3, 2]));
            mlp.out
                .as_mut()
                .unwrap()
                .weight
                .copy_(&Tensor::from_slice(&[1.0f32, 1.0, -1.0]).view([1, 3]));
            mlp.out
                .as_mut()
                .unwrap()
                .bias
                .copy_(&Tensor::from_slice(&[-0.5f32]));
        });
        // h = relu([2, -2, 3]) = [2, 0, 3]; out = 2 + 0 - 3 - 0.5 (no relu on the output).
        let y = mlp
            .forward(&Tensor::from_slice(&[2.0f32, 3.0]).view([1, 2]))
            .unwrap();
        assert_eq!(y.double_value(&[0, 0]), -1.5);
        let tanh_mlp =
            Mlp::new(&vs.root().sub("t"), 2, &[3], Some(1), Activation::Tanh, 1.0).unwrap();
        assert_eq!(tanh_mlp.out_dim(), 1);
    }

    #[test]
    fn bad_sizes_are_errors_not_panics() {
        let vs = VarStore::new(Device::Cpu);
        assert!(Mlp::new(&vs.root(), 0, &[4], Some(1), Activation::Tanh, 1.0).is_err());
        assert!(Mlp::new(&vs.root(), 3, &[0], Some(1), Activation::Tanh, 1.0).is_err());
        assert!(Mlp::new(&vs.root(), 3, &[], None, Activation::Tanh, 1.0).is_err());
        let mlp = Mlp::new(
            &vs.root().sub("ok"),
            3,
            &[4],
            Some(1),
            Activation::Tanh,
            1.0,
        )
        .unwrap();
        let wrong = Tensor::zeros([2, 5], (Kind::Float, Device::Cpu));
        assert!(matches!(mlp.forward(&wrong), Err(Error::Torch(_))));
        assert!("sigmoid".parse::<Activation>().is_err());
        assert_eq!("ReLU".parse::<Activation>().ok(), Some(Activation::Relu));
    }
}
