//! [`Agent`]: something that learns to act, with Stable-Baselines3's surface (`learn`,
//! `predict` as [`Agent::act`], `save`, `load` as [`Agent::restore`]); the [`Budget`] a `learn`
//! call trains for, the [`Progress`] an agent has made, and the [`Callback`]s it calls while it
//! learns.
//!
//! An agent owns what it learns from (an environment, vector environments made from a registry
//! id, a prompt set and a reward), as a Stable-Baselines3 model owns its `env`. Budgets count
//! the agent's whole life, earlier calls and restored checkpoints included, so `learn` after
//! `restore` continues a run where it stopped.

use std::ops::ControlFlow;
use std::path::Path;
use std::time::Instant;

use crate::error::{Error, Result};
use crate::info::EpisodeStats;
use crate::policy::Policy;
use crate::seeding::EnvRng;

/// What a budget counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BudgetUnit {
    /// Environment steps (for a language model: generated tokens).
    Steps,
    /// Finished episodes (for a language model: completions).
    Episodes,
    /// Parameter updates.
    Updates,
}

impl BudgetUnit {
    /// `"steps"`, `"episodes"` or `"updates"`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Steps => "steps",
            Self::Episodes => "episodes",
            Self::Updates => "updates",
        }
    }
}

/// How long [`Agent::learn`] trains: until the agent's [`Progress`] reaches this many steps,
/// episodes or updates **in total**. Agents work in whole batches (rollouts, batches of
/// episodes or completions), so they may overshoot by less than one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Budget {
    /// This many environment steps in total.
    Steps(u64),
    /// This many finished episodes in total.
    Episodes(u64),
    /// This many parameter updates in total.
    Updates(u64),
}

impl Budget {
    /// What the budget counts.
    pub fn unit(self) -> BudgetUnit {
        match self {
            Self::Steps(_) => BudgetUnit::Steps,
            Self::Episodes(_) => BudgetUnit::Episodes,
            Self::Updates(_) => BudgetUnit::Updates,
        }
    }

    /// The total it asks for.
    pub fn total(self) -> u64 {
        match self {
            Self::Steps(n) | Self::Episodes(n) | Self::Updates(n) => n,
        }
    }

    /// A budget of `total` in `unit`.
    pub fn new(unit: BudgetUnit, total: u64) -> Self {
        match unit {
            BudgetUnit::Steps => Self::Steps(total),
            BudgetUnit::Episodes => Self::Episodes(total),
            BudgetUnit::Updates => Self::Updates(total),
        }
    }

    /// Whether `progress` has reached the budget.
    pub fn reached(self, progress: &Progress) -> bool {
        progress.count(self.unit()) >= self.total()
    }

    /// How far `progress` is through the budget, in `[0, 1]` (1 for an empty budget): what
    /// learning-rate and clip-range schedules follow.
    pub fn fraction(self, progress: &Progress) -> f64 {
        match self.total() {
            0 => 1.0,
            n => (progress.count(self.unit()) as f64 / n as f64).min(1.0),
        }
    }

    /// Checks the arguments of [`Agent::learn_until`] for an agent (named `agent` in the error)
    /// that can count `supported`: `stop` and `budget` must count the same unit, and one it
    /// supports.
    pub fn check(
        stop: Budget,
        budget: Budget,
        agent: &str,
        supported: &[BudgetUnit],
    ) -> Result<()> {
        if stop.unit() != budget.unit() {
            return Err(Error::invalid_argument(format!(
                "{agent}: the stop ({}) and the budget ({}) must count the same unit",
                stop.unit().name(),
                budget.unit().name()
            )));
        }
        if !supported.contains(&budget.unit()) {
            let names: Vec<&str> = supported.iter().map(|u| u.name()).collect();
            return Err(Error::invalid_argument(format!(
                "{agent} counts its budget in {}, not in {}",
                names.join(" or "),
                budget.unit().name()
            )));
        }
        Ok(())
    }
}

