//! [`NativeActorCritic`]: the [`PolicyValueNet`] of the native backend.

use std::ops::Range;

use rand::SeedableRng;
use tokengym::seeding::EnvRng;

use crate::error::{Error, Result};
use crate::nn::architecture::{HIDDEN_GAIN, POLICY_GAIN, Trunk, VALUE_GAIN};
use crate::nn::native::adam::{Adam, clip_grad_norm};
use crate::nn::native::dense::Dense;
use crate::nn::native::init::orthogonal;
use crate::nn::native::mlp::NativeMlp;
use crate::nn::native::params::{ParamStore, parameter_layout};
use crate::nn::net::{NamedTensor, NetSpec, PolicyValueNet};

/// The MLPs of one actor-critic (their buffers are per instance).
#[derive(Debug, Clone)]
struct Nets {
    trunk: Option<NativeMlp>,
    actor: NativeMlp,
    critic: NativeMlp,
}

impl Nets {
    fn forward(&mut self, params: &[f32], obs: &[f32], n: usize) -> Result<()> {
        let feat = match &mut self.trunk {
            Some(t) => {
                t.forward(params, obs, n)?;
                t.output()
            }
            None => obs,
        };
        self.actor.forward(params, feat, n)?;
        self.critic.forward(params, feat, n)
    }

    fn write(&self, policy_out: &mut [f32], values: &mut [f32]) {
        policy_out.copy_from_slice(self.actor.output());
        values.copy_from_slice(self.critic.output());
    }
}

/// A hand-written `f32` actor-critic MLP with manual backpropagation and Adam, on the CPU.
///
/// Shapes, initialisation (orthogonal with gains `sqrt(2)` / `0.01` / `1`, zero biases) and
/// parameter names follow `nn::tch_mlp::ActorCritic` and [`NamedTensor`]. Buffers grow to the
/// largest batch seen and are kept, so training does not allocate once warmed up.
///
/// ```
/// use tokengym_agents::nn::{ActionHead, Activation, AdamConfig, NativeActorCritic, NetSpec,
///     PolicyValueNet, Trunk};
///
/// let spec = NetSpec {
///     obs_dim: 4,
///     head: ActionHead::Categorical { n: 2 },
///     hidden: vec![64, 64],
///     activation: Activation::Tanh,
///     trunk: Trunk::Separate,
///     log_std_init: 0.0,
///     adam: AdamConfig::default(),
/// };
/// let mut net = NativeActorCritic::new(&spec, 0)?;
/// let (mut logits, mut values) = ([0.0f32; 2], [0.0f32; 1]);
/// net.forward(&[0.1, 0.2, 0.3, 0.4], &mut logits, &mut values)?;
/// net.backward(&[1.0, -1.0], &[0.5], &[])?;
/// let grad_norm = net.step(3e-4, Some(0.5))?;
/// assert!(grad_norm > 0.0);
/// # Ok::<(), tokengym_agents::error::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct NativeActorCritic {
    spec: NetSpec,
    params: ParamStore,
    adam: Adam,
    log_std: Range<usize>,
    train: Nets,
    inference: Nets,
    /// Observations of the last training forward pass.
    obs: Vec<f32>,
    /// Rows of the last training forward pass, `None` before one (or after a failed one).
    n: Option<usize>,
    /// Feature gradients of the shared trunk (from the actor and from the critic).
    d_feat: Vec<f32>,
    d_feat_critic: Vec<f32>,
}

fn dense(params: &ParamStore, prefix: &str, i: usize) -> Result<Dense> {
    let w = params
        .entry(&format!("{prefix}.{i}.weight"))
        .filter(|w| w.transposed)
        .ok_or_else(|| Error::InvalidArgument(format!("no layer {prefix}.{i}")))?;
    let b = params.range(&format!("{prefix}.{i}.bias"))?;
    Ok(Dense {
        in_dim: w.shape[1],
        out_dim: w.shape[0],
        w_offset: w.range.start,
        b_offset: b.start,
    })
}

fn mlp(
    params: &ParamStore,
    spec: &NetSpec,
    prefix: &str,
    layers: usize,
    last_act: bool,
) -> Result<NativeMlp> {
    let layers = (0..layers)
        .map(|i| dense(params, prefix, i))
        .collect::<Result<Vec<_>>>()?;
    NativeMlp::new(layers, spec.activation, last_act)
}

