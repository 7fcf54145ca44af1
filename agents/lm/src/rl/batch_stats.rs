//! Diagnostics of a rollout batch: the numbers an RL-for-LM run logs at every step.
//!
//! [`batch_stats`] measures, for the responses of a [`RolloutBatch`]:
//!
//! - **KL to the reference**: the mean over sequences of `sum_t (log pi(y_t) - log pi_ref(y_t))`
//!   with both log-probs under the batch's own sampling transforms (the same ones that drew the
//!   tokens, see [`logprobs`](crate::rl::logprobs)). Averaged over samples of `pi` it
//!   estimates `KL(pi || pi_ref)` per sequence, in nats.
//! - **Entropy**: the mean per-token entropy of the policy's processed distribution over the
//!   response tokens (nats); a collapsing policy shows it falling towards 0.
//! - **Reference perplexity**: `exp` of the mean negative log-prob the reference model's own
//!   distribution (temperature 1, no filters) gives the response tokens — how natural the
//!   policy's text still looks to the model it started from.
//! - **Mean response length** in tokens (up to and including `<eos>`).

use tch::Kind;

use crate::decoding::logits_processing::SamplingConfig;
use crate::error::{Error, Result};
use crate::model::causal_lm::CausalLm;
use crate::rl::logprobs::{response_log_probs, response_log_probs_and_entropy};
use crate::rl::rollout::RolloutBatch;

/// What [`batch_stats`] measured (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BatchStats {
    /// Mean per-sequence KL estimate to the reference (nats per sequence).
    pub kl: f64,
    /// Mean per-token entropy of the policy's sampling distribution (nats).
    pub entropy: f64,
    /// The reference model's perplexity on the response tokens.
    pub reference_perplexity: f64,
    /// Mean number of response tokens per sequence.
    pub mean_response_len: f64,
}

/// Measures `batch`'s responses under `policy` and `reference` (no autograd; see the module
/// docs). A batch without any response token, or a non-finite result, is an error.
pub fn batch_stats<P: CausalLm, R: CausalLm>(
    policy: &P,
    reference: &R,
    batch: &RolloutBatch,
) -> Result<BatchStats> {
    tch::no_grad(|| {
        let args = (
            &batch.query_ids,
            &batch.query_mask,
            &batch.response,
            &batch.response_mask,
        );
        let (lp, ent) = response_log_probs_and_entropy(
            policy,
            args.0,
            args.1,
            args.2,
            args.3,
            &batch.sampling,
        )?;
        let lp_ref = batch.log_probs(reference)?;
        let raw = SamplingConfig::default();
        let lp_ref_raw = if batch.sampling == raw {
            lp_ref.shallow_clone()
        } else {
            response_log_probs(reference, args.0, args.1, args.2, args.3, &raw)?
        };
        let sum =
            |t: &tch::Tensor| -> Result<f64> { Ok(t.f_sum(Kind::Double)?.f_double_value(&[])?) };
        let tokens = sum(&batch.response_mask.f_ne(0)?)?;
        if tokens < 1.0 {
            return Err(Error::InvalidArgument(
                "batch statistics need at least one response token".to_owned(),
            ));
        }
        let n = batch.len() as f64;
        let stats = BatchStats {
            kl: sum(&lp.f_sub(&lp_ref)?)? / n,
            entropy: sum(&ent)? / tokens,
            reference_perplexity: (-sum(&lp_ref_raw)? / tokens).exp(),
            mean_response_len: tokens / n,
        };
        let values = [
            stats.kl,
            stats.entropy,
            stats.reference_perplexity,
            stats.mean_response_len,
        ];
        if values.iter().any(|v| !v.is_finite()) {
            return Err(Error::NonFinite(format!("batch statistics {stats:?}")));
        }
        Ok(stats)
    })
}
