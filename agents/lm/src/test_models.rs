//! Small hand-made [`CausalLm`]s for testing decoding and scoring without a neural network.
//!
//! [`ToyLm`] adds three table look-ups per position: one indexed by the current token (a bigram
//! model), one by the running sum of the real tokens so far (mod a small modulus, so the logits
//! depend on the whole history) and one by the position (derived from the attention mask as
//! `cumsum(mask) - 1`). Its cache keeps the running count and sum per row, so the cached path
//! computes the same logits by a different route than the uncached one; a caller that feeds the
//! wrong tokens, the wrong mask slice or forgets to reorder the cache gets different logits.

use rand::RngExt;
use tch::{Device, Kind, Tensor};

use crate::error::{Error, Result};
use crate::model::causal_lm::{CausalLm, KvCache};
use tokengym::seeding::rng_from_seed;

/// A table language model (see the module docs).
pub(crate) struct ToyLm {
    vocab: i64,
    context: i64,
    modulus: i64,
    by_token: Tensor,
    by_sum: Tensor,
    by_position: Tensor,
}

/// The cache of [`ToyLm`]: positions stored, and per row the real-token count and token sum.
pub(crate) struct ToyCache {
    len: i64,
    count: Tensor,
    sum: Tensor,
}

impl KvCache for ToyCache {
    fn len(&self) -> i64 {
        self.len
    }

    fn reorder(&mut self, index: &Tensor) -> Result<()> {
        self.count = self.count.f_index_select(0, index)?;
        self.sum = self.sum.f_index_select(0, index)?;
        Ok(())
    }
}

fn table(rows: i64, cols: i64, values: Vec<f32>) -> Tensor {
    Tensor::from_slice(&values).reshape([rows, cols])
}

impl ToyLm {
    /// Random tables (uniform in `[-scale, scale]`), history- and position-dependent.
    pub(crate) fn random(vocab: i64, context: i64, scale: f32, seed: u64) -> Self {
        let mut rng = rng_from_seed(Some(seed));
        let modulus = 5;
        let mut draw =
            |n: i64| -> Vec<f32> { (0..n).map(|_| rng.random_range(-scale..=scale)).collect() };
        Self {
            vocab,
            context,
            modulus,
            by_token: table(vocab, vocab, draw(vocab * vocab)),
            by_sum: table(modulus, vocab, draw(modulus * vocab)),
            by_position: table(context, vocab, draw(context * vocab)),
        }
    }

    /// Every next-token distribution uniform over the vocabulary.
    pub(crate) fn uniform(vocab: i64, context: i64) -> Self {
        Self::bigram(vec![vec![0.0; vocab as usize]; vocab as usize], context)
    }

    /// A bigram model over 4 tokens that likes to repeat: 0 -> 1 -> 2 -> 0 with logit 5, and
    /// after 3 it prefers 3 again (logit 2) over 2 (logit 1). For repetition-penalty tests.
    pub(crate) fn repeating() -> Self {
        Self::bigram(
            vec![
                vec![0.0, 5.0, 0.0, 0.0],
                vec![0.0, 0.0, 5.0, 0.0],
                vec![5.0, 0.0, 0.0, 0.0],
                vec![0.0, 0.0, 1.0, 2.0],
            ],
            12,
        )
    }

    /// A pure bigram model: logits of the token after `a` are `rows[a]`.
    pub(crate) fn bigram(rows: Vec<Vec<f32>>, context: i64) -> Self {
        let vocab = rows.len() as i64;
        let flat: Vec<f32> = rows.into_iter().flatten().collect();
        Self {
            vocab,
            context,
            modulus: 1,
            by_token: table(vocab, vocab, flat),
            by_sum: Tensor::zeros([1, vocab], (Kind::Float, Device::Cpu)),
            by_position: Tensor::zeros([context, vocab], (Kind::Float, Device::Cpu)),
        }
    }

    fn check_tokens(&self, tokens: &Tensor) -> Result<(i64, i64)> {
        let (b, t) = match tokens.size()[..] {
            [b, t] => (b, t),
            ref s => return Err(Error::Shape(format!("tokens must be [B, T], got {s:?}"))),
        };
        if t > 0 {
            let lo = tokens.f_min()?.f_int64_value(&[])?;
            let hi = tokens.f_max()?.f_int64_value(&[])?;
            if lo < 0 || hi >= self.vocab {
                return Err(Error::InvalidArgument(format!(
                    "token out of range {lo}..{hi}"
                )));
            }
        }
        Ok((b, t))
    }

