//! The CUDA path of the agents, checked where a GPU exists.
//!
//! On a machine without a usable GPU these tests check that asking for CUDA is a clear error
//! (never a silent CPU fallback). With `TOKENGYM_REQUIRE_CUDA=1` in the environment a missing
//! GPU is a failure instead, so a GPU machine cannot pass them by accident.

use tch::{Cuda, Device};
use tokengym::{Agent, Budget};
use tokengym_agents::common::Schedule;
use tokengym_agents::error::Error;
use tokengym_agents::nn::{ActionHead, AdamConfig, NetSpec, PolicyValueNet};
use tokengym_agents::nn::{Activation, Trunk};
use tokengym_agents::nn::{Backend, NetConfig};
use tokengym_agents::nn::{DeviceChoice, NativeActorCritic, TchActorCritic, cuda_linked};
use tokengym_agents::ppo::{Ppo, PpoConfig};

fn cuda_required() -> bool {
    std::env::var_os("TOKENGYM_REQUIRE_CUDA").is_some_and(|v| v != "0")
}

/// `true` when a GPU is usable; otherwise checks the error path and returns `false`.
fn gpu_or_error_path() -> bool {
    if Cuda::is_available() {
        return true;
    }
    assert!(
        !cuda_required(),
        "TOKENGYM_REQUIRE_CUDA is set but CUDA is not usable (libtorch_cuda linked: {}, \
         devices: {})",
        cuda_linked(),
        Cuda::device_count()
    );
    let e = DeviceChoice::Cuda.resolve().unwrap_err();
    assert!(matches!(e, Error::CudaUnavailable(_)), "{e}");
    let config = PpoConfig {
        net: NetConfig {
            backend: Backend::Tch,
            ..NetConfig::default()
        },
        ..PpoConfig::default()
    };
    let e = Ppo::new(
        "CartPole-v1",
        &Default::default(),
        config,
        0,
        DeviceChoice::Cuda,
    )
    .unwrap_err();
    assert!(e.to_string().contains("CUDA"), "{e}");
    false
}

#[test]
fn tch_network_on_cuda_matches_the_native_one() {
    if !gpu_or_error_path() {
        return;
    }
    assert!(cuda_linked());
    let spec = NetSpec {
        obs_dim: 4,
        head: ActionHead::Gaussian { dim: 2 },
        hidden: vec![64, 64],
        activation: Activation::Tanh,
        trunk: Trunk::Separate,
        log_std_init: -0.5,
        adam: AdamConfig::default(),
    };
    let mut native = NativeActorCritic::new(&spec, 3).unwrap();
    let mut gpu = TchActorCritic::new(&spec, Device::Cuda(0), 3).unwrap();
    assert_eq!(gpu.device(), Device::Cuda(0));
    gpu.load(&native.parameters().unwrap()).unwrap();
    let n = 32;
    let obs: Vec<f32> = (0..n * 4)
        .map(|i| ((i * 13 % 29) as f32 - 14.0) / 7.0)
        .collect();
    let (mut p1, mut v1) = (vec![0.0; n * 2], vec![0.0; n]);
    let (mut p2, mut v2) = (vec![0.0; n * 2], vec![0.0; n]);
    for _ in 0..3 {
        native.forward(&obs, &mut p1, &mut v1).unwrap();
        gpu.forward(&obs, &mut p2, &mut v2).unwrap();
        for (a, b) in p1.iter().zip(&p2).chain(v1.iter().zip(&v2)) {
            assert!((a - b).abs() < 1e-4, "outputs differ: {a} vs {b}");
        }
        let d_policy: Vec<f32> = p1.iter().map(|x| 0.1 * x + 0.01).collect();
        let d_values: Vec<f32> = v1.iter().map(|x| x - 0.5).collect();
        native.backward(&d_policy, &d_values, &[0.2, -0.1]).unwrap();
        gpu.backward(&d_policy, &d_values, &[0.2, -0.1]).unwrap();
        let g1 = native.step(1e-3, Some(0.5)).unwrap();
        let g2 = gpu.step(1e-3, Some(0.5)).unwrap();
        assert!(
            (g1 - g2).abs() < 1e-3 * g1.max(1.0),
            "grad norms {g1} vs {g2}"
        );
    }
    for (a, b) in native
        .parameters()
        .unwrap()
        .iter()
        .zip(gpu.parameters().unwrap().iter())
    {
        assert_eq!(a.name, b.name);
        for (x, y) in a.data.iter().zip(&b.data) {
            assert!((x - y).abs() < 1e-4, "{}: {x} vs {y}", a.name);
        }
    }
}

#[test]
fn ppo_trains_on_cuda() {
    if !gpu_or_error_path() {
        return;
    }
    let config = PpoConfig {
        num_envs: 8,
        n_steps: 32,
        batch_size: 256,
        n_epochs: 20,
        gamma: 0.98,
        gae_lambda: 0.8,
        learning_rate: 1e-3,
        lr_schedule: Schedule::Linear,
        clip_schedule: Schedule::Linear,
        net: NetConfig {
            backend: Backend::Tch,
            ..NetConfig::default()
        },
        ..PpoConfig::default()
    };
    let mut ppo = Ppo::new(
        "CartPole-v1",
        &Default::default(),
        config,
        1,
        DeviceChoice::Cuda,
    )
    .unwrap();
    ppo.learn(Budget::Steps(25_000), &mut ()).unwrap();
    let eval = ppo.evaluate(10, 1000).unwrap();
    let mean = eval.returns.iter().sum::<f64>() / eval.returns.len() as f64;
    assert!(mean > 150.0, "PPO on CUDA did not learn: {mean}");
}
