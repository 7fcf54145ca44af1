//! Tests of [`NativeActorCritic`](super::NativeActorCritic): gradients against finite
//! differences, checkpoints, shape errors, seeding.

use rand::SeedableRng;
use rand_distr::{Distribution, StandardNormal};
use tokengym::seeding::EnvRng;

use super::*;
use crate::nn::architecture::Activation;
use crate::nn::net::{ActionHead, AdamConfig};

pub(crate) fn small_spec(activation: Activation, trunk: Trunk, head: ActionHead) -> NetSpec {
    NetSpec {
        obs_dim: 3,
        head,
        hidden: vec![5, 4],
        activation,
        trunk,
        log_std_init: -0.3,
        adam: AdamConfig::default(),
    }
}

pub(crate) fn all_specs() -> Vec<NetSpec> {
    let mut out = Vec::new();
    for activation in [Activation::Tanh, Activation::Relu] {
        for trunk in [Trunk::Separate, Trunk::Shared] {
            for head in [
                ActionHead::Categorical { n: 3 },
                ActionHead::Gaussian { dim: 2 },
            ] {
                out.push(small_spec(activation, trunk, head));
            }
        }
    }
    out
}

pub(crate) fn randn(rng: &mut EnvRng, n: usize) -> Vec<f32> {
    (0..n).map(|_| StandardNormal.sample(rng)).collect()
}

/// `sum(a_p * policy) + sum(a_v * values) + sum(a_l * log_std)` in f64, via `infer`.
fn functional(net: &mut NativeActorCritic, obs: &[f32], a: &(Vec<f32>, Vec<f32>, Vec<f32>)) -> f64 {
    let n = obs.len() / net.spec.obs_dim;
    let mut p = vec![0.0; n * net.spec.head.policy_dim()];
    let mut v = vec![0.0; n];
    net.infer(obs, &mut p, &mut v).unwrap();
    let dot = |x: &[f32], y: &[f32]| -> f64 {
        x.iter()
            .zip(y)
            .map(|(&x, &y)| f64::from(x) * f64::from(y))
            .sum()
    };
    dot(&p, &a.0) + dot(&v, &a.1) + dot(&net.log_std(), &a.2)
}

#[test]
fn backward_matches_finite_differences() {
    let mut rng = EnvRng::seed_from_u64(42);
    for spec in all_specs() {
        let mut net = NativeActorCritic::new(&spec, 5).unwrap();
        // Larger head weights than the 0.01-gain initialisation so every layer's gradient is
        // well above the finite-difference noise.
        for e in net.params.entries().to_vec() {
            for (x, r) in net.params.values[e.range.clone()]
                .iter_mut()
                .zip(randn(&mut rng, e.range.len()))
            {
                *x = 0.6 * r;
            }
        }
        let n = 4;
        let obs = randn(&mut rng, n * spec.obs_dim);
        let a = (
            randn(&mut rng, n * spec.head.policy_dim()),
            randn(&mut rng, n),
            randn(&mut rng, spec.head.log_std_dim()),
        );
        let mut p = vec![0.0; a.0.len()];
        let mut v = vec![0.0; n];
        net.forward(&obs, &mut p, &mut v).unwrap();
        net.backward(&a.0, &a.1, &a.2).unwrap();
        let analytic = net.params.grads.clone();
        let scale = analytic.iter().fold(0.0f32, |m, g| m.max(g.abs()));
        assert!(scale > 0.1, "{spec:?}: gradient scale {scale}");
        let h = 1e-3f32;
        for (i, &ana) in analytic.iter().enumerate() {
            let orig = net.params.values[i];
            net.params.values[i] = orig + h;
            let up = functional(&mut net, &obs, &a);
            net.params.values[i] = orig - h;
            let down = functional(&mut net, &obs, &a);
            net.params.values[i] = orig;
            let numeric = (up - down) / (2.0 * f64::from(h));
            let ana = f64::from(ana);
            let tol = 1e-2 * ana.abs() + 2e-3 * f64::from(scale);
            assert!(
                (numeric - ana).abs() <= tol,
                "{spec:?}: parameter {i} ({:?}): analytic {ana}, numeric {numeric}",
                net.params
                    .entries()
                    .iter()
                    .find(|e| e.range.contains(&i))
                    .map(|e| e.name.clone())
            );
        }
    }
}