/// How much an agent has trained over its whole life (restored checkpoints included).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Progress {
    /// Environment steps (for a language model: generated tokens).
    pub steps: u64,
    /// Finished episodes (for a language model: completions).
    pub episodes: u64,
    /// Parameter updates.
    pub updates: u64,
}

impl Progress {
    /// The count of `unit`.
    pub fn count(&self, unit: BudgetUnit) -> u64 {
        match unit {
            BudgetUnit::Steps => self.steps,
            BudgetUnit::Episodes => self.episodes,
            BudgetUnit::Updates => self.updates,
        }
    }
}

/// What a call to [`Agent::learn`] did.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LearnSummary {
    /// The agent's progress at the end of the call (totals, not this call's share).
    pub progress: Progress,
    /// Whether a callback stopped training before the budget.
    pub stopped_by_callback: bool,
    /// Seconds this call took.
    pub wall_seconds: f64,
}

impl LearnSummary {
    /// The summary of a call that started at `start` and ended with `progress`.
    pub fn since(start: Instant, progress: Progress, stopped_by_callback: bool) -> Self {
        Self {
            progress,
            stopped_by_callback,
            wall_seconds: start.elapsed().as_secs_f64(),
        }
    }
}

/// What happened during one environment step of training, as seen by a [`Callback`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StepEvent {
    /// Environment steps the agent has taken in total, this one included (its
    /// [`Progress::steps`]).
    pub total_steps: u64,
    /// Reward of this step.
    pub reward: f64,
    /// Whether this step ended an episode.
    pub done: bool,
}

/// Hooks an [`Agent`] calls while it learns (Stable-Baselines3's callbacks).
///
/// Every hook returns [`ControlFlow::Break`] to stop training early.
pub trait Callback {
    /// After every environment step.
    fn on_step(&mut self, _event: &StepEvent) -> ControlFlow<()> {
        ControlFlow::Continue(())
    }

    /// After every finished episode.
    fn on_episode_end(&mut self, _stats: &EpisodeStats) -> ControlFlow<()> {
        ControlFlow::Continue(())
    }

    /// After every parameter update, with named metrics (losses, entropy, ...).
    fn on_update(&mut self, _metrics: &[(&str, f64)]) -> ControlFlow<()> {
        ControlFlow::Continue(())
    }
}

/// The callback that does nothing.
impl Callback for () {}

/// Records every finished episode; optionally stops training once the mean return of the last
/// `window` episodes reaches a threshold (Stable-Baselines3's `StopTrainingOnRewardThreshold`).
#[derive(Clone, Debug, Default)]
pub struct EpisodeRecorder {
    /// Finished episodes, in order.
    pub episodes: Vec<EpisodeStats>,
    stop_at: Option<(f64, usize)>,
}

impl EpisodeRecorder {
    /// Records episodes, never stops training.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records episodes and stops once the mean return of the last `window` episodes is at
    /// least `threshold`.
    pub fn stop_at_mean_return(threshold: f64, window: usize) -> Self {
        EpisodeRecorder {
            episodes: Vec::new(),
            stop_at: Some((threshold, window.max(1))),
        }
    }

    /// Mean return of the last `window` episodes (`None` before any episode).
    pub fn recent_mean_return(&self, window: usize) -> Option<f64> {
        let n = self.episodes.len().min(window);
        if n == 0 {
            return None;
        }
        let tail = &self.episodes[self.episodes.len() - n..];
        Some(tail.iter().map(|e| e.ret).sum::<f64>() / n as f64)
    }
}

impl Callback for EpisodeRecorder {
    fn on_episode_end(&mut self, stats: &EpisodeStats) -> ControlFlow<()> {
        self.episodes.push(*stats);
        match self.stop_at {
            Some((threshold, window))
                if self.episodes.len() >= window
                    && self
                        .recent_mean_return(window)
                        .is_some_and(|m| m >= threshold) =>
            {
                ControlFlow::Break(())
            }
            _ => ControlFlow::Continue(()),
        }
    }
}

