//! [`Decoder`]: a decoder-only transformer on tch, for our own GPT and for the Hugging Face
//! families GPT-2, GPT-Neo, Llama, Qwen2 and Qwen3 (one decoder, configured by [`DecoderConfig`]).
//!
//! Token embedding (plus a learned position embedding, or RoPE inside attention), `n_layers`
//! pre-norm blocks, a final norm and the LM head (the token embedding when tied, otherwise
//! `lm_head.weight` `[V, d]`). Variable names in the `VarStore` are those of the family's
//! Hugging Face checkpoints ([`WeightLayout`](crate::model::WeightLayout)): for GPT-2 and our own
//! models `transformer.wte.weight`, `transformer.h.{i}.attn.c_attn.weight`, ...,
//! `transformer.ln_f.weight` with `Conv1D` weights stored `[in, out]`; for Llama and Qwen
//! `model.embed_tokens.weight`, `model.layers.{i}.self_attn.q_proj.weight`, ...,
//! `model.norm.weight`; so a checkpoint loads by name with no transposes.
//!
//! Left padding is handled through the attention mask: padding keys are hidden and positions
//! are `cumsum(mask) - 1` (clamped at 0), so a padded row gives the same logits as the unpadded
//! one at its real positions (logits at padding positions are meaningless).

use tch::nn::{Init, Path};
use tch::{Device, Kind, Reduction, Tensor};

use crate::error::{Error, Result};
use crate::model::attention::{AttnContext, AttnMask};
use crate::model::block::Block;
use crate::model::causal_lm::{CausalLm, KvCache};
use crate::model::config::{DecoderConfig, LayerAttention, PositionEncoding, WeightLayout};
use crate::model::kv_cache::DecoderCache;
use crate::model::layers::Norm;
use crate::model::rope::Rope;

/// The target value [`Decoder::loss`] ignores (PyTorch's default `ignore_index`).
pub const IGNORE_INDEX: i64 = -100;

/// The standard deviation of the weights of a new decoder (GPT-2's).
const INIT_STD: f64 = 0.02;

/// A decoder-only transformer.
///
/// ```
/// use tch::{Device, Kind, Tensor, nn::VarStore};
/// use tokengym_lm::model::{CausalLm, Decoder, DecoderConfig, KvCache};
///
/// let vs = VarStore::new(Device::Cpu);
/// let model = Decoder::new(&vs.root(), DecoderConfig::tiny(100))?;
/// // Two left-padded prompts: [5, 6, 7] and [8].
/// let tokens = Tensor::from_slice(&[5i64, 6, 7, 0, 0, 8]).reshape([2, 3]);
/// let mask = Tensor::from_slice(&[1i64, 1, 1, 0, 0, 1]).reshape([2, 3]);
/// let full = tch::no_grad(|| model.logits(&tokens, Some(&mask)))?;
/// assert_eq!(full.size(), [2, 3, 100]);
///
/// let mut cache = model.empty_cache(2)?;
/// let first = model.logits_cached(&tokens.narrow(1, 0, 2), Some(&mask.narrow(1, 0, 2)), &mut cache)?;
/// let last = model.logits_cached(&tokens.narrow(1, 2, 1), Some(&mask), &mut cache)?;
/// assert_eq!(cache.len(), 3);
/// assert!(last.allclose(&full.narrow(1, 2, 1), 1e-5, 1e-5, false));
///
/// // Training: next-token loss (targets -100 are ignored), gradients through the VarStore.
/// let targets = Tensor::from_slice(&[6i64, 7, -100, -100, -100, -100]).reshape([2, 3]);
/// let loss = model.loss(&tokens, &targets, Some(&mask), true)?;
/// assert_eq!(loss.size(), Vec::<i64>::new());
/// # let _ = (first, Kind::Float);
/// # Ok::<(), tokengym_lm::error::Error>(())
/// ```
#[derive(Debug)]
pub struct Decoder {
    cfg: DecoderConfig,
    wte: Tensor,
    wpe: Option<Tensor>,
    rope: Option<Rope>,
    blocks: Vec<Block>,
    ln_f: Norm,
    lm_head: Option<Tensor>,
    device: Device,
}

