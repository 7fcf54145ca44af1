//! [`TchActorCritic`]: the [`PolicyValueNet`] of the tch backend (libtorch on the CPU or CUDA),
//! trained through autograd.
//!
//! The network is [`ActorCritic`] plus a `log_std` variable for Gaussian heads, with the
//! variable names of [`NamedTensor`] (`actor.0.weight`, ...), so checkpoints are interchangeable
//! with the native backend.
//!
//! libtorch's Adam does not expose its moment estimates through tch: [`optimizer_state`]
//! returns no tensors and [`load`] ignores `adam.*` tensors (such as those written by the native
//! backend), so a run resumed on this backend restarts Adam's moments.
//!
//! [`optimizer_state`]: PolicyValueNet::optimizer_state
//! [`load`]: PolicyValueNet::load

use tch::nn::{Init, OptimizerConfig, VarStore};
use tch::{Device, Kind, Tensor};

use crate::error::{Error, Result};
use crate::nn::native::NativeActorCritic;
use crate::nn::native::params::{ParamStore, parameter_layout};
use crate::nn::net::{ActionHead, NamedTensor, NetSpec, PolicyValueNet};
use crate::nn::tch_mlp::ActorCritic;

/// The actor-critic network on tch, on a given device.
pub struct TchActorCritic {
    spec: NetSpec,
    device: Device,
    vs: VarStore,
    net: ActorCritic,
    log_std: Option<Tensor>,
    opt: tch::nn::Optimizer,
    /// Outputs of the last training forward pass (policy `[n, policy_dim]`, values `[n]`).
    outputs: Option<(Tensor, Tensor)>,
    layout: Vec<(String, Vec<usize>)>,
}

impl std::fmt::Debug for TchActorCritic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TchActorCritic")
            .field("spec", &self.spec)
            .field("device", &self.device)
            .finish_non_exhaustive()
    }
}

fn to_i64(sizes: &[usize]) -> Vec<i64> {
    sizes.iter().map(|&s| s as i64).collect()
}

impl TchActorCritic {
    /// A freshly initialised network of shape `spec` on `device`. `seed` seeds libtorch's
    /// global generator (`tch::manual_seed`), and the parameters are initialised exactly as
    /// [`NativeActorCritic::new`] with the same seed does (orthogonal, same gains), so both
    /// backends start from identical networks.
    pub fn new(spec: &NetSpec, device: Device, seed: u64) -> Result<Self> {
        spec.validate()?;
        tch::manual_seed(seed as i64);
        let vs = VarStore::new(device);
        let root = vs.root();
        let net = ActorCritic::new(
            &root,
            spec.obs_dim as i64,
            spec.head.policy_dim() as i64,
            &to_i64(&spec.hidden),
            spec.activation,
            spec.trunk,
        )?;
        let log_std = match spec.head {
            ActionHead::Gaussian { dim } => Some(root.f_var(
                "log_std",
                &[dim as i64],
                Init::Const(f64::from(spec.log_std_init)),
            )?),
            ActionHead::Categorical { .. } => None,
        };
        let opt = tch::nn::Adam {
            beta1: f64::from(spec.adam.beta1),
            beta2: f64::from(spec.adam.beta2),
            wd: 0.0,
            eps: f64::from(spec.adam.eps),
            amsgrad: false,
        }
        .build(&vs, 1e-3)?;
        let layout = parameter_layout(spec);
        let names = vs.variables();
        if let Some((missing, _)) = layout.iter().find(|(n, _)| !names.contains_key(n)) {
            return Err(Error::InvalidArgument(format!(
                "tch network lacks variable {missing:?}"
            )));
        }
        let mut net = Self {
            spec: spec.clone(),
            device,
            vs,
            net,
            log_std,
            opt,
            outputs: None,
            layout,
        };
        // libtorch's generator is global to the process (other threads may draw from it
        // between our draws), so the initial values come from the native backend's seeded
        // initialisation instead: the same seed gives the same parameters on both backends.
        net.load(&NativeActorCritic::new(spec, seed)?.parameters()?)?;
        Ok(net)
    }

    /// The device the network lives on.
    pub fn device(&self) -> Device {
        self.device
    }

