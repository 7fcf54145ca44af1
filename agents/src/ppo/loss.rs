//! PPO's minibatch loss, computed on the host from a network's outputs, with its gradient with
//! respect to those outputs (the [`PolicyValueNet`](crate::nn::PolicyValueNet) contract).
//!
//! Conventions are Stable-Baselines3's, checked against PyTorch autograd by the fixtures in
//! `agents/tests/fixtures/` (`gen_pg_losses.py`):
//! - advantages are standardised per minibatch, `(A − mean) / (std + 1e-8)` with the unbiased
//!   standard deviation, when [`PpoLoss::normalize_advantage`] is set and the minibatch has more
//!   than one row (a single row is left as it is);
//! - ratio `r = exp(log π(a|s) − log π_old(a|s))`, policy loss
//!   `−mean(min(A r, A clip(r, 1 − ε, 1 + ε)))`;
//! - value loss `mean((R − v)²)` (no ½ factor). With [`PpoLoss::clip_range_vf`] `= Some(c)`,
//!   `v_clip = v_old + clamp(v − v_old, −c, c)` and the value loss is
//!   `mean(max((R − v)², (R − v_clip)²))` — the pessimistic form of OpenAI Baselines and CleanRL
//!   (Stable-Baselines3 uses `(R − v_clip)²` alone), still without the ½ factor;
//! - entropy loss `−mean(H)`, total `policy + ent_coef · entropy + vf_coef · value`;
//! - diagnostics: `approx_kl = mean((r − 1) − log r)` and `clip_fraction = mean(|r − 1| > ε)`.
//!
//! Gradients follow PyTorch's subgradient choices exactly: `clamp` passes the gradient on its
//! closed interval, and `min`/`max` split it ½/½ between equal arguments. The split matters inside
//! the clip range, where both surrogates are equal and the two halves add up to the full
//! gradient (e.g. on a rollout's first epoch, where every ratio is 1).
//!
//! [`PpoLoss::compute`] does not allocate: the caller owns the gradient buffers.

use crate::common::loss_io::{
    OutputGrads, batch_rows, check_loss_coefficients, check_per_row, standardizer,
};
use crate::error::{Error, Result};
use crate::nn::action_dist::ActionDist;
use crate::ppo::PpoConfig;

/// PPO's loss settings for one update (the clip range may follow a schedule).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PpoLoss {
    /// Clip range ε of the surrogate objective.
    pub clip_range: f32,
    /// Clip range of the value function around the old values (`None`: no value clipping).
    pub clip_range_vf: Option<f32>,
    /// Entropy loss coefficient.
    pub ent_coef: f32,
    /// Value loss coefficient.
    pub vf_coef: f32,
    /// Standardise advantages per minibatch.
    pub normalize_advantage: bool,
}

/// One minibatch: the network's outputs for it and what the rollout recorded. Row-major;
/// `n` is the number of rows of `policy_out`.
#[derive(Debug, Clone, Copy)]
pub struct PpoBatch<'a> {
    /// Policy-head outputs `[n, policy_dim]` (logits or Gaussian means).
    pub policy_out: &'a [f32],
    /// The log-std parameter `[log_std_dim]` (empty for a categorical head).
    pub log_std: &'a [f32],
    /// Value predictions `[n]`.
    pub values: &'a [f32],
    /// Actions taken `[n, action_dim]` (categorical indices stored as `f32`).
    pub actions: &'a [f32],
    /// Log-probabilities of the actions under the rollout's policy `[n]`.
    pub old_log_probs: &'a [f32],
    /// Advantages `[n]` (standardised here if the loss says so).
    pub advantages: &'a [f32],
    /// Value targets (returns) `[n]`.
    pub returns: &'a [f32],
    /// Value predictions of the rollout `[n]` (read only with value clipping).
    pub old_values: &'a [f32],
}

/// The loss parts and diagnostics of one minibatch.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct PpoStats {
    /// `policy_loss + ent_coef · entropy_loss + vf_coef · value_loss`.
    pub total: f32,
    /// Clipped surrogate loss.
    pub policy_loss: f32,
    /// Value loss (before `vf_coef`).
    pub value_loss: f32,
    /// Negative mean entropy (before `ent_coef`).
    pub entropy_loss: f32,
    /// `mean((r − 1) − log r)`.
    pub approx_kl: f32,
    /// Fraction of rows with `|r − 1| > ε`.
    pub clip_fraction: f32,
}

