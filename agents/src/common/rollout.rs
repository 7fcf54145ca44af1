//! Collecting experience from a vector environment: the [`RolloutBuffer`] of on-policy agents,
//! the per-environment episode bookkeeping, and the loop that fills the buffer.
//!
//! The vector environment runs in [`AutoresetMode::SameStep`](tokengym::vector::AutoresetMode):
//! a step that ends an episode reports its reward and flags and already returns the next
//! episode's first observation, and the real final observation is kept aside. For a
//! *truncated* episode the rollout evaluates the critic on that final observation
//! (`final_values`), so GAE bootstraps from it; a *terminated* episode bootstraps from 0.

use std::ops::ControlFlow;
use std::time::Instant;

use tokengym::agent::StepEvent;
use tokengym::space::Value;
use tokengym::vector::{SyncVecEnv, VecEnv};
use tokengym::{AnyEnv, Callback, EnvRng, EpisodeStats};

use crate::common::actor::Actor;
use crate::common::normalization::RewardNormalizer;
use crate::error::{Error, Result};

/// `T` steps of `N` environments, row-major (`index = t * N + env`).
#[derive(Debug, Clone, Default)]
pub struct RolloutBuffer {
    /// `N`.
    pub num_envs: usize,
    /// `T`.
    pub n_steps: usize,
    /// Observation size.
    pub obs_dim: usize,
    /// Action size in the policy's flat layout.
    pub action_dim: usize,
    /// Normalised observations `[T*N, obs_dim]`.
    pub obs: Vec<f32>,
    /// Policy actions `[T*N, action_dim]`.
    pub actions: Vec<f32>,
    /// Log-probabilities of the actions when taken.
    pub log_probs: Vec<f32>,
    /// Critic values of the observations.
    pub values: Vec<f32>,
    /// Rewards (normalised if the agent normalises rewards).
    pub rewards: Vec<f32>,
    /// The step ended its episode by termination.
    pub terminated: Vec<bool>,
    /// The step ended its episode by truncation (and not termination).
    pub truncated: Vec<bool>,
    /// Critic values of the final observations of truncated steps (0 elsewhere).
    pub final_values: Vec<f32>,
    /// Critic values of the observations after the last row, `[N]`.
    pub last_values: Vec<f32>,
    /// GAE advantages.
    pub advantages: Vec<f32>,
    /// Critic targets (`advantages + values`).
    pub returns: Vec<f32>,
}

impl RolloutBuffer {
    /// A buffer of `n_steps` rows of `num_envs` environments.
    pub fn new(num_envs: usize, n_steps: usize, obs_dim: usize, action_dim: usize) -> Self {
        let len = num_envs * n_steps;
        Self {
            num_envs,
            n_steps,
            obs_dim,
            action_dim,
            obs: vec![0.0; len * obs_dim],
            actions: vec![0.0; len * action_dim],
            log_probs: vec![0.0; len],
            values: vec![0.0; len],
            rewards: vec![0.0; len],
            terminated: vec![false; len],
            truncated: vec![false; len],
            final_values: vec![0.0; len],
            last_values: vec![0.0; num_envs],
            advantages: vec![0.0; len],
            returns: vec![0.0; len],
        }
    }

    /// Transitions in the buffer (`T * N`).
    pub fn len(&self) -> usize {
        self.num_envs * self.n_steps
    }

    /// Whether the buffer holds no transitions.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Returns and lengths of the episodes in progress, one per environment.
#[derive(Debug, Clone)]
pub struct EpisodeTracker {
    returns: Vec<f64>,
    lengths: Vec<u64>,
    started: Vec<Instant>,
    /// Episodes finished so far.
    pub finished: u64,
}

impl EpisodeTracker {
    /// Tracks `num_envs` environments, all starting now.
    pub fn new(num_envs: usize) -> Self {
        Self {
            returns: vec![0.0; num_envs],
            lengths: vec![0; num_envs],
            started: vec![Instant::now(); num_envs],
            finished: 0,
        }
    }

    /// Adds a step of environment `i`; returns the episode's statistics when `done`.
    pub fn step(&mut self, i: usize, reward: f64, done: bool) -> Option<EpisodeStats> {
        self.returns[i] += reward;
        self.lengths[i] += 1;
        if !done {
            return None;
        }
        let stats = EpisodeStats {
            ret: self.returns[i],
            len: self.lengths[i],
            time: self.started[i].elapsed().as_secs_f64(),
        };
        self.returns[i] = 0.0;
        self.lengths[i] = 0;
        self.started[i] = Instant::now();
        self.finished += 1;
        Some(stats)
    }
}

/// The environment side of an on-policy learner: the vector environment, its current
/// (normalised) observations, action values, normalisers and bookkeeping.
pub struct VecRunner {
    /// The environments (SameStep autoreset).
    pub envs: SyncVecEnv<AnyEnv>,
    /// Raw observations of the current step `[N, obs_dim]`.
    pub raw_obs: Vec<f32>,
    /// Action values handed to the environments (reused every step).
    pub action_values: Vec<Value>,
    /// Episode bookkeeping.
    pub episodes: EpisodeTracker,
    /// Reward normalisation, if used.
    pub reward_norm: Option<RewardNormalizer>,
    /// Environment steps so far (all environments together).
    pub steps: u64,
    raw_rewards: Vec<f32>,
    done: Vec<bool>,
    final_rows: Vec<usize>,
    final_obs: Vec<f32>,
}

impl std::fmt::Debug for VecRunner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VecRunner")
            .field("num_envs", &self.envs.num_envs())
            .field("steps", &self.steps)
            .finish()
    }
}

