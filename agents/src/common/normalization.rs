//! Observation and reward normalisation for on-policy agents (Stable-Baselines3's
//! `VecNormalize`): running statistics that are updated while training, frozen for evaluation,
//! and saved with the model so a loaded policy sees observations scaled as in training.

use serde::{Deserialize, Serialize};
use tokengym::RunningMeanStd;

use crate::error::{Error, Result};

/// Added to variances before the square root.
pub const NORM_EPSILON: f64 = 1e-8;

/// Normalises observations: `clip((obs - mean) / sqrt(var + 1e-8), -clip, clip)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ObsNormalizer {
    /// Running statistics of raw observations.
    pub rms: RunningMeanStd,
    /// Clip bound of normalised values.
    pub clip: f32,
}

impl ObsNormalizer {
    /// Statistics for observations of `dim` values.
    pub fn new(dim: usize, clip: f32) -> Self {
        Self {
            rms: RunningMeanStd::new(dim),
            clip,
        }
    }

    /// Adds a batch of raw observations (`n` rows, row-major) to the statistics.
    pub fn update(&mut self, raw: &[f32]) -> Result<()> {
        Ok(self.rms.update_batch_f32(raw)?)
    }

    /// Normalises rows of raw observations in place (a multiple of the dimension).
    pub fn normalize(&self, obs: &mut [f32]) -> Result<()> {
        let dim = self.rms.len();
        if dim == 0 || !obs.len().is_multiple_of(dim) {
            return Err(Error::Shape(format!(
                "{} observation values are not whole rows of {dim}",
                obs.len()
            )));
        }
        for row in obs.chunks_exact_mut(dim) {
            self.rms.normalize_f32(row, NORM_EPSILON);
            for x in row.iter_mut() {
                *x = x.clamp(-self.clip, self.clip);
            }
        }
        Ok(())
    }
}

/// Scales rewards by the running standard deviation of the discounted return of each
/// environment (not by the reward's own std, and without subtracting a mean), then clips.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RewardNormalizer {
    /// Running statistics of the discounted returns.
    pub rms: RunningMeanStd,
    /// Discount of the tracked returns (the agent's gamma; the returns themselves are `f32`).
    pub gamma: f64,
    /// Clip bound of scaled rewards.
    pub clip: f32,
    /// The discounted return so far of each environment's current episode (not saved).
    #[serde(skip)]
    returns: Vec<f32>,
}

impl RewardNormalizer {
    /// A normaliser for `num_envs` environments.
    pub fn new(num_envs: usize, gamma: f64, clip: f32) -> Self {
        Self {
            rms: RunningMeanStd::new(1),
            gamma,
            clip,
            returns: vec![0.0; num_envs],
        }
    }

    /// Sets the number of environments (after loading); the tracked returns restart at 0.
    pub fn resize(&mut self, num_envs: usize) {
        self.returns = vec![0.0; num_envs];
    }

    /// Updates the return statistics with this step's raw rewards and writes the scaled
    /// rewards into `out`; `done[i]` ends environment `i`'s tracked return.
    pub fn step(&mut self, raw: &[f32], done: &[bool], out: &mut [f32]) -> Result<()> {
        let n = self.returns.len();
        if raw.len() != n || done.len() != n || out.len() != n {
            return Err(Error::Shape(format!(
                "reward normaliser tracks {n} environments, got {} rewards, {} flags, {} outputs",
                raw.len(),
                done.len(),
                out.len()
            )));
        }
        let gamma = self.gamma as f32;
        for (ret, &r) in self.returns.iter_mut().zip(raw) {
            *ret = *ret * gamma + r;
        }
        self.rms.update_batch_f32(&self.returns)?;
        self.scale(raw, out);
        for (ret, &d) in self.returns.iter_mut().zip(done) {
            if d {
                *ret = 0.0;
            }
        }
        Ok(())
    }

    /// Scales rewards with the current statistics (no update).
    pub fn scale(&self, raw: &[f32], out: &mut [f32]) {
        let std = (self.rms.var()[0] + NORM_EPSILON).sqrt();
        for (o, &r) in out.iter_mut().zip(raw) {
            *o = ((r as f64 / std) as f32).clamp(-self.clip, self.clip);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn observations_are_standardised_and_clipped() {
        let mut n = ObsNormalizer::new(2, 5.0);
        n.update(&[0.0, 10.0, 2.0, 10.0, 4.0, 10.0]).unwrap();
        let mut x = [2.0, 10.0, 100.0, 10.0];
        n.normalize(&mut x).unwrap();
        assert!(x[0].abs() < 1e-3, "{x:?}");
        assert!(x[1].abs() < 0.01, "{x:?}");
        assert_eq!(x[2], 5.0);
        assert!(n.normalize(&mut [1.0, 2.0, 3.0]).is_err());
    }

    #[test]
    fn rewards_scale_by_return_std_and_reset_at_episode_end() {
        let mut n = RewardNormalizer::new(2, 0.5, 10.0);
        let mut out = [0.0; 2];
        n.step(&[1.0, 1.0], &[false, true], &mut out).unwrap();
        assert_eq!(n.returns, vec![1.0, 0.0]);
        n.step(&[1.0, 1.0], &[false, false], &mut out).unwrap();
        // Returns seen: [1, 1] then [1.5, 1]: the scale is their running std (pseudo-count 1e-4).
        assert_eq!(n.returns, vec![1.5, 1.0]);
        let std = (n.rms.var()[0] + NORM_EPSILON).sqrt();
        assert!((out[0] as f64 - 1.0 / std).abs() < 1e-5);
        assert!(n.step(&[1.0], &[false], &mut out).is_err());
        let json = serde_json::to_string(&n).unwrap();
        let mut back: RewardNormalizer = serde_json::from_str(&json).unwrap();
        back.resize(2);
        assert_eq!(back.rms, n.rms);
    }
}
