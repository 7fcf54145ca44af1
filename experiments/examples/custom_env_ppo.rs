//! Your own environment, trained with PPO from Rust.
//!
//! `Thermostat` keeps a room at a target temperature: the room drifts one degree towards the
//! cold outside every step, the agent cools, idles or heats, and every step within a degree of
//! the target pays 1. Writing it is implementing [`Env`]; registering it gives it an id, and
//! from there PPO, vector environments and evaluation work as for the built-in ids.
//!
//! ```text
//! cargo run --release -p tokengym-experiments --example custom_env_ppo
//! ```

use tokengym::registry::{EnvSpec, Kwargs, register};
use tokengym::seeding::{EnvRng, rng_from_seed};
use tokengym::space::{BoxSpace, Discrete, Space};
use tokengym::{Agent, Budget, Env, Info, Result, Step};
use tokengym_agents::nn::DeviceChoice;
use tokengym_agents::ppo::{Ppo, PpoConfig};

/// Steps per episode (the registry's time limit truncates there).
const EPISODE_STEPS: usize = 30;

struct Thermostat {
    /// Temperature minus target, degrees.
    offset: f64,
    rng: EnvRng,
    obs: BoxSpace<f32, [f32; 1]>,
    act: Discrete,
}

impl Thermostat {
    fn new() -> Result<Self> {
        Ok(Thermostat {
            offset: 0.0,
            rng: rng_from_seed(None),
            obs: BoxSpace::uniform(-50.0, 50.0, vec![1])?,
            // 0 cools, 1 idles, 2 heats.
            act: Discrete::new(3)?,
        })
    }
}

impl Env for Thermostat {
    type ObsSpace = BoxSpace<f32, [f32; 1]>;
    type ActSpace = Discrete;

    fn observation_space(&self) -> &Self::ObsSpace {
        &self.obs
    }

    fn action_space(&self) -> &Self::ActSpace {
        &self.act
    }

    fn reset(&mut self, seed: Option<u64>) -> Result<([f32; 1], Info)> {
        if seed.is_some() {
            // Gymnasium's rule: a seed re-seeds, no seed continues the stream.
            self.rng = rng_from_seed(seed);
        }
        // Start up to 5 degrees off, either way.
        self.offset = rand::RngExt::random_range(&mut self.rng, -5..=5) as f64;
        Ok(([self.offset as f32], Info::new()))
    }

    fn step(&mut self, action: &i64) -> Result<Step<[f32; 1]>> {
        // An invalid action is an error, never a panic.
        self.act.check_action(action)?;
        let heat = (*action - 1) as f64 * 2.0;
        self.offset = (self.offset + heat - 1.0).clamp(-50.0, 50.0);
        let reward = if self.offset.abs() <= 1.0 { 1.0 } else { 0.0 };
        Ok(Step::new([self.offset as f32], reward, false, false))
    }
}

fn main() -> std::result::Result<(), Box<dyn std::error::Error>> {
    register(
        EnvSpec::new("Thermostat-v0")?.with_max_episode_steps(EPISODE_STEPS as u64),
        |_: &Kwargs| Thermostat::new(),
    )?;

    // A small PPO: 4 environments, 64 steps each per rollout, on the hand-written CPU backend.
    let config = PpoConfig {
        num_envs: 4,
        n_steps: 64,
        batch_size: 64,
        n_epochs: 4,
        ..PpoConfig::default()
    };
    let mut ppo = Ppo::new(
        "Thermostat-v0",
        &Default::default(),
        config,
        0,
        DeviceChoice::Cpu,
    )?;
    let before = mean(&ppo.evaluate(10, 1)?.returns);
    ppo.learn(Budget::Steps(24_576), &mut ())?;
    let after = mean(&ppo.evaluate(10, 1)?.returns);
    println!(
        "Thermostat-v0: mean return {before:.1} before training, {after:.1} after (at most {EPISODE_STEPS})"
    );
    if after < 0.8 * EPISODE_STEPS as f64 || after <= before {
        return Err(format!("PPO did not learn the thermostat: {before} -> {after}").into());
    }
    Ok(())
}

fn mean(xs: &[f64]) -> f64 {
    xs.iter().sum::<f64>() / xs.len() as f64
}

// `cargo test` runs the example (see `[[example]]` in Cargo.toml).
#[test]
fn the_example_runs() {
    main().unwrap();
}
