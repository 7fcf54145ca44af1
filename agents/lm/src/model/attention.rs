//! Causal multi-head self-attention through libtorch's `scaled_dot_product_attention`.
//!
//! Parameters follow Hugging Face GPT-2: `c_attn` (`[d, 3d]`, queries/keys/values side by side)
//! and `c_proj` (`[d, d]`), both in `Conv1D` layout. Which keys a query may see is described by
//! an [`AttnMask`], built once per forward pass by [`AttnMask::new`] and shared by all layers.

use tch::nn::Path;
use tch::{Device, Kind, Tensor};

use crate::error::Result;
use crate::model::config::DecoderConfig;
use crate::model::kv_cache::DecoderCache;
use crate::model::layers::Conv1d;
use crate::model::rope::Rope;

/// Which keys each query attends to.
#[derive(Debug)]
pub enum AttnMask {
    /// Plain causal attention over the `t` new tokens, nothing cached, no padding: libtorch's
    /// `is_causal` fast path.
    Causal,
    /// No restriction: one new token after the cache without padding sees every key.
    All,
    /// An explicit boolean mask `[B or 1, 1, t, past + t]` (`true` = may attend).
    Explicit(Tensor),
}

impl AttnMask {
    /// The mask for `t` new tokens after `past` cached ones; `key_real` (bool `[B, past + t]`)
    /// marks real (non-padding) positions.
    ///
    /// A query sees the keys at or before its own position that are real tokens, and always its
    /// own key: a padding query then attends to itself only, which keeps its (unused) output
    /// finite instead of NaN from an all-masked row (NaN values would leak into real rows
    /// through `0 * NaN` in the attention product).
    pub fn new(past: i64, t: i64, key_real: Option<&Tensor>, device: Device) -> Result<Self> {
        if key_real.is_none() {
            if past == 0 {
                return Ok(Self::Causal);
            }
            if t == 1 {
                return Ok(Self::All);
            }
        }
        let total = past + t;
        let q_pos = Tensor::f_arange_start(past, total, (Kind::Int64, device))?.f_unsqueeze(1)?;
        let k_pos = Tensor::f_arange(total, (Kind::Int64, device))?.f_unsqueeze(0)?;
        let causal = k_pos.f_le_tensor(&q_pos)?; // [t, total]
        let allowed = match key_real {
            None => causal.f_unsqueeze(0)?,
            Some(real) => {
                let own = k_pos.f_eq_tensor(&q_pos)?;
                causal
                    .f_unsqueeze(0)?
                    .f_logical_and(&real.f_unsqueeze(1)?)?
                    .f_logical_or(&own.f_unsqueeze(0)?)?
            }
        };
        Ok(Self::Explicit(allowed.f_unsqueeze(1)?))
    }
}

/// Per-forward inputs shared by every layer.
#[derive(Debug)]
pub struct AttnContext<'a> {
    /// Which keys each query may see.
    pub mask: &'a AttnMask,
    /// RoPE cos/sin tables `[B, 1, t, Dh]`, or `None` for learned positions.
    pub rope: Option<&'a (Tensor, Tensor)>,
    /// Training mode (attention dropout on).
    pub train: bool,
}

/// Causal self-attention of one block.
#[derive(Debug)]
pub struct CausalSelfAttention {
    c_attn: Conv1d,
    c_proj: Conv1d,
    n_heads: i64,
    head_dim: i64,
    dropout: f64,
}

impl CausalSelfAttention {
    /// Creates `c_attn` and `c_proj` under `path` (GPT-2 initialisation: normal(0, 0.02), the
    /// output projection scaled by `1/sqrt(2 n_layers)`).
    pub fn new(path: &Path, cfg: &DecoderConfig) -> Result<Self> {
        let d = cfg.d_model;
        let proj_std = 0.02 / (2.0 * cfg.n_layers as f64).sqrt();
        Ok(Self {
            c_attn: Conv1d::new(&(path / "c_attn"), d, 3 * d, 0.02, cfg.bias)?,
            c_proj: Conv1d::new(&(path / "c_proj"), d, d, proj_std, cfg.bias)?,
            n_heads: cfg.n_heads,
            head_dim: cfg.head_dim(),
            dropout: cfg.dropout,
        })
    }

    /// Attention output `[B, t, d]` for `x` (`[B, t, d]`); with a cache, this layer's new keys
    /// and values are appended to it and the queries attend to everything stored.
    pub fn forward(
        &self,
        x: &Tensor,
        ctx: &AttnContext<'_>,
        cache: Option<(&mut DecoderCache, usize)>,
    ) -> Result<Tensor> {
        let size = x.size();
        let (b, t, d) = (size[0], size[1], size[2]);
        let qkv = self.c_attn.forward(x)?; // [B, t, 3d]
        let heads = |part: i64| -> Result<Tensor> {
            Ok(qkv
                .f_narrow(2, part * d, d)?
                .f_view([b, t, self.n_heads, self.head_dim])?
                .f_transpose(1, 2)?) // [B, H, t, Dh]
        };
        let (mut q, mut k, v) = (heads(0)?, heads(1)?, heads(2)?);
        if let Some((cos, sin)) = ctx.rope {
            q = Rope::apply(&q, cos, sin)?;
            k = Rope::apply(&k, cos, sin)?;
        }
        let (k, v) = match cache {
            Some((cache, layer)) => cache.append(layer, &k, &v)?,
            None => (k, v),
        };
        let dropout = if ctx.train { self.dropout } else { 0.0 };
        let (mask, is_causal) = match ctx.mask {
            AttnMask::Causal => (None, true),
            AttnMask::All => (None, false),
            AttnMask::Explicit(m) => (Some(m), false),
        };
        let y = Tensor::f_scaled_dot_product_attention(
            &q, &k, &v, mask, dropout, is_causal, None, false,
        )?; // [B, H, t, Dh]
        let y = y.f_transpose(1, 2)?.f_reshape([b, t, d])?;
        self.c_proj.forward(&y)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bools(m: &Tensor) -> Vec<bool> {
        Vec::<bool>::try_from(m.reshape([-1])).unwrap()
    }

    #[test]
    fn fast_paths_without_padding() {
        assert!(matches!(
            AttnMask::new(0, 5, None, Device::Cpu).unwrap(),
            AttnMask::Causal
        ));
        assert!(matches!(
            AttnMask::new(4, 1, None, Device::Cpu).unwrap(),
            AttnMask::All
        ));
    }

    #[test]
    fn explicit_mask_is_causal_with_cache_offset() {
        let AttnMask::Explicit(m) = AttnMask::new(2, 2, None, Device::Cpu).unwrap() else {
            panic!("expected an explicit mask");
        };
        assert_eq!(m.size(), [1, 1, 2, 4]);
        #[rustfmt::skip]
        let expect = [true, true, true, false,
                      true, true, true, true];
        assert_eq!(bools(&m), expect);
    }

    #[test]
    fn padding_keys_are_hidden_but_each_query_sees_itself() {
        // One row, left-padded by 2: positions 0 and 1 are padding.
        let real = Tensor::from_slice(&[false, false, true, true]).reshape([1, 4]);
        let AttnMask::Explicit(m) = AttnMask::new(0, 4, Some(&real), Device::Cpu).unwrap() else {
            panic!("expected an explicit mask");
        };
        #[rustfmt::skip]
        let expect = [true,  false, false, false,
                      false, true,  false, false,
                      false, false, true,  false,
                      false, false, true,  true];
        assert_eq!(bools(&m), expect);
    }
}
