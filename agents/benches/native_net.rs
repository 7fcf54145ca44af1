//! Time per PPO minibatch update (forward + backward + clipped Adam step, batch 256) and per
//! inference call (8 rows) of the CartPole actor-critic (4-64-64-{2,1}, tanh, separate MLPs),
//! native backend against the tch backend (CPU, and CUDA when available), in the same run.
//!
//! Run with `cargo bench -p tokengym-agents --bench native_net` (`-- --quick` for a tenth of
//! the iterations). libtorch runs on one thread. Each line gives wall-clock time and on-CPU
//! time of the benchmarking thread (which excludes waiting for a core on a busy machine).

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

/// Nanoseconds this thread has run on a CPU (Linux `/proc/thread-self/schedstat`), so that
/// timings on a shared, overloaded machine exclude the time the thread waited for a core.
fn thread_cpu_ns() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    s.split_whitespace().next()?.parse().ok()
}

/// Wall-clock and on-CPU microseconds per call of `f` (the latter `NaN` where unavailable),
/// over `iters` calls after a warm-up.
fn time_us(iters: usize, mut f: impl FnMut() -> Result<()>) -> Result<(f64, f64)> {
    for _ in 0..iters / 10 + 1 {
        f()?;
    }
    let cpu0 = thread_cpu_ns();
    let t = Instant::now();
    for _ in 0..iters {
        f()?;
    }
    let wall = t.elapsed().as_secs_f64() * 1e6 / iters as f64;
    let cpu = match (cpu0, thread_cpu_ns()) {
        (Some(a), Some(b)) => (b - a) as f64 / 1e3 / iters as f64,
        _ => f64::NAN,
    };
    Ok((wall, cpu))
}

/// Microseconds (wall, on-CPU) per minibatch update.
fn update_us(net: &mut dyn PolicyValueNet, batch: usize, iters: usize) -> Result<(f64, f64)> {
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
    time_us(iters, || {
        net.forward(black_box(&obs), &mut p, &mut v)?;
        net.backward(black_box(&dp), black_box(&dv), &[])?;
        black_box(net.step(3e-4, Some(0.5))?);
        Ok(())
    })
}

/// Microseconds (wall, on-CPU) per inference call.
fn infer_us(net: &mut dyn PolicyValueNet, rows: usize, iters: usize) -> Result<(f64, f64)> {
    let spec = net.spec().clone();
    let mut rng = EnvRng::seed_from_u64(1);
    let obs = randn(&mut rng, rows * spec.obs_dim);
    let mut p = vec![0.0; rows * spec.head.policy_dim()];
    let mut v = vec![0.0; rows];
    time_us(iters, || {
        net.infer(black_box(&obs), &mut p, &mut v)?;
        black_box(&p);
        Ok(())
    })
}

fn report(name: &str, update: (f64, f64), infer: (f64, f64)) {
    println!(
        "{name:<11} update {:9.1} us (cpu {:8.1})   infer(8) {:8.2} us (cpu {:7.2})",
        update.0, update.1, infer.0, infer.1
    );
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
    // One thread for libtorch, as in the Stable-Baselines3 reference run; the on-CPU time of
    // this thread is then all the work.
    tch::set_num_threads(1);
    println!("torch threads: {}", tch::get_num_threads());
    let mut native = NativeActorCritic::new(&spec, 0)?;
    let nu = update_us(&mut native, 256, 5000 / scale)?;
    let ni = infer_us(&mut native, 8, 200_000 / scale)?;
    report("native", nu, ni);
    let mut torch = TchActorCritic::new(&spec, tch::Device::Cpu, 0)?;
    let tu = update_us(&mut torch, 256, 1000 / scale)?;
    let ti = infer_us(&mut torch, 8, 20_000 / scale)?;
    report("tch (cpu)", tu, ti);
    println!(
        "speed-up    update {:9.1} x  (cpu {:6.1} x)   infer(8) {:8.1} x  (cpu {:6.1} x)",
        tu.0 / nu.0,
        tu.1 / nu.1,
        ti.0 / ni.0,
        ti.1 / ni.1
    );
    if tch::Cuda::is_available() {
        let mut cuda = TchActorCritic::new(&spec, tch::Device::Cuda(0), 0)?;
        let cu = update_us(&mut cuda, 256, 1000 / scale)?;
        let ci = infer_us(&mut cuda, 8, 20_000 / scale)?;
        report("tch (cuda)", cu, ci);
    }
    Ok(())
}