/// Something that learns to act: the surface every trained agent of the workspace has (PPO and
/// REINFORCE on registered environments, tabular TD agents, language models fine-tuned with RL).
///
/// ```
/// use std::ops::ControlFlow;
/// use std::path::Path;
/// use std::time::Instant;
/// use tokengym::agent::{Agent, Budget, BudgetUnit, Callback, LearnSummary, Progress};
///
/// /// Learns the mean of a stream of numbers; acts by predicting it.
/// struct Mean { sum: f64, progress: Progress }
///
/// impl Agent for Mean {
///     type Obs = ();
///     type Action = f64;
///     type Error = tokengym::Error;
///     fn learn_until(&mut self, stop: Budget, budget: Budget, cb: &mut dyn Callback)
///         -> tokengym::Result<LearnSummary> {
///         Budget::check(stop, budget, "Mean", &[BudgetUnit::Updates])?;
///         let start = Instant::now();
///         while !stop.reached(&self.progress) {
///             self.sum += (self.progress.updates % 3) as f64; // 0, 1, 2, 0, ...
///             self.progress.updates += 1;
///             let mean = self.sum / self.progress.updates as f64;
///             if cb.on_update(&[("mean", mean)]).is_break() {
///                 return Ok(LearnSummary::since(start, self.progress, true));
///             }
///         }
///         Ok(LearnSummary::since(start, self.progress, false))
///     }
///     fn progress(&self) -> Progress { self.progress }
///     fn act(&mut self, _: &(), _deterministic: bool) -> tokengym::Result<f64> {
///         Ok(self.sum / self.progress.updates.max(1) as f64)
///     }
///     fn save(&self, _: &Path) -> tokengym::Result<()> { Ok(()) }
///     fn restore(&mut self, _: &Path) -> tokengym::Result<()> { Ok(()) }
/// }
///
/// let mut agent = Mean { sum: 0.0, progress: Progress::default() };
/// agent.learn(Budget::Updates(6), &mut ())?;
/// assert_eq!(agent.act(&(), true)?, 1.0);
/// agent.learn(Budget::Updates(6), &mut ())?; // the budget is a total: nothing more to do
/// assert_eq!(agent.progress().updates, 6);
/// assert!(agent.learn(Budget::Steps(10), &mut ()).is_err()); // a unit it does not count
/// # Ok::<(), tokengym::Error>(())
/// ```
pub trait Agent {
    /// What the agent acts on (an observation, a prompt).
    type Obs: ?Sized;
    /// What it answers (an action, a completion).
    type Action;
    /// The agent's error type (it must be able to carry the core crate's errors).
    type Error: std::error::Error + From<Error>;

    /// Trains until the agent's progress reaches `budget` (a total over its whole life), or a
    /// callback stops it. A budget in a unit the agent does not count is an error.
    fn learn(
        &mut self,
        budget: Budget,
        callback: &mut dyn Callback,
    ) -> std::result::Result<LearnSummary, Self::Error> {
        self.learn_until(budget, budget, callback)
    }

    /// Like [`learn`](Self::learn) but stops at `stop` while schedules (learning rate, clip
    /// range) run over `budget`: training in chunks up to `budget` (to evaluate or checkpoint
    /// in between) follows the same schedule as one call. `stop` and `budget` count the same
    /// unit ([`Budget::check`]).
    fn learn_until(
        &mut self,
        stop: Budget,
        budget: Budget,
        callback: &mut dyn Callback,
    ) -> std::result::Result<LearnSummary, Self::Error>;

    /// How much the agent has trained (earlier calls and restored checkpoints included).
    fn progress(&self) -> Progress;

    /// Chooses an action for `obs`; `deterministic` takes the most likely one instead of
    /// sampling (Stable-Baselines3's `predict(obs, deterministic)`).
    fn act(
        &mut self,
        obs: &Self::Obs,
        deterministic: bool,
    ) -> std::result::Result<Self::Action, Self::Error>;

