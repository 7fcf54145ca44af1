//! PPO and REINFORCE end to end: short CI-sized training runs that must improve CartPole,
//! checkpoint round trips, resuming, truncation bootstrapping and clear errors on bad input.

use std::sync::Once;

use tokengym::space::{BoxSpace, Discrete, MultiBinary};
use tokengym::{Agent, Budget};
use tokengym::{EnvSpec, Info, Result as GymResult, Step};
use tokengym_agents::common::Actor;
use tokengym_agents::common::Schedule;
use tokengym_agents::common::rollout::{RolloutBuffer, VecRunner};
use tokengym_agents::error::Error;
use tokengym_agents::nn::DeviceChoice;
use tokengym_agents::nn::NetConfig;
use tokengym_agents::ppo::{Ppo, PpoConfig};
use tokengym_agents::reinforce::{Baseline, Reinforce, ReinforceConfig};

/// rl-baselines3-zoo's CartPole-v1 PPO settings.
fn zoo_cartpole() -> PpoConfig {
    PpoConfig {
        num_envs: 8,
        n_steps: 32,
        batch_size: 256,
        n_epochs: 20,
        gamma: 0.98,
        gae_lambda: 0.8,
        learning_rate: 1e-3,
        lr_schedule: Schedule::Linear,
        clip_range: 0.2,
        clip_schedule: Schedule::Linear,
        ent_coef: 0.0,
        ..PpoConfig::default()
    }
}

fn mean(xs: &[f64]) -> f64 {
    xs.iter().sum::<f64>() / xs.len() as f64
}

#[test]
fn ppo_improves_cartpole_in_a_ci_sized_run() {
    // Seed 3: an initial network that does not balance the pole already (with NumPy's
    // generator, seed 1's untrained deterministic policy reaches 500 before any learning).
    let mut ppo = Ppo::new(
        "CartPole-v1",
        &Default::default(),
        zoo_cartpole(),
        3,
        DeviceChoice::Cpu,
    )
    .unwrap();
    let before = mean(&ppo.evaluate(10, 1000).unwrap().returns);
    let summary = ppo.learn(Budget::Steps(25_000), &mut ()).unwrap();
    assert!(summary.progress.steps >= 25_000 && summary.progress.steps < 25_000 + 256);
    let after = mean(&ppo.evaluate(10, 1000).unwrap().returns);
    assert!(
        after > 150.0 && after > before + 100.0,
        "PPO did not learn: {before} -> {after}"
    );
}

#[test]
fn reinforce_improves_cartpole() {
    let config = ReinforceConfig {
        episodes_per_batch: 4,
        learning_rate: 5e-3,
        baseline: Baseline::Value,
        ..ReinforceConfig::default()
    };
    let mut agent = Reinforce::new(
        "CartPole-v1",
        &Default::default(),
        config,
        3,
        DeviceChoice::Cpu,
    )
    .unwrap();
    let mut rec = tokengym::agent::EpisodeRecorder::new();
    let summary = agent.learn(Budget::Episodes(300), &mut rec).unwrap();
    assert_eq!(summary.progress.episodes, 300);
    assert_eq!(rec.episodes.len(), 300);
    let rets: Vec<f64> = rec.episodes.iter().map(|e| e.ret).collect();
    let (first, last) = (mean(&rets[..50]), mean(&rets[250..]));
    assert!(
        last > 2.0 * first,
        "REINFORCE did not learn: {first} -> {last}"
    );
}

