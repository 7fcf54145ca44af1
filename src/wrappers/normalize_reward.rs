//! `NormalizeReward`: scale rewards by the running standard deviation of the discounted return.

use super::normalize_observation::NORMALIZE_EPSILON;
use crate::env::{ActOf, Env, ObsOf, Step, Transition};
use crate::error::{Error, Result};
use crate::info::Info;
use crate::running_stats::RunningMeanStd;

/// Divides each reward by `sqrt(var + epsilon)`, where `var` is the running variance of a
/// discounted return accumulator (Gymnasium 1.x's `NormalizeReward`; the mean is not
/// subtracted).
///
/// On each step, before the reward is scaled:
/// `acc = acc * gamma * (1 - terminated) + reward`, then `acc` updates the statistics (while
/// [`update_running_mean`](Self::update_running_mean) is on). So the accumulator restarts at
/// every termination: the terminal step's accumulator is just its reward. As in Gymnasium,
/// truncation and `reset` do not clear it (Gymnasium keeps this for backward compatibility).
/// Observations are untouched; the flat methods are forwarded.
pub struct NormalizeReward<E> {
    env: E,
    return_rms: RunningMeanStd,
    discounted_return: f64,
    gamma: f64,
    epsilon: f64,
    update_running_mean: bool,
}

/// Gymnasium's default discount of [`NormalizeReward`].
pub const NORMALIZE_REWARD_GAMMA: f64 = 0.99;

impl<E: Env> NormalizeReward<E> {
    /// Wraps `env` with `gamma` 0.99 and `epsilon` 1e-8.
    pub fn new(env: E) -> Result<Self> {
        Self::with_params(env, NORMALIZE_REWARD_GAMMA, NORMALIZE_EPSILON)
    }

    /// Wraps `env`; `gamma` must be in `[0, 1]`, `epsilon` positive and finite.
    pub fn with_params(env: E, gamma: f64, epsilon: f64) -> Result<Self> {
        if !(0.0..=1.0).contains(&gamma) {
            return Err(Error::invalid_argument(format!(
                "NormalizeReward: gamma must be in [0, 1], got {gamma}"
            )));
        }
        if !(epsilon.is_finite() && epsilon > 0.0) {
            return Err(Error::invalid_argument(format!(
                "NormalizeReward: epsilon must be positive, got {epsilon}"
            )));
        }
        Ok(NormalizeReward {
            env,
            return_rms: RunningMeanStd::new(1),
            discounted_return: 0.0,
            gamma,
            epsilon,
            update_running_mean: true,
        })
    }

    /// The running statistics of the discounted return.
    pub fn return_rms(&self) -> &RunningMeanStd {
        &self.return_rms
    }

    /// Replaces the statistics (e.g. ones saved with a model); they must have length 1.
    pub fn set_return_rms(&mut self, rms: RunningMeanStd) -> Result<()> {
        if rms.len() != 1 {
            return Err(Error::shape("NormalizeReward statistics", 1, rms.len()));
        }
        self.return_rms = rms;
        Ok(())
    }

    /// The current discounted return accumulator.
    pub fn discounted_return(&self) -> f64 {
        self.discounted_return
    }

    /// The discount factor.
    pub fn gamma(&self) -> f64 {
        self.gamma
    }

    /// The `epsilon` added to the variance.
    pub fn epsilon(&self) -> f64 {
        self.epsilon
    }

    /// Whether the statistics are updated on each step.
    pub fn update_running_mean(&self) -> bool {
        self.update_running_mean
    }

    /// Freezes (`false`) or resumes (`true`) the statistics.
    pub fn set_update_running_mean(&mut self, update: bool) {
        self.update_running_mean = update;
    }

    inner_accessors!();

    fn scale(&mut self, reward: f64, terminated: bool) -> Result<f64> {
        let keep = if terminated { 0.0 } else { self.gamma };
        self.discounted_return = self.discounted_return * keep + reward;
        if self.update_running_mean {
            self.return_rms.update(&[self.discounted_return])?;
        }
        Ok(reward / (self.return_rms.var()[0] + self.epsilon).sqrt())
    }
}

