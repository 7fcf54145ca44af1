//! REINFORCE for language models.
//!
//! For a batch of completions `y_b` of prompts `x_b` with rewards `R_b`, the loss is
//!
//! `L = -(1/B) sum_b (R_b - baseline) * sum_t log pi(y_{b,t} | x_b, y_{b,<t})`
//!
//! over the real response tokens (the `<eos>` included, everything after it masked out), with
//! the log-probs recomputed under the rollout's sampling transforms
//! ([`crate::rl::logprobs`]). The baseline is one of
//!
//! - none;
//! - an exponential moving average of the batch mean rewards (`b <- decay * b + (1 - decay) *
//!   mean R`, started at the first batch's mean); the advantage of a batch uses the baseline
//!   *before* that batch updates it, which keeps the estimator unbiased;
//! - learned: a [`ValueHead`] on the LM's hidden state of the last prompt token predicts the
//!   reward of the prompt, `V(x_b)`; the advantage is `R_b - V(x_b)` (no gradient through `V`
//!   there), and `vf_coef * mean_b (V(x_b) - R_b)^2` is added to the loss, so the head (and the
//!   shared trunk) learn it in the same AdamW step. A per-prompt baseline removes the variance
//!   that comes from some prompts being easier than others.
//!
//! One AdamW step (with gradient-norm clipping) per batch.

use tch::nn::VarStore;
use tch::{Kind, Tensor};

use crate::error::{Error, Result};
use crate::model::causal_lm::CausalLm;
use crate::model::decoder::Decoder;
use crate::rl::logprobs::{ResponseInputs, log_probs_from_logits};
use crate::rl::optimizer::{LmOptimizer, OptimConfig};
use crate::rl::rollout::RolloutBatch;
use crate::rl::value_head::ValueHead;

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
    /// A value head predicting each prompt's reward, trained with the policy (see the module
    /// docs); its variables are `value_head.*` in the policy's store.
    Learned {
        /// Weight of the squared-error loss of the head, finite and `> 0`.
        vf_coef: f64,
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
    /// The baseline subtracted from the rewards (0 without one; the mean over the batch of
    /// the learned one).
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
    head: Option<ValueHead>,
}

impl Reinforce {
    /// A learner for `model`, whose weights are in `vs`. A learned baseline creates its value
    /// head under `vs.root() / "value_head"` first, so the optimizer trains it too.
    pub fn new(vs: &VarStore, model: &Decoder, cfg: ReinforceConfig) -> Result<Self> {
        let head = match cfg.baseline {
            Baseline::MovingAverage { decay } if !(0.0..1.0).contains(&decay) => {
                return Err(Error::InvalidArgument(format!(
                    "baseline decay must lie in [0, 1), got {decay}"
                )));
            }
            Baseline::Learned { vf_coef } if !(vf_coef.is_finite() && vf_coef > 0.0) => {
                return Err(Error::InvalidArgument(format!(
                    "the learned baseline's vf_coef must be finite and > 0, got {vf_coef}"
                )));
            }
            Baseline::Learned { .. } => Some(ValueHead::new(
                &(vs.root() / "value_head"),
                model.config().d_model,
            )?),
            Baseline::None | Baseline::MovingAverage { .. } => None,
        };
        Ok(Self {
            opt: LmOptimizer::new(vs, cfg.optim)?,
            cfg,
            baseline: None,
            head,
        })
    }

    /// The value head of a learned baseline.
    pub fn value_head(&self) -> Option<&ValueHead> {
        self.head.as_ref()
    }

    /// The current moving-average baseline (`None` before the first batch or without one).
    pub fn baseline(&self) -> Option<f64> {
        self.baseline
    }

    /// One policy-gradient step of `model` (whose weights are the learner's store) on `batch`.
    pub fn step(&mut self, model: &Decoder, batch: &RolloutBatch) -> Result<ReinforceStats> {
        if batch.is_empty() {
            return Err(Error::InvalidArgument(
                "REINFORCE on an empty batch".to_owned(),
            ));
        }
        let mean_reward = batch.mean_reward();
        let (logp, values) = match &self.head {
            Some(head) => {
                let inputs = ResponseInputs::new(
                    model.device(),
                    &batch.query_ids,
                    &batch.query_mask,
                    &batch.response,
                    &batch.response_mask,
                )?;
                let (values, logits) =
                    head.values_and_logits(model, &inputs.tokens, &inputs.mask, inputs.t, 1)?;
                let logp =
                    log_probs_from_logits(&inputs, &logits, model.vocab_size(), &batch.sampling)?;
                (logp, Some(values.f_select(1, 0)?))
            }
            None => (batch.log_probs(model)?, None),
        };
        let rewards = batch.rewards.f_to_device(logp.device())?;
        let (adv, b) = match (&values, self.cfg.baseline) {
            (Some(v), _) => {
                let v = v.f_detach()?;
                let b = v.f_mean(Kind::Double)?.f_double_value(&[])?;
                (rewards.f_sub(&v)?, b)
            }
            (None, Baseline::MovingAverage { .. }) => {
                let b = self.baseline.unwrap_or(mean_reward);
                (rewards.f_sub_scalar(b)?, b)
            }
            (None, _) => (rewards.shallow_clone(), 0.0),
        };
        let seq_logp = logp.f_sum_dim_intlist([1i64].as_slice(), false, Kind::Float)?;
        let mut loss = seq_logp.f_mul(&adv)?.f_mean(Kind::Float)?.f_neg()?;
        if let (Some(v), Baseline::Learned { vf_coef }) = (&values, self.cfg.baseline) {
            let vf: Tensor = v.f_sub(&rewards)?.f_square()?.f_mean(Kind::Float)?;
            loss = loss.f_add(&vf.f_mul_scalar(vf_coef)?)?;
        }
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
