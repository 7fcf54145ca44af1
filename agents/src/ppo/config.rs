//! PPO's hyperparameters (the `[ppo]` table of a config file). Defaults are Stable-Baselines3's.

use serde::{Deserialize, Serialize};

use crate::common::loss_io::{check_clip, check_loss_coefficients};
use crate::common::schedule::Schedule;
use crate::error::{Error, Result};
use crate::nn::net_config::NetConfig;

/// PPO settings. Every field has a default, so a config file lists only what it changes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PpoConfig {
    /// Parallel environments.
    pub num_envs: usize,
    /// Steps per environment per rollout (a rollout has `num_envs * n_steps` transitions).
    pub n_steps: usize,
    /// Minibatch size.
    pub batch_size: usize,
    /// Passes over each rollout.
    pub n_epochs: usize,
    /// Discount factor.
    pub gamma: f64,
    /// GAE's λ.
    pub gae_lambda: f64,
    /// Initial learning rate.
    pub learning_rate: f32,
    /// How the learning rate changes over the run.
    pub lr_schedule: Schedule,
    /// Initial clip range ε of the surrogate.
    pub clip_range: f32,
    /// How the clip range changes over the run.
    pub clip_schedule: Schedule,
    /// Clip range of the value function around the old values (`None`: no value clipping).
    pub clip_range_vf: Option<f32>,
    /// Entropy bonus coefficient.
    pub ent_coef: f32,
    /// Value loss coefficient.
    pub vf_coef: f32,
    /// Global gradient-norm clip.
    pub max_grad_norm: Option<f32>,
    /// Stop an update's epochs early once the approximate KL exceeds `1.5 * target_kl`.
    pub target_kl: Option<f32>,
    /// Normalise advantages per minibatch.
    pub normalize_advantage: bool,
    /// Normalise observations with running statistics (saved with the model).
    pub normalize_obs: bool,
    /// Scale rewards by the running std of the discounted return (saved with the model).
    pub normalize_reward: bool,
    /// Clip normalised observations to `[-clip_obs, clip_obs]`.
    pub clip_obs: f32,
    /// Clip normalised rewards to `[-clip_reward, clip_reward]`.
    pub clip_reward: f32,
    /// The network.
    pub net: NetConfig,
}

impl Default for PpoConfig {
    fn default() -> Self {
        Self {
            num_envs: 1,
            n_steps: 2048,
            batch_size: 64,
            n_epochs: 10,
            gamma: 0.99,
            gae_lambda: 0.95,
            learning_rate: 3e-4,
            lr_schedule: Schedule::Constant,
            clip_range: 0.2,
            clip_schedule: Schedule::Constant,
            clip_range_vf: None,
            ent_coef: 0.0,
            vf_coef: 0.5,
            max_grad_norm: Some(0.5),
            target_kl: None,
            normalize_advantage: true,
            normalize_obs: false,
            normalize_reward: false,
            clip_obs: 10.0,
            clip_reward: 10.0,
            net: NetConfig::default(),
        }
    }
}

impl PpoConfig {
    /// Transitions per rollout.
    pub fn rollout_size(&self) -> usize {
        self.num_envs.saturating_mul(self.n_steps)
    }

    /// Settings that are valid but probably not what was meant, one sentence each, as
    /// Stable-Baselines3 warns about them: a minibatch size that does not divide the rollout
    /// (the last minibatch of every epoch is smaller).
    pub fn warnings(&self) -> Vec<String> {
        let rollout = self.rollout_size();
        let mut out = Vec::new();
        if self.batch_size > 0 && !rollout.is_multiple_of(self.batch_size) {
            out.push(format!(
                "batch_size {} does not divide the rollout size num_envs * n_steps = {rollout}: \
                 after every {} full minibatches comes one of {} (Stable-Baselines3 warns the same)",
                self.batch_size,
                rollout / self.batch_size,
                rollout % self.batch_size
            ));
        }
        out
    }

