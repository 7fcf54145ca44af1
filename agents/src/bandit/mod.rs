//! Bandit agents: the action-value and gradient methods of Sutton & Barto, chapter 2.
//!
//! Every agent implements [`BanditAgent`]: [`select`](BanditAgent::select) an arm, observe its
//! reward with [`update`](BanditAgent::update), [`reset`](BanditAgent::reset) before a new
//! problem. Each agent owns a seeded RNG, so a run is reproducible; ties between equally good
//! arms are broken uniformly at random.
//!
//! | agent | file | book |
//! |---|---|---|
//! | [`EpsilonGreedy`] (greedy, ε-greedy, optimistic initial values; sample-average or constant step size) | `epsilon_greedy.rs` | §2.2–2.6 |
//! | [`Ucb`] (upper confidence bound) | `ucb.rs` | §2.7 |
//! | [`GradientBandit`] (softmax preferences, optional average-reward baseline) | `gradient.rs` | §2.8 |
//!
//! [`testbed`] runs agents on many independent [`KArmedBandit`](tokengym_envs::toy::KArmedBandit)
//! problems in parallel and averages their learning curves (the book's Figure 2.2).
//!
//! ```
//! use tokengym_agents::bandit::{BanditAgent, EpsilonGreedy, StepSize};
//! let mut agent = EpsilonGreedy::new(3, 0.1, StepSize::SampleAverage, 0.0, 42)?;
//! for _ in 0..100 {
//!     let a = agent.select();
//!     agent.update(a, if a == 2 { 1.0 } else { 0.0 })?;
//! }
//! assert_eq!(agent.greedy_action(), 2);
//! # Ok::<(), tokengym::Error>(())
//! ```

mod config;
mod epsilon_greedy;
mod gradient;
pub mod testbed;
mod ucb;

pub use config::BanditAgentConfig;
pub use epsilon_greedy::EpsilonGreedy;
pub use gradient::GradientBandit;
pub use ucb::Ucb;

use rand::RngExt;
use serde::{Deserialize, Serialize};
use tokengym::{EnvRng, Error, Result};

/// An agent for the k-armed bandit problem.
pub trait BanditAgent {
    /// Number of arms.
    fn k(&self) -> usize;

    /// Chooses the arm to pull next.
    fn select(&mut self) -> usize;

    /// Learns from pulling arm `action` and receiving `reward`; an arm outside `0..k` or a
    /// non-finite reward is an error and changes nothing.
    fn update(&mut self, action: usize, reward: f64) -> Result<()>;

    /// Forgets everything learned (a new problem starts); re-seeds the agent's RNG when `seed`
    /// is `Some`, else continues its stream.
    fn reset(&mut self, seed: Option<u64>);

    /// The agent's current per-arm numbers: action-value estimates `Q(a)`, or preferences `H(a)`
    /// for the gradient bandit.
    fn estimates(&self) -> &[f64];

    /// The arm the agent currently believes best (highest [`estimates`](Self::estimates), lowest
    /// index among equals); no exploration, no randomness.
    fn greedy_action(&self) -> usize {
        let est = self.estimates();
        let mut best = 0;
        for (a, &v) in est.iter().enumerate() {
            if v > est[best] {
                best = a;
            }
        }
        best
    }
}

impl<B: BanditAgent + ?Sized> BanditAgent for Box<B> {
    fn k(&self) -> usize {
        (**self).k()
    }
    fn select(&mut self) -> usize {
        (**self).select()
    }
    fn update(&mut self, action: usize, reward: f64) -> Result<()> {
        (**self).update(action, reward)
    }
    fn reset(&mut self, seed: Option<u64>) {
        (**self).reset(seed)
    }
    fn estimates(&self) -> &[f64] {
        (**self).estimates()
    }
}

/// How action-value estimates move towards new rewards.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepSize {
    /// `1/n` after the n-th pull of an arm: `Q(a)` is the arithmetic mean of its rewards.
    SampleAverage,
    /// A constant `α` in (0, 1]: an exponential recency-weighted average, which tracks
    /// non-stationary problems.
    Constant(f64),
}

