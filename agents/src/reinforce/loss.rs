//! REINFORCE's batch loss, computed on the host from a network's outputs, with its gradient with
//! respect to those outputs (the [`PolicyValueNet`](crate::nn::PolicyValueNet) contract), and the
//! Monte-Carlo targets it needs.
//!
//! The pipeline for a batch of complete episodes, concatenated in time order:
//! 1. [`reward_to_go`]: `G_t = r_t + γ G_{t+1}` within each episode;
//! 2. [`baseline_weights`]: the weights `w_t = G_t − b_t` for the configured
//!    [`Baseline`] (none, the batch mean, or the critic's `V(s_t)`, treated as a constant);
//! 3. [`ReinforceLoss::compute`]: optionally standardises the weights over the batch,
//!    `(w − mean) / (std + 1e-8)` with the unbiased std (skipped for a single transition), then
//!    - policy loss `−mean_t(w_t log π(a_t|s_t))` — a mean over *transitions*, not a sum per
//!      episode, so the step size does not grow with episode length;
//!    - value loss `mean((G − v)²)` when a critic is trained (the learned baseline), else 0;
//!    - entropy loss `−mean(H)`; total `policy + ent_coef · entropy + vf_coef · value`.
//!
//! Checked against PyTorch autograd by the fixtures in `agents/tests/fixtures/`.
//! Nothing here allocates.

use crate::common::loss_io::{
    OutputGrads, batch_rows, check_len, check_loss_coefficients, check_per_row, standardizer,
};
use crate::error::{Error, Result};
use crate::nn::action_dist::ActionDist;
use crate::reinforce::{Baseline, ReinforceConfig};

/// REINFORCE's loss settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReinforceLoss {
    /// Entropy loss coefficient.
    pub ent_coef: f32,
    /// Value loss coefficient (used when the batch carries [`ValueTargets`]).
    pub vf_coef: f32,
    /// Standardise the weights over the batch.
    pub normalize_weights: bool,
}

/// The critic's predictions and regression targets, for a learned baseline.
#[derive(Debug, Clone, Copy)]
pub struct ValueTargets<'a> {
    /// Value predictions `[n]` (the network's output, differentiated).
    pub values: &'a [f32],
    /// Regression targets `[n]` (rewards-to-go).
    pub returns: &'a [f32],
}

/// A batch of transitions. Row-major; `n` is the number of rows of `policy_out`.
#[derive(Debug, Clone, Copy)]
pub struct ReinforceBatch<'a> {
    /// Policy-head outputs `[n, policy_dim]`.
    pub policy_out: &'a [f32],
    /// The log-std parameter `[log_std_dim]` (empty for a categorical head).
    pub log_std: &'a [f32],
    /// Actions taken `[n, action_dim]` (categorical indices stored as `f32`).
    pub actions: &'a [f32],
    /// Weights `w_t` `[n]`: reward-to-go minus baseline (see [`baseline_weights`]); constants.
    pub weights: &'a [f32],
    /// The critic's values and targets; `None` trains no critic (value loss 0, zero gradient).
    pub critic: Option<ValueTargets<'a>>,
}

/// The loss parts of one batch.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct ReinforceStats {
    /// `policy_loss + ent_coef · entropy_loss + vf_coef · value_loss`.
    pub total: f32,
    /// `−mean(w log π)`.
    pub policy_loss: f32,
    /// `mean((G − v)²)` (0 without a critic), before `vf_coef`.
    pub value_loss: f32,
    /// Negative mean entropy, before `ent_coef`.
    pub entropy_loss: f32,
}

/// Discounted reward-to-go of a batch of concatenated episodes: `G_t = r_t + γ G_{t+1}`, with
/// the chain cut after every step whose `episode_ends` flag is set. The end of the buffer ends
/// the last episode too (nothing is bootstrapped), so `out[last] = rewards[last]`.
///
/// This is [`discounted_returns_into`](crate::common::gae::discounted_returns_into) for one
/// environment with `terminated = episode_ends` and no bootstrap, without needing `truncated` /
/// value buffers. `rewards`, `episode_ends` and `out` have the same length; `γ ∈ [0, 1]`.
pub fn reward_to_go(
    rewards: &[f32],
    episode_ends: &[bool],
    gamma: f32,
    out: &mut [f32],
) -> Result<()> {
    check_len("episode_ends", episode_ends.len(), rewards.len())?;
    check_len("output", out.len(), rewards.len())?;
    if !(0.0..=1.0).contains(&gamma) {
        return Err(Error::InvalidArgument(format!(
            "gamma must be in [0, 1], got {gamma}"
        )));
    }
    let mut running = 0.0f32;
    for ((&r, &end), o) in rewards.iter().zip(episode_ends).zip(out.iter_mut()).rev() {
        if end {
            running = 0.0;
        }
        running = r + gamma * running;
        *o = running;
    }
    Ok(())
}

