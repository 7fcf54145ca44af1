//! [`Gpt`]: a GPT-2 style decoder-only transformer on tch.
//!
//! Token embedding (plus GPT-2's learned position embedding, or RoPE inside attention),
//! `n_layers` pre-LayerNorm [`Block`]s, a final LayerNorm and the LM head (the token embedding
//! when tied, otherwise `lm_head.weight` `[V, d]`). Variable names in the `VarStore` are those of
//! Hugging Face's `GPT2LMHeadModel` (`transformer.wte.weight`, `transformer.wpe.weight`,
//! `transformer.h.{i}.ln_1.weight`, `transformer.h.{i}.attn.c_attn.weight`, ...,
//! `transformer.ln_f.weight`, `lm_head.weight`), and the `Conv1D` weights are stored `[in, out]`
//! as Hugging Face stores them, so a GPT-2 checkpoint loads by name with no transposes.
//!
//! Left padding is handled through the attention mask: padding keys are hidden and positions
//! are `cumsum(mask) - 1` (clamped at 0), so a padded row gives the same logits as the unpadded
//! one at its real positions (logits at padding positions are meaningless).

use tch::nn::{Init, Path};
use tch::{Device, Kind, Reduction, Tensor};

use crate::error::{Error, Result};
use crate::lm::attention::{AttnContext, AttnMask};
use crate::lm::block::Block;
use crate::lm::causal_lm::{CausalLm, KvCache};
use crate::lm::config::{GptConfig, PositionEncoding};
use crate::lm::kv_cache::GptCache;
use crate::lm::layers::LayerNorm;
use crate::lm::rope::Rope;

/// The target value [`Gpt::loss`] ignores (PyTorch's default `ignore_index`).
pub const IGNORE_INDEX: i64 = -100;

/// A GPT decoder.
#[derive(Debug)]
pub struct Gpt {
    cfg: GptConfig,
    wte: Tensor,
    wpe: Option<Tensor>,
    rope: Option<Rope>,
    blocks: Vec<Block>,
    ln_f: LayerNorm,
    lm_head: Option<Tensor>,
    device: Device,
}