impl NativeActorCritic {
    /// A freshly initialised network of shape `spec`; the same `seed` gives the same
    /// parameters.
    pub fn new(spec: &NetSpec, seed: u64) -> Result<Self> {
        spec.validate()?;
        let layout = parameter_layout(spec);
        let mut params = ParamStore::new(&layout);
        let mut rng = EnvRng::seed_from_u64(seed);
        let heads = match spec.trunk {
            Trunk::Separate => spec.hidden.len(),
            Trunk::Shared => 0,
        };
        let (actor_head, critic_head) = (
            format!("actor.{heads}.weight"),
            format!("critic.{heads}.weight"),
        );
        for entry in params.entries().to_vec() {
            if entry.name.ends_with(".weight") {
                let gain = if entry.name == actor_head {
                    POLICY_GAIN
                } else if entry.name == critic_head {
                    VALUE_GAIN
                } else {
                    HIDDEN_GAIN
                };
                let w = orthogonal(entry.shape[0], entry.shape[1], gain, &mut rng);
                entry.to_internal(&w, &mut params.values[entry.range.clone()]);
            } else if entry.name == "log_std" {
                params.values[entry.range].fill(spec.log_std_init);
            }
        }
        let log_std = params.entry("log_std").map_or(0..0, |e| e.range.clone());
        let nets = match spec.trunk {
            Trunk::Separate => Nets {
                trunk: None,
                actor: mlp(&params, spec, "actor", heads + 1, false)?,
                critic: mlp(&params, spec, "critic", heads + 1, false)?,
            },
            Trunk::Shared => Nets {
                trunk: Some(mlp(&params, spec, "trunk", spec.hidden.len(), true)?),
                actor: mlp(&params, spec, "actor", 1, false)?,
                critic: mlp(&params, spec, "critic", 1, false)?,
            },
        };
        let adam = Adam::new(spec.adam, params.values.len());
        Ok(Self {
            spec: spec.clone(),
            params,
            adam,
            log_std,
            train: nets.clone(),
            inference: nets,
            obs: Vec::new(),
            n: None,
            d_feat: Vec::new(),
            d_feat_critic: Vec::new(),
        })
    }

    /// The number of scalar parameters.
    pub fn num_parameters(&self) -> usize {
        self.params.values.len()
    }
}

impl PolicyValueNet for NativeActorCritic {
    fn spec(&self) -> &NetSpec {
        &self.spec
    }

    fn infer(&mut self, obs: &[f32], policy_out: &mut [f32], values: &mut [f32]) -> Result<()> {
        let n = self.spec.rows(obs, policy_out, values)?;
        self.inference.forward(&self.params.values, obs, n)?;
        self.inference.write(policy_out, values);
        Ok(())
    }

    fn forward(&mut self, obs: &[f32], policy_out: &mut [f32], values: &mut [f32]) -> Result<()> {
        let n = self.spec.rows(obs, policy_out, values)?;
        self.n = None;
        self.obs.clear();
        self.obs.extend_from_slice(obs);
        self.train.forward(&self.params.values, obs, n)?;
        self.train.write(policy_out, values);
        self.n = Some(n);
        Ok(())
    }

    /// Backpropagates through the last forward pass and consumes it (as the tch backend does):
    /// a second `backward` needs a new `forward`.
    fn backward(&mut self, d_policy: &[f32], d_values: &[f32], d_log_std: &[f32]) -> Result<()> {
        let n = self
            .n
            .ok_or_else(|| Error::InvalidArgument("backward before forward".to_owned()))?;
        let pd = self.spec.head.policy_dim();
        if d_policy.len() != n * pd || d_values.len() != n || d_log_std.len() != self.log_std.len()
        {
            return Err(Error::Shape(format!(
                "gradients of {} policy outputs, {} values and {} log-std entries do not match \
                 the last forward pass ({n} rows of {pd}, {} log-std entries)",
                d_policy.len(),
                d_values.len(),
                d_log_std.len(),
                self.log_std.len()
            )));
        }
        let (values, grads) = (&self.params.values, &mut self.params.grads);
        let Nets {
            trunk,
            actor,
            critic,
        } = &mut self.train;
        match trunk {
            None => {
                actor.backward(values, grads, &self.obs, d_policy, None)?;
                critic.backward(values, grads, &self.obs, d_values, None)?;
            }
            Some(trunk) => {
                let len = n * trunk.out_dim();
                if self.d_feat.len() < len {
                    self.d_feat.resize(len, 0.0);
                    self.d_feat_critic.resize(len, 0.0);
                }
                let (df, dc) = (&mut self.d_feat[..len], &mut self.d_feat_critic[..len]);
                let feat = trunk.output();
                actor.backward(values, grads, feat, d_policy, Some(&mut *df))?;
                critic.backward(values, grads, feat, d_values, Some(&mut *dc))?;
                for (a, &c) in df.iter_mut().zip(dc.iter()) {
                    *a += c;
                }
                trunk.backward(values, grads, &self.obs, df, None)?;
            }
        }
        for (g, &d) in grads[self.log_std.clone()].iter_mut().zip(d_log_std) {
            *g += d;
        }
        // Consumed, as on the tch backend (whose autograd graph is freed by `backward`).
        self.n = None;
        Ok(())
    }