    fn upload(&self, data: &[f32], shape: &[usize]) -> Result<Tensor> {
        Ok(Tensor::f_from_slice(data)?
            .f_view(to_i64(shape).as_slice())?
            .f_to_device(self.device)?)
    }

    fn run(&self, obs: &[f32], n: usize) -> Result<(Tensor, Tensor)> {
        let x = self.upload(obs, &[n, self.spec.obs_dim])?;
        self.net.forward(&x)
    }
}

fn download(t: &Tensor, out: &mut [f32]) -> Result<()> {
    let t = t.f_to_device(Device::Cpu)?.f_contiguous()?;
    t.f_copy_data(out, out.len())?;
    Ok(())
}

impl PolicyValueNet for TchActorCritic {
    fn spec(&self) -> &NetSpec {
        &self.spec
    }

    fn infer(&mut self, obs: &[f32], policy_out: &mut [f32], values: &mut [f32]) -> Result<()> {
        let n = self.spec.rows(obs, policy_out, values)?;
        let (p, v) = tch::no_grad(|| self.run(obs, n))?;
        download(&p, policy_out)?;
        download(&v, values)
    }

    fn forward(&mut self, obs: &[f32], policy_out: &mut [f32], values: &mut [f32]) -> Result<()> {
        let n = self.spec.rows(obs, policy_out, values)?;
        self.outputs = None;
        let (p, v) = self.run(obs, n)?;
        download(&p, policy_out)?;
        download(&v, values)?;
        self.outputs = Some((p, v));
        Ok(())
    }

    /// Backpropagates through the last forward pass; the pass is consumed (autograd frees its
    /// graph), so a second `backward` needs a new `forward`.
    fn backward(&mut self, d_policy: &[f32], d_values: &[f32], d_log_std: &[f32]) -> Result<()> {
        let (p, v) = self
            .outputs
            .as_ref()
            .ok_or_else(|| Error::InvalidArgument("backward before forward".to_owned()))?;
        let n = v.size().first().copied().unwrap_or(0) as usize;
        let pd = self.spec.head.policy_dim();
        let ld = self.spec.head.log_std_dim();
        if d_policy.len() != n * pd || d_values.len() != n || d_log_std.len() != ld {
            return Err(Error::Shape(format!(
                "gradients of {} policy outputs, {} values and {} log-std entries do not match \
                 the last forward pass ({n} rows of {pd}, {ld} log-std entries)",
                d_policy.len(),
                d_values.len(),
                d_log_std.len()
            )));
        }
        let dp = self.upload(d_policy, &[n, pd])?;
        let dv = self.upload(d_values, &[n])?;
        let mut loss = p.f_mul(&dp)?.f_sum(Kind::Float)? + v.f_mul(&dv)?.f_sum(Kind::Float)?;
        if let Some(ls) = &self.log_std {
            let dl = self.upload(d_log_std, &[ld])?;
            loss += ls.f_mul(&dl)?.f_sum(Kind::Float)?;
        }
        loss.f_backward()?;
        self.outputs = None;
        Ok(())
    }

    fn step(&mut self, lr: f32, max_grad_norm: Option<f32>) -> Result<f32> {
        crate::nn::net::check_step_args(lr, max_grad_norm)?;
        let grads: Vec<Tensor> = self
            .vs
            .trainable_variables()
            .iter()
            .map(Tensor::grad)
            .filter(Tensor::defined)
            .collect();
        let norm = tch::no_grad(|| -> Result<f32> {
            if grads.is_empty() {
                return Ok(0.0);
            }
            let norms = grads
                .iter()
                .map(|g| g.f_norm())
                .collect::<std::result::Result<Vec<_>, _>>()?;
            let total = Tensor::f_stack(&norms, 0)?.f_norm()?.f_double_value(&[])?;
            if let Some(max) = max_grad_norm {
                let coef = f64::from(max) / (total + 1e-6);
                if coef < 1.0 {
                    for g in &grads {
                        let mut g = g.shallow_clone();
                        let _ = g.f_mul_scalar_(coef)?;
                    }
                }
            }
            Ok(total as f32)
        })?;
        self.opt.set_lr(f64::from(lr));
        self.opt.step();
        self.opt.zero_grad();
        Ok(norm)
    }

