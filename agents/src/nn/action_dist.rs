//! Host-side action distributions over the rows of a policy head's output: [`ActionDist`].
//!
//! A [`PolicyValueNet`](crate::nn::PolicyValueNet) returns its policy outputs as a row-major
//! `[n, policy_dim]` buffer; this module turns each row into a distribution without libtorch:
//! - [`ActionHead::Categorical`]: the row holds `n` logits; probabilities are a softmax and
//!   log-probabilities a log-softmax, both computed stably (shifted by the row's maximum). An
//!   action is the category index stored as an `f32` (one value per row);
//! - [`ActionHead::Gaussian`]: the row holds `dim` means of a diagonal Gaussian whose standard
//!   deviation is `exp(log_std)` for a state-independent `log_std` `[dim]`. The log-probability
//!   sums over dimensions, `Σ_d −½((a_d − μ_d)/σ_d)² − ln σ_d − ½ ln 2π`, and the entropy is
//!   `Σ_d ½ + ½ ln 2π + ln σ_d`.
//!
//! **Gaussian actions are stored unclipped.** As in Stable-Baselines3, the action that is sampled
//! is the one stored in the rollout and scored by [`ActionDist::log_prob`] during the update;
//! only the copy handed to the environment is clipped to the action space's bounds, with
//! [`clip_to_bounds`]. Scoring the clipped action instead would bias the policy gradient (many
//! different samples map to the same bound).
//!
//! Inputs are checked: a length that does not match the head, a non-finite value anywhere (NaN
//! or ±∞ in outputs, log-std or actions) or a categorical action that is not an integer index in
//! range is an [`Error`], never a panic. Nothing here allocates.

use rand_distr::{Distribution, StandardNormal};
use tokengym::seeding::EnvRng;

use crate::error::{Error, Result};
use crate::nn::net::ActionHead;

/// `½ ln 2π`.
const HALF_LN_2PI: f32 = 0.918_938_5;

/// A distribution family over policy-head rows (see the [module docs](self)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ActionDist {
    head: ActionHead,
}

/// Per-row quantities the losses reuse in their backward pass.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RowEval {
    /// Log-probability of the row's action.
    pub log_prob: f32,
    /// Entropy of the row's distribution.
    pub entropy: f32,
    /// Categorical: the row's maximum logit `m` and `ln Σ exp(l − m)` (log-probabilities are
    /// `(l − m) − ln Σ`, exact even for huge logits); unused for Gaussians.
    max: f32,
    log_sum: f32,
}

fn non_finite(what: &str) -> Error {
    Error::InvalidArgument(format!("{what} contains a non-finite value (NaN or ±∞)"))
}

fn check_finite(what: &str, xs: &[f32]) -> Result<()> {
    if xs.iter().all(|x| x.is_finite()) {
        Ok(())
    } else {
        Err(non_finite(what))
    }
}

fn check_len(what: &str, got: usize, want: usize) -> Result<()> {
    if got == want {
        Ok(())
    } else {
        Err(Error::Shape(format!(
            "{what} has length {got}, expected {want}"
        )))
    }
}

/// `(max, log Σ exp(l − max))` of a row of finite logits.
fn max_and_log_sum(logits: &[f32]) -> (f32, f32) {
    let m = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let s: f32 = logits.iter().map(|&l| (l - m).exp()).sum();
    (m, s.ln())
}

impl ActionDist {
    /// The distribution family of `head`; a head with no actions/dimensions is an error.
    pub fn new(head: ActionHead) -> Result<Self> {
        if head.policy_dim() == 0 {
            return Err(Error::InvalidArgument(
                "an action head needs at least one action/dimension".to_owned(),
            ));
        }
        Ok(Self { head })
    }

    /// The head this distribution reads.
    pub fn head(&self) -> ActionHead {
        self.head
    }

    /// Number of rows of `policy_out`, after checking its length and that of `log_std`, and
    /// that both are finite.
    pub(crate) fn rows(&self, policy_out: &[f32], log_std: &[f32]) -> Result<usize> {
        let n = self.output_rows(policy_out)?;
        check_len("log_std", log_std.len(), self.head.log_std_dim())?;
        check_finite("log_std", log_std)?;
        Ok(n)
    }

    /// Number of rows of `policy_out`, checked to be whole and finite.
    fn output_rows(&self, policy_out: &[f32]) -> Result<usize> {
        let pd = self.head.policy_dim();
        if !policy_out.len().is_multiple_of(pd) {
            return Err(Error::Shape(format!(
                "policy output of length {} is not a whole number of rows of {pd}",
                policy_out.len()
            )));
        }
        check_finite("policy output", policy_out)?;
        Ok(policy_out.len() / pd)
    }