/// Weights `w_t = G_t − b_t` for a baseline: none (`b = 0`), the batch mean of the returns, or
/// the critic's values (`values` required, same length as `returns`). Writes `out` `[n]`.
pub fn baseline_weights(
    baseline: Baseline,
    returns: &[f32],
    values: Option<&[f32]>,
    out: &mut [f32],
) -> Result<()> {
    check_len("output", out.len(), returns.len())?;
    match baseline {
        Baseline::None => out.copy_from_slice(returns),
        Baseline::Mean => {
            if returns.is_empty() {
                return Ok(());
            }
            let sum: f64 = returns.iter().map(|&g| f64::from(g)).sum();
            let mean = (sum / returns.len() as f64) as f32;
            for (o, &g) in out.iter_mut().zip(returns) {
                *o = g - mean;
            }
        }
        Baseline::Value => {
            let values = values.ok_or_else(|| {
                Error::InvalidArgument("the value baseline needs the critic's values".to_owned())
            })?;
            check_len("values", values.len(), returns.len())?;
            for ((o, &g), &v) in out.iter_mut().zip(returns).zip(values) {
                *o = g - v;
            }
        }
    }
    Ok(())
}

impl ReinforceLoss {
    /// The loss settings of `config` (`normalize_weights` is `normalize_returns`).
    pub fn from_config(config: &ReinforceConfig) -> Self {
        Self {
            ent_coef: config.ent_coef,
            vf_coef: config.vf_coef,
            normalize_weights: config.normalize_returns,
        }
    }

    /// Checks that the coefficients are non-negative and finite.
    pub fn validate(&self) -> Result<()> {
        check_loss_coefficients(self.ent_coef, self.vf_coef)
    }