impl Gpt {
    /// Creates the model's variables under `path` (normally `vs.root()`), initialised as GPT-2
    /// is: normal(0, 0.02) weights, residual output projections scaled by `1/sqrt(2 n_layers)`,
    /// zero biases, unit LayerNorm scales. The config is validated first.
    pub fn new(path: &Path, cfg: GptConfig) -> Result<Self> {
        cfg.validate()?;
        let device = path.device();
        let tr = path / "transformer";
        let normal = Init::Randn {
            mean: 0.0,
            stdev: 0.02,
        };
        let wte = (&tr / "wte").f_var("weight", &[cfg.vocab_size, cfg.d_model], normal)?;
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
                    device,
                )?),
            ),
        };
        let h = &tr / "h";
        let blocks = (0..cfg.n_layers)
            .map(|i| Block::new(&(&h / i), &cfg))
            .collect::<Result<Vec<_>>>()?;
        let ln_f = LayerNorm::new(&(&tr / "ln_f"), cfg.d_model, cfg.layer_norm_eps, cfg.bias)?;
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
    pub fn config(&self) -> &GptConfig {
        &self.cfg
    }

    /// An empty cache for `batch` rows (the same as [`CausalLm::empty_cache`]).
    pub fn new_cache(&self, batch: i64) -> Result<GptCache> {
        GptCache::new(
            batch,
            self.blocks.len(),
            self.cfg.n_heads,
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
        mut cache: Option<&mut GptCache>,
        train: bool,
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
        let mask = AttnMask::new(past, t, key_real.as_ref(), self.device)?;

        let mut x = Tensor::f_embedding(&self.wte, &tokens, -1, false, false)?;
        if let Some(wpe) = &self.wpe {
            x = x.f_add(&Tensor::f_embedding(wpe, &positions, -1, false, false)?)?;
        }
        x = x.f_dropout(self.cfg.dropout, train)?;
        let rope = match &self.rope {
            Some(rope) => Some(rope.tables(&positions)?),
            None => None,
        };
        let ctx = AttnContext {
            mask: &mask,
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
        let head = self.lm_head.as_ref().unwrap_or(&self.wte);
        Ok(x.f_linear::<&Tensor>(head, None)?)
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
        let sum = logits.f_reshape([-1, v])?.f_cross_entropy_loss::<&Tensor>(
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

impl CausalLm for Gpt {
    type Cache = GptCache;

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
    /// through [`Gpt::forward_t`]), so callers that only read logits should wrap it in
    /// `tch::no_grad`.
    fn logits(&self, tokens: &Tensor, attention_mask: Option<&Tensor>) -> Result<Tensor> {
        self.forward_t(tokens, attention_mask, None, false)
    }

    fn empty_cache(&self, batch: i64) -> Result<GptCache> {
        self.new_cache(batch)
    }

    /// Evaluation-mode incremental forward pass, always without gradients (the cache is for
    /// inference).
    fn logits_cached(
        &self,
        tokens: &Tensor,
        attention_mask: Option<&Tensor>,
        cache: &mut GptCache,
    ) -> Result<Tensor> {
        tch::no_grad(|| self.forward_t(tokens, attention_mask, Some(cache), false))
    }
}

#[cfg(test)]
mod tests {
    use tch::nn::VarStore;

    use super::*;

    fn small(position: PositionEncoding, tied: bool) -> GptConfig {
        GptConfig {
            vocab_size: 50,
            context_len: 24,
            d_model: 32,
            n_layers: 2,
            n_heads: 4,
            position,
            tie_embeddings: tied,
            ..GptConfig::tiny(50)
        }
    }

    fn model(position: PositionEncoding, tied: bool) -> (VarStore, Gpt) {
        let vs = VarStore::new(Device::Cpu);
        let m = Gpt::new(&vs.root(), small(position, tied)).unwrap();
        (vs, m)
    }

    fn both() -> [(VarStore, Gpt); 2] {
        [
            model(PositionEncoding::Rope, true),
            model(PositionEncoding::Learned, false),
        ]
    }

    fn tokens(rows: &[&[i64]]) -> Tensor {
        let t = rows[0].len() as i64;
        Tensor::from_slice(&rows.concat()).reshape([rows.len() as i64, t])
    }

    fn max_diff(a: &Tensor, b: &Tensor) -> f64 {
        (a - b).abs().max().double_value(&[])
    }

    #[test]
    fn shapes_and_variable_names() {
        let (vs, m) = model(PositionEncoding::Learned, false);
        let x = tokens(&[&[1, 2, 3, 4, 5], &[6, 7, 8, 9, 10]]);
        assert_eq!(m.logits(&x, None).unwrap().size(), [2, 5, 50]);
        let names = vs.variables();
        for n in [
            "transformer.wte.weight",
            "transformer.wpe.weight",
            "transformer.h.1.ln_1.bias",
            "transformer.h.1.attn.c_attn.weight",
            "transformer.h.0.mlp.c_proj.weight",
            "transformer.ln_f.weight",
            "lm_head.weight",
        ] {
            assert!(names.contains_key(n), "{n} missing");
        }
        assert_eq!(names["transformer.h.0.attn.c_attn.weight"].size(), [32, 96]);
        assert_eq!(names["transformer.h.0.mlp.c_fc.weight"].size(), [32, 128]);
        let (vs, _) = model(PositionEncoding::Rope, true);
        let names = vs.variables();
        assert!(!names.contains_key("transformer.wpe.weight"));
        assert!(!names.contains_key("lm_head.weight"));
        let vs = VarStore::new(Device::Cpu);
        let no_bias = GptConfig {
            bias: false,
            ..small(PositionEncoding::Rope, true)
        };
        Gpt::new(&vs.root(), no_bias).unwrap();
        assert!(vs.variables().keys().all(|n| !n.ends_with("bias")));
    }

    #[test]
    fn changing_a_future_token_keeps_earlier_logits() {
        for (_vs, m) in both() {
            let a = m.logits(&tokens(&[&[1, 2, 3, 4, 5, 6]]), None).unwrap();
            let b = m.logits(&tokens(&[&[1, 2, 3, 4, 49, 6]]), None).unwrap();
            assert!(max_diff(&a.narrow(1, 0, 4), &b.narrow(1, 0, 4)) < 1e-6);
            assert!(max_diff(&a.narrow(1, 4, 2), &b.narrow(1, 4, 2)) > 1e-4);
        }
    }

    #[test]
    fn padded_row_matches_unpadded_row() {
        for (_vs, m) in both() {
            let alone = m.logits(&tokens(&[&[7, 8, 9]]), None).unwrap();
            let batch = tokens(&[&[0, 0, 0, 7, 8, 9], &[1, 2, 3, 4, 5, 6]]);
            let mask = tokens(&[&[0, 0, 0, 1, 1, 1], &[1, 1, 1, 1, 1, 1]]);
            let padded = m.logits(&batch, Some(&mask)).unwrap();
            let row = padded.get(0).narrow(0, 3, 3).unsqueeze(0);
            assert!(max_diff(&row, &alone) < 1e-5);
            assert!(bool::try_from(padded.isfinite().all()).unwrap());
            // The full row is unaffected by its padded neighbour.
            let full = m.logits(&tokens(&[&[1, 2, 3, 4, 5, 6]]), None).unwrap();
            assert!(max_diff(&padded.get(1), &full.get(0)) < 1e-5);
        }
    }

    /// Feeds `x` in chunks of the given sizes through the cache and compares every chunk with
    /// the full forward pass.
    fn check_cache(m: &Gpt, x: &Tensor, mask: Option<&Tensor>, chunks: &[i64]) {
        let full = m.logits(x, mask).unwrap();
        let mut cache = m.empty_cache(x.size()[0]).unwrap();
        let mut start = 0;
        for &len in chunks {
            let m_now = mask.map(|mk| mk.narrow(1, 0, start + len));
            let got = m
                .logits_cached(&x.narrow(1, start, len), m_now.as_ref(), &mut cache)
                .unwrap();
            let want = full.narrow(1, start, len);
            let real = match mask {
                Some(mk) => mk.narrow(1, start, len).ne(0).unsqueeze(-1).expand_as(&got),
                None => got.ones_like().to_kind(Kind::Bool),
            };
            let diff = (&got - &want).abs().masked_select(&real).max();
            assert!(diff.double_value(&[]) < 1e-5, "chunk at {start}");
            start += len;
            assert_eq!(cache.len(), start);
        }
    }

    #[test]
    fn cached_logits_equal_full_logits() {
        let x = tokens(&[
            &[
                0, 0, 0, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27,
            ],
            &[
                1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20,
            ],
        ]);
        let mask = x.ne(0).to_kind(Kind::Int64);
        for (_vs, m) in both() {
            // Crossing the first cache growth (16 positions) with one-token steps.
            check_cache(&m, &x, None, &[5, 1, 1, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]);
            check_cache(&m, &x, Some(&mask), &[4, 1, 1, 2, 1, 4, 7]);
            check_cache(&m, &x, Some(&mask), &[1; 20]);
        }
    }

    #[test]
    fn cache_reorder_keeps_rows_consistent() {
        let (_vs, m) = model(PositionEncoding::Rope, true);
        let x = tokens(&[&[1, 2, 3, 4, 5], &[6, 7, 8, 9, 10]]);
        let mut cache = m.empty_cache(2).unwrap();
        let _ = m
            .logits_cached(&x.narrow(1, 0, 4), None, &mut cache)
            .unwrap();
        cache.reorder(&Tensor::from_slice(&[1i64, 1, 0])).unwrap();
        let next = Tensor::from_slice(&[10i64, 10, 5]).reshape([3, 1]);
        let got = m.logits_cached(&next, None, &mut cache).unwrap();
        let full = m.logits(&x, None).unwrap().select(1, 4);
        assert!(max_diff(&got.get(0).get(0), &full.get(1)) < 1e-5);
        assert!(max_diff(&got.get(1).get(0), &full.get(1)) < 1e-5);
        assert!(max_diff(&got.get(2).get(0), &full.get(0)) < 1e-5);
    }

    #[test]
    fn bad_inputs_are_errors() {
        let (_vs, m) = model(PositionEncoding::Learned, true);
        let long = Tensor::ones([1, 25], (Kind::Int64, Device::Cpu));
        assert!(
            m.logits(&long, None)
                .unwrap_err()
                .to_string()
                .contains("context")
        );
        let big = tokens(&[&[1, 50]]);
        assert!(
            m.logits(&big, None)
                .unwrap_err()
                .to_string()
                .contains("[0, 50)")
        );
        assert!(m.logits(&tokens(&[&[-1, 2]]), None).is_err());
        let x = tokens(&[&[1, 2, 3]]);
        let bad_mask = Tensor::ones([1, 4], (Kind::Int64, Device::Cpu));
        assert!(matches!(
            m.logits(&x, Some(&bad_mask)),
            Err(Error::Shape(_))
        ));
        assert!(m.logits(&x.to_kind(Kind::Float), None).is_err());
        assert!(m.logits(&x.reshape([3]), None).is_err());
        assert!(
            m.logits(&Tensor::zeros([1, 0], (Kind::Int64, Device::Cpu)), None)
                .is_err()
        );
        let mut cache = m.empty_cache(2).unwrap();
        assert!(m.logits_cached(&x, None, &mut cache).is_err()); // batch 1 vs cache 2
        let mut cache = m.empty_cache(1).unwrap();
        let long = Tensor::ones([1, 20], (Kind::Int64, Device::Cpu));
        let _ = m.logits_cached(&long, None, &mut cache).unwrap();
        let err = m.logits_cached(&tokens(&[&[1, 2, 3, 4, 5]]), None, &mut cache);
        assert!(err.is_err());
        assert_eq!(cache.len(), 20, "a rejected call must not change the cache");
        // The cache mask must cover cached + new positions.
        let short = Tensor::ones([1, 1], (Kind::Int64, Device::Cpu));
        assert!(
            m.logits_cached(&tokens(&[&[1]]), Some(&short), &mut cache)
                .is_err()
        );
    }

    #[test]
    fn loss_is_mean_cross_entropy_over_real_targets() {
        let (_vs, m) = model(PositionEncoding::Rope, true);
        let x = tokens(&[&[0, 0, 5, 6, 7], &[1, 2, 3, 4, 5]]);
        let mask = tokens(&[&[0, 0, 1, 1, 1], &[1, 1, 1, 1, 1]]);
        let y = tokens(&[&[3, 3, 6, 7, -100], &[2, 3, 4, 5, 6]]);
        let loss = m.loss(&x, &y, Some(&mask), false).unwrap();
        // Reference: log-softmax picked at the 7 counted positions.
        let logp = m
            .logits(&x, Some(&mask))
            .unwrap()
            .log_softmax(-1, Kind::Float);
        let picks = [
            (0, 2, 6),
            (0, 3, 7),
            (1, 0, 2),
            (1, 1, 3),
            (1, 2, 4),
            (1, 3, 5),
            (1, 4, 6),
        ];
        let want = -picks
            .iter()
            .map(|&(b, t, v)| logp.double_value(&[b, t, v]))
            .sum::<f64>()
            / picks.len() as f64;
        assert!((loss.double_value(&[]) - want).abs() < 1e-5);
        loss.backward();
        assert!(m.wte.grad().abs().sum(Kind::Float).double_value(&[]) > 0.0);
        let all_ignored = Tensor::full([2, 5], IGNORE_INDEX, (Kind::Int64, Device::Cpu));
        let zero = m.loss(&x, &all_ignored, None, false).unwrap();
        assert_eq!(zero.double_value(&[]), 0.0);
        assert!(
            m.loss(
                &x,
                &tokens(&[&[50, 1, 1, 1, 1], &[1, 1, 1, 1, 1]]),
                None,
                false
            )
            .is_err()
        );
        assert!(m.loss(&x, &x.narrow(1, 0, 4), None, false).is_err());
    }

    #[test]
    fn dropout_only_in_training_mode() {
        let vs = VarStore::new(Device::Cpu);
        let cfg = GptConfig {
            dropout: 0.3,
            ..small(PositionEncoding::Rope, true)
        };
        let m = Gpt::new(&vs.root(), cfg).unwrap();
        let x = tokens(&[&[1, 2, 3, 4]]);
        let eval_a = m.forward_t(&x, None, None, false).unwrap();
        let eval_b = m.logits(&x, None).unwrap();
        assert!(eval_a.equal(&eval_b));
        let train = m.forward_t(&x, None, None, true).unwrap();
        assert!(max_diff(&train, &eval_a) > 1e-4);
    }
}