#[test]
fn checkpoint_round_trip_gives_identical_actions_and_resumes() {
    let dir = std::env::temp_dir().join(format!("tokengym-ppo-ckpt-{}", std::process::id()));
    let config = PpoConfig {
        normalize_obs: true,
        normalize_reward: true,
        ..zoo_cartpole()
    };
    let mut ppo = Ppo::new(
        "CartPole-v1",
        &Default::default(),
        config,
        5,
        DeviceChoice::Cpu,
    )
    .unwrap();
    ppo.learn(Budget::Steps(2048), &mut ()).unwrap();
    ppo.save(&dir).unwrap();
    let mut loaded = Ppo::load(&dir, DeviceChoice::Cpu).unwrap();
    assert_eq!(loaded.progress(), ppo.progress());
    let mut rng = tokengym::seeding::rng_from_seed(Some(0));
    let obs: Vec<f32> = (0..64)
        .map(|i| ((i * 37 % 17) as f32 - 8.0) / 8.0)
        .collect();
    let a = ppo
        .actor()
        .act_batch(&obs, true, &mut rng)
        .unwrap()
        .actions
        .to_vec();
    let b = loaded
        .actor()
        .act_batch(&obs, true, &mut rng)
        .unwrap()
        .actions
        .to_vec();
    assert_eq!(a, b);
    assert_eq!(
        ppo.evaluate(3, 7).unwrap().returns,
        loaded.evaluate(3, 7).unwrap().returns
    );
    // Restoring into an agent built for the same environment gives the same policy; an agent
    // for another environment refuses the checkpoint.
    let mut restored = Ppo::new(
        "CartPole-v1",
        &Default::default(),
        PpoConfig::default(),
        99,
        DeviceChoice::Cpu,
    )
    .unwrap();
    restored.restore(&dir).unwrap();
    assert_eq!(restored.progress(), ppo.progress());
    let obs = tokengym::space::Value::BoxF32(vec![0.01, -0.2, 0.03, 0.4]);
    assert_eq!(
        restored.act(&obs, true).unwrap(),
        ppo.act(&obs, true).unwrap()
    );
    let mut acrobot = Ppo::new(
        "Acrobot-v1",
        &Default::default(),
        PpoConfig::default(),
        0,
        DeviceChoice::Cpu,
    )
    .unwrap();
    let e = acrobot.restore(&dir).unwrap_err();
    assert!(e.to_string().contains("CartPole-v1"), "{e}");
    // Resuming continues the step count towards the budget; PPO counts steps only.
    let s = loaded.learn(Budget::Steps(4096), &mut ()).unwrap();
    assert_eq!(s.progress.steps, 4096);
    assert!(loaded.learn(Budget::Episodes(10), &mut ()).is_err());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn corrupted_and_foreign_checkpoints_are_clear_errors() {
    let dir = std::env::temp_dir().join(format!("tokengym-bad-ckpt-{}", std::process::id()));
    let config = ReinforceConfig::default();
    let agent = Reinforce::new(
        "CartPole-v1",
        &Default::default(),
        config,
        0,
        DeviceChoice::Cpu,
    )
    .unwrap();
    agent.save(&dir).unwrap();
    // A REINFORCE checkpoint is not a PPO checkpoint.
    let e = Ppo::load(&dir, DeviceChoice::Cpu).unwrap_err();
    assert!(e.to_string().contains("not a PPO agent"), "{e}");
    let file = dir.join("model.safetensors");
    let mut bytes = std::fs::read(&file).unwrap();
    let mid = bytes.len() - 10;
    bytes[mid] ^= 1;
    std::fs::write(&file, &bytes).unwrap();
    let e = Reinforce::load(&dir, DeviceChoice::Cpu).unwrap_err();
    assert!(matches!(e, Error::Checkpoint { .. }), "{e}");
    assert!(e.to_string().contains("corrupted"), "{e}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Observation 0, 1, 2, ... (the step count), reward 1; `nan_at` puts a NaN in the observation.
struct Counter {
    obs: BoxSpace<f32>,
    act: Discrete,
    t: u32,
    nan_at: Option<u32>,
}

impl tokengym::Env for Counter {
    type ObsSpace = BoxSpace<f32>;
    type ActSpace = Discrete;
    fn observation_space(&self) -> &BoxSpace<f32> {
        &self.obs
    }
    fn action_space(&self) -> &Discrete {
        &self.act
    }
    fn reset(&mut self, _seed: Option<u64>) -> GymResult<(Vec<f32>, Info)> {
        self.t = 0;
        Ok((vec![0.0], Info::default()))
    }
    fn step(&mut self, _a: &i64) -> GymResult<Step<Vec<f32>>> {
        self.t += 1;
        let x = if Some(self.t) == self.nan_at {
            f32::NAN
        } else {
            self.t as f32
        };
        Ok(Step::new(vec![x], 1.0, false, false))
    }
}

struct BitsAction {
    obs: BoxSpace<f32>,
    act: MultiBinary,
}

impl tokengym::Env for BitsAction {
    type ObsSpace = BoxSpace<f32>;
    type ActSpace = MultiBinary;
    fn observation_space(&self) -> &BoxSpace<f32> {
        &self.obs
    }
    fn action_space(&self) -> &MultiBinary {
        &self.act
    }
    fn reset(&mut self, _seed: Option<u64>) -> GymResult<(Vec<f32>, Info)> {
        Ok((vec![0.0], Info::default()))
    }
    fn step(&mut self, _a: &Vec<u8>) -> GymResult<Step<Vec<f32>>> {
        Ok(Step::new(vec![0.0], 0.0, true, false))
    }
}

fn obs_space() -> BoxSpace<f32> {
    BoxSpace::new(vec![-1e6], vec![1e6], vec![1]).unwrap()
}

fn register_test_envs() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let spec = EnvSpec::new("TestCounter-v0")
            .unwrap()
            .with_max_episode_steps(5)
            .with_disable_env_checker(true);
        tokengym::register(spec, |k| {
            Ok(Counter {
                obs: obs_space(),
                act: Discrete::new(2)?,
                t: 0,
                nan_at: Some(k.get_u64("nan_at", 0)? as u32).filter(|&t| t > 0),
            })
        })
        .unwrap();
        let spec = EnvSpec::new("TestBits-v0").unwrap();
        tokengym::register(spec, |_| {
            Ok(BitsAction {
                obs: obs_space(),
                act: MultiBinary::new(3)?,
            })
        })
        .unwrap();
    });
}

