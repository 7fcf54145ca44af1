//! Causal multi-head self-attention through libtorch's `scaled_dot_product_attention`, with
//! grouped-query heads, optional q/k RMS norms, a custom scale and local (windowed) layers.
//!
//! Parameters follow the family's Hugging Face layout ([`WeightLayout`]): GPT-2's fused `c_attn`
//! (`[d, 3d]`, `Conv1D`) and `c_proj`, or separate `q/k/v` projections and an output projection
//! (`Linear`). Which keys a query may see is described by an [`AttnMask`], built once per
//! forward pass by [`AttnMask::new`] and shared by all layers of the same kind.

use tch::nn::Path;
use tch::{Device, Kind, Tensor};

use crate::error::Result;
use crate::model::config::{DecoderConfig, WeightLayout};
use crate::model::kv_cache::DecoderCache;
use crate::model::layers::{Affine, AffineLayout, Norm};
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
    /// marks real (non-padding) positions; `window` limits a query to the keys less than that
    /// many columns back (its own column included), as local attention layers do.
    ///
    /// A query sees the keys at or before its own position that are real tokens, and always its
    /// own key: a padding query then attends to itself only, which keeps its (unused) output
    /// finite instead of NaN from an all-masked row (NaN values would leak into real rows
    /// through `0 * NaN` in the attention product).
    pub fn new(
        past: i64,
        t: i64,
        key_real: Option<&Tensor>,
        window: Option<i64>,
        device: Device,
    ) -> Result<Self> {
        let total = past + t;
        let window = window.filter(|&w| w < total);
        if key_real.is_none() && window.is_none() {
            if past == 0 {
                return Ok(Self::Causal);
            }
            if t == 1 {
                return Ok(Self::All);
            }
        }
        let q_pos = Tensor::f_arange_start(past, total, (Kind::Int64, device))?.f_unsqueeze(1)?;
        let k_pos = Tensor::f_arange(total, (Kind::Int64, device))?.f_unsqueeze(0)?;
        let mut causal = k_pos.f_le_tensor(&q_pos)?; // [t, total]
        if let Some(w) = window {
            let near = q_pos.f_sub(&k_pos)?.f_lt(w)?;
            causal = causal.f_logical_and(&near)?;
        }
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
    /// Which keys each query of a global layer may see.
    pub mask: &'a AttnMask,
    /// The mask of the local layers (`None` when the model has none).
    pub local_mask: Option<&'a AttnMask>,
    /// RoPE cos/sin tables `[B, 1, t, Dh]`, or `None` for learned positions.
    pub rope: Option<&'a (Tensor, Tensor)>,
    /// Training mode (attention dropout on).
    pub train: bool,
}

/// The query/key/value projections.
#[derive(Debug)]
enum QkvProjection {
    /// GPT-2's `c_attn`: queries, keys and values side by side.
    Fused(Affine),
    /// Separate projections.
    Split { q: Affine, k: Affine, v: Affine },
}

/// Causal self-attention of one block.
#[derive(Debug)]
pub struct CausalSelfAttention {
    qkv: QkvProjection,
    out: Affine,
    q_norm: Option<Norm>,
    k_norm: Option<Norm>,
    n_heads: i64,
    n_kv_heads: i64,
    head_dim: i64,
    scale: Option<f64>,
    upcast: bool,
    local: bool,
    dropout: f64,
}

