//! The REINFORCE agent: batches of complete episodes, Monte-Carlo reward-to-go, an optional
//! baseline, one gradient step per batch.

use std::path::Path;
use std::time::Instant;

use tokengym::agent::StepEvent;
use tokengym::policy::Evaluation;
use tokengym::space::Value;
use tokengym::{
    Agent, AnyEnv, Budget, BudgetUnit, Callback, EnvRng, LearnSummary, MakeOptions, Progress,
};

use crate::common::actor::{Actor, build_actor, evaluate_actor, sampling_rng};
use crate::common::checkpoint::{self, CheckpointMeta};
use crate::common::gae::{Steps, discounted_returns_into};
use crate::common::loss_io::OutputGrads;
use crate::common::rollout::EpisodeTracker;
use crate::error::{Error, Result};
use crate::nn::device::DeviceChoice;
use crate::reinforce::loss::{ReinforceBatch, ReinforceLoss, ValueTargets, baseline_weights};
use crate::reinforce::{Baseline, ReinforceConfig};

#[derive(Debug, Default)]
struct Batch {
    obs: Vec<f32>,
    actions: Vec<f32>,
    rewards: Vec<f32>,
    terminated: Vec<bool>,
    truncated: Vec<bool>,
    final_obs: Vec<f32>,
    final_rows: Vec<usize>,
    final_values: Vec<f32>,
    returns: Vec<f32>,
    weights: Vec<f32>,
    policy_out: Vec<f32>,
    values: Vec<f32>,
    d_policy: Vec<f32>,
    d_values: Vec<f32>,
    d_log_std: Vec<f32>,
    log_std: Vec<f32>,
}

impl Batch {
    fn clear(&mut self) {
        self.obs.clear();
        self.actions.clear();
        self.rewards.clear();
        self.terminated.clear();
        self.truncated.clear();
        self.final_obs.clear();
        self.final_rows.clear();
    }
}

/// REINFORCE (Williams 1992): `∇J ≈ mean_t (G_t − b_t) ∇log π(a_t|s_t)` over batches of
/// complete episodes, with no baseline, the batch-mean baseline or a learned value baseline,
/// and optional standardisation of the weights. A truncated episode's reward-to-go is
/// bootstrapped from the critic's value of its final observation when a value baseline is
/// learned (a terminated one never is).
///
/// Its [`Agent`] budget counts environment steps or episodes.
///
/// ```
/// use tokengym::{Agent, Budget};
/// use tokengym_agents::reinforce::{Reinforce, ReinforceConfig};
/// use tokengym_agents::nn::DeviceChoice;
///
/// let mut agent = Reinforce::new("CartPole-v1", &Default::default(), ReinforceConfig::default(), 0, DeviceChoice::Cpu)?;
/// let summary = agent.learn(Budget::Episodes(8), &mut ())?;
/// assert_eq!((summary.progress.episodes, summary.progress.updates), (8, 2));
/// # Ok::<(), tokengym_agents::error::Error>(())
/// ```
pub struct Reinforce {
    config: ReinforceConfig,
    env_id: String,
    make: MakeOptions,
    actor: Actor,
    env: Option<AnyEnv>,
    batch: Batch,
    rng: EnvRng,
    /// Samples the actions of [`Agent::act`], apart from the training stream.
    act_rng: EnvRng,
    seed: u64,
    device: DeviceChoice,
    progress: Progress,
}

impl std::fmt::Debug for Reinforce {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reinforce")
            .field("env_id", &self.env_id)
            .field("progress", &self.progress)
            .finish()
    }
}

/// Keeps REINFORCE's sampling stream apart from other algorithms'.
const RNG_SALT: u64 = 0x2545_f491_4f6c_dd1d;
/// Keeps the stream of [`Agent::act`] apart from the training stream.
const ACT_SALT: u64 = 0x6a09_e667_f3bc_c909;