impl Decoder {
    /// Creates the model's variables under `path` (normally `vs.root()`), in the variable
    /// store's dtype, initialised as GPT-2 is: normal(0, 0.02) weights, residual output
    /// projections scaled by `1/sqrt(2 n_layers)`, zero biases, unit norm scales. The config is
    /// validated first.
    pub fn new(path: &Path, cfg: DecoderConfig) -> Result<Self> {
        Self::build(path, cfg, INIT_STD)
    }

    /// [`Decoder::new`] with every weight zero instead of drawn: for weights about to be
    /// overwritten by a load, which then needs no random numbers and no temporary copies.
    pub(crate) fn new_for_loading(path: &Path, cfg: DecoderConfig) -> Result<Self> {
        Self::build(path, cfg, 0.0)
    }

    fn build(path: &Path, cfg: DecoderConfig, std: f64) -> Result<Self> {
        cfg.validate()?;
        let device = path.device();
        let llama = cfg.family.layout() == WeightLayout::Llama;
        let (tr, embed, layers, final_norm) = if llama {
            (path / "model", "embed_tokens", "layers", "norm")
        } else {
            (path / "transformer", "wte", "h", "ln_f")
        };
        let normal = if std == 0.0 {
            Init::Const(0.0)
        } else {
            Init::Randn {
                mean: 0.0,
                stdev: std,
            }
        };
        let wte = (&tr / embed).f_var("weight", &[cfg.vocab_size, cfg.d_model], normal)?;
        let (wpe, rope) = match cfg.position {
            PositionEncoding::Learned => (
                Some((&tr / "wpe").f_var("weight", &[cfg.context_len, cfg.d_model], normal)?),
                None,
            ),
            PositionEncoding::Rope => (
                None,
                Some(Rope::new(
                    cfg.context_len,
                    cfg.head_dim(),
                    cfg.rope_theta,
                    cfg.rope_scaling.as_ref(),
                    device,
                )?),
            ),
        };
        let h = &tr / layers;
        let blocks = (0..cfg.n_layers)
            .map(|i| Block::new(&(&h / i), &cfg, i as usize, std))
            .collect::<Result<Vec<_>>>()?;
        let ln_f = Norm::new(
            &(&tr / final_norm),
            cfg.norm,
            cfg.d_model,
            cfg.layer_norm_eps,
            cfg.bias,
        )?;
        let lm_head = if cfg.tie_embeddings {
            None
        } else {
            Some((path / "lm_head").f_var("weight", &[cfg.vocab_size, cfg.d_model], normal)?)
        };
        Ok(Self {
            cfg,
            wte,
            wpe,
            rope,
            blocks,
            ln_f,
            lm_head,
            device,
        })
    }

    /// The model's configuration.
    pub fn config(&self) -> &DecoderConfig {
        &self.cfg
    }

    /// An empty cache for `batch` rows (the same as [`CausalLm::empty_cache`]).
    pub fn new_cache(&self, batch: i64) -> Result<DecoderCache> {
        DecoderCache::new(
            batch,
            self.blocks.len(),
            self.cfg.kv_heads(),
            self.cfg.head_dim(),
            self.cfg.context_len,
            self.device,
        )
    }

    /// Logits `[B, t, V]` for tokens `[B, t]` (int64 ids in `[0, V)`).
    ///
    /// `attention_mask` (`[B, past + t]`, nonzero = real token) covers the cached and the new
    /// positions; `None` means no padding. With a cache, the new tokens follow what it holds
    /// and their keys/values are appended. `train` turns dropout on. Errors (before anything is
    /// appended to the cache) on a wrong shape or dtype, an out-of-range token id, or a
    /// sequence longer than the context.
    pub fn forward_t(
        &self,
        tokens: &Tensor,
        attention_mask: Option<&Tensor>,
        cache: Option<&mut DecoderCache>,
        train: bool,
    ) -> Result<Tensor> {
        self.forward_inner(tokens, attention_mask, cache, train, false)
    }

