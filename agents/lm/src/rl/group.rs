//! Group baselines (GRPO / RLOO style): `k` completions of each prompt are scored together and
//! each completion's advantage is measured against its own group.
//!
//! For a group of rewards `r_1..r_k` of one prompt:
//!
//! - [`GroupBaseline::Mean`] (GRPO): `A_i = r_i - mean(r)`;
//! - [`GroupBaseline::LeaveOneOut`] (RLOO): `A_i = r_i - mean_{j != i} r_j`, an unbiased
//!   baseline because it does not depend on `y_i` (it equals `k/(k-1) * (r_i - mean(r))`);
//! - optionally (`scale_by_std`) divided by `std(r) + eps` (the population standard deviation of
//!   the group, as GRPO's "outcome supervision"); a group with equal rewards has advantage 0.
//!
//! The loss over a batch of `G` groups (`B = G k` rows, a group's rows consecutive, as
//! [`Rollout::collect_groups`](crate::rl::rollout::Rollout::collect_groups) lays them out) is
//!
//! `L = (1/B) sum_b [ -A_b * sum_t log pi(y_{b,t}) + beta * sum_t KL_{b,t} ]`
//!
//! with per-token KL estimates against a frozen reference model ([`crate::rl::kl`]; the
//! default estimator is k3, which is never negative; the per-token log-ratio is available as
//! [`KlEstimator::LogRatio`]). Both log-probs are computed under the rollout's sampling
//! transforms. The update is on-policy: one AdamW step per batch, so the importance ratio of
//! GRPO's clipped objective is 1 and is left out.

use tch::Kind;
use tch::nn::VarStore;

use crate::error::{Error, Result};
use crate::model::causal_lm::CausalLm;
use crate::rl::kl::{KlEstimator, kl_per_token};
use crate::rl::optimizer::{LmOptimizer, OptimConfig};
use crate::rl::rollout::RolloutBatch;

/// The per-group baseline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum GroupBaseline {
    /// The group mean (GRPO).
    #[default]
    Mean,
    /// The mean of the other completions of the group (RLOO).
    LeaveOneOut,
}

/// Settings of [`GroupPolicyGradient`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GroupConfig {
    /// Completions per prompt `k` (`>= 2`).
    pub group_size: usize,
    /// The baseline.
    pub baseline: GroupBaseline,
    /// Whether to divide the advantages by the group's reward std (plus `std_eps`).
    pub scale_by_std: bool,
    /// Added to the std before dividing.
    pub std_eps: f64,
    /// Weight of the KL penalty to the reference (0 = none, no reference needed).
    pub kl_beta: f64,
    /// The per-token KL estimator.
    pub kl_estimator: KlEstimator,
    /// The optimizer.
    pub optim: OptimConfig,
}

impl Default for GroupConfig {
    fn default() -> Self {
        Self {
            group_size: 4,
            baseline: GroupBaseline::Mean,
            scale_by_std: false,
            std_eps: 1e-4,
            kl_beta: 0.0,
            kl_estimator: KlEstimator::K3,
            optim: OptimConfig::default(),
        }
    }
}

impl GroupConfig {
    /// Checks the ranges.
    pub fn validate(&self) -> Result<()> {
        if self.group_size < 2 {
            return Err(Error::InvalidArgument(format!(
                "group baselines need group_size >= 2, got {}",
                self.group_size
            )));
        }
        if !(self.std_eps.is_finite() && self.std_eps > 0.0) {
            return Err(Error::InvalidArgument(format!(
                "std_eps must be finite and > 0, got {}",
                self.std_eps
            )));
        }
        if !(self.kl_beta.is_finite() && self.kl_beta >= 0.0) {
            return Err(Error::InvalidArgument(format!(
                "kl_beta must be finite and >= 0, got {}",
                self.kl_beta
            )));
        }
        self.optim.validate()
    }
}

/// Advantages of `rewards` laid out in consecutive groups of `cfg.group_size` (see the module
/// docs). The length must be a positive multiple of the group size.
pub fn group_advantages(rewards: &[f64], cfg: &GroupConfig) -> Result<Vec<f64>> {
    cfg.validate()?;
    let k = cfg.group_size;
    if rewards.is_empty() || !rewards.len().is_multiple_of(k) {
        return Err(Error::InvalidArgument(format!(
            "{} rewards do not form whole groups of {k}",
            rewards.len()
        )));
    }
    if let Some(r) = rewards.iter().find(|r| !r.is_finite()) {
        return Err(Error::NonFinite(format!("reward {r} in a group")));
    }
    let mut out = Vec::with_capacity(rewards.len());
    for group in rewards.chunks(k) {
        let n = k as f64;
        let sum: f64 = group.iter().sum();
        let mean = sum / n;
        let std = (group.iter().map(|r| (r - mean).powi(2)).sum::<f64>() / n).sqrt();
        for &r in group {
            let base = match cfg.baseline {
                GroupBaseline::Mean => mean,
                GroupBaseline::LeaveOneOut => (sum - r) / (n - 1.0),
            };
            let a = r - base;
            out.push(if cfg.scale_by_std {
                a / (std + cfg.std_eps)
            } else {
                a
            });
        }
    }
    Ok(out)
}

