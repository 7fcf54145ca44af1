//! Dynamic programming over a known transition model ([`Mdp`]): value iteration and policy
//! iteration (Sutton & Barto ch. 4; Russell & Norvig ch. 17).

mod policy_iteration;
mod value_iteration;

pub use policy_iteration::policy_iteration;
pub use value_iteration::value_iteration;

use tokengym::{Error, Result};
use tokengym_envs::toy::Mdp;

/// Settings shared by the planners.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PlanningConfig {
    /// Discount factor in `[0, 1]` (1 only for MDPs where every policy the planner meets ends).
    pub gamma: f64,
    /// Stop when no value changes by more than this in one sweep.
    pub theta: f64,
    /// Give up after this many sweeps (value iteration) or evaluation sweeps per policy
    /// (policy iteration).
    pub max_sweeps: usize,
}

impl Default for PlanningConfig {
    fn default() -> Self {
        PlanningConfig {
            gamma: 0.9,
            theta: 1e-10,
            max_sweeps: 10_000,
        }
    }
}

impl PlanningConfig {
    /// `gamma` with the other settings at their defaults.
    pub fn with_gamma(gamma: f64) -> Self {
        PlanningConfig {
            gamma,
            ..Self::default()
        }
    }

    fn validate(&self) -> Result<()> {
        if !(0.0..=1.0).contains(&self.gamma) {
            return Err(Error::invalid_argument(format!(
                "planning: gamma must be in [0, 1], got {}",
                self.gamma
            )));
        }
        if !(self.theta > 0.0 && self.theta.is_finite()) {
            return Err(Error::invalid_argument(format!(
                "planning: theta must be positive and finite, got {}",
                self.theta
            )));
        }
        if self.max_sweeps == 0 {
            return Err(Error::invalid_argument(
                "planning: max_sweeps must be positive",
            ));
        }
        Ok(())
    }
}

/// What a planner found.
#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    /// `V(s)` for every state (0 for states no action can be taken in).
    pub values: Vec<f64>,
    /// A greedy action for every state (0 where no action can be taken).
    pub policy: Vec<usize>,
    /// Value-iteration sweeps, or policy-improvement steps for policy iteration.
    pub iterations: usize,
    /// Whether the values converged to `theta` within the sweep limit.
    pub converged: bool,
}

impl Plan {
    /// `V(start)`: the optimal expected return of an episode.
    pub fn start_value(&self, mdp: &impl Mdp) -> f64 {
        self.values.get(mdp.start_state()).copied().unwrap_or(0.0)
    }
}

/// `Q(s, a) = sum_s' P(s'|s,a) [r + gamma V(s')]` (no bootstrapping past terminal transitions).
pub fn q_value(mdp: &impl Mdp, values: &[f64], gamma: f64, state: usize, action: usize) -> f64 {
    mdp.transitions(state, action)
        .iter()
        .map(|o| {
            let next = if o.terminal { 0.0 } else { values[o.next] };
            o.prob * (o.reward + gamma * next)
        })
        .sum()
}

/// The best action in `state` under `values` and its Q-value (`(0, 0.0)` where no action is
/// possible). Ties go to the lowest action unless another one is better by more than `1e-12`.
pub fn greedy_action(mdp: &impl Mdp, values: &[f64], gamma: f64, state: usize) -> (usize, f64) {
    if mdp.is_absorbing(state) {
        return (0, 0.0);
    }
    let mut best = (0, f64::NEG_INFINITY);
    for a in 0..mdp.n_actions() {
        if mdp.transitions(state, a).is_empty() {
            continue;
        }
        let q = q_value(mdp, values, gamma, state, a);
        if q > best.1 + 1e-12 {
            best = (a, q);
        }
    }
    best
}

/// The greedy policy with respect to `values`.
pub fn greedy_policy(mdp: &impl Mdp, values: &[f64], gamma: f64) -> Vec<usize> {
    (0..mdp.n_states())
        .map(|s| greedy_action(mdp, values, gamma, s).0)
        .collect()
}

#[cfg(test)]
mod tests;
