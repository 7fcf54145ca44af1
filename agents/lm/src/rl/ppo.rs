//! PPO for language models (Ziegler et al. 2019 / InstructGPT style) on a [`Decoder`] with a
//! [`ValueHead`].
//!
//! One [`Ppo::step`] on a [`RolloutBatch`]:
//!
//! 1. Without gradients: the policy's log-probs `logp_old` (recomputed under the rollout's
//!    sampling transforms, see [`crate::rl::logprobs`]), the values `V_old` of the
//!    positions that emit each response token, and the frozen reference's log-probs
//!    `logp_ref`.
//! 2. Rewards per token: `r_t = -beta * (logp_old_t - logp_ref_t)` (the per-token log-ratio
//!    KL penalty) on every real response token, plus the completion's score on its last real
//!    token (the `<eos>` when there is one). With `whiten_scores` the scores are first
//!    whitened over the batch (zero mean, unit std).
//! 3. GAE over tokens (`tokengym_agents`' [`gae_into`], one environment per completion) with `gamma`, `lambda` and a terminal value of 0 after
//!    the last real token; returns = advantages + `V_old`; the advantages are then whitened
//!    over all real tokens of the batch.
//! 4. `epochs` passes over the batch in shuffled minibatches of rows: clipped policy loss
//!    `max(-A r, -A clip(r, 1 - eps, 1 + eps))` with `r = exp(logp - logp_old)`, and clipped
//!    value loss `0.5 max((V - R)^2, (V_old + clip(V - V_old, -eps_v, eps_v) - R)^2)`, both
//!    averaged over real tokens; `loss = pg + vf_coef * vf - ent_coef * H`, where `H` is the
//!    mean per-token entropy of the policy's sampling distribution (an optional bonus, as in
//!    Stable-Baselines3's PPO, against collapsing onto one completion; 0 by default, as in
//!    TRL); one AdamW step per minibatch.
//! 5. The [`KlController`] is updated with the batch's mean per-sequence KL (summed over
//!    tokens) and `n_steps = B`.
//!
//! The forward passes run in evaluation mode (no dropout), so the first minibatch of the first
//! epoch has ratio 1 exactly.

use rand::RngExt;
use tch::nn::VarStore;
use tch::{Kind, Tensor};
use tokengym::seeding::EnvRng;
use tokengym_agents::common::{Steps, gae_into};

use crate::error::{Error, Result};
use crate::model::causal_lm::CausalLm;
use crate::model::decoder::Decoder;
use crate::rl::kl_controller::KlController;
use crate::rl::logprobs::{
    ResponseInputs, log_probs_and_entropy_from_logits, log_probs_from_logits,
};
use crate::rl::optimizer::{LmOptimizer, OptimConfig};
use crate::rl::rollout::RolloutBatch;
use crate::rl::value_head::ValueHead;

/// Settings of [`Ppo`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PpoConfig {
    /// Passes over each batch (`>= 1`).
    pub epochs: usize,
    /// Rows per minibatch (`>= 1`; a batch's last minibatch may be smaller).
    pub minibatch_size: usize,
    /// Policy ratio clip `eps` (`> 0`).
    pub clip_range: f64,
    /// Value clip `eps_v` around the old values (`> 0`).
    pub clip_range_value: f64,
    /// Weight of the value loss.
    pub vf_coef: f64,
    /// Weight of the entropy bonus (`>= 0`; 0 = none).
    pub ent_coef: f64,
    /// Discount over tokens.
    pub gamma: f64,
    /// GAE `lambda`.
    pub lambda: f64,
    /// Whether to whiten the completion scores over the batch.
    pub whiten_scores: bool,
    /// The KL coefficient.
    pub kl: KlController,
    /// The optimizer (policy and value head together).
    pub optim: OptimConfig,
}

