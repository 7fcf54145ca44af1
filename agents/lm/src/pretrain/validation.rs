//! Validation metrics of a language model: mean negative log-likelihood and perplexity over the
//! real target tokens of a [`TextDataset`] ([`evaluate`]), and the add-one-smoothed unigram
//! baseline a trained model must beat ([`unigram_perplexity`]).

use serde::{Deserialize, Serialize};
use tch::Kind;

use crate::error::{Error, Result};
use crate::model::decoder::Decoder;
use crate::pretrain::dataset::TextDataset;

/// A validation result.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct EvalStats {
    /// Mean negative log-likelihood per real target token (nats).
    pub loss: f64,
    /// `exp(loss)`.
    pub perplexity: f64,
    /// Number of target tokens scored.
    pub tokens: usize,
}

/// Mean NLL and perplexity of `model` over the real targets of `data`, in batches of
/// `batch_size` (at most `max_batches`), without gradients.
pub fn evaluate(
    model: &Decoder,
    data: &TextDataset,
    batch_size: usize,
    max_batches: Option<usize>,
) -> Result<EvalStats> {
    tch::no_grad(|| {
        let mut total = 0.0;
        let mut tokens = 0usize;
        for batch in data.eval_batches(batch_size, max_batches) {
            let batch = batch?;
            if batch.real_tokens == 0 {
                continue;
            }
            let mean = model
                .loss(&batch.inputs, &batch.targets, None, false)?
                .f_to_kind(Kind::Double)?
                .f_double_value(&[])?;
            total += mean * batch.real_tokens as f64;
            tokens += batch.real_tokens;
        }
        if tokens == 0 {
            return Err(Error::InvalidArgument(
                "the validation data has no target token".to_owned(),
            ));
        }
        let loss = total / tokens as f64;
        Ok(EvalStats {
            loss,
            perplexity: loss.exp(),
            tokens,
        })
    })
}

/// Perplexity of a unigram model on the targets of `valid`: token frequencies counted on the
/// targets of `train` with add-one (Laplace) smoothing over a vocabulary of `vocab` ids,
/// `p(v) = (count(v) + 1) / (N + vocab)`. The baseline a language model must beat.
pub fn unigram_perplexity(train: &TextDataset, valid: &TextDataset, vocab: usize) -> Result<f64> {
    let counts = train.target_counts(vocab)?;
    let n: u64 = counts.iter().sum();
    let denom = (n + vocab as u64) as f64;
    let log_p: Vec<f64> = counts
        .iter()
        .map(|&c| ((c + 1) as f64 / denom).ln())
        .collect();
    let valid_counts = valid.target_counts(vocab)?;
    let m: u64 = valid_counts.iter().sum();
    if m == 0 {
        return Err(Error::InvalidArgument(
            "the validation data has no target token".to_owned(),
        ));
    }
    let nll: f64 = valid_counts
        .iter()
        .zip(&log_p)
        .map(|(&c, &lp)| -(c as f64) * lp)
        .sum();
    Ok((nll / m as f64).exp())
}

#[cfg(test)]
mod tests {
    use tokengym_envs::text::{CharTokenizer, DEFAULT_SPECIALS};

    use super::*;
    use crate::pretrain::dataset::Layout;

    #[test]
    fn unigram_baseline_by_hand() {
        let tok = CharTokenizer::from_corpus("ab", &DEFAULT_SPECIALS).unwrap(); // 6 ids
        // Training stream <bos> a a b <eos>: targets a a b <eos> (context 4, one window).
        let train = TextDataset::from_text("aab", &tok, 4, Layout::Pack).unwrap();
        // Validation stream <bos> b <eos>: targets b <eos>.
        let valid = TextDataset::from_text("b", &tok, 2, Layout::Pack).unwrap();
        // Add-one: p(b) = (1 + 1) / (4 + 6) = p(<eos>), so the perplexity is 5.
        let ppl = unigram_perplexity(&train, &valid, 6).unwrap();
        assert!((ppl - 5.0).abs() < 1e-12, "{ppl}");
        assert!(unigram_perplexity(&train, &valid, 3).is_err());
    }
}
