//! The interface between language models and everything that uses them (decoding, scoring,
//! text-generation environments, RL for LMs): [`CausalLm`] and its [`KvCache`].
//!
//! Token batches are int64 tensors `[B, T]`. An attention mask `[B, T_total]` (1 = real token,
//! 0 = padding) allows batches of prompts of different lengths: prompts are **left-padded**, and
//! a model derives each token's position from the mask (`cumsum(mask) - 1`, clamped at 0), as
//! Hugging Face models do, so a padded prompt gives the same logits as the unpadded one.

use tch::{Device, Tensor};

use crate::error::Result;

/// Keys and values of the tokens a model has already seen, for incremental decoding.
pub trait KvCache {
    /// Number of positions stored (the same for every row, padding included).
    fn len(&self) -> i64;

    /// Whether nothing is stored yet.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Keeps/reorders batch rows: row `i` of the new cache is row `index[i]` of the old one
    /// (int64 `[B']`); used by beam search and by dropping finished sequences.
    fn reorder(&mut self, index: &Tensor) -> Result<()>;
}

/// A decoder-only language model: next-token logits for every position.
pub trait CausalLm {
    /// The model's cache type.
    type Cache: KvCache;

    /// Vocabulary size `V` (the last dimension of the logits).
    fn vocab_size(&self) -> i64;

    /// Longest sequence (prompt + generated, padding included) the model accepts.
    fn context_len(&self) -> i64;

    /// Where the model's parameters live.
    fn device(&self) -> Device;

    /// Logits `[B, T, V]` for tokens `[B, T]` without a cache. `attention_mask`: `[B, T]` or
    /// `None` (no padding). Longer than [`context_len`](Self::context_len) is an error.
    fn logits(&self, tokens: &Tensor, attention_mask: Option<&Tensor>) -> Result<Tensor>;

    /// An empty cache for `batch` rows.
    fn empty_cache(&self, batch: i64) -> Result<Self::Cache>;

    /// Logits `[B, t, V]` for `t` new tokens `[B, t]` that follow what `cache` holds, and
    /// appends their keys/values to it. `attention_mask` covers the cached and the new
    /// positions (`[B, cache.len() + t]`) or is `None` (no padding anywhere). Must give the
    /// same logits as [`logits`](Self::logits) on the whole sequence (the KV-cache property).
    fn logits_cached(
        &self,
        tokens: &Tensor,
        attention_mask: Option<&Tensor>,
        cache: &mut Self::Cache,
    ) -> Result<Tensor>;
}

/// Integer token ids as int64 on `model`'s device, after checking that they lie in its
/// vocabulary; `what` names them in the error (what generation and scoring both need).
pub(crate) fn checked_tokens<M: CausalLm>(
    model: &M,
    tokens: &Tensor,
    what: &str,
) -> Result<Tensor> {
    let tokens = tokens
        .f_to_kind(tch::Kind::Int64)?
        .f_to_device(model.device())?;
    let vocab = model.vocab_size();
    let (lo, hi) = (
        tokens.f_min()?.f_int64_value(&[])?,
        tokens.f_max()?.f_int64_value(&[])?,
    );
    if lo < 0 || hi >= vocab {
        return Err(crate::error::Error::InvalidArgument(format!(
            "{what} must lie in [0, {vocab}), got range [{lo}, {hi}]"
        )));
    }
    Ok(tokens)
}
