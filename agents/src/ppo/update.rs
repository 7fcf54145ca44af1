//! One PPO update: several epochs of shuffled minibatches over a filled rollout buffer.

use rand::RngExt;
use tokengym::EnvRng;

use crate::common::loss_io::OutputGrads;
use crate::common::rollout::RolloutBuffer;
use crate::error::{Error, Result};
use crate::nn::action_dist::ActionDist;
use crate::nn::net::PolicyValueNet;
use crate::ppo::PpoConfig;
use crate::ppo::loss::{PpoBatch, PpoLoss, PpoStats};

/// Averages over the minibatches of one update, plus what the update did.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct UpdateStats {
    /// Mean clipped-surrogate loss.
    pub policy_loss: f32,
    /// Mean value loss.
    pub value_loss: f32,
    /// Mean policy entropy.
    pub entropy: f32,
    /// Mean approximate KL between the rollout policy and the updated one.
    pub approx_kl: f32,
    /// Mean fraction of clipped ratios.
    pub clip_fraction: f32,
    /// Mean gradient norm before clipping.
    pub grad_norm: f32,
    /// `1 - Var(returns - values) / Var(returns)` over the rollout.
    pub explained_variance: f32,
    /// Minibatch steps taken.
    pub minibatches: usize,
    /// Epochs started (fewer than configured when the KL target stopped the update).
    pub epochs: usize,
    /// Whether the KL target stopped the update early.
    pub stopped_early: bool,
}

/// Reusable minibatch buffers (allocated once, for the largest minibatch).
#[derive(Debug, Default)]
pub struct MinibatchScratch {
    indices: Vec<usize>,
    obs: Vec<f32>,
    actions: Vec<f32>,
    old_log_probs: Vec<f32>,
    advantages: Vec<f32>,
    returns: Vec<f32>,
    old_values: Vec<f32>,
    policy_out: Vec<f32>,
    values: Vec<f32>,
    d_policy: Vec<f32>,
    d_values: Vec<f32>,
    d_log_std: Vec<f32>,
    log_std: Vec<f32>,
}

fn gather(src: &[f32], width: usize, rows: &[usize], dst: &mut Vec<f32>) {
    dst.clear();
    for &r in rows {
        dst.extend_from_slice(&src[r * width..(r + 1) * width]);
    }
}

/// `1 - Var(y - ŷ) / Var(y)` (NaN-free: 0 when `Var(y)` is 0).
pub fn explained_variance(pred: &[f32], target: &[f32]) -> f32 {
    let n = target.len() as f64;
    if n == 0.0 {
        return 0.0;
    }
    let mean = |it: &mut dyn Iterator<Item = f64>| it.sum::<f64>() / n;
    let my = mean(&mut target.iter().map(|&y| y as f64));
    let vy = mean(&mut target.iter().map(|&y| (y as f64 - my).powi(2)));
    let md = mean(&mut target.iter().zip(pred).map(|(&y, &p)| (y - p) as f64));
    let vd = mean(
        &mut target
            .iter()
            .zip(pred)
            .map(|(&y, &p)| ((y - p) as f64 - md).powi(2)),
    );
    if vy == 0.0 {
        0.0
    } else {
        (1.0 - vd / vy) as f32
    }
}

/// The scheduled hyperparameters of one update.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scheduled {
    /// Learning rate.
    pub lr: f32,
    /// Clip range of the surrogate.
    pub clip_range: f32,
}