fn check_finite_obs(obs: &[f32], obs_dim: usize) -> Result<()> {
    match obs.iter().position(|x| !x.is_finite()) {
        None => Ok(()),
        Some(i) => Err(Error::NonFinite(format!(
            "environment {} returned an observation with {} at index {}",
            i / obs_dim,
            obs[i],
            i % obs_dim
        ))),
    }
}

impl VecRunner {
    /// Resets `envs` with `seed` and updates `obs_norm` with the first observations.
    pub fn new(
        mut envs: SyncVecEnv<AnyEnv>,
        actor: &mut Actor,
        reward_norm: Option<RewardNormalizer>,
        seed: Option<u64>,
        update_obs_norm: bool,
    ) -> Result<Self> {
        let n = envs.num_envs();
        let od = envs.obs_dim();
        if od != actor.obs_dim() {
            return Err(Error::Shape(format!(
                "the environment's observations have {od} values, the network takes {}",
                actor.obs_dim()
            )));
        }
        let raw_obs = envs
            .reset(seed)?
            .obs()
            .as_slice()
            .map(<[f32]>::to_vec)
            .ok_or_else(|| Error::Shape("observation batch is not contiguous".to_owned()))?;
        check_finite_obs(&raw_obs, od)?;
        if update_obs_norm && let Some(norm) = &mut actor.obs_norm {
            norm.update(&raw_obs)?;
        }
        let mut reward_norm = reward_norm;
        if let Some(r) = &mut reward_norm {
            r.resize(n);
        }
        Ok(Self {
            action_values: vec![actor.adapter.blank(); n],
            envs,
            raw_obs,
            episodes: EpisodeTracker::new(n),
            reward_norm,
            steps: 0,
            raw_rewards: vec![0.0; n],
            done: vec![false; n],
            final_rows: Vec::with_capacity(n),
            final_obs: Vec::with_capacity(n * od),
        })
    }

    /// Number of environments.
    pub fn num_envs(&self) -> usize {
        self.envs.num_envs()
    }

    /// Fills `buf` with `buf.n_steps` steps of every environment, acting with `actor`.
    /// Returns `Break` when a callback asked to stop (the buffer is then incomplete).
    pub fn collect(
        &mut self,
        actor: &mut Actor,
        buf: &mut RolloutBuffer,
        rng: &mut EnvRng,
        callback: &mut dyn Callback,
    ) -> Result<ControlFlow<()>> {
        let n = self.num_envs();
        let (od, ad) = (buf.obs_dim, buf.action_dim);
        for t in 0..buf.n_steps {
            let rows = t * n..(t + 1) * n;
            {
                let out = actor.act_batch(&self.raw_obs, false, rng)?;
                buf.obs[rows.start * od..rows.end * od].copy_from_slice(out.obs);
                buf.actions[rows.start * ad..rows.end * ad].copy_from_slice(out.actions);
                buf.log_probs[rows.clone()].copy_from_slice(out.log_probs);
                buf.values[rows.clone()].copy_from_slice(out.values);
            }
            let acts = &buf.actions[rows.start * ad..rows.end * ad];
            for (value, a) in self.action_values.iter_mut().zip(acts.chunks_exact(ad)) {
                actor.adapter.write(a, value)?;
            }
            let step = self.envs.step(&self.action_values)?;
            let obs = step
                .obs()
                .as_slice()
                .ok_or_else(|| Error::Shape("observation batch is not contiguous".to_owned()))?;
            check_finite_obs(obs, od)?;
            self.raw_obs.copy_from_slice(obs);
            if let Some(norm) = &mut actor.obs_norm {
                norm.update(&self.raw_obs)?;
            }
            self.final_rows.clear();
            self.final_obs.clear();
            let mut flow = ControlFlow::Continue(());
            for i in 0..n {
                let (r, term, trunc) =
                    (step.rewards()[i], step.terminated()[i], step.truncated()[i]);
                if !r.is_finite() {
                    return Err(Error::NonFinite(format!(
                        "environment {i} returned reward {r}"
                    )));
                }
                let k = rows.start + i;
                buf.terminated[k] = term;
                buf.truncated[k] = trunc && !term;
                buf.final_values[k] = 0.0;
                self.raw_rewards[i] = r as f32;
                self.done[i] = term || trunc;
                self.steps += 1;
                let event = StepEvent {
                    total_steps: self.steps,
                    reward: r,
                    done: term || trunc,
                };
                if callback.on_step(&event).is_break() {
                    flow = ControlFlow::Break(());
                }
                if let Some(stats) = self.episodes.step(i, r, term || trunc)
                    && callback.on_episode_end(&stats).is_break()
                {
                    flow = ControlFlow::Break(());
                }
                if trunc && !term {
                    let row = step.final_obs_row(i).ok_or_else(|| {
                        Error::Shape(format!("no final observation for environment {i}"))
                    })?;
                    self.final_rows.push(k);
                    self.final_obs.extend(row.iter());
                }
            }
            match &mut self.reward_norm {
                Some(norm) => norm.step(
                    &self.raw_rewards,
                    &self.done,
                    &mut buf.rewards[rows.clone()],
                )?,
                None => buf.rewards[rows.clone()].copy_from_slice(&self.raw_rewards),
            }
            if !self.final_rows.is_empty() {
                check_finite_obs(&self.final_obs, od)?;
                let values = actor.values(&self.final_obs)?;
                for (&k, &v) in self.final_rows.iter().zip(values) {
                    buf.final_values[k] = v;
                }
            }
            if flow.is_break() {
                return Ok(flow);
            }
        }
        let last = actor.values(&self.raw_obs)?;
        buf.last_values.copy_from_slice(last);
        Ok(ControlFlow::Continue(()))
    }
}
