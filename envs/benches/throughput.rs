//! Environment throughput: steps per second of every built-in environment, raw and through
//! `make`, and of 8 CartPoles in the vector environments.
//!
//! ```text
//! cargo bench -p tokengym-envs --bench throughput [-- --seconds 2] [--json] [FILTER]
//! ```
//!
//! Every loop samples a random action from the action space and resets when an episode ends,
//! as `benches/compare_gymnasium.py` does on the Gymnasium side; that script runs this bench and
//! prints the ratios. With `--json` the results are also printed as one JSON line.

use rand::{RngExt, SeedableRng};
use std::collections::BTreeMap;
use std::hint::black_box;
use std::time::{Duration, Instant};
use tokengym::space::{AnySpace, Space, Value};
use tokengym::vector::{ParallelVecEnv, SyncVecEnv, VecEnv};
use tokengym::wrappers::TimeLimit;
use tokengym::{ActOf, Env, EnvRng};
use tokengym_envs::classic_control::{
    Acrobot, CartPole, ContinuousMountainCar, MountainCar, Pendulum,
};

/// Runs `chunk` (which performs `per_chunk` env-steps) until `seconds` have passed; steps/s.
fn measure(seconds: f64, per_chunk: u64, mut chunk: impl FnMut()) -> f64 {
    chunk(); // warm-up
    let budget = Duration::from_secs_f64(seconds);
    let start = Instant::now();
    let mut steps = 0u64;
    while start.elapsed() < budget {
        chunk();
        steps += per_chunk;
    }
    steps as f64 / start.elapsed().as_secs_f64()
}

/// A typed environment with random actions (Gymnasium's `env.unwrapped` loop).
fn raw<E: Env>(mut env: E, seconds: f64) -> f64 {
    let mut rng = EnvRng::seed_from_u64(0);
    env.reset(Some(0)).expect("reset");
    let space = env.action_space().clone();
    measure(seconds, 1000, || {
        for _ in 0..1000 {
            let action: ActOf<E> = space.sample(&mut rng);
            let step = env.step(&action).expect("step");
            if step.done() {
                env.reset(None).expect("reset");
            }
            black_box(&step.obs);
        }
    })
}

/// Fills `action` with a random member of `space` without allocating.
fn sample_into(space: &AnySpace, rng: &mut EnvRng, action: &mut Value) {
    match (space, action) {
        (AnySpace::Discrete(d), Value::Discrete(a)) => *a = d.sample(rng),
        (AnySpace::BoxF32(b), Value::BoxF32(a)) => {
            for ((x, &l), &h) in a.iter_mut().zip(b.low()).zip(b.high()) {
                *x = rng.random_range(l..=h);
            }
        }
        (space, action) => *action = space.sample(rng),
    }
}

/// An environment from `make` (default wrappers, type-erased), stepped through `step_flat`.
fn made(id: &str, seconds: f64) -> f64 {
    let mut env = tokengym_envs::make(id).expect("make");
    let mut rng = EnvRng::seed_from_u64(0);
    let mut obs = vec![0.0f32; env.observation_space().flatdim()];
    env.reset_flat(Some(0), &mut obs).expect("reset");
    let space = env.action_space().clone();
    let mut action = space.sample(&mut rng);
    measure(seconds, 1000, || {
        for _ in 0..1000 {
            sample_into(&space, &mut rng, &mut action);
            let t = env.step_flat(&action, &mut obs).expect("step");
            if t.done() {
                env.reset_flat(None, &mut obs).expect("reset");
            }
            black_box(&obs);
        }
    })
}

/// Steps a vector environment with random Discrete(2) actions.
fn vector<V: VecEnv>(
    mut envs: V,
    seconds: f64,
    to_action: fn(i64) -> tokengym::vector::VecActOf<V>,
) -> f64 {
    let n = envs.num_envs();
    let mut rng = EnvRng::seed_from_u64(0);
    envs.reset(Some(0)).expect("reset");
    let mut actions: Vec<_> = (0..n).map(|_| to_action(0)).collect();
    measure(seconds, 200 * n as u64, || {
        for _ in 0..200 {
            for a in actions.iter_mut() {
                *a = to_action(rng.random_range(0..2));
            }
            black_box(envs.step(&actions).expect("step"));
        }
    })
}

fn cartpole_500() -> TimeLimit<CartPole> {
    TimeLimit::new(CartPole::new(), 500).expect("a positive limit")
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut seconds = 1.0;
    let mut json = false;
    let mut filter = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--seconds" => {
                seconds = it
                    .next()
                    .and_then(|s| s.parse().ok())
                    .unwrap_or_else(|| die("--seconds needs a number"));
            }
            "--json" => json = true,
            "--bench" => {}
            s if s.starts_with("--") => die(&format!("unknown option {s}")),
            s => filter = Some(s.to_string()),
        }
    }

    type Bench = Box<dyn Fn(f64) -> f64>;
    let benches: Vec<(&str, Bench)> = vec![
        ("CartPole-v1 raw", Box::new(|s| raw(CartPole::new(), s))),
        ("CartPole-v1 make", Box::new(|s| made("CartPole-v1", s))),
        (
            "MountainCar-v0 raw",
            Box::new(|s| raw(MountainCar::new(), s)),
        ),
        (
            "MountainCar-v0 make",
            Box::new(|s| made("MountainCar-v0", s)),
        ),
        (
            "MountainCarContinuous-v0 raw",
            Box::new(|s| raw(ContinuousMountainCar::new(), s)),
        ),
        (
            "MountainCarContinuous-v0 make",
            Box::new(|s| made("MountainCarContinuous-v0", s)),
        ),
        ("Acrobot-v1 raw", Box::new(|s| raw(Acrobot::new(), s))),
        ("Acrobot-v1 make", Box::new(|s| made("Acrobot-v1", s))),
        ("Pendulum-v1 raw", Box::new(|s| raw(Pendulum::new(), s))),
        ("Pendulum-v1 make", Box::new(|s| made("Pendulum-v1", s))),
        (
            "CartPole-v1 x8 sync",
            Box::new(|s| {
                let envs = SyncVecEnv::from_fn(8, |_| Ok(cartpole_500())).expect("vec env");
                vector(envs, s, |a| a)
            }),
        ),
        (
            "CartPole-v1 x8 parallel",
            Box::new(|s| {
                let envs = ParallelVecEnv::from_fn(8, |_| Ok(cartpole_500()), Default::default())
                    .expect("vec env");
                vector(envs, s, |a| a)
            }),
        ),
        (
            "CartPole-v1 x8 make_vec",
            Box::new(|s| {
                let envs = tokengym_envs::make_vec("CartPole-v1", 8, &Default::default())
                    .expect("make_vec");
                vector(envs, s, Value::Discrete)
            }),
        ),
    ];

    let mut results = BTreeMap::new();
    for (name, bench) in &benches {
        if filter.as_ref().is_some_and(|f| !name.contains(f.as_str())) {
            continue;
        }
        let rate = bench(seconds);
        println!("{name:32} {rate:>14.0} steps/s");
        results.insert(name.to_string(), rate);
    }
    if json {
        println!("{}", serde_json::to_string(&results).unwrap_or_default());
    }
}

fn die(msg: &str) -> ! {
    eprintln!("error: {msg}");
    std::process::exit(2)
}
