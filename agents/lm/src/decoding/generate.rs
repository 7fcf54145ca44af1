//! Batched, seeded text generation with any [`CausalLm`]: greedy decoding or sampling through
//! the [`SamplingConfig`] pipeline, with or without the model's KV cache.
//!
//! Prompts are a left-padded int64 batch `[B, T]` with an attention mask (1 = real token); the
//! last column must be real for every row, so every row's next token follows its prompt
//! directly. Generation runs for at most `max_new_tokens` steps; a row stops at its EOS token
//! (which counts as generated), after which it receives `pad_token_id` with log-probability 0
//! and mask 0; the loop ends early once every row has stopped. Asking for more tokens than the
//! model's context can hold (`T + max_new_tokens > context_len`) is an error up front, even if
//! EOS might come earlier.
//!
//! The repetition penalty of a [`SamplingConfig`] applies to every real token of the context
//! (the prompt's tokens and those generated so far, padding excluded), as in Hugging Face.
//!
//! **Seeding.** tch 0.26 exposes no per-call random generator, so sampling happens on the
//! host: each step's processed probabilities `[B, V]` are copied to the CPU (in f64) and every
//! live row draws one uniform number from the caller's [`EnvRng`] (inverse-CDF sampling,
//! rows in order). The same seed, model and inputs give the same tokens on every run and with
//! or without the cache. The copy costs `B·V` numbers per step, which is fine for the small
//! vocabularies this project uses.
//!
//! **Log-probabilities.** `Generation::log_probs` holds, for every generated token, its
//! log-probability under the distribution it was drawn from: for sampling, the log-softmax of
//! the *processed* logits (after repetition penalty, temperature, top-k, top-p and the allowed
//! mask); for greedy decoding, the log-softmax of the model's raw logits (restricted to the
//! allowed tokens when a mask is given). A PPO-style learner that needs the model's own
//! log-probabilities should recompute them (see [`crate::decoding::scoring`]).

use rand::RngExt;
use serde::{Deserialize, Serialize};
use tch::{Device, Kind, Tensor};
use tokengym::seeding::EnvRng;

use crate::decoding::logits_processing::{
    SamplingConfig, apply_allowed_mask, apply_repetition_penalty, check_rows_not_empty,
};
use crate::decoding::stop_tokens::StopTokens;
use crate::error::{Error, Result};
use crate::model::causal_lm::CausalLm;
use crate::model::causal_lm::checked_tokens;

/// How the next token is chosen (serialized as `"greedy"` or `{"sample": {...}}`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Strategy {
    /// The arg-max of the logits (ties: the smallest token id).
    Greedy,
    /// A draw from the processed distribution.
    Sample(SamplingConfig),
}

/// Settings of [`generate`]; the default is greedy decoding of up to 32 tokens (see
/// [`GenerateConfig::greedy`]).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GenerateConfig {
    /// Most tokens generated per row.
    pub max_new_tokens: i64,
    /// Greedy or sampling.
    pub strategy: Strategy,
    /// The tokens that end a row (kept in the output); none to always run `max_new_tokens`
    /// steps. Read from `eos_token_id` too (one id or a list, as Hugging Face writes it).
    #[serde(alias = "eos_token_id")]
    pub eos_token_ids: StopTokens,
    /// Token written after a row's EOS.
    pub pad_token_id: i64,
    /// Whether to decode incrementally with the model's KV cache (same tokens either way).
    pub use_cache: bool,
    /// Repetition penalty of greedy decoding (CTRL / Hugging Face convention, see
    /// [`apply_repetition_penalty`]; 1 = off), applied to the logits before the arg-max as
    /// `transformers` does; the reported log-probs are those of the penalised distribution.
    /// Sampling takes its penalty from its [`SamplingConfig`] instead, so with
    /// [`Strategy::Sample`] this must stay 1.
    pub repetition_penalty: f64,
}

impl Default for GenerateConfig {
    fn default() -> Self {
        Self::greedy(32)
    }
}

impl GenerateConfig {
    /// Greedy decoding of up to `max_new_tokens` tokens, no EOS, pad 0, with the cache.
    pub fn greedy(max_new_tokens: i64) -> Self {
        Self {
            max_new_tokens,
            strategy: Strategy::Greedy,
            eos_token_ids: StopTokens::none(),
            pad_token_id: 0,
            use_cache: true,
            repetition_penalty: 1.0,
        }
    }