    /// The categorical index of `a`, checked to be an integer in `0..n`.
    fn index(a: f32, n: usize) -> Result<usize> {
        if a.is_finite() && a >= 0.0 && a.fract() == 0.0 && (a as usize) < n {
            Ok(a as usize)
        } else {
            Err(Error::InvalidArgument(format!(
                "categorical action {a} is not an integer index in 0..{n}"
            )))
        }
    }

    /// Log-probability and entropy of one row (`out` of length `policy_dim`, `action` of length
    /// `action_dim`); inputs other than the action are assumed checked by [`rows`](Self::rows).
    pub(crate) fn eval_row(&self, out: &[f32], log_std: &[f32], action: &[f32]) -> Result<RowEval> {
        match self.head {
            ActionHead::Categorical { n } => {
                let a = Self::index(action[0], n)?;
                let (max, log_sum) = max_and_log_sum(out);
                let mut entropy = 0.0;
                for &l in out {
                    let lp = (l - max) - log_sum;
                    entropy -= lp.exp() * lp;
                }
                Ok(RowEval {
                    log_prob: (out[a] - max) - log_sum,
                    entropy,
                    max,
                    log_sum,
                })
            }
            ActionHead::Gaussian { .. } => {
                let mut log_prob = 0.0;
                let mut entropy = 0.0;
                for ((&mu, &ls), &a) in out.iter().zip(log_std).zip(action) {
                    if !a.is_finite() {
                        return Err(non_finite("actions"));
                    }
                    let z = (a - mu) / ls.exp();
                    log_prob += -0.5 * z * z - ls - HALF_LN_2PI;
                    entropy += 0.5 + HALF_LN_2PI + ls;
                }
                Ok(RowEval {
                    log_prob,
                    entropy,
                    max: 0.0,
                    log_sum: 0.0,
                })
            }
        }
    }

