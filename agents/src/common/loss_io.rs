//! What the host-side losses of PPO and REINFORCE share: the buffers they write their
//! gradients into ([`OutputGrads`], the input of
//! [`PolicyValueNet::backward`](crate::nn::PolicyValueNet::backward)), the checks of their inputs
//! and coefficients, and the standardisation of advantages or weights.

use crate::error::{Error, Result};
use crate::nn::action_dist::ActionDist;

/// Where a loss writes its gradients with respect to the network's outputs. Every buffer is
/// overwritten (not accumulated into).
#[derive(Debug)]
pub struct OutputGrads<'a> {
    /// `∂total/∂policy_out`, `[n, policy_dim]`.
    pub d_policy: &'a mut [f32],
    /// `∂total/∂values`, `[n]`.
    pub d_values: &'a mut [f32],
    /// `∂total/∂log_std`, `[log_std_dim]`.
    pub d_log_std: &'a mut [f32],
}

/// Checks the shapes every loss shares and returns the batch's row count `n`: network outputs
/// that `dist` can read (`policy_out`, `log_std`), at least one row (else `empty` is the
/// error), `n` actions, and gradient buffers of the outputs' shapes.
pub(crate) fn batch_rows(
    dist: &ActionDist,
    policy_out: &[f32],
    log_std: &[f32],
    actions: &[f32],
    grads: &OutputGrads<'_>,
    empty: &str,
) -> Result<usize> {
    let head = dist.head();
    let n = dist.rows(policy_out, log_std)?;
    if n == 0 {
        return Err(Error::InvalidArgument(empty.to_owned()));
    }
    check_len("actions", actions.len(), n * head.action_dim())?;
    check_len("d_policy", grads.d_policy.len(), n * head.policy_dim())?;
    check_len("d_values", grads.d_values.len(), n)?;
    check_len("d_log_std", grads.d_log_std.len(), head.log_std_dim())?;
    Ok(n)
}

/// Checks inputs with one finite number per row: each of `inputs` has length `n`.
pub(crate) fn check_per_row(n: usize, inputs: &[(&str, &[f32])]) -> Result<()> {
    for &(name, xs) in inputs {
        check_len(name, xs.len(), n)?;
        check_finite(name, xs)?;
    }
    Ok(())
}

pub(crate) fn check_len(what: &str, got: usize, want: usize) -> Result<()> {
    if got == want {
        Ok(())
    } else {
        Err(Error::Shape(format!(
            "{what} has length {got}, expected {want}"
        )))
    }
}

pub(crate) fn check_finite(what: &str, xs: &[f32]) -> Result<()> {
    if xs.iter().all(|x| x.is_finite()) {
        Ok(())
    } else {
        Err(Error::InvalidArgument(format!(
            "{what} contains a non-finite value (NaN or ±∞)"
        )))
    }
}

/// `(mean, std + 1e-8)` of `xs` (unbiased std), or `(0, 1)` — no change — when `normalize` is
/// off or there are fewer than two values. Standardise with `(x − mean) / scale`.
pub(crate) fn standardizer(xs: &[f32], normalize: bool) -> (f32, f32) {
    if !normalize || xs.len() < 2 {
        return (0.0, 1.0);
    }
    let n = xs.len() as f64;
    let mean = xs.iter().map(|&x| f64::from(x)).sum::<f64>() / n;
    let var = xs
        .iter()
        .map(|&x| (f64::from(x) - mean).powi(2))
        .sum::<f64>()
        / (n - 1.0);
    (mean as f32, var.sqrt() as f32 + 1e-8)
}

/// The smallest clip of normalised observations or rewards that the configurations accept:
/// normalised values have unit variance, so a clip far below 1 erases them (every observation
/// the same to the network) and the run would train on nothing.
pub const MIN_CLIP: f32 = 1e-2;

/// Checks a clip of normalised values (`clip_obs`, `clip_reward`): finite and at least
/// [`MIN_CLIP`].
pub(crate) fn check_clip(name: &str, x: f32) -> Result<()> {
    if !(x.is_finite() && x >= MIN_CLIP) {
        return Err(Error::InvalidArgument(format!(
            "{name} must be finite and at least {MIN_CLIP} (it clips normalised values, whose \
             std is 1; 10 is the usual choice), got {x}"
        )));
    }
    Ok(())
}

/// Checks that the entropy and value-loss coefficients are non-negative and finite (the loss
/// settings of PPO and REINFORCE and their configurations).
pub(crate) fn check_loss_coefficients(ent_coef: f32, vf_coef: f32) -> Result<()> {
    for (name, x) in [("ent_coef", ent_coef), ("vf_coef", vf_coef)] {
        if !(x.is_finite() && x >= 0.0) {
            return Err(Error::InvalidArgument(format!(
                "{name} must be non-negative and finite, got {x}"
            )));
        }
    }
    Ok(())
}