    /// Sampling with `sampling`, otherwise as [`greedy`](Self::greedy).
    pub fn sample(max_new_tokens: i64, sampling: SamplingConfig) -> Self {
        Self {
            strategy: Strategy::Sample(sampling),
            ..Self::greedy(max_new_tokens)
        }
    }

    /// Checks the settings against a vocabulary of `vocab` tokens.
    pub fn validate(&self, vocab: i64) -> Result<()> {
        if self.max_new_tokens < 0 {
            return Err(Error::InvalidArgument(format!(
                "max_new_tokens must be >= 0, got {}",
                self.max_new_tokens
            )));
        }
        check_token_id("pad_token_id", self.pad_token_id, vocab)?;
        self.eos_token_ids.validate("eos_token_ids", vocab)?;
        if let Strategy::Sample(s) = &self.strategy {
            s.validate()?;
            if self.repetition_penalty != 1.0 {
                return Err(Error::InvalidArgument(
                    "repetition_penalty of a sampling config goes into its SamplingConfig \
                     (GenerateConfig::repetition_penalty is greedy decoding's)"
                        .to_owned(),
                ));
            }
        } else if !(self.repetition_penalty.is_finite() && self.repetition_penalty >= 1.0) {
            return Err(Error::InvalidArgument(format!(
                "repetition penalty must be finite and >= 1, got {}",
                self.repetition_penalty
            )));
        }
        Ok(())
    }
}

pub(crate) fn check_token_id(what: &str, id: i64, vocab: i64) -> Result<()> {
    if (0..vocab).contains(&id) {
        Ok(())
    } else {
        Err(Error::InvalidArgument(format!(
            "{what} must lie in [0, {vocab}), got {id}"
        )))
    }
}

/// The output of [`generate`]; every tensor is on the CPU and has `N <= max_new_tokens`
/// columns (the number of steps actually run).
#[derive(Debug)]
pub struct Generation {
    /// New tokens only, int64 `[B, N]` (`pad_token_id` after a row's EOS).
    pub tokens: Tensor,
    /// Log-probability of each chosen token under the distribution that chose it (see the
    /// module docs), float `[B, N]`; 0 where `mask` is 0.
    pub log_probs: Tensor,
    /// 1.0 for real generated tokens (the EOS included), 0.0 after; float `[B, N]`.
    pub mask: Tensor,
    /// Number of real generated tokens per row (the EOS included).
    pub lengths: Vec<i64>,
}

/// Validated prompts on the model's device.
pub(crate) struct Prompts {
    /// int64 `[B, T]`.
    pub tokens: Tensor,
    /// int64 `[B, T]` (all ones when no mask was given).
    pub mask: Tensor,
    /// Whether some position is padding.
    pub padded: bool,
    pub batch: i64,
}

/// Checks a left-padded prompt batch against `model` (shape, integer ids within the
/// vocabulary, mask, left padding, room for `max_new_tokens` in the context) and moves it to
/// the model's device: what generation and beam search both need.
pub(crate) fn check_prompts<M: CausalLm>(
    model: &M,
    prompts: &Tensor,
    attention_mask: Option<&Tensor>,
    max_new_tokens: i64,
) -> Result<Prompts> {
    let (batch, len) = match prompts.size()[..] {
        [b, t] if b > 0 && t > 0 => (b, t),
        ref s => {
            return Err(Error::Shape(format!(
                "prompts must be a non-empty [B, T] batch, got {s:?}"
            )));
        }
    };
    if !matches!(
        prompts.kind(),
        Kind::Int64 | Kind::Int | Kind::Int16 | Kind::Int8 | Kind::Uint8
    ) {
        return Err(Error::InvalidArgument(format!(
            "prompts must hold integer token ids, got {:?}",
            prompts.kind()
        )));
    }
    let device = model.device();
    let tokens = checked_tokens(model, prompts, "prompt token ids")?;
    let mask = match attention_mask {
        Some(m) => {
            if m.size() != [batch, len] {
                return Err(Error::Shape(format!(
                    "attention mask {:?} does not match prompts [{batch}, {len}]",
                    m.size()
                )));
            }
            m.f_to_device(device)?.f_ne(0)?.f_to_kind(Kind::Int64)?
        }
        None => tokens.f_ones_like()?,
    };
    let last_real = mask.f_select(1, len - 1)?.f_all()?.f_int64_value(&[])? == 1;
    if !last_real {
        return Err(Error::InvalidArgument(
            "prompts must be left-padded: the last position of every row must be a real token"
                .to_owned(),
        ));
    }
    if len + max_new_tokens > model.context_len() {
        return Err(Error::InvalidArgument(format!(
            "prompt length {len} + max_new_tokens {max_new_tokens} exceeds the model's context of {}",
            model.context_len()
        )));
    }
    let padded = mask.f_eq(0)?.f_any()?.f_int64_value(&[])? == 1;
    Ok(Prompts {
        tokens,
        mask,
        padded,
        batch,
    })
}