    /// Adds `g_lp · ∂log p/∂(out, log_std) + g_ent · ∂H/∂(out, log_std)` of one row into
    /// `d_out` (length `policy_dim`) and `d_log_std`. `eval` is this row's [`eval_row`](Self::eval_row).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn backward_row(
        &self,
        out: &[f32],
        log_std: &[f32],
        action: &[f32],
        eval: &RowEval,
        g_lp: f32,
        g_ent: f32,
        d_out: &mut [f32],
        d_log_std: &mut [f32],
    ) {
        match self.head {
            ActionHead::Categorical { .. } => {
                // ∂log p_a/∂l_j = δ_aj − p_j; ∂H/∂l_j = −p_j (log p_j + H).
                let a = action[0] as usize;
                for (j, (&l, d)) in out.iter().zip(d_out.iter_mut()).enumerate() {
                    let lp = (l - eval.max) - eval.log_sum;
                    let p = lp.exp();
                    let hot = if j == a { 1.0 } else { 0.0 };
                    *d += g_lp * (hot - p) - g_ent * p * (lp + eval.entropy);
                }
            }
            ActionHead::Gaussian { .. } => {
                // ∂log p/∂μ = (a − μ)/σ²; ∂log p/∂ln σ = (a − μ)²/σ² − 1; ∂H/∂ln σ = 1.
                for (((&mu, &ls), &a), (d, dls)) in out
                    .iter()
                    .zip(log_std)
                    .zip(action)
                    .zip(d_out.iter_mut().zip(d_log_std.iter_mut()))
                {
                    let inv_var = (-2.0 * ls).exp();
                    let diff = a - mu;
                    *d += g_lp * diff * inv_var;
                    *dls += g_lp * (diff * diff * inv_var - 1.0) + g_ent;
                }
            }
        }
    }

    /// Samples one action per row with `rng`, writing `actions` (`[n, action_dim]`) and their
    /// log-probabilities `log_probs` (`[n]`). Categorical rows use the inverse CDF of the
    /// softmax; Gaussian rows draw `μ + exp(log_std) · N(0, 1)` (unclipped, see the module docs).
    pub fn sample(
        &self,
        policy_out: &[f32],
        log_std: &[f32],
        rng: &mut EnvRng,
        actions: &mut [f32],
        log_probs: &mut [f32],
    ) -> Result<()> {
        let n = self.rows(policy_out, log_std)?;
        let (pd, ad) = (self.head.policy_dim(), self.head.action_dim());
        check_len("actions", actions.len(), n * ad)?;
        check_len("log_probs", log_probs.len(), n)?;
        let rows = policy_out
            .chunks_exact(pd)
            .zip(actions.chunks_exact_mut(ad));
        for ((out, act), lp) in rows.zip(log_probs.iter_mut()) {
            match self.head {
                ActionHead::Categorical { .. } => {
                    let m = out.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                    let total: f64 = out.iter().map(|&l| f64::from((l - m).exp())).sum();
                    let u = rand::RngExt::random::<f64>(rng) * total;
                    // The last category with non-zero mass catches rounding at the top end.
                    let mut pick = 0;
                    let mut cum = 0.0;
                    for (j, &l) in out.iter().enumerate() {
                        let w = f64::from((l - m).exp());
                        if w > 0.0 {
                            pick = j;
                            cum += w;
                            if u < cum {
                                break;
                            }
                        }
                    }
                    act[0] = pick as f32;
                    *lp = (out[pick] - m) - (total as f32).ln();
                }
                ActionHead::Gaussian { .. } => {
                    for ((a, &mu), &ls) in act.iter_mut().zip(out).zip(log_std) {
                        let z: f32 = StandardNormal.sample(rng);
                        *a = mu + ls.exp() * z;
                    }
                    *lp = self.eval_row(out, log_std, act)?.log_prob;
                }
            }
        }
        Ok(())
    }

    /// The deterministic action of each row: the arg-max logit (the first one on ties, as
    /// `torch.argmax`) or the Gaussian mean. `actions` is `[n, action_dim]`.
    pub fn mode(&self, policy_out: &[f32], actions: &mut [f32]) -> Result<()> {
        let pd = self.head.policy_dim();
        let n = self.output_rows(policy_out)?;
        check_len("actions", actions.len(), n * self.head.action_dim())?;
        match self.head {
            ActionHead::Categorical { .. } => {
                for (out, a) in policy_out.chunks_exact(pd).zip(actions.iter_mut()) {
                    let mut best = 0;
                    for (j, &l) in out.iter().enumerate() {
                        if l > out[best] {
                            best = j;
                        }
                    }
                    *a = best as f32;
                }
            }
            ActionHead::Gaussian { .. } => actions.copy_from_slice(policy_out),
        }
        Ok(())
    }

    /// Log-probabilities `[n]` of given actions `[n, action_dim]`.
    pub fn log_prob(
        &self,
        policy_out: &[f32],
        log_std: &[f32],
        actions: &[f32],
        out: &mut [f32],
    ) -> Result<()> {
        let n = self.rows(policy_out, log_std)?;
        let (pd, ad) = (self.head.policy_dim(), self.head.action_dim());
        check_len("actions", actions.len(), n * ad)?;
        check_len("output", out.len(), n)?;
        let rows = policy_out.chunks_exact(pd).zip(actions.chunks_exact(ad));
        for ((row, act), o) in rows.zip(out.iter_mut()) {
            *o = self.eval_row(row, log_std, act)?.log_prob;
        }
        Ok(())
    }

    /// Entropy `[n]` of each row's distribution.
    pub fn entropy(&self, policy_out: &[f32], log_std: &[f32], out: &mut [f32]) -> Result<()> {
        let n = self.rows(policy_out, log_std)?;
        let pd = self.head.policy_dim();
        check_len("output", out.len(), n)?;
        // Any valid action gives the row's entropy: index 0, or the mean itself.
        for (row, o) in policy_out.chunks_exact(pd).zip(out.iter_mut()) {
            let action = match self.head {
                ActionHead::Categorical { .. } => &[0.0][..],
                ActionHead::Gaussian { .. } => row,
            };
            *o = self.eval_row(row, log_std, action)?.entropy;
        }
        Ok(())
    }
}

