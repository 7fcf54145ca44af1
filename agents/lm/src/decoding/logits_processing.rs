//! Per-row transforms of next-token logits `[B, V]` before sampling, and [`SamplingConfig`], the
//! pipeline that chains them.
//!
//! The pipeline always runs in this fixed order (each step is skipped when switched off):
//!
//! 1. **repetition penalty** ([`apply_repetition_penalty`]): the logit of every token already in
//!    the context is divided by the penalty if positive and multiplied by it if negative (the
//!    CTRL / Hugging Face convention);
//! 2. **temperature** ([`apply_temperature`]): logits divided by `T > 0`;
//! 3. **top-k** ([`apply_top_k`]): only the `k` largest logits survive;
//! 4. **top-p** ([`apply_top_p`]): only the nucleus survives, the smallest set of most likely
//!    tokens whose probability reaches `p`;
//! 5. **allowed-token mask** ([`apply_allowed_mask`]): disallowed tokens are removed.
//!
//! A removed token gets the logit `-inf`, so a softmax of the processed logits is the
//! distribution a sampler draws from. Ties are broken deterministically everywhere: among equal
//! logits the token with the smaller id ranks first (stable sorts), so top-k keeps exactly `k`
//! tokens and top-p keeps a prefix of that order.
//!
//! Greedy decoding is not a temperature of zero here: it is a separate strategy of the caller
//! (see [`crate::decoding::generate::Strategy`]), which takes the arg-max instead.

use serde::{Deserialize, Serialize};
use tch::{Kind, Tensor};

use crate::error::{Error, Result};

/// The sampling pipeline: repetition penalty → temperature → top-k → top-p (→ the caller's
/// allowed-token mask). Build it with [`SamplingConfig::new`] and the `with_*` methods, or
/// deserialize it and call [`validate`](Self::validate).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SamplingConfig {
    /// Softmax temperature, finite and `> 0` (1 = the model's own distribution). For greedy
    /// decoding use the greedy strategy, not a zero temperature.
    pub temperature: f64,
    /// Keep only the `k` most likely tokens (`k >= 1`); `None` keeps all.
    pub top_k: Option<i64>,
    /// Nucleus sampling threshold, `0 < p <= 1`; `None` (or 1) keeps all.
    pub top_p: Option<f64>,
    /// Repetition penalty `>= 1` on tokens already in the context (1 = off).
    pub repetition_penalty: f64,
}

impl Default for SamplingConfig {
    fn default() -> Self {
        Self {
            temperature: 1.0,
            top_k: None,
            top_p: None,
            repetition_penalty: 1.0,
        }
    }
}

impl SamplingConfig {
    /// Plain sampling from the model's distribution at `temperature` (validated).
    pub fn new(temperature: f64) -> Result<Self> {
        let cfg = Self {
            temperature,
            ..Self::default()
        };
        cfg.validate()?;
        Ok(cfg)
    }

    /// The same pipeline with top-k filtering (validated).
    pub fn with_top_k(self, k: i64) -> Result<Self> {
        let cfg = Self {
            top_k: Some(k),
            ..self
        };
        cfg.validate()?;
        Ok(cfg)
    }

    /// The same pipeline with nucleus (top-p) filtering (validated).
    pub fn with_top_p(self, p: f64) -> Result<Self> {
        let cfg = Self {
            top_p: Some(p),
            ..self
        };
        cfg.validate()?;
        Ok(cfg)
    }

    /// The same pipeline with a repetition penalty (validated).
    pub fn with_repetition_penalty(self, penalty: f64) -> Result<Self> {
        let cfg = Self {
            repetition_penalty: penalty,
            ..self
        };
        cfg.validate()?;
        Ok(cfg)
    }

    /// Checks every field's range: temperature finite and `> 0`, `top_k >= 1`,
    /// `0 < top_p <= 1`, repetition penalty finite and `>= 1`.
    pub fn validate(&self) -> Result<()> {
        check_temperature(self.temperature)?;
        if let Some(k) = self.top_k {
            check_top_k(k)?;
        }
        if let Some(p) = self.top_p {
            check_top_p(p)?;
        }
        check_penalty(self.repetition_penalty)
    }