/// Runs PPO's epochs over `buf` (advantages and returns already computed).
pub fn ppo_update(
    net: &mut dyn PolicyValueNet,
    dist: &ActionDist,
    buf: &RolloutBuffer,
    config: &PpoConfig,
    now: Scheduled,
    rng: &mut EnvRng,
    s: &mut MinibatchScratch,
) -> Result<UpdateStats> {
    let loss = PpoLoss::from_config(config, now.clip_range);
    let lr = now.lr;
    let len = buf.len();
    let (od, ad) = (buf.obs_dim, buf.action_dim);
    let pd = net.spec().head.policy_dim();
    let lsd = net.spec().head.log_std_dim();
    s.indices.clear();
    s.indices.extend(0..len);
    let mut sum = PpoStats::default();
    let mut grad_norm_sum = 0.0f32;
    let mut out = UpdateStats::default();
    'epochs: for _ in 0..config.n_epochs {
        out.epochs += 1;
        // Fisher–Yates shuffle with the agent's seeded generator.
        for i in (1..len).rev() {
            let j = rng.random_range(0..=i);
            s.indices.swap(i, j);
        }
        for start in (0..len).step_by(config.batch_size) {
            let rows = &s.indices[start..(start + config.batch_size).min(len)];
            let m = rows.len();
            gather(&buf.obs, od, rows, &mut s.obs);
            gather(&buf.actions, ad, rows, &mut s.actions);
            gather(&buf.log_probs, 1, rows, &mut s.old_log_probs);
            gather(&buf.advantages, 1, rows, &mut s.advantages);
            gather(&buf.returns, 1, rows, &mut s.returns);
            gather(&buf.values, 1, rows, &mut s.old_values);
            s.policy_out.resize(m * pd, 0.0);
            s.values.resize(m, 0.0);
            s.d_policy.resize(m * pd, 0.0);
            s.d_values.resize(m, 0.0);
            s.d_log_std.resize(lsd, 0.0);
            net.forward(&s.obs, &mut s.policy_out, &mut s.values)?;
            net.log_std_into(&mut s.log_std);
            let stats = loss.compute(
                dist,
                &PpoBatch {
                    policy_out: &s.policy_out,
                    log_std: &s.log_std,
                    values: &s.values,
                    actions: &s.actions,
                    old_log_probs: &s.old_log_probs,
                    advantages: &s.advantages,
                    returns: &s.returns,
                    old_values: &s.old_values,
                },
                OutputGrads {
                    d_policy: &mut s.d_policy,
                    d_values: &mut s.d_values,
                    d_log_std: &mut s.d_log_std,
                },
            )?;
            if !stats.total.is_finite() {
                return Err(Error::NonFinite(format!(
                    "PPO loss became {} (policy {}, value {}): training diverged",
                    stats.total, stats.policy_loss, stats.value_loss
                )));
            }
            if let Some(target) = config.target_kl
                && stats.approx_kl > 1.5 * target
            {
                out.stopped_early = true;
                break 'epochs;
            }
            net.backward(&s.d_policy, &s.d_values, &s.d_log_std)?;
            grad_norm_sum += net.step(lr, config.max_grad_norm)?;
            sum.policy_loss += stats.policy_loss;
            sum.value_loss += stats.value_loss;
            sum.entropy_loss += stats.entropy_loss;
            sum.approx_kl += stats.approx_kl;
            sum.clip_fraction += stats.clip_fraction;
            out.minibatches += 1;
        }
    }
    let k = out.minibatches.max(1) as f32;
    out.policy_loss = sum.policy_loss / k;
    out.value_loss = sum.value_loss / k;
    out.entropy = -sum.entropy_loss / k;
    out.approx_kl = sum.approx_kl / k;
    out.clip_fraction = sum.clip_fraction / k;
    out.grad_norm = grad_norm_sum / k;
    out.explained_variance = explained_variance(&buf.values, &buf.returns);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explained_variance_hand_values() {
        assert_eq!(explained_variance(&[1.0, 2.0, 3.0], &[1.0, 2.0, 3.0]), 1.0);
        // Predicting the mean explains nothing.
        assert!(explained_variance(&[2.0, 2.0, 2.0], &[1.0, 2.0, 3.0]).abs() < 1e-6);
        // Residuals [1, 0, -1] around targets [1, 2, 3]: var 2/3 over var 2/3 -> 0; shifted
        // residuals [1, 1, 1] have zero variance -> 1.
        assert_eq!(explained_variance(&[0.0, 1.0, 2.0], &[1.0, 2.0, 3.0]), 1.0);
        assert_eq!(explained_variance(&[0.0, 0.0], &[5.0, 5.0]), 0.0);
    }
}