impl Reinforce {
    /// A fresh agent for the registered environment `env_id`.
    pub fn new(
        env_id: &str,
        make: &MakeOptions,
        config: ReinforceConfig,
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
        Ok(Self {
            config,
            env_id: env_id.to_owned(),
            make: make.clone(),
            actor,
            env: None,
            batch: Batch::default(),
            rng: sampling_rng(seed, RNG_SALT, 0),
            act_rng: sampling_rng(seed, ACT_SALT, 0),
            seed,
            device,
            progress: Progress::default(),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &ReinforceConfig {
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

    /// The acting part.
    pub fn actor(&mut self) -> &mut Actor {
        &mut self.actor
    }

    /// Collects batches of episodes and updates until `stop`, the learning-rate schedule
    /// running over `budget` (both checked to count steps or episodes).
    fn train(
        &mut self,
        stop: Budget,
        budget: Budget,
        callback: &mut dyn Callback,
    ) -> Result<LearnSummary> {
        let start = Instant::now();
        let mut stopped = false;
        if self.env.is_none() {
            self.env = Some(tokengym_envs::make_with(&self.env_id, &self.make)?);
        }
        let mut tracker = EpisodeTracker::new(1);
        while !stop.reached(&self.progress) && !budget.reached(&self.progress) && !stopped {
            let lr = self
                .config
                .lr_schedule
                .value(self.config.learning_rate, budget.fraction(&self.progress));
            let mut episodes = self.config.episodes_per_batch;
            if let Budget::Episodes(n) = stop {
                episodes = episodes.min(n.saturating_sub(self.progress.episodes) as usize);
            }
            stopped = self.collect(episodes, &mut tracker, callback)?;
            if stopped {
                break;
            }
            let metrics = self.update(lr)?;
            self.progress.updates += 1;
            let report = [
                ("step", self.progress.steps as f64),
                ("policy_loss", metrics.0 as f64),
                ("value_loss", metrics.1 as f64),
                ("entropy", metrics.2 as f64),
                ("learning_rate", lr as f64),
                ("grad_norm", metrics.3 as f64),
            ];
            if callback.on_update(&report).is_break() {
                stopped = true;
            }
        }
        Ok(LearnSummary::since(start, self.progress, stopped))
    }

    /// Runs `episodes` complete episodes into the batch; returns whether a callback stopped.
    fn collect(
        &mut self,
        episodes: usize,
        tracker: &mut EpisodeTracker,
        callback: &mut dyn Callback,
    ) -> Result<bool> {
        let env = self
            .env
            .as_mut()
            .ok_or_else(|| Error::InvalidArgument("no environment".to_owned()))?;
        let od = self.actor.obs_dim();
        let ad = self.actor.adapter.head().action_dim();
        let learned = self.config.baseline == Baseline::Value;
        let mut raw = vec![0.0f32; od];
        let mut value = self.actor.adapter.blank();
        self.batch.clear();
        for _ in 0..episodes {
            // Episode k of the run is seeded with seed + k, as vector environments seed theirs.
            env.reset_flat(
                Some(self.seed.wrapping_add(self.progress.episodes)),
                &mut raw,
            )?;
            loop {
                if let Some(norm) = &mut self.actor.obs_norm {
                    norm.update(&raw)?;
                }
                let out = self.actor.act_batch(&raw, false, &mut self.rng)?;
                self.batch.obs.extend_from_slice(out.obs);
                self.batch.actions.extend_from_slice(out.actions);
                let a = &self.batch.actions[self.batch.actions.len() - ad..];
                self.actor.adapter.write(a, &mut value)?;
                let tr = env.step_flat(&value, &mut raw)?;
                if !tr.reward.is_finite() {
                    return Err(Error::NonFinite(format!(
                        "the environment returned reward {}",
                        tr.reward
                    )));
                }
                if let Some(i) = raw.iter().position(|x| !x.is_finite()) {
                    return Err(Error::NonFinite(format!(
                        "the environment returned an observation with {} at index {i}",
                        raw[i]
                    )));
                }
                self.progress.steps += 1;
                self.batch.rewards.push(tr.reward as f32);
                self.batch.terminated.push(tr.terminated);
                let truncated = tr.truncated && !tr.terminated;
                self.batch.truncated.push(truncated);
                if truncated && learned {
                    self.batch.final_rows.push(self.batch.rewards.len() - 1);
                    self.batch.final_obs.extend_from_slice(&raw);
                }
                let done = tr.done();
                let event = StepEvent {
                    total_steps: self.progress.steps,
                    reward: tr.reward,
                    done,
                };
                let mut stop = callback.on_step(&event).is_break();
                if let Some(stats) = tracker.step(0, tr.reward, done) {
                    self.progress.episodes += 1;
                    stop |= callback.on_episode_end(&stats).is_break();
                }
                if stop {
                    return Ok(true);
                }
                if done {
                    break;
                }
            }
        }
        Ok(false)
    }

    /// One gradient step on the batch; returns (policy loss, value loss, entropy, grad norm).
    fn update(&mut self, lr: f32) -> Result<(f32, f32, f32, f32)> {
        let b = &mut self.batch;
        let n = b.rewards.len();
        let spec = self.actor.net.spec().clone();
        let pd = spec.head.policy_dim();
        b.final_values.clear();
        b.final_values.resize(n, 0.0);
        if !b.final_rows.is_empty() {
            let v = self.actor.values(&b.final_obs)?;
            for (&k, &v) in b.final_rows.iter().zip(v) {
                b.final_values[k] = v;
            }
        }
        b.returns.resize(n, 0.0);
        discounted_returns_into(
            &Steps {
                num_envs: 1,
                rewards: &b.rewards,
                terminated: &b.terminated,
                truncated: &b.truncated,
                final_values: Some(&b.final_values),
                last_values: None,
            },
            self.config.gamma,
            &mut b.returns,
        )?;
        b.policy_out.resize(n * pd, 0.0);
        b.values.resize(n, 0.0);
        self.actor
            .net
            .forward(&b.obs, &mut b.policy_out, &mut b.values)?;
        b.weights.resize(n, 0.0);
        baseline_weights(
            self.config.baseline,
            &b.returns,
            Some(&b.values),
            &mut b.weights,
        )?;
        self.actor.net.log_std_into(&mut b.log_std);
        b.d_policy.resize(n * pd, 0.0);
        b.d_values.resize(n, 0.0);
        b.d_log_std.resize(spec.head.log_std_dim(), 0.0);
        let learned = self.config.baseline == Baseline::Value;
        let stats = ReinforceLoss::from_config(&self.config).compute(
            &self.actor.dist,
            &ReinforceBatch {
                policy_out: &b.policy_out,
                log_std: &b.log_std,
                actions: &b.actions,
                weights: &b.weights,
                critic: learned.then_some(ValueTargets {
                    values: &b.values,
                    returns: &b.returns,
                }),
            },
            OutputGrads {
                d_policy: &mut b.d_policy,
                d_values: &mut b.d_values,
                d_log_std: &mut b.d_log_std,
            },
        )?;
        if !stats.total.is_finite() {
            return Err(Error::NonFinite(format!(
                "REINFORCE loss became {}: training diverged",
                stats.total
            )));
        }
        self.actor
            .net
            .backward(&b.d_policy, &b.d_values, &b.d_log_std)?;
        let grad_norm = self.actor.net.step(lr, self.config.max_grad_norm)?;
        Ok((
            stats.policy_loss,
            stats.value_loss,
            -stats.entropy_loss,
            grad_norm,
        ))
    }

    /// Deterministic evaluation on a fresh environment (seeds `seed`, `seed + 1`, ...).
    pub fn evaluate(&mut self, episodes: usize, seed: u64) -> Result<Evaluation> {
        evaluate_actor(&mut self.actor, &self.env_id, &self.make, episodes, seed)
    }

    /// Loads an agent saved by [`Agent::save`], ready to evaluate or to continue training.
    pub fn load(path: &Path, device: DeviceChoice) -> Result<Self> {
        let ck = checkpoint::read_agent::<ReinforceConfig>(path, "reinforce", "REINFORCE")?;
        let meta = ck.meta;
        let mut agent = Self::new(&meta.env_id, &ck.make, ck.config, meta.seed, device)?;
        checkpoint::restore_actor(path, &mut agent.actor, &meta, &ck.tensors)?;
        agent.progress = meta.progress();
        agent.rng = sampling_rng(meta.seed, RNG_SALT, meta.updates);
        agent.act_rng = sampling_rng(meta.seed, ACT_SALT, meta.updates);
        Ok(agent)
    }
}

impl Agent for Reinforce {
    type Obs = Value;
    type Action = Value;
    type Error = Error;

    /// Trains until `stop` environment steps or episodes in total (whole batches: a step
    /// budget may overshoot by less than one batch), the learning-rate schedule running over
    /// `budget`.
    fn learn_until(
        &mut self,
        stop: Budget,
        budget: Budget,
        callback: &mut dyn Callback,
    ) -> Result<LearnSummary> {
        Budget::check(
            stop,
            budget,
            "REINFORCE",
            &[BudgetUnit::Steps, BudgetUnit::Episodes],
        )?;
        self.train(stop, budget, callback)
    }

    fn progress(&self) -> Progress {
        self.progress
    }

    /// Acts on one observation of the environment; sampling uses a stream of its own, so
    /// acting does not change training.
    fn act(&mut self, obs: &Value, deterministic: bool) -> Result<Value> {
        self.actor.act_value(obs, deterministic, &mut self.act_rng)
    }

    /// Writes a checkpoint to `path` (folder or `.safetensors` file), atomically.
    fn save(&self, path: &Path) -> Result<()> {
        let meta = CheckpointMeta::for_agent(
            "reinforce",
            &self.env_id,
            &self.make,
            &self.actor,
            self.progress,
            self.seed,
            &self.config,
        )?;
        checkpoint::save_actor(path, &meta, &self.actor)
    }

    /// Replaces this agent by the one saved at `path`, which must be a REINFORCE agent for the
    /// same environment; the device stays this agent's.
    fn restore(&mut self, path: &Path) -> Result<()> {
        let loaded = Self::load(path, self.device)?;
        checkpoint::check_same_env(path, "REINFORCE", &loaded.env_id, &self.env_id)?;
        *self = loaded;
        Ok(())
    }
}