/// The model's logits `[B, V]` at the last position of `seq`, using (and extending) `cache`
/// when given: the first cached call feeds the whole sequence, later ones only its last
/// `seq.len - cache.len` tokens.
pub(crate) fn last_logits<M: CausalLm>(
    model: &M,
    seq: &Tensor,
    mask: Option<&Tensor>,
    cache: Option<&mut M::Cache>,
) -> Result<Tensor> {
    use crate::model::causal_lm::KvCache;
    let (batch, len) = (seq.size()[0], seq.size()[1]);
    let logits = match cache {
        Some(cache) => {
            let seen = cache.len();
            model.logits_cached(&seq.f_narrow(1, seen, len - seen)?, mask, cache)?
        }
        None => model.logits(seq, mask)?,
    };
    let vocab = model.vocab_size();
    match logits.size()[..] {
        [b, t, v] if b == batch && t >= 1 && v == vocab => {
            Ok(logits.f_select(1, t - 1)?.f_to_kind(Kind::Float)?)
        }
        ref s => Err(Error::Shape(format!(
            "model returned logits {s:?}, expected [{batch}, _, {vocab}]"
        ))),
    }
}

/// A flat host copy (f64) of any tensor.
pub(crate) fn to_host_f64(t: &Tensor) -> Result<Vec<f64>> {
    let flat = t
        .f_to_device(Device::Cpu)?
        .f_to_kind(Kind::Double)?
        .f_reshape([-1])?;
    Ok(Vec::<f64>::try_from(&flat)?)
}

/// A flat host copy (i64) of any tensor.
pub(crate) fn to_host_i64(t: &Tensor) -> Result<Vec<i64>> {
    let flat = t
        .f_to_device(Device::Cpu)?
        .f_to_kind(Kind::Int64)?
        .f_reshape([-1])?;
    Ok(Vec::<i64>::try_from(&flat)?)
}

/// Inverse-CDF draw of an index from unnormalised non-negative weights with one uniform number;
/// zero-weight entries are never chosen. `None` when no weight is positive.
pub(crate) fn sample_index(weights: &[f64], rng: &mut EnvRng) -> Option<usize> {
    let total: f64 = weights.iter().filter(|w| **w > 0.0).sum();
    if !(total > 0.0 && total.is_finite()) {
        return None;
    }
    let u = rng.random::<f64>() * total;
    let mut acc = 0.0;
    let mut last = None;
    for (i, &w) in weights.iter().enumerate() {
        if w > 0.0 {
            acc += w;
            last = Some(i);
            if u < acc {
                return Some(i);
            }
        }
    }
    last
}

/// Generates up to `cfg.max_new_tokens` tokens after each prompt (see the module docs).
/// `prompts`: int64 `[B, T]`, left-padded; `attention_mask`: `[B, T]` or `None` (no padding).
pub fn generate<M: CausalLm>(
    model: &M,
    prompts: &Tensor,
    attention_mask: Option<&Tensor>,
    cfg: &GenerateConfig,
    rng: &mut EnvRng,
) -> Result<Generation> {
    generate_impl(model, prompts, attention_mask, None, cfg, rng)
}

/// [`generate`] restricted to the tokens of `allowed` (bool `[V]` for every row and step, or
/// `[B, V]` per row); the mask is the last step of the processing pipeline.
pub fn generate_constrained<M: CausalLm>(
    model: &M,
    prompts: &Tensor,
    attention_mask: Option<&Tensor>,
    allowed: &Tensor,
    cfg: &GenerateConfig,
    rng: &mut EnvRng,
) -> Result<Generation> {
    generate_impl(model, prompts, attention_mask, Some(allowed), cfg, rng)
}

fn generate_impl<M: CausalLm>(
    model: &M,
    prompts: &Tensor,
    attention_mask: Option<&Tensor>,
    allowed: Option<&Tensor>,
    cfg: &GenerateConfig,
    rng: &mut EnvRng,
) -> Result<Generation> {
    let vocab = model.vocab_size();
    cfg.validate(vocab)?;
    let p = check_prompts(model, prompts, attention_mask, cfg.max_new_tokens)?;
    let allowed = match allowed {
        Some(a) => {
            // Validates the shape against [B, V] once, before any model call.
            let probe = Tensor::f_zeros([p.batch, vocab], (Kind::Float, model.device()))?;
            let _checked = apply_allowed_mask(&probe, a)?;
            Some(a.f_to_device(model.device())?)
        }
        None => None,
    };
    tch::no_grad(|| decode_loop(model, p, allowed.as_ref(), cfg, rng))
}

