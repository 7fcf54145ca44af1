//! Per-token estimators of `KL(pi || pi_ref)` from tokens sampled from `pi`.
//!
//! With `r = log pi_ref(y) - log pi(y)` for a sampled token `y ~ pi`:
//!
//! - [`KlEstimator::LogRatio`] (`k1 = -r = log pi - log pi_ref`): unbiased, but a single sample
//!   can be negative; its mean over many samples is `>= 0`. This is the per-token penalty of
//!   Ziegler et al. / InstructGPT (folded into the reward there).
//! - [`KlEstimator::K3`] (`k3 = exp(r) - r - 1`, Schulman's "approximating KL" note, used by
//!   GRPO): unbiased and **never negative** (`e^x >= 1 + x`), with lower variance when `pi` and
//!   `pi_ref` are close. The default.
//!
//! Both are 0 when the two log-probs agree (the KL of a policy to itself), and both need the
//! log-probs of the two models under the same sampling transforms (see
//! [`crate::rl::logprobs`]).

use tch::Tensor;

use crate::error::{Error, Result};

/// Which per-token KL estimator to use (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum KlEstimator {
    /// `log pi - log pi_ref` (unbiased, may be negative per token).
    LogRatio,
    /// `exp(log pi_ref - log pi) - (log pi_ref - log pi) - 1` (unbiased, always `>= 0`).
    #[default]
    K3,
}

/// The per-token KL estimate `[B, N]` from the policy's log-probs `logp` and the reference's
/// `logp_ref` (both `[B, N]`), zeroed where `mask` (`[B, N]`) is 0. Keeps the autograd graph
/// of `logp`.
pub fn kl_per_token(
    logp: &Tensor,
    logp_ref: &Tensor,
    mask: &Tensor,
    estimator: KlEstimator,
) -> Result<Tensor> {
    if logp.size() != logp_ref.size() || logp.size() != mask.size() {
        return Err(Error::Shape(format!(
            "KL inputs must share a shape: logp {:?}, logp_ref {:?}, mask {:?}",
            logp.size(),
            logp_ref.size(),
            mask.size()
        )));
    }
    let mask = mask.f_to_device(logp.device())?.f_ne(0)?;
    let logp_ref = logp_ref.f_to_device(logp.device())?;
    let kl = match estimator {
        KlEstimator::LogRatio => logp.f_sub(&logp_ref)?,
        KlEstimator::K3 => {
            let r = logp_ref.f_sub(logp)?;
            r.f_exp()?.f_sub(&r)?.f_sub_scalar(1.0)?
        }
    };
    Ok(kl.f_masked_fill(&mask.f_logical_not()?, 0.0)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::Kind;

    #[test]
    fn kl_of_a_policy_to_itself_is_zero_and_k3_is_never_negative() {
        tch::manual_seed(3);
        let logp = Tensor::randn([4, 6], (Kind::Float, tch::Device::Cpu))
            .f_sub_scalar(2.0)
            .unwrap();
        let mask = Tensor::ones([4, 6], (Kind::Float, tch::Device::Cpu));
        for est in [KlEstimator::LogRatio, KlEstimator::K3] {
            let kl = kl_per_token(&logp, &logp, &mask, est).unwrap();
            assert_eq!(kl.abs().max().double_value(&[]), 0.0);
        }
        let other = Tensor::randn([4, 6], (Kind::Float, tch::Device::Cpu))
            .f_mul_scalar(3.0)
            .unwrap();
        let k3 = kl_per_token(&logp, &other, &mask, KlEstimator::K3).unwrap();
        assert!(k3.min().double_value(&[]) >= 0.0);
        let k1 = kl_per_token(&logp, &other, &mask, KlEstimator::LogRatio).unwrap();
        assert!(
            k1.min().double_value(&[]) < 0.0,
            "k1 can be negative per token"
        );
    }

    #[test]
    fn masked_positions_are_zero_and_shapes_are_checked() {
        let logp = Tensor::from_slice(&[-1.0f32, -2.0, -3.0]).reshape([1, 3]);
        let refp = Tensor::from_slice(&[-2.0f32, -1.0, f32::NEG_INFINITY]).reshape([1, 3]);
        let mask = Tensor::from_slice(&[1.0f32, 1.0, 0.0]).reshape([1, 3]);
        let kl = kl_per_token(&logp, &refp, &mask, KlEstimator::K3).unwrap();
        let v = Vec::<f32>::try_from(kl.reshape([-1])).unwrap();
        assert_eq!(v[2], 0.0);
        assert!((v[0] - ((-1.0f32).exp() + 1.0 - 1.0)).abs() < 1e-6);
        assert!(kl_per_token(&logp, &refp.reshape([3, 1]), &mask, KlEstimator::K3).is_err());
    }
}