    /// [`forward_t`](Self::forward_t), stopping before the LM head when `hidden_only`.
    fn forward_inner(
        &self,
        tokens: &Tensor,
        attention_mask: Option<&Tensor>,
        mut cache: Option<&mut DecoderCache>,
        train: bool,
        hidden_only: bool,
    ) -> Result<Tensor> {
        let past = cache.as_ref().map_or(0, |c| c.len());
        let (b, t) = self.check_tokens(tokens, past)?;
        if let Some(c) = &cache
            && c.batch() != b
        {
            return Err(Error::Shape(format!(
                "tokens have {b} rows but the cache has {}",
                c.batch()
            )));
        }
        let total = past + t;
        let tokens = tokens.f_to_device(self.device)?;
        let key_real = match attention_mask {
            None => None,
            Some(m) => {
                if m.size() != [b, total] {
                    return Err(Error::Shape(format!(
                        "attention mask must be [B, past + t] = [{b}, {total}], got {:?}",
                        m.size()
                    )));
                }
                Some(m.f_to_device(self.device)?.f_ne(0)?)
            }
        };
        let positions = match &key_real {
            Some(real) => real
                .f_to_kind(Kind::Int64)?
                .f_cumsum(1, Kind::Int64)?
                .f_sub_scalar(1)?
                .f_clamp_min(0)?
                .f_narrow(1, past, t)?,
            None => Tensor::f_arange_start(past, total, (Kind::Int64, self.device))?
                .f_unsqueeze(0)?
                .f_expand([b, t], false)?,
        };
        let mask = AttnMask::new(past, t, key_real.as_ref(), None, self.device)?;
        let local_mask = if self.cfg.layer_attention.contains(&LayerAttention::Local) {
            Some(AttnMask::new(
                past,
                t,
                key_real.as_ref(),
                self.cfg.window_size,
                self.device,
            )?)
        } else {
            None
        };

        let mut x = Tensor::f_embedding(&self.wte, &tokens, -1, false, false)?;
        if let Some(wpe) = &self.wpe {
            x = x.f_add(&Tensor::f_embedding(wpe, &positions, -1, false, false)?)?;
        }
        x = x.f_dropout(self.cfg.dropout, train)?;
        let rope = match &self.rope {
            Some(rope) => Some(rope.tables(&positions, x.kind())?),
            None => None,
        };
        let ctx = AttnContext {
            mask: &mask,
            local_mask: local_mask.as_ref(),
            rope: rope.as_ref(),
            train,
        };
        if let Some(c) = cache.as_deref_mut() {
            c.reserve(t, x.kind())?;
        }
        for (i, block) in self.blocks.iter().enumerate() {
            x = block.forward(&x, &ctx, cache.as_deref_mut().map(|c| (c, i)))?;
        }
        if let Some(c) = cache {
            c.advance(t);
        }
        let x = self.ln_f.forward(&x)?;
        if hidden_only {
            return Ok(x);
        }
        self.head(&x)
    }

    /// The LM head applied to final hidden states `[.., d]` (logits `[.., V]`).
    fn head(&self, hidden: &Tensor) -> Result<Tensor> {
        let head = self.lm_head.as_ref().unwrap_or(&self.wte);
        Ok(hidden.f_linear::<&Tensor>(head, None)?)
    }

    /// The final hidden states `[B, T, d]` (after the last norm, i.e. the LM head's input)
    /// and the logits `[B, T, V]` of one uncached forward pass; for heads on top of the model
    /// (e.g. a PPO value head). Arguments and errors as [`forward_t`](Self::forward_t).
    pub fn hidden_states(
        &self,
        tokens: &Tensor,
        attention_mask: Option<&Tensor>,
        train: bool,
    ) -> Result<(Tensor, Tensor)> {
        let hidden = self.forward_inner(tokens, attention_mask, None, train, true)?;
        let logits = self.head(&hidden)?;
        Ok((hidden, logits))
    }

