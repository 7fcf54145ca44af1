//! Scoring text with any [`CausalLm`]: per-token log-probabilities and surprisal, the
//! log-probability of a continuation given a prompt, perplexity, and multiple-choice answers.
//!
//! All log-probabilities are natural logarithms of the model's own softmax (no sampling
//! transforms); surprisal is `-log p` in nats ([`nats_to_bits`] converts). In a batch `[B, T]`
//! token `t` is scored when it and the token before it are real (attention mask 1): with left
//! padding that is every real token except the first of each row, which has no context.
//!
//! The tensor functions keep the autograd graph (usable in a loss); the slice functions
//! (`&[i64]` token sequences, convenient for evaluation) run without gradients and batch their
//! inputs by left-padding with token 0 under a zero attention mask.

use tch::{Kind, Tensor};

use crate::error::{Error, Result};
use crate::model::causal_lm::CausalLm;
use crate::model::causal_lm::checked_tokens;

/// Per-token scores of a batch: `log_probs[b, t]` is `log p(tokens[b, t + 1] | tokens[b, ..=t])`.
#[derive(Debug)]
pub struct TokenScores {
    /// Float `[B, T - 1]`, 0 where `mask` is 0.
    pub log_probs: Tensor,
    /// Float `[B, T - 1]`: 1 where the target token and its predecessor are both real.
    pub mask: Tensor,
}

/// Nats to bits (`x / ln 2`).
pub fn nats_to_bits(nats: f64) -> f64 {
    nats / std::f64::consts::LN_2
}

/// Log-probability of every token given the tokens before it, for `tokens` int64 `[B, T]`
/// (`T >= 2`) with an optional attention mask `[B, T]` (left padding).
pub fn token_log_probs<M: CausalLm>(
    model: &M,
    tokens: &Tensor,
    attention_mask: Option<&Tensor>,
) -> Result<TokenScores> {
    let (batch, len) = match tokens.size()[..] {
        [b, t] if b > 0 && t >= 2 => (b, t),
        ref s => {
            return Err(Error::Shape(format!(
                "tokens to score must be [B, T] with B >= 1 and T >= 2, got {s:?}"
            )));
        }
    };
    if len > model.context_len() {
        return Err(Error::InvalidArgument(format!(
            "sequence length {len} exceeds the model's context of {}",
            model.context_len()
        )));
    }
    let device = model.device();
    let tokens = checked_tokens(model, tokens, "token ids")?;
    let vocab = model.vocab_size();
    let mask = match attention_mask {
        Some(m) if m.size() == [batch, len] => {
            Some(m.f_to_device(device)?.f_ne(0)?.f_to_kind(Kind::Int64)?)
        }
        Some(m) => {
            return Err(Error::Shape(format!(
                "attention mask {:?} does not match tokens [{batch}, {len}]",
                m.size()
            )));
        }
        None => None,
    };
    let logits = model.logits(&tokens, mask.as_ref())?;
    if logits.size() != [batch, len, vocab] {
        return Err(Error::Shape(format!(
            "model returned logits {:?}, expected [{batch}, {len}, {vocab}]",
            logits.size()
        )));
    }
    let targets = tokens.f_narrow(1, 1, len - 1)?.f_unsqueeze(-1)?;
    let log_probs = logits
        .f_narrow(1, 0, len - 1)?
        .f_log_softmax(-1, Kind::Float)?
        .f_gather(-1, &targets, false)?
        .f_squeeze_dim(-1)?;
    let scored = match &mask {
        Some(m) => m
            .f_narrow(1, 1, len - 1)?
            .f_mul(&m.f_narrow(1, 0, len - 1)?)?
            .f_to_kind(Kind::Float)?,
        None => log_probs.f_ones_like()?.f_detach()?,
    };
    Ok(TokenScores {
        log_probs: log_probs.f_mul(&scored)?,
        mask: scored,
    })
}

