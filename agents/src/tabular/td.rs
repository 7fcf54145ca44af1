//! One-step temporal-difference control: Q-learning, SARSA and expected SARSA with an
//! epsilon-greedy behaviour policy (Sutton & Barto §6.4–6.6).

use super::QTable;
use rand::SeedableRng;
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::time::Instant;
use tokengym::agent::StepEvent;
use tokengym::space::Discrete;
use tokengym::{
    Agent, Budget, BudgetUnit, Callback, Env, EnvRng, EpisodeStats, Error, LearnSummary, Progress,
    Result,
};

/// Which TD target the agent learns from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TdMethod {
    /// Off-policy: `r + gamma * max_a Q(s', a)`.
    QLearning,
    /// On-policy: `r + gamma * Q(s', a')` with `a'` the action the agent takes next.
    Sarsa,
    /// `r + gamma * sum_a pi(a|s') Q(s', a)` under the epsilon-greedy policy.
    ExpectedSarsa,
}

impl TdMethod {
    /// A short name (`q-learning`, `sarsa`, `expected-sarsa`).
    pub fn name(&self) -> &'static str {
        match self {
            TdMethod::QLearning => "q-learning",
            TdMethod::Sarsa => "sarsa",
            TdMethod::ExpectedSarsa => "expected-sarsa",
        }
    }
}

/// Hyperparameters of a [`TdAgent`].
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct TdConfig {
    /// The TD target.
    pub method: TdMethod,
    /// Step size in `(0, 1]`.
    pub alpha: f64,
    /// Discount factor in `[0, 1]`.
    pub gamma: f64,
    /// Exploration rate of the epsilon-greedy behaviour policy, in `[0, 1]`.
    pub epsilon: f64,
    /// Initial value of every `Q(s, a)`.
    pub initial_q: f64,
    /// Seeds the agent's RNG and the environment's first reset.
    pub seed: u64,
}

impl TdConfig {
    /// Sutton & Barto's cliff-walking settings: alpha 0.5, gamma 1, epsilon 0.1, Q = 0.
    pub fn new(method: TdMethod, seed: u64) -> Self {
        TdConfig {
            method,
            alpha: 0.5,
            gamma: 1.0,
            epsilon: 0.1,
            initial_q: 0.0,
            seed,
        }
    }

    fn validate(&self) -> Result<()> {
        let bad = |what: &str, v: f64| {
            Err(Error::invalid_argument(format!(
                "TdConfig: {what} out of range: {v}"
            )))
        };
        if !(self.alpha > 0.0 && self.alpha <= 1.0) {
            return bad("alpha must be in (0, 1]; it is", self.alpha);
        }
        if !(0.0..=1.0).contains(&self.gamma) {
            return bad("gamma must be in [0, 1]; it is", self.gamma);
        }
        if !(0.0..=1.0).contains(&self.epsilon) {
            return bad("epsilon must be in [0, 1]; it is", self.epsilon);
        }
        Ok(())
    }
}

/// What [`TdAgent`]'s [`Agent::save`] writes.
#[derive(Serialize, Deserialize)]
struct Saved {
    config: TdConfig,
    q: QTable,
    /// Absent in files written before progress was saved.
    #[serde(default)]
    progress: Progress,
}

/// A tabular TD-control agent for an environment with `Discrete` observations and actions,
/// which it owns (as a Stable-Baselines3 model owns its `env`).
///
/// ```
/// use tokengym::{Agent, Budget};
/// use tokengym_agents::tabular::{TdAgent, TdConfig, TdMethod};
/// use tokengym_envs::toy::GridWorld;
/// let mut agent = TdAgent::new(GridWorld::cliff_walking(), TdConfig::new(TdMethod::QLearning, 0))?;
/// let episodes = agent.learn_episodes(200, &mut ())?;
/// assert_eq!(episodes.len(), 200);
/// agent.learn(Budget::Episodes(250), &mut ())?; // a total: 50 more
/// assert_eq!(agent.progress().episodes, 250);
/// let start = agent.act(&36, true)?; // the greedy action in the start state
/// assert!((0..4).contains(&start));
/// # Ok::<(), tokengym::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct TdAgent<E> {
    env: E,
    config: TdConfig,
    q: QTable,
    obs_space: Discrete,
    act_space: Discrete,
    rng: EnvRng,
    seeded_env: bool,
    progress: Progress,
}