#[test]
fn same_seed_same_parameters_and_orthogonal_layers() {
    let spec = small_spec(
        Activation::Tanh,
        Trunk::Separate,
        ActionHead::Gaussian { dim: 2 },
    );
    let a = NativeActorCritic::new(&spec, 1).unwrap();
    let b = NativeActorCritic::new(&spec, 1).unwrap();
    let c = NativeActorCritic::new(&spec, 2).unwrap();
    assert_eq!(a.parameters().unwrap(), b.parameters().unwrap());
    assert_ne!(a.parameters().unwrap(), c.parameters().unwrap());
    assert_eq!(a.log_std(), vec![-0.3, -0.3]);

    let mut square = spec.clone();
    square.obs_dim = 6;
    square.hidden = vec![6, 6];
    let net = NativeActorCritic::new(&square, 3).unwrap();
    let params = net.parameters().unwrap();
    let w = params.iter().find(|t| t.name == "critic.1.weight").unwrap();
    assert_eq!(w.shape, vec![6, 6]);
    for i in 0..6 {
        for j in 0..6 {
            let dot: f32 = (0..6).map(|k| w.data[i * 6 + k] * w.data[j * 6 + k]).sum();
            let expect = if i == j { 2.0 } else { 0.0 };
            assert!((dot - expect).abs() < 1e-5, "W W^T [{i},{j}] = {dot}");
        }
    }
    let head = params.iter().find(|t| t.name == "actor.2.weight").unwrap();
    let norm: f32 = head.data[..6].iter().map(|x| x * x).sum::<f32>().sqrt();
    assert!((norm - 0.01).abs() < 1e-6, "policy head row norm {norm}");
    for t in params.iter().filter(|t| t.name.ends_with("bias")) {
        assert!(t.data.iter().all(|&x| x == 0.0), "{}", t.name);
    }
}

fn train_step(net: &mut NativeActorCritic, obs: &[f32], rng: &mut EnvRng) -> f32 {
    let spec = net.spec().clone();
    let n = obs.len() / spec.obs_dim;
    let mut p = vec![0.0; n * spec.head.policy_dim()];
    let mut v = vec![0.0; n];
    net.forward(obs, &mut p, &mut v).unwrap();
    let dp = randn(rng, p.len());
    let dv = randn(rng, n);
    let dl = randn(rng, spec.head.log_std_dim());
    net.backward(&dp, &dv, &dl).unwrap();
    net.step(1e-2, Some(0.5)).unwrap()
}

fn outputs(net: &mut NativeActorCritic, obs: &[f32]) -> (Vec<f32>, Vec<f32>) {
    let n = obs.len() / net.spec().obs_dim;
    let mut p = vec![0.0; n * net.spec().head.policy_dim()];
    let mut v = vec![0.0; n];
    net.infer(obs, &mut p, &mut v).unwrap();
    (p, v)
}

#[test]
fn checkpoint_round_trip_restores_outputs_and_optimizer() {
    let spec = small_spec(
        Activation::Relu,
        Trunk::Shared,
        ActionHead::Gaussian { dim: 2 },
    );
    let mut rng = EnvRng::seed_from_u64(0);
    let obs = randn(&mut rng, 5 * spec.obs_dim);
    let mut a = NativeActorCritic::new(&spec, 1).unwrap();
    for _ in 0..3 {
        train_step(&mut a, &obs, &mut rng);
    }
    let mut saved = a.parameters().unwrap();
    saved.extend(a.optimizer_state().unwrap());
    let mut b = NativeActorCritic::new(&spec, 99).unwrap();
    assert_ne!(outputs(&mut a, &obs), outputs(&mut b, &obs));
    b.load(&saved).unwrap();
    assert_eq!(outputs(&mut a, &obs), outputs(&mut b, &obs));
    assert_eq!(b.adam.step, 3);
    // Identical optimiser state: the next step is identical too.
    let mut r1 = EnvRng::seed_from_u64(7);
    let mut r2 = EnvRng::seed_from_u64(7);
    assert_eq!(
        train_step(&mut a, &obs, &mut r1),
        train_step(&mut b, &obs, &mut r2)
    );
    assert_eq!(a.parameters().unwrap(), b.parameters().unwrap());
    // Parameters alone keep the optimiser state.
    let mut c = NativeActorCritic::new(&spec, 5).unwrap();
    c.load(&a.parameters().unwrap()).unwrap();
    assert_eq!(c.adam.step, 0);
}