#[test]
fn truncated_steps_bootstrap_from_the_final_observation() {
    register_test_envs();
    let make = tokengym::MakeOptions::default();
    let config = PpoConfig {
        num_envs: 2,
        n_steps: 7,
        batch_size: 14,
        ..PpoConfig::default()
    };
    let mut ppo = Ppo::new("TestCounter-v0", &make, config, 0, DeviceChoice::Cpu).unwrap();
    let envs = tokengym_envs::make_vec("TestCounter-v0", 2, &make)
        .unwrap()
        .with_autoreset_mode(tokengym::vector::AutoresetMode::SameStep);
    let actor: &mut Actor = ppo.actor();
    let mut runner = VecRunner::new(envs, actor, None, Some(0), false).unwrap();
    let mut buf = RolloutBuffer::new(2, 7, 1, 1);
    let mut rng = tokengym::seeding::rng_from_seed(Some(1));
    assert!(
        runner
            .collect(actor, &mut buf, &mut rng, &mut ())
            .unwrap()
            .is_continue()
    );
    // Episodes are cut by the time limit after 5 steps: row t = 4 is truncated, the final
    // observation is 5, and its value is what the critic says about observation 5.
    let v5 = actor.values(&[5.0]).unwrap()[0];
    for t in 0..7 {
        for e in 0..2 {
            let k = t * 2 + e;
            assert!(!buf.terminated[k]);
            assert_eq!(buf.truncated[k], t == 4, "row {t}");
            let want = if t == 4 { v5 } else { 0.0 };
            assert_eq!(buf.final_values[k], want);
        }
    }
    // After the reset the observation counts from 0 again: row 5 saw observation 0.
    assert_eq!(buf.obs[5 * 2], 0.0);
    assert_eq!(buf.obs[4 * 2], 4.0);
    assert_eq!(runner.steps, 14);
}

#[test]
fn bad_inputs_give_clear_errors() {
    register_test_envs();
    let make = tokengym::MakeOptions::default();
    let e = Ppo::new(
        "TestBits-v0",
        &make,
        PpoConfig::default(),
        0,
        DeviceChoice::Cpu,
    )
    .unwrap_err();
    assert!(e.to_string().contains("MultiBinary"), "{e}");

    let nan = tokengym::MakeOptions::new().kwarg("nan_at", 3i64);
    let config = PpoConfig {
        num_envs: 1,
        n_steps: 8,
        batch_size: 8,
        ..PpoConfig::default()
    };
    let mut ppo = Ppo::new("TestCounter-v0", &nan, config, 0, DeviceChoice::Cpu).unwrap();
    let e = ppo.learn(Budget::Steps(64), &mut ()).unwrap_err();
    assert!(matches!(e, Error::NonFinite(_)), "{e}");
    assert!(e.to_string().contains("NaN"), "{e}");

    let e = Ppo::new(
        "NoSuchEnv-v0",
        &make,
        PpoConfig::default(),
        0,
        DeviceChoice::Cpu,
    )
    .unwrap_err();
    assert!(e.to_string().contains("NoSuchEnv"), "{e}");
    let bad = PpoConfig {
        net: NetConfig {
            activation: "swish".to_owned(),
            ..NetConfig::default()
        },
        ..PpoConfig::default()
    };
    let e = Ppo::new("CartPole-v1", &make, bad, 0, DeviceChoice::Cpu).unwrap_err();
    assert!(e.to_string().contains("swish"), "{e}");
}
