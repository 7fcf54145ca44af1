//! Log-probabilities of sampled responses, recomputed with autograd under the sampling
//! transforms that generated them.
//!
//! A response token `y_t` was drawn from `softmax(process(logits_t))`, where `process` is the
//! [`SamplingConfig`] pipeline (repetition penalty, `logits / T`, top-k, top-p). The
//! policy-gradient estimator and every importance ratio or KL estimate must use the log-prob of
//! **that** distribution: the rollout's `old_log_probs` come from it, so recomputing with the
//! raw logits (temperature 1) while sampling at `T != 1` makes `log pi_new - log pi_old` nonzero
//! even for an unchanged model, and a "KL" built on such mismatched log-probs can be negative
//! on average — a classic bug. [`response_log_probs`] therefore applies the same pipeline,
//! position by position, before the log-softmax:
//!
//! - the repetition penalty sees, at response position `t`, the prompt's real tokens and the
//!   response tokens before `t` (as in generation);
//! - temperature divides the logits;
//! - top-k / top-p keep the same candidates as in generation for the generating model. After
//!   the model has been updated, a sampled token can fall outside the new model's filtered set
//!   and get log-prob `-inf`; training with filters is therefore discouraged (use plain
//!   temperature sampling), and such tokens are reported as a [`Error::NonFinite`] by the
//!   learners' finite-loss check.

use tch::{Kind, Tensor};

use crate::decoding::logits_processing::{SamplingConfig, apply_top_k, apply_top_p};
use crate::error::{Error, Result};
use crate::model::causal_lm::CausalLm;

/// Per-token log-probabilities `[B, N]` of `response` (int64 `[B, N]`) after the left-padded
/// prompt `query` (int64 `[B, T]`, mask `query_mask` `[B, T]`), under `model` with the sampling
/// pipeline `sampling`. `response_mask` (`[B, N]`, 1 = real token) zeroes the positions after
/// `<eos>`. Keeps the autograd graph (call inside `tch::no_grad` for reference models).
pub fn response_log_probs<M: CausalLm>(
    model: &M,
    query: &Tensor,
    query_mask: &Tensor,
    response: &Tensor,
    response_mask: &Tensor,
    sampling: &SamplingConfig,
) -> Result<Tensor> {
    let (inputs, logits) = forward(model, query, query_mask, response, response_mask, sampling)?;
    log_probs_from_logits(&inputs, &logits, model.vocab_size(), sampling)
}

/// Validates the batch and runs `model` over prompt + response: the inputs and the logits.
fn forward<M: CausalLm>(
    model: &M,
    query: &Tensor,
    query_mask: &Tensor,
    response: &Tensor,
    response_mask: &Tensor,
    sampling: &SamplingConfig,
) -> Result<(ResponseInputs, Tensor)> {
    sampling.validate()?;
    let inputs = ResponseInputs::new(model.device(), query, query_mask, response, response_mask)?;
    let logits = model.logits(&inputs.tokens, Some(&inputs.mask))?;
    Ok((inputs, logits))
}

/// A validated prompt + response batch on one device.
pub(crate) struct ResponseInputs {
    /// int64 `[B, T + N]`.
    pub tokens: Tensor,
    /// int64 `[B, T + N]` attention mask.
    pub mask: Tensor,
    query: Tensor,
    qmask: Tensor,
    response: Tensor,
    /// bool `[B, N]`.
    pub rmask: Tensor,
    pub b: i64,
    pub t: i64,
    pub n: i64,
}

impl ResponseInputs {
    pub(crate) fn new(
        device: tch::Device,
        query: &Tensor,
        query_mask: &Tensor,
        response: &Tensor,
        response_mask: &Tensor,
    ) -> Result<Self> {
        let (b, t) = match query.size()[..] {
            [b, t] if b > 0 && t > 0 => (b, t),
            ref s => {
                return Err(Error::Shape(format!(
                    "query must be a non-empty [B, T] batch, got {s:?}"
                )));
            }
        };
        let n = match response.size()[..] {
            [rb, n] if rb == b && n > 0 => n,
            ref s => {
                return Err(Error::Shape(format!(
                    "response must be [{b}, N] with N >= 1, got {s:?}"
                )));
            }
        };
        if query_mask.size() != [b, t] || response_mask.size() != [b, n] {
            return Err(Error::Shape(format!(
                "masks {:?} / {:?} do not match query [{b}, {t}] / response [{b}, {n}]",
                query_mask.size(),
                response_mask.size()
            )));
        }
        let query = query.f_to_kind(Kind::Int64)?.f_to_device(device)?;
        let response = response.f_to_kind(Kind::Int64)?.f_to_device(device)?;
        let qmask = query_mask
            .f_to_device(device)?
            .f_ne(0)?
            .f_to_kind(Kind::Int64)?;
        let rmask = response_mask.f_to_device(device)?.f_ne(0)?;
        let tokens = Tensor::f_cat(&[&query, &response], 1)?;
        let mask = Tensor::f_cat(&[&qmask, &rmask.f_to_kind(Kind::Int64)?], 1)?;
        Ok(Self {
            tokens,
            mask,
            query,
            qmask,
            response,
            rmask,
            b,
            t,
            n,
        })
    }
}