    fn step(&mut self, lr: f32, max_grad_norm: Option<f32>) -> Result<f32> {
        crate::nn::net::check_step_args(lr, max_grad_norm)?;
        let norm = clip_grad_norm(&mut self.params.grads, max_grad_norm);
        self.adam
            .update(&mut self.params.values, &self.params.grads, lr);
        self.params.grads.fill(0.0);
        Ok(norm)
    }

    fn log_std(&self) -> Vec<f32> {
        self.params.values[self.log_std.clone()].to_vec()
    }

    fn log_std_into(&self, out: &mut Vec<f32>) {
        out.clear();
        out.extend_from_slice(&self.params.values[self.log_std.clone()]);
    }

    fn parameters(&self) -> Result<Vec<NamedTensor>> {
        Ok(self.params.to_named("", &self.params.values))
    }

    fn optimizer_state(&self) -> Result<Vec<NamedTensor>> {
        let mut out = self.params.to_named("adam.m.", &self.adam.m);
        out.extend(self.params.to_named("adam.v.", &self.adam.v));
        out.push(NamedTensor {
            name: "adam.step".to_owned(),
            shape: vec![1],
            data: vec![self.adam.step as f32],
        });
        Ok(out)
    }

    /// Loads parameters and, when any `adam.*` tensor is given, the complete Adam state
    /// (`adam.m.*`, `adam.v.*` for every parameter and `adam.step`); without `adam.*` tensors
    /// the optimiser state is kept.
    fn load(&mut self, tensors: &[NamedTensor]) -> Result<()> {
        let (adam, params): (Vec<&NamedTensor>, Vec<&NamedTensor>) =
            tensors.iter().partition(|t| t.name.starts_with("adam."));
        let values = self.params.gather("", &params)?;
        let adam_state = if adam.is_empty() {
            None
        } else {
            let m = self.params.gather(
                "adam.m.",
                &adam
                    .iter()
                    .copied()
                    .filter(|t| t.name.starts_with("adam.m."))
                    .collect::<Vec<_>>(),
            )?;
            let v = self.params.gather(
                "adam.v.",
                &adam
                    .iter()
                    .copied()
                    .filter(|t| t.name.starts_with("adam.v."))
                    .collect::<Vec<_>>(),
            )?;
            let mut step = None;
            for t in &adam {
                if t.name.starts_with("adam.m.") || t.name.starts_with("adam.v.") {
                    continue;
                }
                if t.name != "adam.step" || step.is_some() {
                    return Err(Error::InvalidArgument(format!(
                        "unknown or repeated optimiser tensor {:?}",
                        t.name
                    )));
                }
                match (t.shape.as_slice(), t.data.as_slice()) {
                    ([1], &[s]) if s >= 0.0 && s.fract() == 0.0 && s.is_finite() => {
                        step = Some(s as u64);
                    }
                    _ => {
                        return Err(Error::Shape(format!(
                            "adam.step must be one non-negative integer, got shape {:?} data {:?}",
                            t.shape, t.data
                        )));
                    }
                }
            }
            let step =
                step.ok_or_else(|| Error::InvalidArgument("missing adam.step".to_owned()))?;
            Some((m, v, step))
        };
        self.params.values = values;
        if let Some((m, v, step)) = adam_state {
            self.adam.m = m;
            self.adam.v = v;
            self.adam.step = step;
        }
        self.n = None;
        Ok(())
    }
}

#[cfg(test)]
#[path = "actor_critic_tests.rs"]
mod tests;