impl<E: Env<ObsSpace = Discrete, ActSpace = Discrete>> TdAgent<E> {
    /// An agent learning in `env`.
    pub fn new(env: E, config: TdConfig) -> Result<Self> {
        config.validate()?;
        let (obs_space, act_space) = (*env.observation_space(), *env.action_space());
        let to_usize = |n: u64| {
            usize::try_from(n).map_err(|_| Error::invalid_argument("TdAgent: space too large"))
        };
        let q = QTable::new(
            to_usize(obs_space.n())?,
            to_usize(act_space.n())?,
            config.initial_q,
        )?;
        Ok(TdAgent {
            env,
            config,
            q,
            obs_space,
            act_space,
            rng: EnvRng::seed_from_u64(config.seed),
            seeded_env: false,
            progress: Progress::default(),
        })
    }

    /// The environment the agent learns in.
    pub fn env(&self) -> &E {
        &self.env
    }

    /// The hyperparameters.
    pub fn config(&self) -> &TdConfig {
        &self.config
    }

    /// The learned action values.
    pub fn q(&self) -> &QTable {
        &self.q
    }

    fn state_index(&self, obs: i64) -> Result<usize> {
        self.obs_space
            .index_of(obs)
            .ok_or_else(|| Error::ValueMismatch {
                space: self.obs_space.to_string(),
                reason: format!("observation {obs} is out of range"),
            })
    }

    fn behave(&mut self, state: usize) -> usize {
        self.q
            .epsilon_greedy(state, self.config.epsilon, &mut self.rng)
    }

    /// Trains for `episodes` more whole episodes; returns their undiscounted returns and
    /// lengths. The first episode this agent ever runs resets the environment with the
    /// config's seed.
    pub fn learn_episodes(
        &mut self,
        episodes: usize,
        callback: &mut dyn Callback,
    ) -> Result<Vec<EpisodeStats>> {
        let stop = Budget::Episodes(self.progress.episodes.saturating_add(episodes as u64));
        Ok(self.train(stop, callback)?.0)
    }

    /// Trains until `stop` is reached (the last episode is cut short by a step budget);
    /// returns the finished episodes and whether a callback stopped training.
    fn train(
        &mut self,
        stop: Budget,
        callback: &mut dyn Callback,
    ) -> Result<(Vec<EpisodeStats>, bool)> {
        let TdConfig {
            method,
            alpha,
            gamma,
            epsilon,
            ..
        } = self.config;
        let mut finished = Vec::new();
        while !stop.reached(&self.progress) {
            let seed = (!self.seeded_env).then_some(self.config.seed);
            self.seeded_env = true;
            let (obs, _) = self.env.reset(seed)?;
            let started = Instant::now();
            let mut s = self.state_index(obs)?;
            let mut a = self.behave(s);
            let mut stats = EpisodeStats::default();
            loop {
                let action = self.act_space.start() + a as i64;
                let step = self.env.step(&action)?;
                let s2 = self.state_index(step.obs)?;
                self.progress.steps += 1;
                stats.ret += step.reward;
                stats.len += 1;
                // SARSA needs the next action before the update; the others choose it after.
                let a2 = if method == TdMethod::Sarsa {
                    self.behave(s2)
                } else {
                    0
                };
                let next_value = if step.terminated {
                    0.0
                } else {
                    match method {
                        TdMethod::QLearning => self.q.max(s2),
                        TdMethod::Sarsa => self.q.get(s2, a2).unwrap_or(0.0),
                        TdMethod::ExpectedSarsa => self.q.epsilon_greedy_expectation(s2, epsilon),
                    }
                };
                let target = step.reward + gamma * next_value;
                if let Some(q) = self.q.get_mut(s, a) {
                    *q += alpha * (target - *q);
                }
                self.progress.updates += 1;
                let done = step.done();
                let event = StepEvent {
                    total_steps: self.progress.steps,
                    reward: step.reward,
                    done,
                };
                let stop_now = callback.on_step(&event).is_break();
                if done {
                    self.progress.episodes += 1;
                    stats.time = started.elapsed().as_secs_f64();
                    finished.push(stats);
                    if callback.on_episode_end(&stats).is_break() {
                        return Ok((finished, true));
                    }
                }
                if stop_now {
                    return Ok((finished, true));
                }
                if done || stop.reached(&self.progress) {
                    break;
                }
                s = s2;
                a = if method == TdMethod::Sarsa {
                    a2
                } else {
                    self.behave(s2)
                };
            }
        }
        Ok((finished, false))
    }
}