/// PyTorch's gradient weights of `min(x, y)` with respect to `(x, y)`: the smaller one gets it
/// all, equal arguments get half each.
fn min_weights(x: f32, y: f32) -> (f32, f32) {
    if x < y {
        (1.0, 0.0)
    } else if y < x {
        (0.0, 1.0)
    } else {
        (0.5, 0.5)
    }
}

impl PpoLoss {
    /// The loss settings of `config`, with the current (scheduled) clip range.
    pub fn from_config(config: &PpoConfig, clip_range: f32) -> Self {
        Self {
            clip_range,
            clip_range_vf: config.clip_range_vf,
            ent_coef: config.ent_coef,
            vf_coef: config.vf_coef,
            normalize_advantage: config.normalize_advantage,
        }
    }

    /// Checks that the clip ranges are positive and finite and the coefficients non-negative
    /// and finite.
    pub fn validate(&self) -> Result<()> {
        let ranges = [Some(self.clip_range), self.clip_range_vf];
        if ranges
            .into_iter()
            .flatten()
            .any(|c| !(c.is_finite() && c > 0.0))
        {
            return Err(Error::InvalidArgument(format!(
                "clip ranges must be positive and finite, got {} and {:?}",
                self.clip_range, self.clip_range_vf
            )));
        }
        check_loss_coefficients(self.ent_coef, self.vf_coef)
    }