/// Surprisal `-log p` (nats) of every scored token, float `[B, T - 1]`, 0 where unscored (see
/// [`token_log_probs`]).
pub fn surprisal<M: CausalLm>(
    model: &M,
    tokens: &Tensor,
    attention_mask: Option<&Tensor>,
) -> Result<Tensor> {
    Ok(token_log_probs(model, tokens, attention_mask)?
        .log_probs
        .f_neg()?)
}

/// Perplexity of a batch: `exp(mean NLL)` over all scored tokens of all rows (a single number,
/// computed without gradients). A batch without a scored token is an error.
pub fn perplexity<M: CausalLm>(
    model: &M,
    tokens: &Tensor,
    attention_mask: Option<&Tensor>,
) -> Result<f64> {
    tch::no_grad(|| {
        let scores = token_log_probs(model, tokens, attention_mask)?;
        let count = scores.mask.f_sum(Kind::Double)?.f_double_value(&[])?;
        if count <= 0.0 {
            return Err(Error::InvalidArgument(
                "perplexity needs at least one token with a real token before it".to_owned(),
            ));
        }
        let total = scores.log_probs.f_sum(Kind::Double)?.f_double_value(&[])?;
        Ok((-total / count).exp())
    })
}

/// Left-pads token sequences into int64 `[B, T_max]` tokens (padding: `pad_token_id`) and an
/// int64 attention mask (1 = real). Empty input or an empty sequence is an error.
pub fn left_pad(sequences: &[&[i64]], pad_token_id: i64) -> Result<(Tensor, Tensor)> {
    let longest = sequences.iter().map(|s| s.len()).max().unwrap_or(0);
    if sequences.is_empty() || sequences.iter().any(|s| s.is_empty()) {
        return Err(Error::InvalidArgument(
            "left_pad needs at least one sequence and no empty sequence".to_owned(),
        ));
    }
    let mut tokens = Vec::with_capacity(sequences.len() * longest);
    let mut mask = Vec::with_capacity(sequences.len() * longest);
    for s in sequences {
        let pad = longest - s.len();
        tokens.extend(std::iter::repeat_n(pad_token_id, pad).chain(s.iter().copied()));
        mask.extend(std::iter::repeat_n(0i64, pad).chain(std::iter::repeat_n(1, s.len())));
    }
    let shape = [sequences.len() as i64, longest as i64];
    Ok((
        Tensor::from_slice(&tokens).f_reshape(shape)?,
        Tensor::from_slice(&mask).f_reshape(shape)?,
    ))
}

/// Log-probability of each continuation token given its prompt, for a batch of
/// `(prompt, continuation)` pairs (both non-empty); one vector per pair, one entry per
/// continuation token.
pub fn continuation_log_probs<M: CausalLm>(
    model: &M,
    pairs: &[(&[i64], &[i64])],
) -> Result<Vec<Vec<f64>>> {
    if pairs.is_empty() {
        return Err(Error::InvalidArgument("no sequences to score".to_owned()));
    }
    if let Some(i) = pairs.iter().position(|(p, c)| p.is_empty() || c.is_empty()) {
        return Err(Error::InvalidArgument(format!(
            "pair {i}: prompt and continuation must both be non-empty (the first token has no \
             context to be scored in)"
        )));
    }
    let joined: Vec<Vec<i64>> = pairs.iter().map(|(p, c)| [*p, *c].concat()).collect();
    let views: Vec<&[i64]> = joined.iter().map(Vec::as_slice).collect();
    let (tokens, mask) = left_pad(&views, 0)?;
    let width = tokens.size()[1] as usize;
    let log_probs = tch::no_grad(|| token_log_probs(model, &tokens, Some(&mask)))?.log_probs;
    let host = crate::decoding::generate::to_host_f64(&log_probs)?;
    let row_len = width - 1;
    Ok(pairs
        .iter()
        .enumerate()
        .map(|(i, (_, c))| {
            let row = &host[i * row_len..(i + 1) * row_len];
            row[row_len - c.len()..].to_vec()
        })
        .collect())
}