    /// Runs the pipeline on logits `[B, V]` and returns the processed logits (float, removed
    /// tokens at `-inf`). `history`: token ids `[B, L]` already in the context, for the
    /// repetition penalty, with an optional `history_mask` `[B, L]` (nonzero = real token, so
    /// padding is not penalised). `allowed`: optional bool mask `[V]` or `[B, V]`.
    ///
    /// A row left with no token (e.g. every allowed token fell outside the top-k) is an error.
    pub fn process(
        &self,
        logits: &Tensor,
        history: Option<&Tensor>,
        history_mask: Option<&Tensor>,
        allowed: Option<&Tensor>,
    ) -> Result<Tensor> {
        self.validate()?;
        let (_, vocab) = rows_and_vocab(logits)?;
        let mut out = logits.f_to_kind(Kind::Float)?;
        if self.repetition_penalty != 1.0
            && let Some(history) = history
        {
            out = apply_repetition_penalty(&out, history, history_mask, self.repetition_penalty)?;
        }
        if self.temperature != 1.0 {
            out = apply_temperature(&out, self.temperature)?;
        }
        if let Some(k) = self.top_k
            && k < vocab
        {
            out = apply_top_k(&out, k)?;
        }
        if let Some(p) = self.top_p
            && p < 1.0
        {
            out = apply_top_p(&out, p)?;
        }
        if let Some(allowed) = allowed {
            out = apply_allowed_mask(&out, allowed)?;
        }
        check_rows_not_empty(&out)?;
        Ok(out)
    }
}

fn check_temperature(t: f64) -> Result<()> {
    if t.is_finite() && t > 0.0 {
        Ok(())
    } else {
        Err(Error::InvalidArgument(format!(
            "temperature must be finite and > 0 (use the greedy strategy for T -> 0), got {t}"
        )))
    }
}

fn check_top_k(k: i64) -> Result<()> {
    if k >= 1 {
        Ok(())
    } else {
        Err(Error::InvalidArgument(format!(
            "top_k must be >= 1, got {k}"
        )))
    }
}

fn check_top_p(p: f64) -> Result<()> {
    if p > 0.0 && p <= 1.0 {
        Ok(())
    } else {
        Err(Error::InvalidArgument(format!(
            "top_p must lie in (0, 1], got {p}"
        )))
    }
}

fn check_penalty(penalty: f64) -> Result<()> {
    if penalty.is_finite() && penalty >= 1.0 {
        Ok(())
    } else {
        Err(Error::InvalidArgument(format!(
            "repetition penalty must be finite and >= 1, got {penalty}"
        )))
    }
}

/// `(B, V)` of a logits matrix, or a shape error.
fn rows_and_vocab(logits: &Tensor) -> Result<(i64, i64)> {
    match logits.size()[..] {
        [b, v] if v > 0 => Ok((b, v)),
        ref s => Err(Error::Shape(format!(
            "next-token logits must be [B, V] with V > 0, got {s:?}"
        ))),
    }
}

/// Errors when some row has no finite logit left (nothing could be sampled from it).
pub(crate) fn check_rows_not_empty(logits: &Tensor) -> Result<()> {
    let alive = logits
        .f_isneginf()?
        .f_logical_not()?
        .f_any_dim(-1, false)?
        .f_all()?
        .f_int64_value(&[])?;
    if alive == 1 {
        Ok(())
    } else {
        Err(Error::InvalidArgument(
            "no token is left to choose from in some row (allowed-token mask, top-k and top-p \
             removed every candidate)"
                .to_owned(),
        ))
    }
}