impl CausalSelfAttention {
    /// Creates the projections under `path` (the block's attention path, e.g.
    /// `transformer.h.3.attn` or `model.layers.3.self_attn`) for layer `layer`, with weights of
    /// standard deviation `std` (the output projection's scaled by `1/sqrt(2 n_layers)`; 0:
    /// zeros, for weights about to be loaded).
    pub fn new(path: &Path, cfg: &DecoderConfig, layer: usize, std: f64) -> Result<Self> {
        let d = cfg.d_model;
        let (h, kv, dh) = (cfg.n_heads, cfg.kv_heads(), cfg.head_dim());
        let proj_std = std / (2.0 * cfg.n_layers as f64).sqrt();
        let layout = cfg.family.layout();
        let (qkv, out) = match layout {
            WeightLayout::Gpt2 => (
                QkvProjection::Fused(Affine::new(
                    &(path / "c_attn"),
                    d,
                    3 * d,
                    std,
                    cfg.has_qkv_bias(),
                    AffineLayout::Conv1d,
                )?),
                Affine::new(
                    &(path / "c_proj"),
                    d,
                    d,
                    proj_std,
                    cfg.has_attn_out_bias(),
                    AffineLayout::Conv1d,
                )?,
            ),
            WeightLayout::GptNeo | WeightLayout::Llama => {
                let lin = |name: &str, out_dim: i64| {
                    Affine::new(
                        &(path / name),
                        d,
                        out_dim,
                        std,
                        cfg.has_qkv_bias(),
                        AffineLayout::Linear,
                    )
                };
                let out_name = if layout == WeightLayout::GptNeo {
                    "out_proj"
                } else {
                    "o_proj"
                };
                (
                    QkvProjection::Split {
                        q: lin("q_proj", h * dh)?,
                        k: lin("k_proj", kv * dh)?,
                        v: lin("v_proj", kv * dh)?,
                    },
                    Affine::new(
                        &(path / out_name),
                        h * dh,
                        d,
                        proj_std,
                        cfg.has_attn_out_bias(),
                        AffineLayout::Linear,
                    )?,
                )
            }
        };
        let head_norm =
            |name: &str| Norm::new(&(path / name), cfg.norm, dh, cfg.layer_norm_eps, false);
        let (q_norm, k_norm) = if cfg.qk_norm {
            (Some(head_norm("q_norm")?), Some(head_norm("k_norm")?))
        } else {
            (None, None)
        };
        Ok(Self {
            qkv,
            out,
            q_norm,
            k_norm,
            n_heads: h,
            n_kv_heads: kv,
            head_dim: dh,
            scale: cfg.attn_scale,
            upcast: cfg.attn_f32,
            local: cfg.is_local(layer),
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
        let (b, t) = (size[0], size[1]);
        let (h, kv, dh) = (self.n_heads, self.n_kv_heads, self.head_dim);
        let (q, k, v) = match &self.qkv {
            QkvProjection::Fused(c_attn) => {
                let qkv = c_attn.forward(x)?; // [B, t, 3 H Dh]
                (
                    qkv.f_narrow(2, 0, h * dh)?,
                    qkv.f_narrow(2, h * dh, kv * dh)?,
                    qkv.f_narrow(2, (h + kv) * dh, kv * dh)?,
                )
            }
            QkvProjection::Split { q, k, v } => (q.forward(x)?, k.forward(x)?, v.forward(x)?),
        };
        let heads = |y: Tensor, n: i64, norm: Option<&Norm>| -> Result<Tensor> {
            let y = y.f_view([b, t, n, dh])?;
            let y = match norm {
                Some(norm) => norm.forward(&y)?,
                None => y,
            };
            Ok(y.f_transpose(1, 2)?) // [B, n, t, Dh]
        };
        let mut q = heads(q, h, self.q_norm.as_ref())?;
        let mut k = heads(k, kv, self.k_norm.as_ref())?;
        let v = heads(v, kv, None)?;
        if let Some((cos, sin)) = ctx.rope {
            q = Rope::apply(&q, cos, sin)?;
            k = Rope::apply(&k, cos, sin)?;
        }
        let (k, v) = match cache {
            Some((cache, layer)) => cache.append(layer, &k, &v)?,
            None => (k, v),
        };
        let dropout = if ctx.train { self.dropout } else { 0.0 };
        let mask = match (self.local, ctx.local_mask) {
            (true, Some(local)) => local,
            _ => ctx.mask,
        };
        let (mask, is_causal) = match mask {
            AttnMask::Causal => (None, true),
            AttnMask::All => (None, false),
            AttnMask::Explicit(m) => (Some(m), false),
        };
        let kind = q.kind();
        let (q, k, v) = if self.upcast && kind != Kind::Float {
            (
                q.f_to_kind(Kind::Float)?,
                k.f_to_kind(Kind::Float)?,
                v.f_to_kind(Kind::Float)?,
            )
        } else {
            (q, k, v)
        };
        let y = Tensor::f_scaled_dot_product_attention(
            &q,
            &k,
            &v,
            mask,
            dropout,
            is_causal,
            self.scale,
            kv != h,
        )?; // [B, H, t, Dh]
        let y = y
            .f_to_kind(kind)?
            .f_transpose(1, 2)?
            .f_reshape([b, t, h * dh])?;
        self.out.forward(&y)
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
            AttnMask::new(0, 5, None, None, Device::Cpu).unwrap(),
            AttnMask::Causal
        ));
        assert!(matches!(
            AttnMask::new(4, 1, None, None, Device::Cpu).unwrap(),
            AttnMask::All
        ));
    }

    #[test]
    fn explicit_mask_is_causal_with_cache_offset() {
        let AttnMask::Explicit(m) = AttnMask::new(2, 2, None, None, Device::Cpu).unwrap() else {
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
        let AttnMask::Explicit(m) = AttnMask::new(0, 4, Some(&real), None, Device::Cpu).unwrap()
        else {
            panic!("expected an explicit mask");
        };
        #[rustfmt::skip]
        let expect = [true,  false, false, false,
                      false, true,  false, false,
                      false, false, true,  false,
                      false, false, true,  true];
        assert_eq!(bools(&m), expect);
    }

    #[test]
    fn local_window_hides_keys_too_far_back() {
        // Window 2: a query sees its own column and the one before, nothing older.
        let AttnMask::Explicit(m) = AttnMask::new(0, 4, None, Some(2), Device::Cpu).unwrap() else {
            panic!("expected an explicit mask");
        };
        #[rustfmt::skip]
        let expect = [true,  false, false, false,
                      true,  true,  false, false,
                      false, true,  true,  false,
                      false, false, true,  true];
        assert_eq!(bools(&m), expect);
        // After a cache of 3, the new query at column 3 sees columns 2 and 3 only.
        let AttnMask::Explicit(m) = AttnMask::new(3, 1, None, Some(2), Device::Cpu).unwrap() else {
            panic!("expected an explicit mask");
        };
        assert_eq!(bools(&m), [false, false, true, true]);
        // A window at least as long as the sequence changes nothing: the fast path stays.
        assert!(matches!(
            AttnMask::new(0, 4, None, Some(4), Device::Cpu).unwrap(),
            AttnMask::Causal
        ));
    }
}