    /// Computes the loss of one minibatch under `dist` (the network's action head) and writes
    /// the gradient of the total loss with respect to the outputs into `grads`.
    ///
    /// Errors: mismatched lengths ([`Error::Shape`]), an empty minibatch, a non-finite input,
    /// an invalid categorical action or a non-finite loss (e.g. a ratio that overflowed)
    /// ([`Error::InvalidArgument`]). On error the gradient buffers hold no meaningful values.
    pub fn compute(
        &self,
        dist: &ActionDist,
        batch: &PpoBatch<'_>,
        grads: OutputGrads<'_>,
    ) -> Result<PpoStats> {
        self.validate()?;
        let head = dist.head();
        let (pd, ad) = (head.policy_dim(), head.action_dim());
        let n = batch_rows(
            dist,
            batch.policy_out,
            batch.log_std,
            batch.actions,
            &grads,
            "empty minibatch",
        )?;
        check_per_row(
            n,
            &[
                ("values", batch.values),
                ("old_log_probs", batch.old_log_probs),
                ("advantages", batch.advantages),
                ("returns", batch.returns),
                ("old_values", batch.old_values),
            ],
        )?;

        let (adv_mean, adv_scale) = standardizer(batch.advantages, self.normalize_advantage);
        let nf = n as f32;
        let eps = self.clip_range;
        let (lo, hi) = (1.0 - eps, 1.0 + eps);
        let g_ent = -self.ent_coef / nf;
        let (mut pg_sum, mut v_sum, mut ent_sum, mut kl_sum) = (0.0f64, 0.0f64, 0.0f64, 0.0f64);
        let mut clipped = 0usize;
        grads.d_log_std.fill(0.0);
        let rows = batch
            .policy_out
            .chunks_exact(pd)
            .zip(batch.actions.chunks_exact(ad))
            .zip(grads.d_policy.chunks_exact_mut(pd))
            .enumerate();
        for (i, ((out, action), d_row)) in rows {
            let eval = dist.eval_row(out, batch.log_std, action)?;
            let adv = if self.normalize_advantage && n > 1 {
                (batch.advantages[i] - adv_mean) / adv_scale
            } else {
                batch.advantages[i]
            };
            let log_ratio = eval.log_prob - batch.old_log_probs[i];
            let ratio = log_ratio.exp();
            let (s1, s2) = (adv * ratio, adv * ratio.clamp(lo, hi));
            let (w1, w2) = min_weights(s1, s2);
            let inside = if (lo..=hi).contains(&ratio) { 1.0 } else { 0.0 };
            // ∂(−mean min(s1, s2))/∂log π = −(1/n) · A (w1 + w2 · inside) · r.
            let g_lp = -(1.0 / nf) * adv * (w1 + w2 * inside) * ratio;
            d_row.fill(0.0);
            dist.backward_row(
                out,
                batch.log_std,
                action,
                &eval,
                g_lp,
                g_ent,
                d_row,
                grads.d_log_std,
            );
            pg_sum += f64::from(s1.min(s2));
            ent_sum += f64::from(eval.entropy);
            kl_sum += f64::from((ratio - 1.0) - log_ratio);
            if (ratio - 1.0).abs() > eps {
                clipped += 1;
            }

            let (v, ret) = (batch.values[i], batch.returns[i]);
            let err = ret - v;
            let (loss_i, dv) = match self.clip_range_vf {
                None => (err * err, -2.0 * err),
                Some(c) => {
                    let old = batch.old_values[i];
                    let v_clip = old + (v - old).clamp(-c, c);
                    let err_clip = ret - v_clip;
                    let (e1, e2) = (err * err, err_clip * err_clip);
                    // max(e1, e2) = −min(−e1, −e2): the same tie rule.
                    let (w1, w2) = min_weights(-e1, -e2);
                    let inside = if (-c..=c).contains(&(v - old)) {
                        1.0
                    } else {
                        0.0
                    };
                    (e1.max(e2), -2.0 * (w1 * err + w2 * inside * err_clip))
                }
            };
            v_sum += f64::from(loss_i);
            grads.d_values[i] = self.vf_coef * dv / nf;
        }

        let mean = |s: f64| (s / n as f64) as f32;
        let policy_loss = -mean(pg_sum);
        let value_loss = mean(v_sum);
        let entropy_loss = -mean(ent_sum);
        let total = policy_loss + self.ent_coef * entropy_loss + self.vf_coef * value_loss;
        if !total.is_finite() {
            return Err(Error::InvalidArgument(format!(
                "non-finite PPO loss (policy {policy_loss}, value {value_loss}, entropy \
                 {entropy_loss}): the probability ratios or values overflowed"
            )));
        }
        Ok(PpoStats {
            total,
            policy_loss,
            value_loss,
            entropy_loss,
            approx_kl: mean(kl_sum),
            clip_fraction: clipped as f32 / nf,
        })
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::nn::net::ActionHead;

    /// The network outputs a loss is differentiated with respect to.
    #[derive(Clone)]
    pub(crate) struct Outputs {
        pub policy_out: Vec<f32>,
        pub log_std: Vec<f32>,
        pub values: Vec<f32>,
    }

    /// Compares analytic gradients `(d_policy, d_values, d_log_std)` with central finite
    /// differences of `total` (step 1e-3 in f32: accurate to ~1e-4 away from kinks).
    pub(crate) fn check_gradients(
        x: &Outputs,
        grads: (&[f32], &[f32], &[f32]),
        total: impl Fn(&Outputs) -> f32,
    ) {
        type Field = fn(&mut Outputs) -> &mut Vec<f32>;
        let h = 1e-3f32;
        let fields: [(&str, Field, &[f32]); 3] = [
            ("policy_out", |o| &mut o.policy_out, grads.0),
            ("values", |o| &mut o.values, grads.1),
            ("log_std", |o| &mut o.log_std, grads.2),
        ];
        for (name, field, analytic) in fields {
            assert_eq!(analytic.len(), field(&mut x.clone()).len(), "{name}");
            for (k, &want) in analytic.iter().enumerate() {
                let (mut plus, mut minus) = (x.clone(), x.clone());
                field(&mut plus)[k] += h;
                field(&mut minus)[k] -= h;
                let numeric = (total(&plus) - total(&minus)) / (2.0 * h);
                let tol = 5e-4 + 1e-2 * numeric.abs();
                assert!(
                    (numeric - want).abs() < tol,
                    "{name}[{k}]: analytic {want}, numeric {numeric}"
                );
            }
        }
    }

    struct Setup {
        dist: ActionDist,
        x: Outputs,
        actions: Vec<f32>,
        old_log_probs: Vec<f32>,
        advantages: Vec<f32>,
        returns: Vec<f32>,
        old_values: Vec<f32>,
    }

    /// Four rows with ratios e^{0.05}, e^{-0.5}, e^{0.4}, 1 (clip 0.2: inside, outside, outside,
    /// a tie), advantages of both signs and value changes inside and outside ±0.2.
    fn setup(head: ActionHead) -> Setup {
        let dist = ActionDist::new(head).unwrap();
        let (policy_out, log_std, actions) = match head {
            ActionHead::Categorical { .. } => (
                vec![
                    0.2, -0.4, 1.1, 0.0, 0.3, -0.2, 1.5, 0.5, -1.0, -0.3, 0.8, 0.1,
                ],
                vec![],
                vec![2.0, 0.0, 1.0, 1.0],
            ),
            ActionHead::Gaussian { .. } => (
                vec![0.1, -0.5, 0.7, 0.2, -0.3, 0.9, 0.0, 0.4],
                vec![-0.3, 0.2],
                vec![0.5, -0.2, 0.1, 0.9, -1.2, 0.4, 0.6, 0.3],
            ),
        };
        let mut logp = vec![0.0; 4];
        dist.log_prob(&policy_out, &log_std, &actions, &mut logp)
            .unwrap();
        let deltas = [0.05, -0.5, 0.4, 0.0];
        let values = vec![0.5, -0.2, 1.0, 0.3];
        let old_values = [0.05, 0.5, -0.4, -0.1]
            .iter()
            .zip(&values)
            .map(|(d, v)| v - d)
            .collect();
        Setup {
            dist,
            x: Outputs {
                policy_out,
                log_std,
                values,
            },
            actions,
            old_log_probs: logp.iter().zip(deltas).map(|(l, d)| l - d).collect(),
            advantages: vec![1.0, -0.5, 2.0, -1.5],
            returns: vec![1.0, 0.4, 0.2, -0.6],
            old_values,
        }
    }

    fn run(
        loss: &PpoLoss,
        s: &Setup,
        x: &Outputs,
        g: (&mut [f32], &mut [f32], &mut [f32]),
    ) -> Result<PpoStats> {
        let batch = PpoBatch {
            policy_out: &x.policy_out,
            log_std: &x.log_std,
            values: &x.values,
            actions: &s.actions,
            old_log_probs: &s.old_log_probs,
            advantages: &s.advantages,
            returns: &s.returns,
            old_values: &s.old_values,
        };
        let grads = OutputGrads {
            d_policy: g.0,
            d_values: g.1,
            d_log_std: g.2,
        };
        loss.compute(&s.dist, &batch, grads)
    }

    fn loss(clip_range_vf: Option<f32>, normalize_advantage: bool) -> PpoLoss {
        PpoLoss {
            clip_range: 0.2,
            clip_range_vf,
            ent_coef: 0.1,
            vf_coef: 0.5,
            normalize_advantage,
        }
    }

    #[test]
    fn gradients_match_finite_differences() {
        let heads = [
            ActionHead::Categorical { n: 3 },
            ActionHead::Gaussian { dim: 2 },
        ];
        for head in heads {
            let s = setup(head);
            for l in [
                loss(None, true),
                loss(Some(0.2), true),
                loss(Some(0.2), false),
            ] {
                let x = &s.x;
                let mut dp = vec![0.0; x.policy_out.len()];
                let mut dv = vec![0.0; 4];
                let mut dl = vec![0.0; x.log_std.len()];
                let stats = run(&l, &s, x, (&mut dp, &mut dv, &mut dl)).unwrap();
                assert_eq!(stats.clip_fraction, 0.5);
                assert!(dp.iter().any(|g| g.abs() > 1e-2));
                check_gradients(x, (&dp, &dv, &dl), |y| {
                    let mut dp = vec![0.0; y.policy_out.len()];
                    let mut dv = vec![0.0; 4];
                    let mut dl = vec![0.0; y.log_std.len()];
                    run(&l, &s, y, (&mut dp, &mut dv, &mut dl)).unwrap().total
                });
            }
        }
    }

    #[test]
    fn hand_computed_single_row() {
        // One row, normalisation skipped: A = 2, ratio e^{0.4} > 1.2 so the surrogate is
        // clipped to 2 · 1.2 and the policy gradient vanishes.
        let dist = ActionDist::new(ActionHead::Categorical { n: 2 }).unwrap();
        let logits = [0.0f32, 0.0];
        let lp = 0.5f32.ln();
        let batch = PpoBatch {
            policy_out: &logits,
            log_std: &[],
            values: &[1.0],
            actions: &[1.0],
            old_log_probs: &[lp - 0.4],
            advantages: &[2.0],
            returns: &[3.0],
            old_values: &[0.0],
        };
        let (mut dp, mut dv, mut dl) = ([9.0f32; 2], [9.0f32], [0.0f32; 0]);
        let grads = OutputGrads {
            d_policy: &mut dp,
            d_values: &mut dv,
            d_log_std: &mut dl,
        };
        let stats = loss(None, true).compute(&dist, &batch, grads).unwrap();
        assert!((stats.policy_loss + 2.4).abs() < 1e-6);
        assert!((stats.value_loss - 4.0).abs() < 1e-6);
        assert!((stats.entropy_loss + 2.0f32.ln()).abs() < 1e-6);
        let kl = 0.4f32.exp() - 1.0 - 0.4;
        assert!((stats.approx_kl - kl).abs() < 1e-6);
        assert_eq!(stats.clip_fraction, 1.0);
        // Uniform logits: the entropy gradient is zero too.
        assert!(dp.iter().all(|g| g.abs() < 1e-7), "{dp:?}");
        assert!((dv[0] - 0.5 * -2.0 * 2.0).abs() < 1e-6);
    }

    #[test]
    fn errors_for_bad_inputs() {
        let s = setup(ActionHead::Categorical { n: 3 });
        let l = loss(Some(0.2), true);
        let (mut dp, mut dv, mut dl) = (vec![0.0; 12], vec![0.0; 4], vec![]);
        assert!(run(&l, &s, &s.x, (&mut dp, &mut dv, &mut dl)).is_ok());
        assert!(matches!(
            run(&l, &s, &s.x, (&mut dp[..9], &mut dv, &mut dl)),
            Err(Error::Shape(_))
        ));
        let mut nan = s.x.clone();
        nan.values[2] = f32::NAN;
        assert!(run(&l, &s, &nan, (&mut dp, &mut dv, &mut dl)).is_err());
        let mut short = Setup {
            advantages: vec![1.0; 3],
            ..setup(ActionHead::Categorical { n: 3 })
        };
        assert!(matches!(
            run(&l, &short, &s.x, (&mut dp, &mut dv, &mut dl)),
            Err(Error::Shape(_))
        ));
        short.advantages = vec![1.0; 4];
        short.actions[1] = 3.0;
        assert!(matches!(
            run(&l, &short, &s.x, (&mut dp, &mut dv, &mut dl)),
            Err(Error::InvalidArgument(_))
        ));
        // A ratio that overflows with a negative advantage: -min(A·∞, ·) = +∞.
        let mut overflow = setup(ActionHead::Categorical { n: 3 });
        overflow.old_log_probs[3] = -1e30;
        let err = run(&l, &overflow, &s.x, (&mut dp, &mut dv, &mut dl)).unwrap_err();
        assert!(err.to_string().contains("non-finite"), "{err}");
        let bad = PpoLoss {
            clip_range: 0.0,
            ..l
        };
        assert!(run(&bad, &s, &s.x, (&mut dp, &mut dv, &mut dl)).is_err());
        let empty = Outputs {
            policy_out: vec![],
            log_std: vec![],
            values: vec![],
        };
        assert!(run(&l, &s, &empty, (&mut [], &mut [], &mut [])).is_err());
    }

    #[test]
    fn from_config_copies_settings() {
        let c = PpoConfig {
            clip_range_vf: Some(0.3),
            ent_coef: 0.01,
            ..PpoConfig::default()
        };
        let l = PpoLoss::from_config(&c, 0.15);
        assert_eq!(
            (l.clip_range, l.clip_range_vf, l.ent_coef),
            (0.15, Some(0.3), 0.01)
        );
        assert_eq!((l.vf_coef, l.normalize_advantage), (0.5, true));
        assert!(l.validate().is_ok());
    }
}