/// What one [`GroupPolicyGradient::step`] did.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GroupStats {
    /// The loss value.
    pub loss: f64,
    /// Mean reward of the batch.
    pub mean_reward: f64,
    /// Mean per-token KL estimate to the reference (0 without a KL term).
    pub mean_kl: f64,
    /// Mean absolute advantage.
    pub mean_abs_advantage: f64,
    /// Gradient norm before clipping.
    pub grad_norm: f64,
}

/// The group-baseline learner.
#[derive(Debug)]
pub struct GroupPolicyGradient {
    cfg: GroupConfig,
    opt: LmOptimizer,
}

impl GroupPolicyGradient {
    /// A learner for the model whose weights are in `vs`.
    pub fn new(vs: &VarStore, cfg: GroupConfig) -> Result<Self> {
        cfg.validate()?;
        Ok(Self {
            opt: LmOptimizer::new(vs, cfg.optim)?,
            cfg,
        })
    }

    /// The settings.
    pub fn config(&self) -> &GroupConfig {
        &self.cfg
    }

    /// One step of `model` on `batch` (groups of `group_size` consecutive rows). `reference`
    /// is required when `kl_beta > 0` (e.g. a [`FrozenDecoder`](crate::rl::FrozenDecoder)'s model)
    /// and otherwise ignored.
    pub fn step<M: CausalLm, R: CausalLm>(
        &mut self,
        model: &M,
        reference: Option<&R>,
        batch: &RolloutBatch,
    ) -> Result<GroupStats> {
        let adv = group_advantages(&batch.reward_values, &self.cfg)?;
        let logp = batch.log_probs(model)?;
        let device = logp.device();
        let adv_t = tch::Tensor::from_slice(&adv)
            .f_to_kind(Kind::Float)?
            .f_to_device(device)?;
        let seq_logp = logp.f_sum_dim_intlist([1i64].as_slice(), false, Kind::Float)?;
        let mut per_seq = seq_logp.f_mul(&adv_t)?.f_neg()?;
        let mut mean_kl = 0.0;
        if self.cfg.kl_beta > 0.0 {
            let reference = reference.ok_or_else(|| {
                Error::InvalidArgument("kl_beta > 0 needs a reference model, got none".to_owned())
            })?;
            let ref_logp = tch::no_grad(|| batch.log_probs(reference))?;
            let mask = batch.response_mask.f_to_device(device)?;
            let kl = kl_per_token(&logp, &ref_logp, &mask, self.cfg.kl_estimator)?;
            let tokens = mask.f_sum(Kind::Double)?.f_double_value(&[])?.max(1.0);
            mean_kl = kl.f_sum(Kind::Double)?.f_double_value(&[])? / tokens;
            let seq_kl = kl.f_sum_dim_intlist([1i64].as_slice(), false, Kind::Float)?;
            per_seq = per_seq.f_add(&seq_kl.f_mul_scalar(self.cfg.kl_beta)?)?;
        }
        let loss = per_seq.f_mean(Kind::Float)?;
        let loss_value = loss.f_double_value(&[])?;
        let grad_norm = self.opt.step(&loss)?;
        Ok(GroupStats {
            loss: loss_value,
            mean_reward: batch.mean_reward(),
            mean_kl,
            mean_abs_advantage: adv.iter().map(|a| a.abs()).sum::<f64>() / adv.len() as f64,
            grad_norm,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(baseline: GroupBaseline, scale: bool) -> GroupConfig {
        GroupConfig {
            group_size: 3,
            baseline,
            scale_by_std: scale,
            ..GroupConfig::default()
        }
    }

    #[test]
    fn mean_and_leave_one_out_advantages() {
        let r = [1.0, 2.0, 3.0, 5.0, 5.0, 5.0];
        let a = group_advantages(&r, &cfg(GroupBaseline::Mean, false)).unwrap();
        assert_eq!(a, vec![-1.0, 0.0, 1.0, 0.0, 0.0, 0.0]);
        let a = group_advantages(&r, &cfg(GroupBaseline::LeaveOneOut, false)).unwrap();
        assert_eq!(a, vec![-1.5, 0.0, 1.5, 0.0, 0.0, 0.0]);
        let a = group_advantages(&r, &cfg(GroupBaseline::Mean, true)).unwrap();
        let std = (2.0f64 / 3.0).sqrt();
        assert!((a[2] - 1.0 / (std + 1e-4)).abs() < 1e-12);
        assert_eq!(&a[3..], &[0.0, 0.0, 0.0]);
        // Advantages of a group sum to zero.
        assert!(a[..3].iter().sum::<f64>().abs() < 1e-12);
    }

    #[test]
    fn bad_groups_are_errors() {
        let c = cfg(GroupBaseline::Mean, false);
        assert!(group_advantages(&[1.0, 2.0], &c).is_err());
        assert!(group_advantages(&[], &c).is_err());
        assert!(group_advantages(&[1.0, f64::NAN, 0.0], &c).is_err());
        let one = GroupConfig { group_size: 1, ..c };
        assert!(group_advantages(&[1.0], &one).is_err());
    }
}