/// `log p(continuation | prompt)`: the sum of the continuation tokens' log-probabilities.
pub fn sequence_log_prob<M: CausalLm>(
    model: &M,
    prompt: &[i64],
    continuation: &[i64],
) -> Result<f64> {
    let per_token = continuation_log_probs(model, &[(prompt, continuation)])?;
    Ok(per_token.iter().flatten().sum())
}

/// Perplexity of token sequences (each of length `>= 2`; see [`perplexity`]).
pub fn perplexity_of<M: CausalLm>(model: &M, sequences: &[&[i64]]) -> Result<f64> {
    let (tokens, mask) = left_pad(sequences, 0)?;
    if tokens.size()[1] < 2 {
        return Err(Error::InvalidArgument(
            "perplexity needs a sequence of at least two tokens".to_owned(),
        ));
    }
    perplexity(model, &tokens, Some(&mask))
}

/// Scores of the options of a multiple-choice question.
#[derive(Debug, Clone, PartialEq)]
pub struct MultipleChoice {
    /// Mean log-probability per token of each option's continuation (the ranking criterion).
    pub mean_log_probs: Vec<f64>,
    /// Summed log-probability of each option's continuation.
    pub sum_log_probs: Vec<f64>,
    /// Index of the option with the highest mean log-probability (the first one on ties).
    pub best: usize,
}

