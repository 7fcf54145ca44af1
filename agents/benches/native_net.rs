//! Time per PPO minibatch update (forward + backward + clipped Adam step, batch 256) and per
//! inference call (8 rows) of the CartPole actor-critic (4-64-64-{2,1}, tanh, separate MLPs),
//! native backend against the tch backend (CPU, and CUDA when available), in the same run.
//!
//! Run with `cargo bench -p tokengym-agents --bench native_net` (single-threaded torch: set
//! `OMP_NUM_THREADS=1` for a one-thread comparison).

use std::hint::black_box;
use std::time::Instant;

use tokengym::seeding::EnvRng;
use tokengym_agents::error::Result;
use tokengym_agents::nn::{
    ActionHead, Activation, AdamConfig, NativeActorCritic, NetSpec, PolicyValueNet, TchActorCritic,
    Trunk,
};

use rand::SeedableRng;
use rand_distr::{Distribution, StandardNormal};

fn randn(rng: &mut EnvRng, n: usize) -> Vec<f32> {
    (0..n).map(|_| StandardNormal.sample(rng)).collect()
}

/// Microseconds per minibatch update.
fn update_us(net: &mut dyn PolicyValueNet, batch: usize, iters: usize) -> Result<f64> {
    let spec = net.spec().clone();
    let mut rng = EnvRng::seed_from_u64(0);
    let obs = randn(&mut rng, batch * spec.obs_dim);
    let dp: Vec<f32> = randn(&mut rng, batch * spec.head.policy_dim())
        .iter()
        .map(|x| x / batch as f32)
        .collect();
    let dv: Vec<f32> = randn(&mut rng, batch)
        .iter()
        .map(|x| x / batch as f32)
        .collect();
    let mut p = vec![0.0; dp.len()];
    let mut v = vec![0.0; batch];
    let mut once = |net: &mut dyn PolicyValueNet| -> Result<()> {
        net.forward(black_box(&obs), &mut p, &mut v)?;
        net.backward(black_box(&dp), black_box(&dv), &[])?;
        black_box(net.step(3e-4, Some(0.5))?);
        Ok(())
    };
    for _ in 0..iters / 10 + 1 {
        once(net)?;
    }
    let t = Instant::now();
    for _ in 0..iters {
        once(net)?;
    }
    Ok(t.elapsed().as_secs_f64() * 1e6 / iters as f64)
}

/// Microseconds per inference call.
fn infer_us(net: &mut dyn PolicyValueNet, rows: usize, iters: usize) -> Result<f64> {
    let spec = net.spec().clone();
    let mut rng = EnvRng::seed_from_u64(1);
    let obs = randn(&mut rng, rows * spec.obs_dim);
    let mut p = vec![0.0; rows * spec.head.policy_dim()];
    let mut v = vec![0.0; rows];
    for _ in 0..iters / 10 + 1 {
        net.infer(&obs, &mut p, &mut v)?;
    }
    let t = Instant::now();
    for _ in 0..iters {
        net.infer(black_box(&obs), &mut p, &mut v)?;
        black_box(&p);
    }
    Ok(t.elapsed().as_secs_f64() * 1e6 / iters as f64)
}

fn main() -> Result<()> {
    let spec = NetSpec {
        obs_dim: 4,
        head: ActionHead::Categorical { n: 2 },
        hidden: vec![64, 64],
        activation: Activation::Tanh,
        trunk: Trunk::Separate,
        log_std_init: 0.0,
        adam: AdamConfig::default(),
    };
    let quick = std::env::args().any(|a| a == "--quick");
    let scale = if quick { 10 } else { 1 };
    println!(
        "CartPole actor-critic 4-64-64-{{2,1}} tanh; update = forward+backward+Adam (batch 256)"
    );
    println!("torch threads: {}", tch::get_num_threads());
    let mut native = NativeActorCritic::new(&spec, 0)?;
    let nu = update_us(&mut native, 256, 5000 / scale)?;
    let ni = infer_us(&mut native, 8, 200_000 / scale)?;
    println!("native      update {nu:9.1} us   infer(8) {ni:8.2} us");
    let mut torch = TchActorCritic::new(&spec, tch::Device::Cpu, 0)?;
    let tu = update_us(&mut torch, 256, 1000 / scale)?;
    let ti = infer_us(&mut torch, 8, 20_000 / scale)?;
    println!("tch (cpu)   update {tu:9.1} us   infer(8) {ti:8.2} us");
    println!(
        "speed-up    update {:9.1} x   infer(8) {:8.1} x",
        tu / nu,
        ti / ni
    );
    if tch::Cuda::is_available() {
        let mut cuda = TchActorCritic::new(&spec, tch::Device::Cuda(0), 0)?;
        let cu = update_us(&mut cuda, 256, 1000 / scale)?;
        let ci = infer_us(&mut cuda, 8, 20_000 / scale)?;
        println!("tch (cuda)  update {cu:9.1} us   infer(8) {ci:8.2} us");
    }
    Ok(())
}