impl<E: Env<ObsSpace = Discrete, ActSpace = Discrete>> Agent for TdAgent<E> {
    type Obs = i64;
    type Action = i64;
    type Error = Error;

    /// Trains until `stop` steps, episodes or updates (one update per step) in total; a step
    /// budget may cut the last episode short. TD control has no schedule, so `budget` only
    /// fixes the unit.
    fn learn_until(
        &mut self,
        stop: Budget,
        budget: Budget,
        callback: &mut dyn Callback,
    ) -> Result<LearnSummary> {
        Budget::check(
            stop,
            budget,
            "TdAgent",
            &[BudgetUnit::Steps, BudgetUnit::Episodes, BudgetUnit::Updates],
        )?;
        let start = Instant::now();
        let (_, stopped) = self.train(stop, callback)?;
        Ok(LearnSummary::since(start, self.progress, stopped))
    }

    fn progress(&self) -> Progress {
        self.progress
    }

    /// The greedy action (first of the best when `deterministic`, a random one of them
    /// otherwise, after an epsilon chance of a random action).
    fn act(&mut self, obs: &i64, deterministic: bool) -> Result<i64> {
        let s = self.state_index(*obs)?;
        let a = if deterministic {
            self.q.argmax(s)
        } else {
            self.behave(s)
        };
        Ok(self.act_space.start() + a as i64)
    }

    /// Writes the config, the Q table and the progress as JSON, atomically (temporary file,
    /// then rename).
    fn save(&self, path: &Path) -> Result<()> {
        let saved = Saved {
            config: self.config,
            q: self.q.clone(),
            progress: self.progress,
        };
        let text = serde_json::to_string_pretty(&saved)
            .map_err(|e| Error::Encode(format!("Q table to JSON: {e}")))?;
        let tmp = path.with_extension(format!("tmp.{}", std::process::id()));
        let result = std::fs::write(&tmp, text).and_then(|()| std::fs::rename(&tmp, path));
        if result.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        result.map_err(|e| Error::io(path, e))
    }

    /// Reads what [`Agent::save`] wrote; the table must have this agent's dimensions.
    fn restore(&mut self, path: &Path) -> Result<()> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        let saved: Saved = serde_json::from_str(&text).map_err(|e| {
            Error::invalid_argument(format!("{}: not a saved TdAgent: {e}", path.display()))
        })?;
        saved.config.validate()?;
        if (saved.q.n_states(), saved.q.n_actions()) != (self.q.n_states(), self.q.n_actions()) {
            return Err(Error::shape(
                "loaded Q table",
                format!("{} x {}", self.q.n_states(), self.q.n_actions()),
                format!("{} x {}", saved.q.n_states(), saved.q.n_actions()),
            ));
        }
        self.config = saved.config;
        self.q = saved.q;
        self.progress = saved.progress;
        Ok(())
    }
}

#[cfg(test)]
#[path = "td_tests.rs"]
mod tests;