    fn log_std(&self) -> Vec<f32> {
        self.log_std
            .as_ref()
            .and_then(|t| {
                let t = t.f_to_device(Device::Cpu).ok()?.f_detach().ok()?;
                Vec::<f32>::try_from(&t).ok()
            })
            .unwrap_or_default()
    }

    fn parameters(&self) -> Result<Vec<NamedTensor>> {
        let vars = self.vs.variables();
        self.layout
            .iter()
            .map(|(name, shape)| {
                let t = vars
                    .get(name)
                    .ok_or_else(|| Error::InvalidArgument(format!("no variable {name:?}")))?;
                let t = t.f_detach()?.f_to_device(Device::Cpu)?.f_flatten(0, -1)?;
                Ok(NamedTensor {
                    name: name.clone(),
                    shape: shape.clone(),
                    data: Vec::<f32>::try_from(&t)?,
                })
            })
            .collect()
    }

    /// Always empty: tch does not expose libtorch Adam's moment estimates.
    fn optimizer_state(&self) -> Result<Vec<NamedTensor>> {
        Ok(Vec::new())
    }

    /// Loads the parameters; `adam.*` tensors are accepted and ignored (see the module docs).
    fn load(&mut self, tensors: &[NamedTensor]) -> Result<()> {
        let params: Vec<&NamedTensor> = tensors
            .iter()
            .filter(|t| !t.name.starts_with("adam."))
            .collect();
        let store = ParamStore::new(&self.layout);
        let flat = store.gather("", &params)?;
        let vars = self.vs.variables();
        let mut uploads = Vec::with_capacity(store.entries().len());
        for e in store.entries() {
            let var = vars
                .get(&e.name)
                .ok_or_else(|| Error::InvalidArgument(format!("no variable {:?}", e.name)))?;
            let data = e.to_external(&flat[e.range.clone()]);
            uploads.push((var, self.upload(&data, &e.shape)?));
        }
        tch::no_grad(|| -> Result<()> {
            for (var, src) in uploads {
                let mut var = var.shallow_clone();
                var.f_copy_(&src)?;
            }
            Ok(())
        })?;
        self.outputs = None;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand_distr::{Distribution, StandardNormal};
    use tokengym::seeding::EnvRng;

    use super::*;
    use crate::nn::architecture::{Activation, Trunk};
    use crate::nn::net::AdamConfig;

    fn randn(rng: &mut EnvRng, n: usize) -> Vec<f32> {
        (0..n).map(|_| StandardNormal.sample(rng)).collect()
    }

    fn spec(activation: Activation, trunk: Trunk, head: ActionHead) -> NetSpec {
        NetSpec {
            obs_dim: 3,
            head,
            hidden: vec![6, 5],
            activation,
            trunk,
            log_std_init: 0.2,
            adam: AdamConfig::default(),
        }
    }

    fn assert_close(a: &[f32], b: &[f32], tol: f32, what: &str) {
        assert_eq!(a.len(), b.len(), "{what}");
        for (i, (x, y)) in a.iter().zip(b).enumerate() {
            assert!((x - y).abs() <= tol, "{what}[{i}]: {x} vs {y}");
        }
    }

    fn run(net: &mut dyn PolicyValueNet, obs: &[f32], train: bool) -> (Vec<f32>, Vec<f32>) {
        let n = obs.len() / net.spec().obs_dim;
        let mut p = vec![0.0; n * net.spec().head.policy_dim()];
        let mut v = vec![0.0; n];
        if train {
            net.forward(obs, &mut p, &mut v).unwrap();
        } else {
            net.infer(obs, &mut p, &mut v).unwrap();
        }
        (p, v)
    }

    #[test]
    fn native_and_tch_agree_on_outputs_and_updates() {
        let mut rng = EnvRng::seed_from_u64(3);
        for s in [
            spec(
                Activation::Tanh,
                Trunk::Separate,
                ActionHead::Categorical { n: 2 },
            ),
            spec(
                Activation::Relu,
                Trunk::Shared,
                ActionHead::Gaussian { dim: 2 },
            ),
            spec(
                Activation::Tanh,
                Trunk::Shared,
                ActionHead::Categorical { n: 3 },
            ),
        ] {
            let mut native = NativeActorCritic::new(&s, 11).unwrap();
            let mut torch = TchActorCritic::new(&s, Device::Cpu, 0).unwrap();
            let mut state = native.parameters().unwrap();
            state.extend(native.optimizer_state().unwrap());
            torch.load(&state).unwrap();
            assert_eq!(torch.parameters().unwrap(), native.parameters().unwrap());
            let obs = randn(&mut rng, 7 * s.obs_dim);
            let (np, nv) = run(&mut native, &obs, false);
            let (tp, tv) = run(&mut torch, &obs, false);
            assert_close(&np, &tp, 1e-5, "policy");
            assert_close(&nv, &tv, 1e-5, "values");
            for step in 0..3 {
                let (np, nv) = run(&mut native, &obs, true);
                let (tp, tv) = run(&mut torch, &obs, true);
                assert_close(&np, &tp, 1e-5, "train policy");
                assert_close(&nv, &tv, 1e-5, "train values");
                let dp = randn(&mut rng, np.len());
                let dv = randn(&mut rng, nv.len());
                let dl = randn(&mut rng, s.head.log_std_dim());
                native.backward(&dp, &dv, &dl).unwrap();
                torch.backward(&dp, &dv, &dl).unwrap();
                // A small max norm: clipping is active.
                let n1 = native.step(1e-2, Some(0.1)).unwrap();
                let n2 = torch.step(1e-2, Some(0.1)).unwrap();
                assert!(n1 > 0.1, "clipping should be active, norm {n1}");
                assert!(
                    (n1 - n2).abs() <= 1e-4 * n1,
                    "step {step}: norms {n1} vs {n2}"
                );
                for (a, b) in native
                    .parameters()
                    .unwrap()
                    .iter()
                    .zip(torch.parameters().unwrap())
                {
                    assert_eq!(a.name, b.name);
                    assert_close(&a.data, &b.data, 1e-5, &format!("step {step} {}", a.name));
                }
                assert_close(&native.log_std(), &torch.log_std(), 1e-5, "log_std");
            }
        }
    }

    #[test]
    fn tch_checks_shapes_and_checkpoints() {
        let s = spec(
            Activation::Tanh,
            Trunk::Separate,
            ActionHead::Gaussian { dim: 2 },
        );
        let mut net = TchActorCritic::new(&s, Device::Cpu, 1).unwrap();
        let again = TchActorCritic::new(&s, Device::Cpu, 1).unwrap();
        assert_eq!(net.parameters().unwrap(), again.parameters().unwrap());
        let native = NativeActorCritic::new(&s, 1).unwrap();
        assert_eq!(net.parameters().unwrap(), native.parameters().unwrap());
        assert!(net.optimizer_state().unwrap().is_empty());
        let obs = [0.5f32; 6];
        let (mut p, mut v) = (vec![0.0f32; 4], vec![0.0f32; 2]);
        assert!(matches!(
            net.infer(&obs[..4], &mut p, &mut v),
            Err(Error::Shape(_))
        ));
        assert!(matches!(
            net.forward(&obs, &mut p[..1], &mut v),
            Err(Error::Shape(_))
        ));
        assert!(net.backward(&p, &v, &[0.0, 0.0]).is_err());
        net.forward(&obs, &mut p, &mut v).unwrap();
        assert!(matches!(net.backward(&p, &v, &[0.0]), Err(Error::Shape(_))));
        net.backward(&p, &v, &[1.0, 1.0]).unwrap();
        assert!(net.step(1e-3, None).unwrap() > 0.0);

        let before = net.parameters().unwrap();
        let mut bad = before.clone();
        bad[0].shape = vec![1, 1];
        assert!(net.load(&bad).is_err());
        let mut missing = before.clone();
        missing.pop();
        assert!(net.load(&missing).is_err());
        let mut unknown = before.clone();
        unknown.push(NamedTensor {
            name: "extra".into(),
            shape: vec![1],
            data: vec![0.0],
        });
        assert!(net.load(&unknown).is_err());
        assert_eq!(net.parameters().unwrap(), before);
        let mut other = TchActorCritic::new(&s, Device::Cpu, 2).unwrap();
        other.load(&before).unwrap();
        assert_eq!(run(&mut other, &obs, false), run(&mut net, &obs, false));
    }
}