    /// Logits from tokens, positions and sums, all `[B, T]`.
    fn lookup(&self, tokens: &Tensor, positions: &Tensor, sums: &Tensor) -> Result<Tensor> {
        let (b, t) = (tokens.size()[0], tokens.size()[1]);
        let pick = |table: &Tensor, idx: &Tensor| -> Result<Tensor> {
            Ok(table
                .f_index_select(0, &idx.f_reshape([-1])?)?
                .f_reshape([b, t, self.vocab])?)
        };
        let out = pick(&self.by_token, tokens)?
            .f_add(&pick(&self.by_sum, sums)?)?
            .f_add(&pick(&self.by_position, positions)?)?;
        Ok(out)
    }
}

impl CausalLm for ToyLm {
    type Cache = ToyCache;

    fn vocab_size(&self) -> i64 {
        self.vocab
    }

    fn context_len(&self) -> i64 {
        self.context
    }

    fn device(&self) -> Device {
        Device::Cpu
    }

    fn logits(&self, tokens: &Tensor, attention_mask: Option<&Tensor>) -> Result<Tensor> {
        let (_, t) = self.check_tokens(tokens)?;
        if t > self.context {
            return Err(Error::InvalidArgument("longer than the context".to_owned()));
        }
        let mask = match attention_mask {
            Some(m) => m.f_to_kind(Kind::Int64)?,
            None => tokens.f_ones_like()?,
        };
        let positions = mask
            .f_cumsum(1, Kind::Int64)?
            .f_sub_scalar(1)?
            .f_clamp_min(0)?;
        let sums = tokens
            .f_mul(&mask)?
            .f_cumsum(1, Kind::Int64)?
            .f_remainder(self.modulus)?;
        self.lookup(tokens, &positions, &sums)
    }

    fn empty_cache(&self, batch: i64) -> Result<ToyCache> {
        Ok(ToyCache {
            len: 0,
            count: Tensor::zeros([batch], (Kind::Int64, Device::Cpu)),
            sum: Tensor::zeros([batch], (Kind::Int64, Device::Cpu)),
        })
    }

    fn logits_cached(
        &self,
        tokens: &Tensor,
        attention_mask: Option<&Tensor>,
        cache: &mut ToyCache,
    ) -> Result<Tensor> {
        let (b, t) = self.check_tokens(tokens)?;
        if b != cache.count.size()[0] {
            return Err(Error::Shape("cache batch mismatch".to_owned()));
        }
        if cache.len + t > self.context {
            return Err(Error::InvalidArgument("longer than the context".to_owned()));
        }
        let new_mask = match attention_mask {
            Some(m) => {
                if m.size() != [b, cache.len + t] {
                    return Err(Error::Shape(
                        "mask must cover cache + new tokens".to_owned(),
                    ));
                }
                m.f_narrow(1, cache.len, t)?.f_to_kind(Kind::Int64)?
            }
            None => tokens.f_ones_like()?,
        };
        let real = tokens.f_mul(&new_mask)?;
        let positions = new_mask
            .f_cumsum(1, Kind::Int64)?
            .f_add(&cache.count.f_unsqueeze(1)?)?
            .f_sub_scalar(1)?
            .f_clamp_min(0)?;
        let sums = real
            .f_cumsum(1, Kind::Int64)?
            .f_add(&cache.sum.f_unsqueeze(1)?)?
            .f_remainder(self.modulus)?;
        let out = self.lookup(tokens, &positions, &sums)?;
        cache.count = cache
            .count
            .f_add(&new_mask.f_sum_dim_intlist(1, false, Kind::Int64)?)?;
        cache.sum = cache
            .sum
            .f_add(&real.f_sum_dim_intlist(1, false, Kind::Int64)?)?;
        cache.len += t;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cached_logits_match_uncached_with_left_padding() {
        let lm = ToyLm::random(7, 12, 1.5, 3);
        let tokens = Tensor::from_slice(&[0i64, 0, 3, 4, 5, 6, 1, 2, 3, 4, 5, 6]).reshape([2, 6]);
        let mask = Tensor::from_slice(&[0i64, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]).reshape([2, 6]);
        let full = lm.logits(&tokens, Some(&mask)).unwrap();
        let mut cache = lm.empty_cache(2).unwrap();
        let first = lm
            .logits_cached(
                &tokens.narrow(1, 0, 4),
                Some(&mask.narrow(1, 0, 4)),
                &mut cache,
            )
            .unwrap();
        let rest = lm
            .logits_cached(&tokens.narrow(1, 4, 2), Some(&mask), &mut cache)
            .unwrap();
        let incremental = Tensor::cat(&[first, rest], 1);
        assert!(full.allclose(&incremental, 1e-6, 1e-6, false));
        assert_eq!(cache.len(), 6);
        // Padding does not change the logits of the real tokens.
        let alone = lm
            .logits(&Tensor::from_slice(&[3i64, 4, 5, 6]).reshape([1, 4]), None)
            .unwrap();
        assert!(alone.allclose(&full.narrow(0, 0, 1).narrow(1, 2, 4), 1e-6, 1e-6, false));
    }
}
