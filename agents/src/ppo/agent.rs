//! The PPO agent: builds its network for an environment id, collects rollouts from a vector
//! environment, updates, saves and resumes.

use std::ops::ControlFlow;
use std::path::Path;
use std::time::Instant;

use tokengym::policy::Evaluation;
use tokengym::space::Value;
use tokengym::vector::AutoresetMode;
use tokengym::{Agent, Budget, BudgetUnit, Callback, EnvRng, LearnSummary, MakeOptions, Progress};

use crate::common::actor::{Actor, build_actor, evaluate_actor, sampling_rng};
use crate::common::checkpoint::{self, CheckpointMeta};
use crate::common::gae::{Steps, gae_into};
use crate::common::normalization::RewardNormalizer;
use crate::common::rollout::{RolloutBuffer, VecRunner};
use crate::error::{Error, Result};
use crate::nn::device::DeviceChoice;
use crate::ppo::PpoConfig;
use crate::ppo::update::{MinibatchScratch, Scheduled, UpdateStats, ppo_update};

/// Proximal policy optimisation (clipped surrogate, GAE, value function, entropy bonus) on a
/// registered environment, with optional observation/reward normalisation.
///
/// Its [`Agent`] budget counts environment steps.
///
/// ```
/// use tokengym::{Agent, Budget};
/// use tokengym::space::Value;
/// use tokengym_agents::ppo::{Ppo, PpoConfig};
/// use tokengym_agents::nn::DeviceChoice;
///
/// let config = PpoConfig { num_envs: 2, n_steps: 16, batch_size: 16, n_epochs: 1, ..PpoConfig::default() };
/// let mut ppo = Ppo::new("CartPole-v1", &Default::default(), config, 0, DeviceChoice::Cpu)?;
/// let summary = ppo.learn(Budget::Steps(64), &mut ())?;
/// assert_eq!(summary.progress.steps, 64);
/// let eval = ppo.evaluate(2, 100)?;
/// assert_eq!(eval.returns.len(), 2);
/// let action = ppo.act(&Value::BoxF32(vec![0.0; 4]), true)?;
/// assert!(matches!(action, Value::Discrete(0 | 1)));
/// # Ok::<(), tokengym_agents::error::Error>(())
/// ```
pub struct Ppo {
    config: PpoConfig,
    env_id: String,
    make: MakeOptions,
    actor: Actor,
    runner: Option<VecRunner>,
    reward_norm: Option<RewardNormalizer>,
    buf: RolloutBuffer,
    scratch: MinibatchScratch,
    rng: EnvRng,
    /// Samples the actions of [`Agent::act`], apart from the training stream.
    act_rng: EnvRng,
    seed: u64,
    device: DeviceChoice,
    progress: Progress,
    total_steps: u64,
}

impl std::fmt::Debug for Ppo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ppo")
            .field("env_id", &self.env_id)
            .field("progress", &self.progress)
            .finish()
    }
}

/// Keeps PPO's sampling stream apart from other algorithms'.
const RNG_SALT: u64 = 0x5851_f42d_4c95_7f2d;
/// Keeps the stream of [`Agent::act`] apart from the training stream.
const ACT_SALT: u64 = 0x2f0c_7b1e_93a4_d6c5;