fn decode_loop<M: CausalLm>(
    model: &M,
    p: Prompts,
    allowed: Option<&Tensor>,
    cfg: &GenerateConfig,
    rng: &mut EnvRng,
) -> Result<Generation> {
    let (batch, device) = (p.batch as usize, model.device());
    let vocab = model.vocab_size() as usize;
    let mut seq = p.tokens;
    let mut mask = p.mask;
    let mut cache = if cfg.use_cache {
        Some(model.empty_cache(p.batch)?)
    } else {
        None
    };
    let mut done = vec![false; batch];
    // Step-major host buffers, transposed at the end.
    let (mut toks, mut lps, mut real) = (Vec::new(), Vec::new(), Vec::new());
    let mut steps = 0i64;
    while steps < cfg.max_new_tokens {
        let model_mask = p.padded.then_some(&mask);
        let logits = last_logits(model, &seq, model_mask, cache.as_mut())?;
        let (chosen, logp) = match &cfg.strategy {
            Strategy::Greedy => {
                let logits = if cfg.repetition_penalty != 1.0 {
                    apply_repetition_penalty(&logits, &seq, Some(&mask), cfg.repetition_penalty)?
                } else {
                    logits
                };
                let logits = match allowed {
                    Some(a) => {
                        let masked = apply_allowed_mask(&logits, a)?;
                        check_rows_not_empty(&masked)?;
                        masked
                    }
                    None => logits,
                };
                let logp = logits.f_log_softmax(-1, Kind::Double)?;
                let best = logp.f_argmax(-1, true)?;
                let best_lp = logp.f_gather(1, &best, false)?;
                (to_host_i64(&best)?, to_host_f64(&best_lp)?)
            }
            Strategy::Sample(s) => {
                let processed = s.process(&logits, Some(&seq), Some(&mask), allowed)?;
                let logp = to_host_f64(&processed.f_log_softmax(-1, Kind::Double)?)?;
                let mut chosen = vec![cfg.pad_token_id; batch];
                let mut chosen_lp = vec![0.0; batch];
                for row in (0..batch).filter(|&r| !done[r]) {
                    let row_lp = &logp[row * vocab..(row + 1) * vocab];
                    let weights: Vec<f64> = row_lp.iter().map(|l| l.exp()).collect();
                    let tok = sample_index(&weights, rng).ok_or_else(|| {
                        Error::InvalidArgument(format!(
                            "row {row} has no token with positive probability"
                        ))
                    })?;
                    chosen[row] = tok as i64;
                    chosen_lp[row] = row_lp[tok];
                }
                (chosen, chosen_lp)
            }
        };
        let mut column = Vec::with_capacity(batch);
        for row in 0..batch {
            if done[row] {
                column.push(cfg.pad_token_id);
                lps.push(0.0f32);
                real.push(0.0f32);
            } else {
                column.push(chosen[row]);
                lps.push(logp[row] as f32);
                real.push(1.0f32);
                done[row] = cfg.eos_token_ids.contains(chosen[row]);
            }
        }
        toks.extend_from_slice(&column);
        let col = Tensor::from_slice(&column)
            .f_to_device(device)?
            .f_unsqueeze(1)?;
        seq = Tensor::f_cat(&[&seq, &col], 1)?;
        mask = Tensor::f_cat(&[&mask, &col.f_ones_like()?], 1)?;
        steps += 1;
        if done.iter().all(|&d| d) {
            break;
        }
    }
    let transpose = |t: Tensor| -> Result<Tensor> {
        Ok(t.f_reshape([steps, p.batch])?
            .f_transpose(0, 1)?
            .f_contiguous()?)
    };
    let tokens = transpose(Tensor::from_slice(&toks))?;
    let log_probs = transpose(Tensor::from_slice(&lps))?;
    let mask = transpose(Tensor::from_slice(&real))?;
    let lengths = (0..batch)
        .map(|r| {
            (0..steps as usize)
                .filter(|&s| real[s * batch + r] > 0.0)
                .count() as i64
        })
        .collect();
    Ok(Generation {
        tokens,
        log_probs,
        mask,
        lengths,
    })
}
