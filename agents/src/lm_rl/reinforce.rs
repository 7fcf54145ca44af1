//! REINFORCE for language models.
//!
//! For a batch of completions `y_b` of prompts `x_b` with rewards `R_b`, the loss is
//!
//! `L = -(1/B) sum_b (R_b - baseline) * sum_t log pi(y_{b,t} | x_b, y_{b,<t})`
//!
//! over the real response tokens (the `<eos>` included, everything after it masked out), with
//! the log-probs recomputed under the rollout's sampling transforms
//! ([`crate::lm_rl::logprobs`]). The baseline is either none or an exponential moving average
//! of the batch mean rewards (`b <- decay * b + (1 - decay) * mean R`, started at the first
//! batch's mean); the advantage of a batch uses the baseline *before* that batch updates it,
//! which keeps the estimator unbiased. One AdamW step (with gradient-norm clipping) per batch.

use tch::Kind;
use tch::nn::VarStore;

use crate::error::{Error, Result};
use crate::lm::causal_lm::CausalLm;
use crate::lm_rl::logprobs::response_log_probs;
use crate::lm_rl::optimizer::{LmOptimizer, OptimConfig};
use crate::lm_rl::rollout::RolloutBatch;

/// The reward baseline of [`Reinforce`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Baseline {
    /// No baseline: the advantage is the reward.
    None,
    /// Exponential moving average of batch mean rewards with this decay in `[0, 1)`.
    MovingAverage {
        /// Weight of the old value (0 = the previous batch's mean).
        decay: f64,
    },
}

/// Settings of [`Reinforce`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReinforceConfig {
    /// The optimizer.
    pub optim: OptimConfig,
    /// The baseline.
    pub baseline: Baseline,
}

impl Default for ReinforceConfig {
    fn default() -> Self {
        Self {
            optim: OptimConfig::default(),
            baseline: Baseline::MovingAverage { decay: 0.9 },
        }
    }
}

/// What one [`Reinforce::step`] did.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReinforceStats {
    /// The loss value.
    pub loss: f64,
    /// Mean reward of the batch.
    pub mean_reward: f64,
    /// The baseline subtracted from the rewards (0 without one).
    pub baseline: f64,
    /// Gradient norm before clipping.
    pub grad_norm: f64,
    /// Mean number of real response tokens per completion.
    pub mean_response_len: f64,
}

/// The REINFORCE learner: an optimizer over the policy's [`VarStore`] and the baseline state.
#[derive(Debug)]
pub struct Reinforce {
    cfg: ReinforceConfig,
    opt: LmOptimizer,
    baseline: Option<f64>,
}

impl Reinforce {
    /// A learner for the model whose weights are in `vs`.
    pub fn new(vs: &VarStore, cfg: ReinforceConfig) -> Result<Self> {
        if let Baseline::MovingAverage { decay } = cfg.baseline
            && !(0.0..1.0).contains(&decay)
        {
            return Err(Error::InvalidArgument(format!(
                "baseline decay must lie in [0, 1), got {decay}"
            )));
        }
        Ok(Self {
            opt: LmOptimizer::new(vs, cfg.optim)?,
            cfg,
            baseline: None,
        })
    }

    /// The current moving-average baseline (`None` before the first batch or without one).
    pub fn baseline(&self) -> Option<f64> {
        self.baseline
    }

    /// One policy-gradient step of `model` (whose weights are the learner's store) on `batch`.
    pub fn step<M: CausalLm>(&mut self, model: &M, batch: &RolloutBatch) -> Result<ReinforceStats> {
        if batch.is_empty() {
            return Err(Error::InvalidArgument(
                "REINFORCE on an empty batch".to_owned(),
            ));
        }
        let mean_reward = batch.mean_reward();
        let b = match self.cfg.baseline {
            Baseline::None => 0.0,
            Baseline::MovingAverage { .. } => self.baseline.unwrap_or(mean_reward),
        };
        let logp = response_log_probs(
            model,
            &batch.query_ids,
            &batch.query_mask,
            &batch.response,
            &batch.response_mask,
            &batch.sampling,
        )?;
        let adv = batch.rewards.f_to_device(logp.device())?.f_sub_scalar(b)?;
        let seq_logp = logp.f_sum_dim_intlist([1i64].as_slice(), false, Kind::Float)?;
        let loss = seq_logp.f_mul(&adv)?.f_mean(Kind::Float)?.f_neg()?;
        let loss_value = loss.f_double_value(&[])?;
        let grad_norm = self.opt.step(&loss)?;
        if let Baseline::MovingAverage { decay } = self.cfg.baseline {
            self.baseline = Some(match self.baseline {
                None => mean_reward,
                Some(old) => decay * old + (1.0 - decay) * mean_reward,
            });
        }
        let tokens = batch
            .response_mask
            .f_sum(Kind::Double)?
            .f_double_value(&[])?;
        Ok(ReinforceStats {
            loss: loss_value,
            mean_reward,
            baseline: b,
            grad_norm,
            mean_response_len: tokens / batch.len() as f64,
        })
    }
}