/// Repetition penalty (CTRL / Hugging Face convention): for every token id present in row `b`
/// of `history` (`[B, L]`, int64; positions where `history_mask` is zero are ignored), the
/// logit `x` becomes `x / penalty` if `x > 0` and `x * penalty` otherwise. Each token is
/// penalised once however often it occurs.
pub fn apply_repetition_penalty(
    logits: &Tensor,
    history: &Tensor,
    history_mask: Option<&Tensor>,
    penalty: f64,
) -> Result<Tensor> {
    check_penalty(penalty)?;
    let (rows, vocab) = rows_and_vocab(logits)?;
    let hsize = history.size();
    if hsize.len() != 2 || hsize[0] != rows {
        return Err(Error::Shape(format!(
            "history must be [B, L] with B = {rows}, got {hsize:?}"
        )));
    }
    let logits = logits.f_to_kind(Kind::Float)?;
    if hsize[1] == 0 {
        return Ok(logits);
    }
    let history = history
        .f_to_kind(Kind::Int64)?
        .f_to_device(logits.device())?;
    let (lo, hi) = (
        history.f_min()?.f_int64_value(&[])?,
        history.f_max()?.f_int64_value(&[])?,
    );
    if lo < 0 || hi >= vocab {
        return Err(Error::InvalidArgument(format!(
            "history token ids must lie in [0, {vocab}), got range [{lo}, {hi}]"
        )));
    }
    let weight = match history_mask {
        Some(m) => {
            if m.size() != hsize {
                return Err(Error::Shape(format!(
                    "history mask {:?} does not match history {hsize:?}",
                    m.size()
                )));
            }
            m.f_to_device(logits.device())?.f_to_kind(Kind::Float)?
        }
        None => history.f_ones_like()?.f_to_kind(Kind::Float)?,
    };
    let seen = logits
        .f_zeros_like()?
        .f_scatter_add(1, &history, &weight)?
        .f_gt(0.0)?;
    let penalised = logits
        .f_div_scalar(penalty)?
        .f_where_self(&logits.f_gt(0.0)?, &logits.f_mul_scalar(penalty)?)?;
    Ok(penalised.f_where_self(&seen, &logits)?)
}

/// Divides logits by the temperature `t` (finite, `> 0`).
pub fn apply_temperature(logits: &Tensor, t: f64) -> Result<Tensor> {
    check_temperature(t)?;
    rows_and_vocab(logits)?;
    Ok(logits.f_to_kind(Kind::Float)?.f_div_scalar(t)?)
}

/// Keeps the `k` largest logits of each row (exactly `k`: among ties the smaller token id
/// wins) and sets the rest to `-inf`. `k >= V` keeps everything.
pub fn apply_top_k(logits: &Tensor, k: i64) -> Result<Tensor> {
    check_top_k(k)?;
    let (_, vocab) = rows_and_vocab(logits)?;
    let logits = logits.f_to_kind(Kind::Float)?;
    if k >= vocab {
        return Ok(logits);
    }
    let (_, order) = logits.f_sort_stable(true, -1, true)?;
    let keep_idx = order.f_narrow(1, 0, k)?;
    let keep = logits
        .f_zeros_like()?
        .f_to_kind(Kind::Bool)?
        .f_scatter_value(1, &keep_idx, 1)?;
    Ok(logits.f_masked_fill(&keep.f_logical_not()?, f64::NEG_INFINITY)?)
}

/// Nucleus filtering: sorts each row by probability (descending; among ties the smaller token
/// id first) and keeps the shortest prefix whose probability mass reaches `p` — a token is kept
/// when the mass of the tokens ranked before it is still `< p`, so the most likely token always
/// survives. The rest become `-inf`. Probabilities are accumulated in f64.
pub fn apply_top_p(logits: &Tensor, p: f64) -> Result<Tensor> {
    check_top_p(p)?;
    rows_and_vocab(logits)?;
    let logits = logits.f_to_kind(Kind::Float)?;
    if p >= 1.0 {
        return Ok(logits);
    }
    let (sorted, order) = logits.f_sort_stable(true, -1, true)?;
    let probs = sorted.f_softmax(-1, Kind::Double)?;
    let mass_before = probs.f_cumsum(-1, Kind::Double)?.f_sub(&probs)?;
    let keep_sorted = mass_before.f_lt(p)?;
    let keep = keep_sorted
        .f_zeros_like()?
        .f_scatter(1, &order, &keep_sorted)?;
    Ok(logits.f_masked_fill(&keep.f_logical_not()?, f64::NEG_INFINITY)?)
}