impl Default for PpoConfig {
    fn default() -> Self {
        Self {
            epochs: 4,
            minibatch_size: 16,
            clip_range: 0.2,
            clip_range_value: 0.2,
            vf_coef: 0.1,
            ent_coef: 0.0,
            gamma: 1.0,
            lambda: 0.95,
            whiten_scores: false,
            kl: KlController::Adaptive {
                beta: 0.1,
                target: 6.0,
                horizon: 10_000.0,
            },
            optim: OptimConfig::default(),
        }
    }
}

impl PpoConfig {
    /// Checks the ranges.
    pub fn validate(&self) -> Result<()> {
        let bad = |what: &str, v: f64| {
            Err(Error::InvalidArgument(format!(
                "PPO {what} out of range: {v}"
            )))
        };
        if self.epochs == 0 || self.minibatch_size == 0 {
            return Err(Error::InvalidArgument(
                "PPO epochs and minibatch_size must be >= 1".to_owned(),
            ));
        }
        if !(self.clip_range.is_finite() && self.clip_range > 0.0) {
            return bad("clip_range", self.clip_range);
        }
        if !(self.clip_range_value.is_finite() && self.clip_range_value > 0.0) {
            return bad("clip_range_value", self.clip_range_value);
        }
        if !(self.vf_coef.is_finite() && self.vf_coef >= 0.0) {
            return bad("vf_coef", self.vf_coef);
        }
        if !(self.ent_coef.is_finite() && self.ent_coef >= 0.0) {
            return bad("ent_coef", self.ent_coef);
        }
        if !(0.0..=1.0).contains(&self.gamma) {
            return bad("gamma", self.gamma);
        }
        if !(0.0..=1.0).contains(&self.lambda) {
            return bad("lambda", self.lambda);
        }
        self.kl.validate()?;
        self.optim.validate()
    }
}

/// GAE over the real tokens of one completion, written into `advantages` and `returns`
/// (advantages + values): the episode ends after the last token (its next value is 0), the
/// one-environment case of [`gae_into`]. `no_ends` is a scratch slice of `false` at least as long
/// as the completion.
fn completion_gae(
    rewards: &[f64],
    values: &[f64],
    (gamma, lambda): (f64, f64),
    no_ends: &[bool],
    advantages: &mut [f64],
    returns: &mut [f64],
) -> Result<()> {
    let flags = no_ends.get(..rewards.len()).ok_or_else(|| {
        Error::Shape(format!(
            "{} rewards but only {} episode flags",
            rewards.len(),
            no_ends.len()
        ))
    })?;
    let steps = Steps {
        num_envs: 1,
        rewards,
        terminated: flags,
        truncated: flags,
        final_values: None,
        last_values: None,
    };
    Ok(gae_into(
        &steps, values, gamma, lambda, advantages, returns,
    )?)
}

/// What one [`Ppo::step`] did (losses averaged over the minibatch updates).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PpoStats {
    /// Mean completion score of the batch (before whitening).
    pub mean_reward: f64,
    /// Mean per-sequence KL to the reference (sum of per-token log-ratios) before the update.
    pub mean_kl: f64,
    /// The KL coefficient used for this batch.
    pub beta: f64,
    /// Mean clipped policy loss.
    pub policy_loss: f64,
    /// Mean clipped value loss.
    pub value_loss: f64,
    /// Fraction of real tokens whose ratio was clipped.
    pub clip_fraction: f64,
    /// Mean of `logp_old - logp` over real tokens after the last minibatch of each epoch.
    pub approx_kl: f64,
}

/// The PPO learner: value head, optimizer and KL controller.
#[derive(Debug)]
pub struct Ppo {
    cfg: PpoConfig,
    head: ValueHead,
    opt: LmOptimizer,
    kl: KlController,
}