    /// Writes what the agent has learned (and its progress) to `path`, atomically.
    fn save(&self, path: &Path) -> std::result::Result<(), Self::Error>;

    /// Restores, into this agent, what [`save`](Self::save) wrote; an error when the saved
    /// agent does not fit this one (another environment, other shapes).
    fn restore(&mut self, path: &Path) -> std::result::Result<(), Self::Error>;
}

/// Runs an [`Agent`] as a [`Policy`] (deterministic or sampling), so it can be evaluated with
/// [`evaluate`](crate::policy::evaluate) like any other policy.
pub struct AgentPolicy<'a, A: ?Sized> {
    agent: &'a mut A,
    deterministic: bool,
}

impl<'a, A: Agent + ?Sized> AgentPolicy<'a, A> {
    /// Acts with `agent`; `deterministic` is passed to [`Agent::act`].
    pub fn new(agent: &'a mut A, deterministic: bool) -> Self {
        AgentPolicy {
            agent,
            deterministic,
        }
    }
}

impl<A> Policy<A::Obs, A::Action> for AgentPolicy<'_, A>
where
    A: Agent + ?Sized,
    A::Obs: Sized,
{
    fn act(&mut self, obs: &A::Obs, _rng: &mut EnvRng) -> Result<A::Action> {
        self.agent
            .act(obs, self.deterministic)
            .map_err(|e| Error::Agent(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budgets_count_one_unit_of_the_progress() {
        let progress = Progress {
            steps: 300,
            episodes: 7,
            updates: 2,
        };
        for unit in [BudgetUnit::Steps, BudgetUnit::Episodes, BudgetUnit::Updates] {
            let b = Budget::new(unit, 10);
            assert_eq!((b.unit(), b.total()), (unit, 10));
        }
        assert_eq!(progress.count(BudgetUnit::Episodes), 7);
        assert!(Budget::Steps(300).reached(&progress));
        assert!(!Budget::Steps(301).reached(&progress));
        assert!(!Budget::Episodes(8).reached(&progress));
        assert!(Budget::Updates(2).reached(&progress));
        assert_eq!(Budget::Steps(600).fraction(&progress), 0.5);
        assert_eq!(Budget::Episodes(5).fraction(&progress), 1.0, "clamped");
        assert_eq!(
            Budget::Updates(0).fraction(&progress),
            1.0,
            "an empty budget is done"
        );
    }

    #[test]
    fn check_refuses_mixed_and_unsupported_units() {
        let steps = [BudgetUnit::Steps];
        assert!(Budget::check(Budget::Steps(5), Budget::Steps(10), "PPO", &steps).is_ok());
        let mixed = Budget::check(Budget::Steps(5), Budget::Episodes(10), "PPO", &steps)
            .unwrap_err()
            .to_string();
        assert!(
            mixed.contains("same unit") && mixed.contains("episodes"),
            "{mixed}"
        );
        let both = [BudgetUnit::Steps, BudgetUnit::Episodes];
        let unsupported = Budget::check(Budget::Updates(5), Budget::Updates(5), "X", &both)
            .unwrap_err()
            .to_string();
        assert!(
            unsupported.contains("X counts its budget in steps or episodes, not in updates"),
            "{unsupported}"
        );
    }

    #[test]
    fn the_episode_recorder_stops_at_its_threshold() {
        let mut rec = EpisodeRecorder::stop_at_mean_return(1.0, 2);
        let ep = |ret| EpisodeStats {
            ret,
            len: 1,
            time: 0.0,
        };
        assert_eq!(rec.recent_mean_return(2), None);
        assert!(
            rec.on_episode_end(&ep(2.0)).is_continue(),
            "window not full"
        );
        assert!(rec.on_episode_end(&ep(-1.0)).is_continue(), "mean 0.5");
        assert!(rec.on_episode_end(&ep(3.0)).is_break(), "mean 1.0");
        assert_eq!(rec.episodes.len(), 3);
        let mut never = EpisodeRecorder::new();
        assert!(never.on_episode_end(&ep(100.0)).is_continue());
    }
}