    /// Computes the loss of a batch under `dist` and writes the gradient of the total loss with
    /// respect to the outputs into `grads` (`d_values` is all zeros without a critic).
    ///
    /// Errors: mismatched lengths ([`Error::Shape`]), an empty batch, a non-finite input, an
    /// invalid categorical action or a non-finite loss ([`Error::InvalidArgument`]).
    pub fn compute(
        &self,
        dist: &ActionDist,
        batch: &ReinforceBatch<'_>,
        grads: OutputGrads<'_>,
    ) -> Result<ReinforceStats> {
        self.validate()?;
        let head = dist.head();
        let (pd, ad) = (head.policy_dim(), head.action_dim());
        let n = batch_rows(
            dist,
            batch.policy_out,
            batch.log_std,
            batch.actions,
            &grads,
            "empty batch",
        )?;
        check_per_row(n, &[("weights", batch.weights)])?;
        if let Some(c) = batch.critic {
            check_per_row(n, &[("values", c.values), ("returns", c.returns)])?;
        }

        let normalize = self.normalize_weights && n > 1;
        let (w_mean, w_scale) = standardizer(batch.weights, normalize);
        let nf = n as f32;
        let g_ent = -self.ent_coef / nf;
        let (mut pg_sum, mut ent_sum) = (0.0f64, 0.0f64);
        grads.d_log_std.fill(0.0);
        let rows = batch
            .policy_out
            .chunks_exact(pd)
            .zip(batch.actions.chunks_exact(ad))
            .zip(grads.d_policy.chunks_exact_mut(pd))
            .zip(batch.weights);
        for (((out, action), d_row), &w) in rows {
            let eval = dist.eval_row(out, batch.log_std, action)?;
            let w = if normalize { (w - w_mean) / w_scale } else { w };
            d_row.fill(0.0);
            dist.backward_row(
                out,
                batch.log_std,
                action,
                &eval,
                -w / nf,
                g_ent,
                d_row,
                grads.d_log_std,
            );
            pg_sum += f64::from(w * eval.log_prob);
            ent_sum += f64::from(eval.entropy);
        }

        let mut v_sum = 0.0f64;
        match batch.critic {
            Some(c) => {
                for ((d, &v), &g) in grads.d_values.iter_mut().zip(c.values).zip(c.returns) {
                    let err = g - v;
                    v_sum += f64::from(err * err);
                    *d = self.vf_coef * (-2.0 * err) / nf;
                }
            }
            None => grads.d_values.fill(0.0),
        }

        let mean = |s: f64| (s / n as f64) as f32;
        let policy_loss = -mean(pg_sum);
        let value_loss = mean(v_sum);
        let entropy_loss = -mean(ent_sum);
        let total = policy_loss + self.ent_coef * entropy_loss + self.vf_coef * value_loss;
        if !total.is_finite() {
            return Err(Error::InvalidArgument(format!(
                "non-finite REINFORCE loss (policy {policy_loss}, value {value_loss}, entropy \
                 {entropy_loss})"
            )));
        }
        Ok(ReinforceStats {
            total,
            policy_loss,
            value_loss,
            entropy_loss,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common::gae::{Steps, discounted_returns};
    use crate::nn::net::ActionHead;
    use crate::ppo::loss::tests::{Outputs, check_gradients};

    #[test]
    fn reward_to_go_cuts_at_episode_ends() {
        let rewards = [1.0, 2.0, 3.0, 4.0, 5.0];
        let ends = [false, true, false, false, true];
        let mut out = [0.0; 5];
        reward_to_go(&rewards, &ends, 0.5, &mut out).unwrap();
        assert_eq!(out, [2.0, 2.0, 3.0 + 0.5 * (4.0 + 2.5), 4.0 + 2.5, 5.0]);
        // The same as GAE's discounted returns for one environment, terminated at the ends.
        let steps = Steps {
            num_envs: 1,
            rewards: &rewards,
            terminated: &ends,
            truncated: &[false; 5],
            final_values: None,
            last_values: None,
        };
        assert_eq!(discounted_returns(&steps, 0.5).unwrap(), out);
        assert!(reward_to_go(&rewards, &ends[..4], 0.5, &mut out).is_err());
        assert!(reward_to_go(&rewards, &ends, 1.5, &mut out).is_err());
        assert!(reward_to_go(&rewards, &ends, 0.5, &mut out[..4]).is_err());
    }

    #[test]
    fn baselines() {
        let g = [1.0, 2.0, 6.0];
        let mut w = [0.0; 3];
        baseline_weights(Baseline::None, &g, None, &mut w).unwrap();
        assert_eq!(w, g);
        baseline_weights(Baseline::Mean, &g, None, &mut w).unwrap();
        assert_eq!(w, [-2.0, -1.0, 3.0]);
        baseline_weights(Baseline::Value, &g, Some(&[0.5, 0.5, 1.0]), &mut w).unwrap();
        assert_eq!(w, [0.5, 1.5, 5.0]);
        assert!(baseline_weights(Baseline::Value, &g, None, &mut w).is_err());
        assert!(baseline_weights(Baseline::Value, &g, Some(&[0.0]), &mut w).is_err());
    }

    fn run(
        loss: &ReinforceLoss,
        dist: &ActionDist,
        x: &Outputs,
        critic: bool,
        g: (&mut [f32], &mut [f32], &mut [f32]),
    ) -> Result<ReinforceStats> {
        let (actions, weights, returns): (&[f32], &[f32], &[f32]) = match dist.head() {
            ActionHead::Categorical { .. } => {
                (&[2.0, 0.0, 1.0], &[1.5, -0.5, 0.25], &[1.0, 0.0, 2.0])
            }
            ActionHead::Gaussian { .. } => (
                &[0.5, -0.2, 0.1, 0.9, -1.2, 0.4],
                &[1.5, -0.5, 0.25],
                &[1.0, 0.0, 2.0],
            ),
        };
        let batch = ReinforceBatch {
            policy_out: &x.policy_out,
            log_std: &x.log_std,
            actions,
            weights,
            critic: critic.then_some(ValueTargets {
                values: &x.values,
                returns,
            }),
        };
        let grads = OutputGrads {
            d_policy: g.0,
            d_values: g.1,
            d_log_std: g.2,
        };
        loss.compute(dist, &batch, grads)
    }

    #[test]
    fn gradients_match_finite_differences() {
        let cases = [
            (
                ActionHead::Categorical { n: 3 },
                vec![0.2, -0.4, 1.1, 0.0, 0.3, -0.2, 1.5, 0.5, -1.0],
                vec![],
            ),
            (
                ActionHead::Gaussian { dim: 2 },
                vec![0.1, -0.5, 0.7, 0.2, -0.3, 0.9],
                vec![-0.3, 0.2],
            ),
        ];
        for (head, policy_out, log_std) in cases {
            let dist = ActionDist::new(head).unwrap();
            let x = Outputs {
                policy_out,
                log_std,
                values: vec![0.5, -0.2, 1.0],
            };
            for (critic, normalize) in [(true, true), (true, false), (false, true)] {
                let l = ReinforceLoss {
                    ent_coef: 0.1,
                    vf_coef: 0.5,
                    normalize_weights: normalize,
                };
                let mut dp = vec![0.0; x.policy_out.len()];
                let mut dv = vec![9.0; 3];
                let mut dl = vec![0.0; x.log_std.len()];
                let stats = run(&l, &dist, &x, critic, (&mut dp, &mut dv, &mut dl)).unwrap();
                if !critic {
                    assert_eq!(stats.value_loss, 0.0);
                    assert_eq!(dv, [0.0; 3]);
                }
                check_gradients(&x, (&dp, &dv, &dl), |y| {
                    let mut dp = vec![0.0; y.policy_out.len()];
                    let mut dv = vec![0.0; 3];
                    let mut dl = vec![0.0; y.log_std.len()];
                    run(&l, &dist, y, critic, (&mut dp, &mut dv, &mut dl))
                        .unwrap()
                        .total
                });
            }
        }
    }

    #[test]
    fn single_transition_is_not_normalised() {
        // -w log π with w = 3 and π(a) = ½: policy loss 3 ln 2 even with normalisation on.
        let dist = ActionDist::new(ActionHead::Categorical { n: 2 }).unwrap();
        let l = ReinforceLoss {
            ent_coef: 0.0,
            vf_coef: 0.5,
            normalize_weights: true,
        };
        let batch = ReinforceBatch {
            policy_out: &[0.0, 0.0],
            log_std: &[],
            actions: &[0.0],
            weights: &[3.0],
            critic: None,
        };
        let (mut dp, mut dv) = ([0.0f32; 2], [0.0f32]);
        let grads = OutputGrads {
            d_policy: &mut dp,
            d_values: &mut dv,
            d_log_std: &mut [],
        };
        let stats = l.compute(&dist, &batch, grads).unwrap();
        assert!((stats.policy_loss - 3.0 * 2.0f32.ln()).abs() < 1e-6);
        // ∂(−3 log_softmax(l)_0)/∂l = −3 (1 − ½, −½).
        assert!(
            (dp[0] + 1.5).abs() < 1e-6 && (dp[1] - 1.5).abs() < 1e-6,
            "{dp:?}"
        );
    }

    #[test]
    fn errors_for_bad_inputs() {
        let dist = ActionDist::new(ActionHead::Categorical { n: 3 }).unwrap();
        let x = Outputs {
            policy_out: vec![0.0; 9],
            log_std: vec![],
            values: vec![0.0; 3],
        };
        let l = ReinforceLoss {
            ent_coef: 0.0,
            vf_coef: 0.5,
            normalize_weights: true,
        };
        let (mut dp, mut dv) = (vec![0.0; 9], vec![0.0; 3]);
        assert!(run(&l, &dist, &x, true, (&mut dp, &mut dv, &mut [])).is_ok());
        assert!(run(&l, &dist, &x, true, (&mut dp, &mut dv[..2], &mut [])).is_err());
        let nan = Outputs {
            values: vec![0.0, f32::NAN, 0.0],
            ..x.clone()
        };
        assert!(run(&l, &dist, &nan, true, (&mut dp, &mut dv, &mut [])).is_err());
        let neg = ReinforceLoss { vf_coef: -1.0, ..l };
        assert!(run(&neg, &dist, &x, true, (&mut dp, &mut dv, &mut [])).is_err());
        let cfg = ReinforceConfig::default();
        let from = ReinforceLoss::from_config(&cfg);
        assert_eq!(from.normalize_weights, cfg.normalize_returns);
    }
}