impl Ppo {
    /// A learner for `model`, whose weights are in `vs`; the value head is created under
    /// `vs.root() / "value_head"`, so build the reference (a
    /// [`FrozenDecoder`](crate::rl::FrozenDecoder)) before or after, it does not matter.
    pub fn new(vs: &VarStore, model: &Decoder, cfg: PpoConfig) -> Result<Self> {
        cfg.validate()?;
        let head = ValueHead::new(&(vs.root() / "value_head"), model.config().d_model)?;
        Ok(Self {
            opt: LmOptimizer::new(vs, cfg.optim)?,
            kl: cfg.kl,
            head,
            cfg,
        })
    }

    /// The current KL coefficient.
    pub fn beta(&self) -> f64 {
        self.kl.beta()
    }

    /// The value head.
    pub fn value_head(&self) -> &ValueHead {
        &self.head
    }

    /// One PPO update on `batch` (see the module docs); `rng` shuffles the minibatches.
    pub fn step(
        &mut self,
        model: &Decoder,
        reference: &Decoder,
        batch: &RolloutBatch,
        rng: &mut EnvRng,
    ) -> Result<PpoStats> {
        if batch.is_empty() {
            return Err(Error::InvalidArgument("PPO on an empty batch".to_owned()));
        }
        let device = model.device();
        let inputs = ResponseInputs::new(
            device,
            &batch.query_ids,
            &batch.query_mask,
            &batch.response,
            &batch.response_mask,
        )?;
        let (b, t, n) = (inputs.b, inputs.t, inputs.n);
        let sampling = &batch.sampling;
        let vocab = model.vocab_size();
        let (old_logp, old_values, ref_logp) = tch::no_grad(|| -> Result<_> {
            let (values, logits) =
                self.head
                    .values_and_logits(model, &inputs.tokens, &inputs.mask, t, n)?;
            let logp = log_probs_from_logits(&inputs, &logits, vocab, sampling)?;
            let ref_logits = reference.logits(&inputs.tokens, Some(&inputs.mask))?;
            let ref_logp = log_probs_from_logits(&inputs, &ref_logits, vocab, sampling)?;
            Ok((logp, values, ref_logp))
        })?;
        let maskf = inputs.rmask.f_to_kind(Kind::Float)?;
        let beta = self.kl.beta();
        let kl_tok = old_logp.f_sub(&ref_logp)?.f_mul(&maskf)?;
        let host = |x: &Tensor| -> Result<Vec<f64>> {
            Ok(Vec::<f64>::try_from(
                &x.f_to_device(tch::Device::Cpu)?
                    .f_to_kind(Kind::Double)?
                    .f_reshape([-1])?,
            )?)
        };
        let (kl_h, val_h, mask_h) = (host(&kl_tok)?, host(&old_values)?, host(&maskf)?);
        let scores = self.scores(&batch.reward_values)?;
        let (bu, nu) = (b as usize, n as usize);
        let mut adv = vec![0.0; bu * nu];
        let mut ret = vec![0.0; bu * nu];
        let no_ends = vec![false; nu];
        for row in 0..bu {
            let len = (0..nu).filter(|&j| mask_h[row * nu + j] > 0.0).count();
            let span = row * nu..row * nu + len;
            let mut rewards: Vec<f64> = kl_h[span.clone()].iter().map(|k| -beta * k).collect();
            if let Some(last) = rewards.last_mut() {
                *last += scores[row];
            }
            completion_gae(
                &rewards,
                &val_h[span.clone()],
                (self.cfg.gamma, self.cfg.lambda),
                &no_ends,
                &mut adv[span.clone()],
                &mut ret[span],
            )?;
        }
        whiten_masked(&mut adv, &mask_h);
        let to_dev = |v: &[f64]| -> Result<Tensor> {
            Ok(Tensor::from_slice(v)
                .f_to_kind(Kind::Float)?
                .f_reshape([b, n])?
                .f_to_device(device)?)
        };
        let (adv_t, ret_t) = (to_dev(&adv)?, to_dev(&ret)?);
        let mean_kl = kl_h.iter().sum::<f64>() / bu as f64;

        let mut sums = [0.0f64; 4];
        let mut updates = 0usize;
        let mut approx_kl = 0.0;
        for _ in 0..self.cfg.epochs {
            let order = shuffled(bu, rng);
            for chunk in order.chunks(self.cfg.minibatch_size) {
                let idx = Tensor::from_slice(&chunk.iter().map(|&i| i as i64).collect::<Vec<_>>())
                    .f_to_device(device)?;
                let pick = |x: &Tensor| x.f_to_device(device)?.f_index_select(0, &idx);
                let mb = ResponseInputs::new(
                    device,
                    &pick(&batch.query_ids)?,
                    &pick(&batch.query_mask)?,
                    &pick(&batch.response)?,
                    &pick(&batch.response_mask)?,
                )?;
                let (values, logits) = self
                    .head
                    .values_and_logits(model, &mb.tokens, &mb.mask, t, n)?;
                let (logp, entropy) = if self.cfg.ent_coef > 0.0 {
                    let (lp, ent) =
                        log_probs_and_entropy_from_logits(&mb, &logits, vocab, sampling)?;
                    (lp, Some(ent))
                } else {
                    (log_probs_from_logits(&mb, &logits, vocab, sampling)?, None)
                };
                let m = mb.rmask.f_to_kind(Kind::Float)?;
                let count = m.f_sum(Kind::Float)?.f_clamp_min(1.0)?;
                let masked_mean = |x: &Tensor| -> Result<Tensor> {
                    Ok(x.f_mul(&m)?.f_sum(Kind::Float)?.f_div(&count)?)
                };
                let (a, r) = (
                    adv_t.f_index_select(0, &idx)?,
                    ret_t.f_index_select(0, &idx)?,
                );
                let (lp_old, v_old) = (
                    old_logp.f_index_select(0, &idx)?,
                    old_values.f_index_select(0, &idx)?,
                );
                let ratio = logp.f_sub(&lp_old)?.f_exp()?;
                let eps = self.cfg.clip_range;
                let pg1 = a.f_neg()?.f_mul(&ratio)?;
                let pg2 = a.f_neg()?.f_mul(&ratio.f_clamp(1.0 - eps, 1.0 + eps)?)?;
                let pg = masked_mean(&pg1.f_maximum(&pg2)?)?;
                let ev = self.cfg.clip_range_value;
                let v_clip = v_old.f_add(&values.f_sub(&v_old)?.f_clamp(-ev, ev)?)?;
                let vf1 = values.f_sub(&r)?.f_square()?;
                let vf2 = v_clip.f_sub(&r)?.f_square()?;
                let vf = masked_mean(&vf1.f_maximum(&vf2)?)?.f_mul_scalar(0.5)?;
                let mut loss = pg.f_add(&vf.f_mul_scalar(self.cfg.vf_coef)?)?;
                if let Some(ent) = &entropy {
                    loss = loss.f_sub(&masked_mean(ent)?.f_mul_scalar(self.cfg.ent_coef)?)?;
                }
                let clipped = ratio
                    .f_sub_scalar(1.0)?
                    .f_abs()?
                    .f_gt(eps)?
                    .f_to_kind(Kind::Float)?;
                sums[0] += pg.f_double_value(&[])?;
                sums[1] += vf.f_double_value(&[])?;
                sums[2] += masked_mean(&clipped)?.f_double_value(&[])?;
                approx_kl = masked_mean(&lp_old.f_sub(&logp)?)?.f_double_value(&[])?;
                self.opt.step(&loss)?;
                updates += 1;
            }
        }
        self.kl.update(mean_kl, bu)?;
        let u = updates.max(1) as f64;
        Ok(PpoStats {
            mean_reward: batch.mean_reward(),
            mean_kl,
            beta,
            policy_loss: sums[0] / u,
            value_loss: sums[1] / u,
            clip_fraction: sums[2] / u,
            approx_kl,
        })
    }