/// The log-softmax `[B * N, V]` of the processed distributions at the response positions,
/// from the model's logits `[B, T + N, V]` over the whole sequence (see [`response_log_probs`]).
fn processed_log_softmax(
    inputs: &ResponseInputs,
    logits: &Tensor,
    vocab: i64,
    sampling: &SamplingConfig,
) -> Result<Tensor> {
    let (b, t, n) = (inputs.b, inputs.t, inputs.n);
    if logits.size() != [b, t + n, vocab] {
        return Err(Error::Shape(format!(
            "model returned logits {:?}, expected [{b}, {}, {vocab}]",
            logits.size(),
            t + n
        )));
    }
    // Position t - 1 + j predicts response token j.
    let mut x = logits.f_narrow(1, t - 1, n)?.f_to_kind(Kind::Float)?;
    if sampling.repetition_penalty != 1.0 {
        x = penalise_repeats(
            &x,
            &inputs.query,
            &inputs.qmask,
            &inputs.response,
            sampling.repetition_penalty,
        )?;
    }
    if sampling.temperature != 1.0 {
        x = x.f_div_scalar(sampling.temperature)?;
    }
    let mut flat = x.f_reshape([b * n, vocab])?;
    if let Some(k) = sampling.top_k
        && k < vocab
    {
        flat = apply_top_k(&flat, k)?;
    }
    if let Some(p) = sampling.top_p
        && p < 1.0
    {
        flat = apply_top_p(&flat, p)?;
    }
    Ok(flat.f_log_softmax(-1, Kind::Float)?)
}

/// The processed log-probs `[B, N]` of the response tokens from the model's logits
/// `[B, T + N, V]` over the whole sequence (see [`response_log_probs`]).
pub(crate) fn log_probs_from_logits(
    inputs: &ResponseInputs,
    logits: &Tensor,
    vocab: i64,
    sampling: &SamplingConfig,
) -> Result<Tensor> {
    let (b, n) = (inputs.b, inputs.n);
    let lp = processed_log_softmax(inputs, logits, vocab, sampling)?
        .f_gather(1, &inputs.response.f_reshape([b * n, 1])?, false)?
        .f_reshape([b, n])?;
    // masked_fill, not a product: a filtered-out pad token would give -inf * 0 = NaN.
    Ok(lp.f_masked_fill(&inputs.rmask.f_logical_not()?, 0.0)?)
}

/// Per-token log-probabilities `[B, N]` (as [`response_log_probs`]) and per-token entropies
/// `[B, N]` (nats) of the same processed distributions, from one forward pass. Entropies after
/// `<eos>` (where `response_mask` is 0) are 0. Keeps the autograd graph.
pub fn response_log_probs_and_entropy<M: CausalLm>(
    model: &M,
    query: &Tensor,
    query_mask: &Tensor,
    response: &Tensor,
    response_mask: &Tensor,
    sampling: &SamplingConfig,
) -> Result<(Tensor, Tensor)> {
    let (inputs, logits) = forward(model, query, query_mask, response, response_mask, sampling)?;
    log_probs_and_entropy_from_logits(&inputs, &logits, model.vocab_size(), sampling)
}

/// The processed log-probs `[B, N]` of the response tokens and the entropies `[B, N]` of the
/// processed distributions, from the model's logits `[B, T + N, V]` (see
/// [`response_log_probs_and_entropy`]).
pub(crate) fn log_probs_and_entropy_from_logits(
    inputs: &ResponseInputs,
    logits: &Tensor,
    vocab: i64,
    sampling: &SamplingConfig,
) -> Result<(Tensor, Tensor)> {
    let (b, n) = (inputs.b, inputs.n);
    let all = processed_log_softmax(inputs, logits, vocab, sampling)?;
    let lp = all
        .f_gather(1, &inputs.response.f_reshape([b * n, 1])?, false)?
        .f_reshape([b, n])?;
    // Filtered-out tokens have p = 0 and log p = -inf: their 0 * -inf = NaN terms count as 0.
    let entropy = all
        .f_exp()?
        .f_mul(&all)?
        .f_nan_to_num(0.0, None, None)?
        .f_sum_dim_intlist(-1, false, Kind::Float)?
        .f_neg()?
        .f_reshape([b, n])?;
    let pad = inputs.rmask.f_logical_not()?;
    Ok((
        lp.f_masked_fill(&pad, 0.0)?,
        entropy.f_masked_fill(&pad, 0.0)?,
    ))
}

/// The repetition penalty at every response position: token `v` is penalised at position `j`
/// when it occurs among the real prompt tokens or among the response tokens before `j`.
fn penalise_repeats(
    logits: &Tensor,
    query: &Tensor,
    qmask: &Tensor,
    response: &Tensor,
    penalty: f64,
) -> Result<Tensor> {
    let (b, v) = (logits.size()[0], logits.size()[2]);
    let device = logits.device();
    let in_prompt = Tensor::f_zeros([b, v], (Kind::Float, device))?.f_scatter_add(
        1,
        query,
        &qmask.f_to_kind(Kind::Float)?,
    )?;
    // Response token j counts from position j + 1 on: exclusive cumulative one-hot.
    let onehot = response.f_one_hot(v)?.f_to_kind(Kind::Float)?;
    let before = onehot.f_cumsum(1, Kind::Float)?.f_sub(&onehot)?;
    let seen = before.f_add(&in_prompt.f_unsqueeze(1)?)?.f_gt(0.0)?;
    let penalised = logits
        .f_div_scalar(penalty)?
        .f_where_self(&logits.f_gt(0.0)?, &logits.f_mul_scalar(penalty)?)?;
    Ok(penalised.f_where_self(&seen, logits)?)
}