impl StepSize {
    /// Checks that a constant step size lies in (0, 1].
    pub fn validate(&self) -> Result<()> {
        match *self {
            StepSize::SampleAverage => Ok(()),
            StepSize::Constant(alpha) if alpha > 0.0 && alpha <= 1.0 => Ok(()),
            StepSize::Constant(alpha) => Err(Error::invalid_argument(format!(
                "constant step size must be in (0, 1], got {alpha}"
            ))),
        }
    }

    /// The step size for the `n`-th pull (`n >= 1`) of an arm.
    pub fn at(&self, n: u64) -> f64 {
        match *self {
            StepSize::SampleAverage => 1.0 / n as f64,
            StepSize::Constant(alpha) => alpha,
        }
    }
}

/// The index of the largest value, ties broken uniformly at random (one pass, no allocation:
/// the `m`-th tie seen replaces the current choice with probability `1/m`).
pub(crate) fn argmax_random_tie(values: impl IntoIterator<Item = f64>, rng: &mut EnvRng) -> usize {
    let mut best = 0;
    let mut best_value = f64::NEG_INFINITY;
    let mut ties = 0u32;
    for (i, v) in values.into_iter().enumerate() {
        if v > best_value {
            best = i;
            best_value = v;
            ties = 1;
        } else if v == best_value {
            ties += 1;
            if rng.random_range(0..ties) == 0 {
                best = i;
            }
        }
    }
    best
}

/// `n` copies of `value`, allocated fallibly: `n` comes from the user (arms, steps), and a
/// size that does not fit in memory is an error naming `what`, not an aborted process.
pub(crate) fn filled<T: Clone>(value: T, n: usize, what: &str) -> Result<Vec<T>> {
    let mut v = reserved(n, what)?;
    v.resize(n, value);
    Ok(v)
}

/// An empty vector with room for `n` items, allocated fallibly (see [`filled`]).
pub(crate) fn reserved<T>(n: usize, what: &str) -> Result<Vec<T>> {
    let mut v = Vec::new();
    v.try_reserve_exact(n).map_err(|_| {
        Error::invalid_argument(format!(
            "{what} = {n} does not fit in memory ({} bytes each)",
            std::mem::size_of::<T>().max(1)
        ))
    })?;
    Ok(v)
}

pub(crate) fn check_k(k: usize) -> Result<()> {
    if k == 0 {
        Err(Error::invalid_argument(
            "a bandit agent needs at least one arm",
        ))
    } else {
        Ok(())
    }
}

pub(crate) fn check_update(k: usize, action: usize, reward: f64) -> Result<()> {
    if action >= k {
        return Err(Error::InvalidAction {
            action: action.to_string(),
            space: format!("Discrete({k})"),
        });
    }
    if !reward.is_finite() {
        return Err(Error::NonFinite {
            what: "bandit reward".into(),
            detail: format!("{reward} for arm {action}"),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn argmax_breaks_ties_uniformly() {
        let mut rng = EnvRng::seed_from_u64(0);
        let mut counts = [0u32; 4];
        for _ in 0..8000 {
            counts[argmax_random_tie([1.0, 3.0, 3.0, 3.0], &mut rng)] += 1;
        }
        assert_eq!(counts[0], 0);
        for &c in &counts[1..] {
            assert!((2400..2930).contains(&c), "{counts:?}");
        }
        assert_eq!(argmax_random_tie([0.0, 5.0, 1.0], &mut rng), 1);
    }

    #[test]
    fn step_sizes() {
        assert_eq!(StepSize::SampleAverage.at(4), 0.25);
        assert_eq!(StepSize::Constant(0.1).at(4), 0.1);
        assert!(StepSize::Constant(0.0).validate().is_err());
        assert!(StepSize::Constant(1.5).validate().is_err());
        assert!(StepSize::Constant(f64::NAN).validate().is_err());
        assert!(StepSize::Constant(1.0).validate().is_ok());
    }
}