    /// Mean next-token cross-entropy over the real targets.
    ///
    /// `targets` (`[B, T]`, the same shape as `tokens`) holds at each position the id the model
    /// should predict there (usually the tokens shifted left by one); positions with
    /// [`IGNORE_INDEX`] (-100), and positions where `attention_mask` is 0, do not count. The
    /// result is the sum over counted positions divided by their number (0 when none count).
    /// `train` turns dropout on.
    pub fn loss(
        &self,
        tokens: &Tensor,
        targets: &Tensor,
        attention_mask: Option<&Tensor>,
        train: bool,
    ) -> Result<Tensor> {
        if targets.size() != tokens.size() {
            return Err(Error::Shape(format!(
                "targets {:?} must have the shape of tokens {:?}",
                targets.size(),
                tokens.size()
            )));
        }
        if targets.kind() != Kind::Int64 {
            return Err(Error::InvalidArgument(format!(
                "targets must be int64, got {:?}",
                targets.kind()
            )));
        }
        let mut targets = targets.f_to_device(self.device)?;
        if let Some(m) = attention_mask {
            if m.size() != tokens.size() {
                return Err(Error::Shape(format!(
                    "attention mask {:?} must have the shape of tokens {:?}",
                    m.size(),
                    tokens.size()
                )));
            }
            let pad = m.f_to_device(self.device)?.f_eq(0)?;
            targets = targets.f_masked_fill(&pad, IGNORE_INDEX)?;
        }
        let counted = targets.f_ne(IGNORE_INDEX)?;
        let bad = targets
            .f_lt(0)?
            .f_logical_or(&targets.f_ge(self.cfg.vocab_size)?)?
            .f_logical_and(&counted)?
            .f_any()?
            .f_int64_value(&[])?;
        if bad != 0 {
            return Err(Error::InvalidArgument(format!(
                "targets must be in [0, {}) or {IGNORE_INDEX}",
                self.cfg.vocab_size
            )));
        }
        let logits = self.forward_t(tokens, attention_mask, None, train)?;
        let v = self.cfg.vocab_size;
        let sum = logits
            .f_to_kind(Kind::Float)?
            .f_reshape([-1, v])?
            .f_cross_entropy_loss::<&Tensor>(
                &targets.f_reshape([-1])?,
                None,
                Reduction::Sum,
                IGNORE_INDEX,
                0.0,
            )?;
        let count = counted.f_sum(Kind::Float)?.f_clamp_min(1.0)?;
        Ok(sum.f_div(&count)?)
    }

    /// Checks tokens `[B, t]`: int64, non-empty, ids in `[0, V)`, `past + t` within the context.
    fn check_tokens(&self, tokens: &Tensor, past: i64) -> Result<(i64, i64)> {
        let size = tokens.size();
        if size.len() != 2 || size[0] == 0 || size[1] == 0 {
            return Err(Error::Shape(format!(
                "tokens must be a non-empty [B, T] tensor, got {size:?}"
            )));
        }
        if tokens.kind() != Kind::Int64 {
            return Err(Error::InvalidArgument(format!(
                "tokens must be int64, got {:?}",
                tokens.kind()
            )));
        }
        let (b, t) = (size[0], size[1]);
        if past + t > self.cfg.context_len {
            return Err(Error::InvalidArgument(format!(
                "sequence of {} positions ({past} cached + {t} new) exceeds the context length {}",
                past + t,
                self.cfg.context_len
            )));
        }
        let lo = tokens.f_min()?.f_int64_value(&[])?;
        let hi = tokens.f_max()?.f_int64_value(&[])?;
        if lo < 0 || hi >= self.cfg.vocab_size {
            return Err(Error::InvalidArgument(format!(
                "token ids must be in [0, {}), got values in [{lo}, {hi}]",
                self.cfg.vocab_size
            )));
        }
        Ok((b, t))
    }
}

impl CausalLm for Decoder {
    type Cache = DecoderCache;

    fn vocab_size(&self) -> i64 {
        self.cfg.vocab_size
    }

    fn context_len(&self) -> i64 {
        self.cfg.context_len
    }

    fn device(&self) -> Device {
        self.device
    }

    /// Evaluation-mode forward pass; gradients flow when grad mode is on (as for training
    /// through [`Decoder::forward_t`]), so callers that only read logits should wrap it in
    /// `tch::no_grad`.
    fn logits(&self, tokens: &Tensor, attention_mask: Option<&Tensor>) -> Result<Tensor> {
        self.forward_t(tokens, attention_mask, None, false)
    }

    fn empty_cache(&self, batch: i64) -> Result<DecoderCache> {
        self.new_cache(batch)
    }

    /// Evaluation-mode incremental forward pass, always without gradients (the cache is for
    /// inference).
    fn logits_cached(
        &self,
        tokens: &Tensor,
        attention_mask: Option<&Tensor>,
        cache: &mut DecoderCache,
    ) -> Result<Tensor> {
        tch::no_grad(|| self.forward_t(tokens, attention_mask, Some(cache), false))
    }
}

#[cfg(test)]
#[path = "decoder_tests.rs"]
mod tests;