    /// Checks ranges and sizes, with one message per problem.
    pub fn validate(&self) -> Result<()> {
        let bad = |msg: String| Err(Error::InvalidArgument(msg));
        if self.num_envs == 0 || self.n_steps == 0 || self.batch_size == 0 || self.n_epochs == 0 {
            return bad(format!(
                "num_envs, n_steps, batch_size and n_epochs must be positive (got {}, {}, {}, {})",
                self.num_envs, self.n_steps, self.batch_size, self.n_epochs
            ));
        }
        if self.num_envs.checked_mul(self.n_steps).is_none() {
            return bad(format!(
                "num_envs * n_steps = {} * {} does not fit in memory",
                self.num_envs, self.n_steps
            ));
        }
        if self.batch_size > self.rollout_size() {
            return bad(format!(
                "batch_size {} exceeds the rollout size num_envs * n_steps = {}",
                self.batch_size,
                self.rollout_size()
            ));
        }
        for (name, x) in [("gamma", self.gamma), ("gae_lambda", self.gae_lambda)] {
            if !(0.0..=1.0).contains(&x) {
                return bad(format!("{name} must be in [0, 1], got {x}"));
            }
        }
        let positive = [
            ("learning_rate", self.learning_rate),
            ("clip_range", self.clip_range),
        ];
        for (name, x) in positive {
            if !(x.is_finite() && x > 0.0) {
                return bad(format!("{name} must be positive and finite, got {x}"));
            }
        }
        let optional = [
            ("clip_range_vf", self.clip_range_vf),
            ("max_grad_norm", self.max_grad_norm),
            ("target_kl", self.target_kl),
        ];
        for (name, x) in optional {
            if let Some(x) = x
                && !(x.is_finite() && x > 0.0)
            {
                return bad(format!("{name} must be positive and finite, got {x}"));
            }
        }
        check_clip("clip_obs", self.clip_obs)?;
        check_clip("clip_reward", self.clip_reward)?;
        self.net.validate()?;
        check_loss_coefficients(self.ent_coef, self.vf_coef)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonsense_that_would_train_is_refused_or_warned_about() {
        let err = |c: PpoConfig| c.validate().unwrap_err().to_string();
        let mut c = PpoConfig::default();
        c.net.adam_eps = f32::INFINITY;
        assert!(err(c).contains("adam_eps"));
        let c = PpoConfig {
            clip_obs: 1e-30,
            ..PpoConfig::default()
        };
        assert!(err(c).contains("clip_obs"));
        let c = PpoConfig {
            clip_reward: 1e-30,
            ..PpoConfig::default()
        };
        assert!(err(c).contains("clip_reward"));
        let c = PpoConfig {
            num_envs: usize::MAX,
            n_steps: 2,
            ..PpoConfig::default()
        };
        assert!(err(c).contains("num_envs * n_steps"));
        assert!(PpoConfig::default().warnings().is_empty());
        let c = PpoConfig {
            batch_size: 100,
            ..PpoConfig::default()
        };
        let w = c.warnings();
        assert_eq!(w.len(), 1);
        assert!(
            w[0].contains("batch_size 100") && w[0].contains("one of 48"),
            "{w:?}"
        );
    }

    #[test]
    fn defaults_are_valid_and_checks_fire() {
        assert!(PpoConfig::default().validate().is_ok());
        let c = PpoConfig {
            batch_size: 5000,
            ..PpoConfig::default()
        };
        assert!(c.validate().unwrap_err().to_string().contains("batch_size"));
        let c = PpoConfig {
            gamma: 1.5,
            ..PpoConfig::default()
        };
        assert!(c.validate().is_err());
        let c = PpoConfig {
            target_kl: Some(-1.0),
            ..PpoConfig::default()
        };
        assert!(c.validate().is_err());
    }

    #[test]
    fn json_partial_and_unknown_keys() {
        let c: PpoConfig = serde_json::from_str(
            r#"{"n_steps": 32, "lr_schedule": "linear", "net": {"hidden": [32]}}"#,
        )
        .unwrap();
        assert_eq!(c.n_steps, 32);
        assert_eq!(c.lr_schedule, Schedule::Linear);
        assert_eq!(c.net.hidden, vec![32]);
        assert_eq!(c.batch_size, 64);
        assert!(serde_json::from_str::<PpoConfig>(r#"{"n_step": 32}"#).is_err());
    }
}
