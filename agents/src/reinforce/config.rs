//! REINFORCE's hyperparameters (the `[reinforce]` table of a config file).

use serde::{Deserialize, Serialize};

use crate::common::loss_io::{check_clip, check_loss_coefficients};
use crate::common::schedule::Schedule;
use crate::error::{Error, Result};
use crate::nn::net_config::NetConfig;

/// What is subtracted from the reward-to-go before it weights the log-probabilities.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Baseline {
    /// Nothing: the plain Monte-Carlo policy gradient.
    None,
    /// The mean reward-to-go of the batch.
    Mean,
    /// A learned state-value function (the critic head, trained by regression on the returns).
    #[default]
    Value,
}

/// REINFORCE settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReinforceConfig {
    /// Complete episodes per policy update.
    pub episodes_per_batch: usize,
    /// Discount factor.
    pub gamma: f64,
    /// Initial learning rate.
    pub learning_rate: f32,
    /// How the learning rate changes over the run.
    pub lr_schedule: Schedule,
    /// The baseline.
    pub baseline: Baseline,
    /// Standardise the (baselined) returns of each batch to mean 0, std 1.
    pub normalize_returns: bool,
    /// Entropy bonus coefficient.
    pub ent_coef: f32,
    /// Value loss coefficient (learned baseline only).
    pub vf_coef: f32,
    /// Global gradient-norm clip.
    pub max_grad_norm: Option<f32>,
    /// Normalise observations with running statistics (saved with the model).
    pub normalize_obs: bool,
    /// Clip normalised observations to `[-clip_obs, clip_obs]`.
    pub clip_obs: f32,
    /// The network.
    pub net: NetConfig,
}

impl Default for ReinforceConfig {
    fn default() -> Self {
        Self {
            episodes_per_batch: 4,
            gamma: 0.99,
            learning_rate: 1e-3,
            lr_schedule: Schedule::Constant,
            baseline: Baseline::Value,
            normalize_returns: true,
            ent_coef: 0.0,
            vf_coef: 0.5,
            max_grad_norm: Some(0.5),
            normalize_obs: false,
            clip_obs: 10.0,
            net: NetConfig::default(),
        }
    }
}

impl ReinforceConfig {
    /// Checks ranges and sizes.
    pub fn validate(&self) -> Result<()> {
        let bad = |msg: String| Err(Error::InvalidArgument(msg));
        if self.episodes_per_batch == 0 {
            return bad("episodes_per_batch must be positive".to_owned());
        }
        if !(0.0..=1.0).contains(&self.gamma) {
            return bad(format!("gamma must be in [0, 1], got {}", self.gamma));
        }
        if !(self.learning_rate.is_finite() && self.learning_rate > 0.0) {
            return bad(format!(
                "learning_rate must be positive and finite, got {}",
                self.learning_rate
            ));
        }
        check_clip("clip_obs", self.clip_obs)?;
        self.net.validate()?;
        if let Some(x) = self.max_grad_norm
            && !(x.is_finite() && x > 0.0)
        {
            return bad(format!(
                "max_grad_norm must be positive and finite, got {x}"
            ));
        }
        check_loss_coefficients(self.ent_coef, self.vf_coef)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_valid_and_bad_values_rejected() {
        assert!(ReinforceConfig::default().validate().is_ok());
        let c = ReinforceConfig {
            episodes_per_batch: 0,
            ..ReinforceConfig::default()
        };
        assert!(c.validate().is_err());
        let c: ReinforceConfig = serde_json::from_str(r#"{"baseline": "mean"}"#).unwrap();
        assert_eq!(c.baseline, Baseline::Mean);
        assert!(serde_json::from_str::<ReinforceConfig>(r#"{"baseline": "median"}"#).is_err());
    }
}