    /// The completion scores, whitened over the batch when configured (a batch of one, or of
    /// equal scores, is only centred).
    fn scores(&self, rewards: &[f64]) -> Result<Vec<f64>> {
        if let Some(r) = rewards.iter().find(|r| !r.is_finite()) {
            return Err(Error::NonFinite(format!("PPO score {r}")));
        }
        if !self.cfg.whiten_scores {
            return Ok(rewards.to_vec());
        }
        let n = rewards.len() as f64;
        let mean = rewards.iter().sum::<f64>() / n;
        let std = (rewards.iter().map(|r| (r - mean).powi(2)).sum::<f64>() / n).sqrt();
        let scale = if std > 1e-8 { 1.0 / std } else { 1.0 };
        Ok(rewards.iter().map(|r| (r - mean) * scale).collect())
    }
}

/// Whitens `x` in place over the entries where `mask > 0` (zero mean, unit std; centred only
/// when the std is ~0); masked-out entries become 0.
fn whiten_masked(x: &mut [f64], mask: &[f64]) {
    let real: Vec<f64> = x
        .iter()
        .zip(mask)
        .filter(|(_, m)| **m > 0.0)
        .map(|(v, _)| *v)
        .collect();
    if real.is_empty() {
        return;
    }
    let n = real.len() as f64;
    let mean = real.iter().sum::<f64>() / n;
    let std = (real.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n).sqrt();
    let scale = if std > 1e-8 { 1.0 / std } else { 1.0 };
    for (v, m) in x.iter_mut().zip(mask) {
        *v = if *m > 0.0 { (*v - mean) * scale } else { 0.0 };
    }
}