impl Ppo {
    /// A fresh agent for the registered environment `env_id` made with `make`; the network is
    /// initialised from `seed` on `device` (the backend comes from `config.net.backend`).
    pub fn new(
        env_id: &str,
        make: &MakeOptions,
        config: PpoConfig,
        seed: u64,
        device: DeviceChoice,
    ) -> Result<Self> {
        config.validate()?;
        let actor = build_actor(
            env_id,
            make,
            &config.net,
            config.normalize_obs.then_some(config.clip_obs),
            seed,
            device,
        )?;
        let reward_norm = config
            .normalize_reward
            .then(|| RewardNormalizer::new(config.num_envs, config.gamma, config.clip_reward));
        Ok(Self {
            buf: RolloutBuffer::new(
                config.num_envs,
                config.n_steps,
                actor.obs_dim(),
                actor.adapter.head().action_dim(),
            ),
            config,
            env_id: env_id.to_owned(),
            make: make.clone(),
            actor,
            runner: None,
            reward_norm,
            scratch: MinibatchScratch::default(),
            rng: sampling_rng(seed, RNG_SALT, 0),
            act_rng: sampling_rng(seed, ACT_SALT, 0),
            seed,
            device,
            progress: Progress::default(),
            total_steps: 0,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &PpoConfig {
        &self.config
    }

    /// The environment id.
    pub fn env_id(&self) -> &str {
        &self.env_id
    }

    /// How the environment is made (keyword arguments, step limit).
    pub fn make_options(&self) -> &MakeOptions {
        &self.make
    }

    /// The acting part (network, distribution, normalisation).
    pub fn actor(&mut self) -> &mut Actor {
        &mut self.actor
    }

    fn runner(&mut self) -> Result<&mut VecRunner> {
        if self.runner.is_none() {
            let envs = tokengym_envs::make_vec(&self.env_id, self.config.num_envs, &self.make)?
                .with_autoreset_mode(AutoresetMode::SameStep);
            // A resumed run starts its environments from seeds of their own.
            let seed = self.seed.wrapping_add(self.progress.steps);
            let runner = VecRunner::new(
                envs,
                &mut self.actor,
                self.reward_norm.take(),
                Some(seed),
                true,
            )?;
            self.runner = Some(runner);
        }
        self.runner
            .as_mut()
            .ok_or_else(|| Error::InvalidArgument("no environments".to_owned()))
    }

    /// Collects rollouts and updates until `stop_at` steps, with the schedules running over
    /// `total_steps` (see [`Agent::learn_until`]). Steps come in whole rollouts, so training
    /// may end up to one rollout past the stop (as in Stable-Baselines3).
    fn train(
        &mut self,
        stop_at: u64,
        total_steps: u64,
        callback: &mut dyn Callback,
    ) -> Result<LearnSummary> {
        let start = Instant::now();
        self.total_steps = total_steps.max(1);
        let mut stopped = false;
        while self.progress.steps < stop_at.min(total_steps) {
            let progress = Budget::Steps(self.total_steps).fraction(&self.progress);
            let now = Scheduled {
                lr: self
                    .config
                    .lr_schedule
                    .value(self.config.learning_rate, progress),
                clip_range: self
                    .config
                    .clip_schedule
                    .value(self.config.clip_range, progress)
                    .max(f32::MIN_POSITIVE),
            };
            let t0 = Instant::now();
            self.runner()?;
            let runner = self.runner.as_mut().ok_or_else(|| {
                Error::InvalidArgument("the environments could not be created".to_owned())
            })?;
            let (steps0, episodes0) = (runner.steps, runner.episodes.finished);
            let flow = runner.collect(&mut self.actor, &mut self.buf, &mut self.rng, callback)?;
            self.progress.steps += runner.steps - steps0;
            self.progress.episodes += runner.episodes.finished - episodes0;
            if flow.is_break() {
                stopped = true;
                break;
            }
            let buf = &mut self.buf;
            gae_into(
                &Steps {
                    num_envs: buf.num_envs,
                    rewards: &buf.rewards,
                    terminated: &buf.terminated,
                    truncated: &buf.truncated,
                    final_values: Some(&buf.final_values),
                    last_values: Some(&buf.last_values),
                },
                &buf.values,
                self.config.gamma,
                self.config.gae_lambda,
                &mut buf.advantages,
                &mut buf.returns,
            )?;
            let stats = ppo_update(
                self.actor.net.as_mut(),
                &self.actor.dist,
                &self.buf,
                &self.config,
                now,
                &mut self.rng,
                &mut self.scratch,
            )?;
            self.progress.updates += 1;
            let sps = self.buf.len() as f64 / t0.elapsed().as_secs_f64().max(1e-9);
            if report(callback, &stats, now, sps, self.progress.steps).is_break() {
                stopped = true;
                break;
            }
        }
        Ok(LearnSummary::since(start, self.progress, stopped))
    }

    /// Deterministic evaluation: `episodes` episodes of a fresh environment (seeds `seed`,
    /// `seed + 1`, ...), observations normalised with the frozen training statistics.
    pub fn evaluate(&mut self, episodes: usize, seed: u64) -> Result<Evaluation> {
        evaluate_actor(&mut self.actor, &self.env_id, &self.make, episodes, seed)
    }

    fn meta(&self) -> Result<CheckpointMeta> {
        let meta = CheckpointMeta::for_agent(
            "ppo",
            &self.env_id,
            &self.make,
            &self.actor,
            self.progress,
            self.seed,
            &self.config,
        )?;
        Ok(CheckpointMeta {
            reward_norm: match &self.runner {
                Some(r) => r.reward_norm.clone(),
                None => self.reward_norm.clone(),
            },
            total_steps: self.total_steps,
            ..meta
        })
    }

    /// Loads an agent saved by [`Agent::save`] (Stable-Baselines3's `PPO.load`), ready to
    /// evaluate or to continue training with [`Agent::learn`].
    pub fn load(path: &Path, device: DeviceChoice) -> Result<Self> {
        let ck = checkpoint::read_agent::<PpoConfig>(path, "ppo", "PPO")?;
        let meta = ck.meta;
        let mut ppo = Self::new(&meta.env_id, &ck.make, ck.config, meta.seed, device)?;
        checkpoint::restore_actor(path, &mut ppo.actor, &meta, &ck.tensors)?;
        ppo.progress = meta.progress();
        ppo.reward_norm = meta.reward_norm;
        ppo.total_steps = meta.total_steps;
        ppo.rng = sampling_rng(meta.seed, RNG_SALT, meta.updates);
        ppo.act_rng = sampling_rng(meta.seed, ACT_SALT, meta.updates);
        Ok(ppo)
    }
}

impl Agent for Ppo {
    type Obs = Value;
    type Action = Value;
    type Error = Error;

    /// Trains until `stop` environment steps in total, the learning-rate and clip-range
    /// schedules running over `budget`; PPO counts steps only.
    fn learn_until(
        &mut self,
        stop: Budget,
        budget: Budget,
        callback: &mut dyn Callback,
    ) -> Result<LearnSummary> {
        Budget::check(stop, budget, "PPO", &[BudgetUnit::Steps])?;
        self.train(stop.total(), budget.total(), callback)
    }

    fn progress(&self) -> Progress {
        self.progress
    }

    /// Acts on one observation of the environment (normalised with the frozen training
    /// statistics); sampling uses a stream of its own, so acting does not change training.
    fn act(&mut self, obs: &Value, deterministic: bool) -> Result<Value> {
        self.actor.act_value(obs, deterministic, &mut self.act_rng)
    }

    /// Writes a checkpoint (parameters, Adam state, normalisation statistics, counters and
    /// configuration) to `path` (a folder or a `.safetensors` file), atomically.
    fn save(&self, path: &Path) -> Result<()> {
        checkpoint::save_actor(path, &self.meta()?, &self.actor)
    }

    /// Replaces this agent by the one saved at `path`, which must be a PPO agent for the same
    /// environment; the device stays this agent's.
    fn restore(&mut self, path: &Path) -> Result<()> {
        let loaded = Self::load(path, self.device)?;
        checkpoint::check_same_env(path, "PPO", &loaded.env_id, &self.env_id)?;
        *self = loaded;
        Ok(())
    }
}

/// Passes an update's statistics to the callback.
fn report(
    callback: &mut dyn Callback,
    s: &UpdateStats,
    now: Scheduled,
    steps_per_second: f64,
    steps: u64,
) -> ControlFlow<()> {
    callback.on_update(&[
        ("step", steps as f64),
        ("policy_loss", s.policy_loss as f64),
        ("value_loss", s.value_loss as f64),
        ("entropy", s.entropy as f64),
        ("approx_kl", s.approx_kl as f64),
        ("clip_fraction", s.clip_fraction as f64),
        ("explained_variance", s.explained_variance as f64),
        ("learning_rate", now.lr as f64),
        ("clip_range", now.clip_range as f64),
        ("grad_norm", s.grad_norm as f64),
        ("steps_per_second", steps_per_second),
        ("epochs", s.epochs as f64),
    ])
}