/// Clips Gaussian actions `[n, dim]` to a box's bounds `low`/`high` (`[dim]` each) into `out`,
/// for the environment only (the unclipped action stays in the rollout; see the module docs).
/// Bounds may be infinite; `low > high`, a NaN bound or a non-finite action is an error.
pub fn clip_to_bounds(actions: &[f32], low: &[f32], high: &[f32], out: &mut [f32]) -> Result<()> {
    let dim = low.len();
    check_len("high", high.len(), dim)?;
    check_len("output", out.len(), actions.len())?;
    if dim == 0 || !actions.len().is_multiple_of(dim) {
        return Err(Error::Shape(format!(
            "{} actions is not a whole number of rows of {dim} bounds",
            actions.len()
        )));
    }
    if low
        .iter()
        .zip(high)
        .any(|(l, h)| l.is_nan() || h.is_nan() || l > h)
    {
        return Err(Error::InvalidArgument(format!(
            "invalid bounds: low {low:?}, high {high:?}"
        )));
    }
    check_finite("actions", actions)?;
    for (row, o) in actions.chunks_exact(dim).zip(out.chunks_exact_mut(dim)) {
        for (((&a, &l), &h), o) in row.iter().zip(low).zip(high).zip(o.iter_mut()) {
            *o = a.clamp(l, h);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;

    fn cat(n: usize) -> ActionDist {
        ActionDist::new(ActionHead::Categorical { n }).unwrap()
    }

    fn gauss(dim: usize) -> ActionDist {
        ActionDist::new(ActionHead::Gaussian { dim }).unwrap()
    }

    #[test]
    fn categorical_sampling_frequencies_match_softmax() {
        let logits = [0.3f32, 1.2, -0.7];
        let z: f32 = logits.iter().map(|l| l.exp()).sum();
        let probs: Vec<f64> = logits.iter().map(|l| f64::from(l.exp() / z)).collect();
        let mut rng = EnvRng::seed_from_u64(7);
        let draws = 20_000;
        let mut counts = [0usize; 3];
        let (mut a, mut lp) = ([0.0f32], [0.0f32]);
        for _ in 0..draws {
            cat(3)
                .sample(&logits, &[], &mut rng, &mut a, &mut lp)
                .unwrap();
            let k = a[0] as usize;
            counts[k] += 1;
            assert!((lp[0] - probs[k].ln() as f32).abs() < 1e-5);
        }
        // Pearson's chi-square with 2 degrees of freedom: P(X > 13.8) = 0.001.
        let chi2: f64 = counts
            .iter()
            .zip(&probs)
            .map(|(&c, &p)| (c as f64 - draws as f64 * p).powi(2) / (draws as f64 * p))
            .sum();
        assert!(
            chi2 < 13.8,
            "counts {counts:?}, probs {probs:?}, chi2 {chi2}"
        );
    }

    #[test]
    fn categorical_never_samples_a_zero_probability_action() {
        // exp(-200 - 0) underflows to 0 in f32: that category must never come out.
        let logits = [0.0f32, -200.0, 0.0, -200.0];
        let mut rng = EnvRng::seed_from_u64(1);
        let (mut a, mut lp) = ([0.0f32; 2], [0.0f32; 2]);
        let two_rows = [logits, logits].concat();
        for _ in 0..2000 {
            cat(4)
                .sample(&two_rows, &[], &mut rng, &mut a, &mut lp)
                .unwrap();
            assert!(a.iter().all(|&x| x == 0.0 || x == 2.0), "{a:?}");
            assert!(lp.iter().all(|l| (l - 0.5f32.ln()).abs() < 1e-6));
        }
    }

    #[test]
    fn gaussian_sample_mean_std_and_log_prob() {
        let d = gauss(2);
        let mu = [0.5f32, -1.0];
        let log_std = [0.0f32, 0.5f32.ln()];
        let mut rng = EnvRng::seed_from_u64(3);
        let draws = 20_000;
        let (mut sum, mut sq) = ([0.0f64; 2], [0.0f64; 2]);
        let (mut a, mut lp, mut check) = ([0.0f32; 2], [0.0f32], [0.0f32]);
        for _ in 0..draws {
            d.sample(&mu, &log_std, &mut rng, &mut a, &mut lp).unwrap();
            d.log_prob(&mu, &log_std, &a, &mut check).unwrap();
            assert_eq!(lp, check);
            for k in 0..2 {
                sum[k] += f64::from(a[k]);
                sq[k] += f64::from(a[k]).powi(2);
            }
        }
        for k in 0..2 {
            let mean = sum[k] / draws as f64;
            let std = (sq[k] / draws as f64 - mean * mean).sqrt();
            let want_std = f64::from(log_std[k].exp());
            // 5 standard errors of the mean; 3% on the std (its standard error is ~0.5%).
            assert!((mean - f64::from(mu[k])).abs() < 5.0 * want_std / (draws as f64).sqrt());
            assert!((std / want_std - 1.0).abs() < 0.03, "dim {k}: std {std}");
        }
    }

    #[test]
    fn gaussian_log_prob_and_entropy_by_hand() {
        // N(1, 2²) at 2: -0.5 (1/2)² - ln 2 - ½ ln 2π; entropy ½ + ½ ln 2π + ln 2.
        let d = gauss(1);
        let mut out = [0.0f32];
        d.log_prob(&[1.0], &[2.0f32.ln()], &[2.0], &mut out)
            .unwrap();
        let want = -0.125 - 2.0f32.ln() - HALF_LN_2PI;
        assert!((out[0] - want).abs() < 1e-6);
        d.entropy(&[1.0], &[2.0f32.ln()], &mut out).unwrap();
        assert!((out[0] - (0.5 + HALF_LN_2PI + 2.0f32.ln())).abs() < 1e-6);
    }

    #[test]
    fn categorical_is_stable_for_huge_logits() {
        let d = cat(2);
        let logits = [1000.0f32, 0.0, -1000.0, -1000.0];
        let mut lp = [0.0f32; 2];
        d.log_prob(&logits, &[], &[1.0, 0.0], &mut lp).unwrap();
        assert_eq!(lp[0], -1000.0);
        assert!((lp[1] - 0.5f32.ln()).abs() < 1e-6);
        let mut h = [0.0f32; 2];
        d.entropy(&logits, &[], &mut h).unwrap();
        assert_eq!(h[0], 0.0);
        assert!((h[1] - 2.0f32.ln()).abs() < 1e-6);
    }

    #[test]
    fn mode_is_argmax_or_mean() {
        let mut a = [0.0f32; 2];
        cat(3)
            .mode(&[0.1, 0.7, 0.7, 2.0, -1.0, 0.0], &mut a)
            .unwrap();
        assert_eq!(a, [1.0, 0.0]); // first maximum on ties
        let mut m = [0.0f32; 2];
        gauss(2).mode(&[0.25, -3.0], &mut m).unwrap();
        assert_eq!(m, [0.25, -3.0]);
    }

    #[test]
    fn bad_inputs_are_errors_not_panics() {
        let d = cat(3);
        let logits = [0.0f32, 1.0, 2.0];
        let mut out = [0.0f32];
        for bad in [3.0, -1.0, 1.5, f32::NAN, f32::INFINITY] {
            assert!(
                matches!(
                    d.log_prob(&logits, &[], &[bad], &mut out),
                    Err(Error::InvalidArgument(_))
                ),
                "action {bad}"
            );
        }
        let nan_logits = [0.0, f32::NAN, 2.0];
        assert!(d.log_prob(&nan_logits, &[], &[0.0], &mut out).is_err());
        assert!(d.entropy(&nan_logits, &[], &mut out).is_err());
        assert!(d.mode(&nan_logits, &mut out).is_err());
        let mut rng = EnvRng::seed_from_u64(0);
        let mut lp = [0.0f32];
        assert!(
            d.sample(&nan_logits, &[], &mut rng, &mut out, &mut lp)
                .is_err()
        );
        // Shapes: a partial row, a categorical head given a log-std, a short output.
        assert!(matches!(
            d.entropy(&logits[..2], &[], &mut out),
            Err(Error::Shape(_))
        ));
        assert!(matches!(
            d.entropy(&logits, &[0.0], &mut out),
            Err(Error::Shape(_))
        ));
        assert!(matches!(
            d.entropy(&logits, &[], &mut []),
            Err(Error::Shape(_))
        ));

        let g = gauss(2);
        let mut one = [0.0f32];
        assert!(
            g.log_prob(&[0.0, 0.0], &[0.0, f32::NAN], &[0.0, 0.0], &mut one)
                .is_err()
        );
        assert!(
            g.log_prob(&[0.0, 0.0], &[0.0, 0.0], &[f32::NAN, 0.0], &mut one)
                .is_err()
        );
        assert!(
            g.log_prob(&[0.0, 0.0], &[0.0], &[0.0, 0.0], &mut one)
                .is_err()
        );
        assert!(ActionDist::new(ActionHead::Gaussian { dim: 0 }).is_err());
    }

    #[test]
    fn clipping_is_separate_from_scoring() {
        let mut out = [0.0f32; 4];
        clip_to_bounds(
            &[-3.0, 0.5, 2.0, -0.1],
            &[-1.0, 0.0],
            &[1.0, f32::INFINITY],
            &mut out,
        )
        .unwrap();
        assert_eq!(out, [-1.0, 0.5, 1.0, 0.0]);
        let bad = clip_to_bounds(&[0.0; 4], &[1.0, 0.0], &[0.0, 1.0], &mut out);
        assert!(matches!(bad, Err(Error::InvalidArgument(_))));
        let nan = clip_to_bounds(&[f32::NAN, 0.0, 0.0, 0.0], &[0.0; 2], &[1.0; 2], &mut out);
        assert!(matches!(nan, Err(Error::InvalidArgument(_))));
        let ragged = clip_to_bounds(&[0.0; 3], &[0.0; 2], &[1.0; 2], &mut out[..3]);
        assert!(matches!(ragged, Err(Error::Shape(_))));
    }
}