/// Picks the option whose continuation of `prompt` has the highest mean token log-probability
/// (length-normalised, so longer options are not penalised for their length). All options are
/// scored in one batch. No options, or an empty prompt or option, is an error.
pub fn multiple_choice<M: CausalLm>(
    model: &M,
    prompt: &[i64],
    options: &[&[i64]],
) -> Result<MultipleChoice> {
    if options.is_empty() {
        return Err(Error::InvalidArgument(
            "multiple choice needs at least one option".to_owned(),
        ));
    }
    let pairs: Vec<(&[i64], &[i64])> = options.iter().map(|o| (prompt, *o)).collect();
    let per_token = continuation_log_probs(model, &pairs)?;
    let sum_log_probs: Vec<f64> = per_token.iter().map(|v| v.iter().sum()).collect();
    let mean_log_probs: Vec<f64> = sum_log_probs
        .iter()
        .zip(options)
        .map(|(s, o)| s / o.len() as f64)
        .collect();
    let mut best = 0;
    for (i, m) in mean_log_probs.iter().enumerate() {
        if *m > mean_log_probs[best] {
            best = i;
        }
    }
    Ok(MultipleChoice {
        mean_log_probs,
        sum_log_probs,
        best,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_models::ToyLm;

    /// A bigram model over 4 tokens with hand-picked rows.
    fn bigram() -> ToyLm {
        ToyLm::bigram(
            vec![
                vec![0.0, 2.0, 0.0, -1.0],
                vec![1.0, 0.0, 3.0, 0.0],
                vec![0.5, 0.5, 0.5, 0.5],
                vec![-2.0, 0.0, 1.0, 4.0],
            ],
            10,
        )
    }

    fn log_softmax_at(row: &[f64], i: usize) -> f64 {
        let norm = row.iter().map(|x| x.exp()).sum::<f64>().ln();
        row[i] - norm
    }

    #[test]
    fn uniform_model_has_perplexity_v_and_log2_v_bits_of_surprisal() {
        let lm = ToyLm::uniform(8, 12);
        let seqs: [&[i64]; 3] = [&[1, 2, 3, 4], &[7, 0], &[5, 5, 5, 5, 5, 5]];
        let ppl = perplexity_of(&lm, &seqs).unwrap();
        assert!((ppl - 8.0).abs() < 1e-4, "perplexity {ppl}");
        let (tokens, mask) = left_pad(&seqs, 0).unwrap();
        let s = surprisal(&lm, &tokens, Some(&mask)).unwrap();
        let bits = nats_to_bits(s.max().double_value(&[]));
        assert!((bits - 3.0).abs() < 1e-5, "{bits} bits");
        // Padding and first tokens are not scored.
        assert_eq!(s.get(1).double_value(&[0]), 0.0);
    }

    #[test]
    fn sequence_log_prob_is_the_sum_of_the_conditionals() {
        let lm = bigram();
        let rows = [
            [0.0, 2.0, 0.0, -1.0],
            [1.0, 0.0, 3.0, 0.0],
            [0.5, 0.5, 0.5, 0.5],
            [-2.0, 0.0, 1.0, 4.0],
        ];
        let expect =
            log_softmax_at(&rows[0], 1) + log_softmax_at(&rows[1], 2) + log_softmax_at(&rows[2], 3);
        let got = sequence_log_prob(&lm, &[3, 0], &[1, 2, 3]).unwrap();
        assert!((got - expect).abs() < 1e-5, "{got} vs {expect}");
        // Batched pairs of different lengths give the same per-token values as one at a time.
        let batch = continuation_log_probs(&lm, &[(&[3, 0], &[1, 2, 3]), (&[2], &[3])]).unwrap();
        assert_eq!(batch[0].len(), 3);
        assert!((batch[0].iter().sum::<f64>() - expect).abs() < 1e-5);
        assert!((batch[1][0] - log_softmax_at(&rows[2], 3)).abs() < 1e-5);
    }

    #[test]
    fn token_scores_ignore_left_padding() {
        let lm = ToyLm::random(6, 10, 1.5, 8);
        let (tokens, mask) = left_pad(&[&[1, 2, 3, 4, 5], &[3, 4, 5]], 0).unwrap();
        let batch = token_log_probs(&lm, &tokens, Some(&mask)).unwrap();
        let alone = token_log_probs(&lm, &tokens.narrow(0, 1, 1).narrow(1, 2, 3), None).unwrap();
        let padded_row = batch.log_probs.get(1).narrow(0, 2, 2);
        assert!(padded_row.allclose(&alone.log_probs.get(0), 1e-5, 1e-5, false));
        let scored: Vec<f64> = Vec::try_from(&batch.mask.get(1)).unwrap();
        assert_eq!(scored, [0.0, 0.0, 1.0, 1.0]);
    }

    #[test]
    fn multiple_choice_picks_the_option_the_model_prefers() {
        let lm = bigram();
        // After 3 the model prefers 3 (then 3 again); after 1 it prefers 2.
        let options: [&[i64]; 3] = [&[0, 1], &[3, 3], &[2]];
        let mc = multiple_choice(&lm, &[3], &options).unwrap();
        assert_eq!(mc.best, 1);
        assert_eq!(mc.mean_log_probs.len(), 3);
        for (i, option) in options.iter().enumerate() {
            let per = mc.sum_log_probs[i] / option.len() as f64;
            assert!((mc.mean_log_probs[i] - per).abs() < 1e-12);
        }
        let mc = multiple_choice(&lm, &[1], &[&[0], &[2], &[3]]).unwrap();
        assert_eq!(mc.best, 1);
    }

    #[test]
    fn bad_inputs_are_errors() {
        let lm = bigram();
        assert!(sequence_log_prob(&lm, &[], &[1]).is_err());
        assert!(sequence_log_prob(&lm, &[1], &[]).is_err());
        assert!(sequence_log_prob(&lm, &[1], &[4]).is_err());
        assert!(sequence_log_prob(&lm, &[1; 6], &[1; 5]).is_err());
        assert!(multiple_choice(&lm, &[1], &[]).is_err());
        assert!(perplexity_of(&lm, &[&[1]]).is_err());
        let tokens = Tensor::from_slice(&[1i64, 2]).reshape([1, 2]);
        let bad_mask = Tensor::from_slice(&[1i64, 1, 1]).reshape([1, 3]);
        assert!(token_log_probs(&lm, &tokens, Some(&bad_mask)).is_err());
        // Only padding before the last token: nothing to score.
        let lonely = Tensor::from_slice(&[0i64, 1]).reshape([1, 2]);
        assert!(perplexity(&lm, &tokens, Some(&lonely)).is_err());
    }
}