#[test]
fn bad_checkpoints_are_rejected_and_leave_the_net_unchanged() {
    let spec = small_spec(
        Activation::Tanh,
        Trunk::Separate,
        ActionHead::Categorical { n: 3 },
    );
    let good = NativeActorCritic::new(&spec, 1).unwrap();
    let mut state = good.parameters().unwrap();
    state.extend(good.optimizer_state().unwrap());
    let mut net = NativeActorCritic::new(&spec, 2).unwrap();
    let before = (net.parameters().unwrap(), net.optimizer_state().unwrap());
    let mut cases = Vec::new();
    let mut wrong_shape = state.clone();
    wrong_shape[0].shape = vec![3, 5];
    cases.push(wrong_shape);
    let mut short = state.clone();
    short[1].data.pop();
    cases.push(short);
    let mut missing = state.clone();
    missing.remove(2);
    cases.push(missing);
    let mut unknown = state.clone();
    unknown.push(NamedTensor {
        name: "actor.9.weight".into(),
        shape: vec![1],
        data: vec![0.0],
    });
    cases.push(unknown);
    let mut no_step = state.clone();
    no_step.retain(|t| t.name != "adam.step");
    cases.push(no_step);
    let mut half_adam = state.clone();
    half_adam.retain(|t| !t.name.starts_with("adam.v."));
    cases.push(half_adam);
    let mut bad_step = state.clone();
    if let Some(t) = bad_step.iter_mut().find(|t| t.name == "adam.step") {
        t.data = vec![1.5];
    }
    cases.push(bad_step);
    for (i, case) in cases.iter().enumerate() {
        assert!(net.load(case).is_err(), "case {i} loaded");
        assert_eq!(
            (net.parameters().unwrap(), net.optimizer_state().unwrap()),
            before,
            "case {i} changed the net"
        );
    }
    net.load(&state).unwrap();
    assert_eq!(net.parameters().unwrap(), good.parameters().unwrap());
}

#[test]
fn buffer_mismatches_are_shape_errors() {
    let spec = small_spec(
        Activation::Tanh,
        Trunk::Shared,
        ActionHead::Gaussian { dim: 2 },
    );
    let mut net = NativeActorCritic::new(&spec, 1).unwrap();
    let obs = [0.1f32; 6];
    let (mut p, mut v) = (vec![0.0f32; 4], vec![0.0f32; 2]);
    assert!(matches!(
        net.backward(&p, &v, &[0.0, 0.0]),
        Err(Error::InvalidArgument(_))
    ));
    assert!(matches!(
        net.infer(&obs[..5], &mut p, &mut v),
        Err(Error::Shape(_))
    ));
    assert!(matches!(
        net.infer(&obs, &mut p[..3], &mut v),
        Err(Error::Shape(_))
    ));
    assert!(matches!(
        net.forward(&obs, &mut p, &mut v[..1]),
        Err(Error::Shape(_))
    ));
    net.forward(&obs, &mut p, &mut v).unwrap();
    assert!(matches!(
        net.backward(&p[..2], &v, &[0.0, 0.0]),
        Err(Error::Shape(_))
    ));
    assert!(matches!(
        net.backward(&p, &v[..1], &[0.0, 0.0]),
        Err(Error::Shape(_))
    ));
    assert!(matches!(net.backward(&p, &v, &[0.0]), Err(Error::Shape(_))));
    assert!(net.step(f32::NAN, None).is_err());
    assert!(net.step(1e-3, Some(0.0)).is_err());
    // Zero rows are fine.
    net.infer(&[], &mut [], &mut []).unwrap();
    // A batch larger than any before grows the buffers.
    let big = vec![0.2f32; 300 * 3];
    let (mut p, mut v) = (vec![0.0f32; 600], vec![0.0f32; 300]);
    net.forward(&big, &mut p, &mut v).unwrap();
    net.backward(&p, &v, &[0.0, 0.0]).unwrap();
    assert!(net.step(1e-3, None).unwrap().is_finite());
}