/// Sets the logits of disallowed tokens to `-inf`. `allowed`: bool (or 0/1 integer) mask `[V]`
/// (shared by every row) or `[B, V]`; any other shape is an error.
pub fn apply_allowed_mask(logits: &Tensor, allowed: &Tensor) -> Result<Tensor> {
    let (rows, vocab) = rows_and_vocab(logits)?;
    let size = allowed.size();
    let ok = match size[..] {
        [v] => v == vocab,
        [b, v] => b == rows && v == vocab,
        _ => false,
    };
    if !ok {
        return Err(Error::Shape(format!(
            "allowed-token mask must be [{vocab}] or [{rows}, {vocab}], got {size:?}"
        )));
    }
    let allowed = allowed
        .f_to_device(logits.device())?
        .f_ne(0)?
        .f_expand([rows, vocab], false)?;
    Ok(logits
        .f_to_kind(Kind::Float)?
        .f_masked_fill(&allowed.f_logical_not()?, f64::NEG_INFINITY)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn row(values: &[f32]) -> Tensor {
        Tensor::from_slice(values).reshape([1, values.len() as i64])
    }

    fn host(t: &Tensor) -> Vec<f32> {
        Vec::<f32>::try_from(&t.reshape([-1])).unwrap()
    }

    #[test]
    fn repetition_penalty_divides_positive_and_multiplies_negative() {
        let logits = row(&[2.0, -1.0, 0.5, -3.0, 4.0]);
        // Tokens 0, 1, 3 seen (0 twice); token 4 only at a padded position.
        let history = Tensor::from_slice(&[0i64, 1, 0, 3, 4]).reshape([1, 5]);
        let mask = Tensor::from_slice(&[1i64, 1, 1, 1, 0]).reshape([1, 5]);
        let out = apply_repetition_penalty(&logits, &history, Some(&mask), 2.0).unwrap();
        assert_eq!(host(&out), vec![1.0, -2.0, 0.5, -6.0, 4.0]);
    }

    #[test]
    fn repetition_penalty_rejects_out_of_vocab_history_and_small_penalty() {
        let logits = row(&[0.0, 1.0]);
        let history = Tensor::from_slice(&[2i64]).reshape([1, 1]);
        assert!(apply_repetition_penalty(&logits, &history, None, 1.5).is_err());
        let history = Tensor::from_slice(&[1i64]).reshape([1, 1]);
        assert!(apply_repetition_penalty(&logits, &history, None, 0.5).is_err());
        let bad_rows = Tensor::from_slice(&[1i64, 1]).reshape([2, 1]);
        assert!(apply_repetition_penalty(&logits, &bad_rows, None, 1.5).is_err());
    }

    #[test]
    fn temperature_scales_logits() {
        let out = apply_temperature(&row(&[1.0, -2.0]), 0.5).unwrap();
        assert_eq!(host(&out), vec![2.0, -4.0]);
        assert!(apply_temperature(&row(&[1.0]), 0.0).is_err());
        assert!(apply_temperature(&row(&[1.0]), f64::NAN).is_err());
    }

    #[test]
    fn top_k_keeps_exactly_k_with_ties_to_the_smaller_id() {
        let out = apply_top_k(&row(&[1.0, 3.0, 3.0, 0.0, 3.0]), 2).unwrap();
        let v = host(&out);
        assert_eq!(v[1], 3.0);
        assert_eq!(v[2], 3.0);
        for i in [0, 3, 4] {
            assert_eq!(v[i], f32::NEG_INFINITY, "token {i}");
        }
        assert!(apply_top_k(&row(&[1.0]), 0).is_err());
        // k >= V keeps everything.
        assert_eq!(
            host(&apply_top_k(&row(&[1.0, 2.0]), 5).unwrap()),
            [1.0, 2.0]
        );
    }

    #[test]
    fn top_p_keeps_the_smallest_nucleus() {
        // probabilities 0.5, 0.3, 0.2 (as logits ln p).
        let logits = row(&[0.3f32.ln(), 0.5f32.ln(), 0.2f32.ln()]);
        let kept = |p: f64| -> Vec<bool> {
            host(&apply_top_p(&logits, p).unwrap())
                .iter()
                .map(|x| x.is_finite())
                .collect()
        };
        assert_eq!(kept(0.1), [false, true, false]);
        assert_eq!(kept(0.5), [false, true, false]);
        assert_eq!(kept(0.6), [true, true, false]);
        assert_eq!(kept(0.85), [true, true, true]);
        assert_eq!(kept(1.0), [true, true, true]);
        assert!(apply_top_p(&logits, 0.0).is_err());
        assert!(apply_top_p(&logits, 1.5).is_err());
    }

    #[test]
    fn top_p_breaks_ties_by_token_id() {
        let out = apply_top_p(&row(&[0.0, 0.0, 0.0, 0.0]), 0.5).unwrap();
        let kept: Vec<bool> = host(&out).iter().map(|x| x.is_finite()).collect();
        assert_eq!(kept, [true, true, false, false]);
    }

    #[test]
    fn allowed_mask_accepts_shared_and_per_row_masks_and_checks_the_vocab() {
        let logits = Tensor::from_slice(&[1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0]).reshape([2, 3]);
        let shared = Tensor::from_slice(&[true, false, true]);
        let out = host(&apply_allowed_mask(&logits, &shared).unwrap());
        assert_eq!(out[1], f32::NEG_INFINITY);
        assert_eq!(out[4], f32::NEG_INFINITY);
        assert_eq!((out[0], out[5]), (1.0, 6.0));
        let per_row = Tensor::from_slice(&[1i64, 0, 0, 0, 0, 1]).reshape([2, 3]);
        let out = host(&apply_allowed_mask(&logits, &per_row).unwrap());
        assert_eq!(out.iter().filter(|x| x.is_finite()).count(), 2);
        assert!(apply_allowed_mask(&logits, &Tensor::from_slice(&[true, false])).is_err());
        let wrong_rows = Tensor::from_slice(&[true; 9]).reshape([3, 3]);
        assert!(apply_allowed_mask(&logits, &wrong_rows).is_err());
    }

    #[test]
    fn config_validates_and_runs_the_pipeline_in_order() {
        assert!(SamplingConfig::new(0.0).is_err());
        let base = SamplingConfig::new(1.0).unwrap();
        assert!(base.with_top_k(0).is_err());
        assert!(base.with_top_p(0.0).is_err());
        assert!(base.with_repetition_penalty(0.9).is_err());
        let bad: SamplingConfig = serde_json::from_str(r#"{"top_p": 0.0}"#).unwrap();
        assert!(bad.validate().is_err());
        let cfg = base
            .with_repetition_penalty(4.0)
            .and_then(|c| c.with_top_k(2))
            .unwrap();
        // Token 0 (logit 4) is penalised to 1 and drops out of the top-2 {1, 2}.
        let logits = row(&[4.0, 3.0, 2.0, 0.5]);
        let history = Tensor::from_slice(&[0i64]).reshape([1, 1]);
        let out = host(&cfg.process(&logits, Some(&history), None, None).unwrap());
        let kept: Vec<bool> = out.iter().map(|x| x.is_finite()).collect();
        assert_eq!(kept, [false, true, true, false]);
        // The mask comes last: allowing only token 3 after top-2 leaves nothing.
        let only3 = Tensor::from_slice(&[false, false, false, true]);
        assert!(cfg.process(&logits, None, None, Some(&only3)).is_err());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn top_p_keeps_a_minimal_set_reaching_p(
            values in proptest::collection::vec(-4.0f32..4.0, 1..12),
            p in 0.01f64..1.0,
        ) {
            let logits = row(&values);
            let kept = host(&apply_top_p(&logits, p).unwrap());
            let probs = host(&logits.softmax(-1, Kind::Float));
            let mass: f64 = (0..values.len()).filter(|&i| kept[i].is_finite()).map(|i| probs[i] as f64).sum();
            prop_assert!(mass >= p - 1e-5, "kept mass {} < p {}", mass, p);
            // Dropping the least likely kept token falls below p: the set is minimal.
            let smallest = (0..values.len())
                .filter(|&i| kept[i].is_finite())
                .map(|i| probs[i] as f64)
                .fold(f64::INFINITY, f64::min);
            prop_assert!(mass - smallest < p + 1e-5);
            // Every kept token is at least as likely as every dropped one.
            for i in 0..values.len() {
                for j in 0..values.len() {
                    if kept[i].is_finite() && !kept[j].is_finite() {
                        prop_assert!(values[i] >= values[j]);
                    }
                }
            }
        }

        #[test]
        fn top_k_keeps_the_k_largest(
            values in proptest::collection::vec(-4.0f32..4.0, 1..12),
            k in 1i64..14,
        ) {
            let kept = host(&apply_top_k(&row(&values), k).unwrap());
            let n = kept.iter().filter(|x| x.is_finite()).count();
            prop_assert_eq!(n, (k as usize).min(values.len()));
            for i in 0..values.len() {
                for j in 0..values.len() {
                    if kept[i].is_finite() && !kept[j].is_finite() {
                        prop_assert!(values[i] >= values[j]);
                    }
                }
            }
        }
    }
}