impl<E: Env> Env for NormalizeReward<E> {
    type ObsSpace = E::ObsSpace;
    type ActSpace = E::ActSpace;

    forward_spaces!();
    reset_via_options!();
    fn reset_with_options(
        &mut self,
        seed: Option<u64>,
        options: &crate::env::ResetOptions,
    ) -> Result<(ObsOf<Self>, Info)> {
        self.env.reset_with_options(seed, options)
    }
    fn step(&mut self, action: &ActOf<Self>) -> Result<Step<ObsOf<Self>>> {
        let mut step = self.env.step(action)?;
        step.reward = self.scale(step.reward, step.terminated)?;
        Ok(step)
    }
    forward_render!();
    fn reset_flat(&mut self, seed: Option<u64>, obs_out: &mut [f32]) -> Result<Info> {
        self.env.reset_flat(seed, obs_out)
    }
    fn step_flat(&mut self, action: &ActOf<Self>, obs_out: &mut [f32]) -> Result<Transition> {
        let mut t = self.env.step_flat(action, obs_out)?;
        t.reward = self.scale(t.reward, t.terminated)?;
        Ok(t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wrappers::test_envs::Counter;

    /// Gymnasium's update rule for a scalar, written out independently.
    fn reference(rewards: &[(f64, bool)], gamma: f64) -> Vec<f64> {
        let (mut mean, mut var, mut count) = (0.0f64, 1.0f64, 1e-4f64);
        let mut acc = 0.0;
        let mut out = vec![];
        for &(r, term) in rewards {
            acc = acc * gamma * if term { 0.0 } else { 1.0 } + r;
            let delta = acc - mean;
            let tot = count + 1.0;
            mean += delta / tot;
            var = (var * count + delta * delta * count / tot) / tot;
            count = tot;
            out.push(r / (var + 1e-8).sqrt());
        }
        out
    }

    #[test]
    fn matches_the_reference_rule_across_a_termination() {
        // Counter terminates after 2 steps; reward = action.
        let mut env = NormalizeReward::with_params(Counter::new(Some(2)), 0.9, 1e-8).unwrap();
        let actions = [1, 1, 0, 1, 1];
        let mut got = vec![];
        let mut flags = vec![];
        env.reset(None).unwrap();
        for (i, a) in actions.iter().enumerate() {
            let s = env.step(a).unwrap();
            got.push(s.reward);
            flags.push((*a as f64, s.terminated));
            if s.terminated && i + 1 < actions.len() {
                env.reset(None).unwrap();
            }
        }
        assert_eq!(flags[1], (1.0, true));
        let want = reference(&flags, 0.9);
        for (g, w) in got.iter().zip(&want) {
            assert!((g - w).abs() < 1e-12, "{got:?} vs {want:?}");
        }
        // Accumulator: 1, 1 (terminal: restarts at its reward), 0.9, 1 (terminal), 1.9 (the
        // reset does not clear it, as in Gymnasium).
        assert!((env.discounted_return() - 1.9).abs() < 1e-12);
    }

    #[test]
    fn frozen_statistics_and_flat_path() {
        let mut env = NormalizeReward::new(Counter::new(None)).unwrap();
        let mut buf = [0.0];
        env.reset_flat(None, &mut buf).unwrap();
        let r1 = env.step_flat(&1, &mut buf).unwrap().reward;
        assert_eq!(buf, [1.0]);
        assert!(r1 > 0.0 && r1.is_finite());
        env.set_update_running_mean(false);
        let before = env.return_rms().clone();
        env.step(&1).unwrap();
        assert_eq!(env.return_rms(), &before);
        assert!(env.set_return_rms(RunningMeanStd::new(2)).is_err());
        assert!(NormalizeReward::with_params(Counter::new(None), 1.5, 1e-8).is_err());
        assert!(NormalizeReward::with_params(Counter::new(None), 0.9, 0.0).is_err());
    }
}