/// A Fisher–Yates shuffle of `0..n` driven by `rng`.
fn shuffled(n: usize, rng: &mut EnvRng) -> Vec<usize> {
    let mut v: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        let j = rng.random_range(0..=i);
        v.swap(i, j);
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gae_of(rewards: &[f64], values: &[f64], gamma: f64, lambda: f64) -> Result<Vec<f64>> {
        let (mut adv, mut ret) = (vec![0.0; rewards.len()], vec![0.0; rewards.len()]);
        let no_ends = [false; 4];
        completion_gae(
            rewards,
            values,
            (gamma, lambda),
            &no_ends,
            &mut adv,
            &mut ret,
        )?;
        for ((r, a), v) in ret.iter().zip(&adv).zip(values) {
            assert_eq!(*r, a + v);
        }
        Ok(adv)
    }

    #[test]
    fn gae_by_hand() {
        // gamma 1, lambda 1: advantage = return-to-go minus value.
        let a = gae_of(&[0.0, 0.0, 1.0], &[0.5, 0.2, 0.1], 1.0, 1.0).unwrap();
        let want = [0.5, 0.8, 0.9];
        for (x, w) in a.iter().zip(want) {
            assert!((x - w).abs() < 1e-12);
        }
        // lambda 0: one-step TD errors.
        let a = gae_of(&[1.0, 2.0], &[0.5, 0.25], 0.9, 0.0).unwrap();
        assert!((a[0] - (1.0 + 0.9 * 0.25 - 0.5)).abs() < 1e-12);
        assert!((a[1] - (2.0 - 0.25)).abs() < 1e-12);
        assert!(gae_of(&[1.0], &[], 1.0, 1.0).is_err());
    }

    #[test]
    fn whitening_ignores_masked_entries() {
        let mut x = [1.0, 3.0, 100.0];
        whiten_masked(&mut x, &[1.0, 1.0, 0.0]);
        assert_eq!(x, [-1.0, 1.0, 0.0]);
    }

    #[test]
    fn shuffles_are_permutations() {
        let mut rng = tokengym::seeding::rng_from_seed(Some(1));
        let mut v = shuffled(10, &mut rng);
        v.sort_unstable();
        assert_eq!(v, (0..10).collect::<Vec<_>>());
    }
}
