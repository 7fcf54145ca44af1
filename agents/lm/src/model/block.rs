//! One pre-LayerNorm transformer block (GPT-2): `x + attn(ln_1(x))`, then `x + mlp(ln_2(x))`,
//! with the feed-forward layer `c_proj(gelu(c_fc(h)))`.
//!
//! Parameter names under the block's path: `ln_1`, `attn.c_attn`, `attn.c_proj`, `ln_2`,
//! `mlp.c_fc`, `mlp.c_proj` (each with `weight` and, with biases, `bias`).

use tch::Tensor;
use tch::nn::Path;

use crate::error::Result;
use crate::model::attention::{AttnContext, CausalSelfAttention};
use crate::model::config::{DecoderConfig, GeluKind};
use crate::model::kv_cache::DecoderCache;
use crate::model::layers::{Conv1d, LayerNorm};

/// A transformer block.
#[derive(Debug)]
pub struct Block {
    ln_1: LayerNorm,
    attn: CausalSelfAttention,
    ln_2: LayerNorm,
    c_fc: Conv1d,
    c_proj: Conv1d,
    activation: GeluKind,
    dropout: f64,
}

impl Block {
    /// Creates the block's parameters under `path` (for example `transformer.h.3`).
    pub fn new(path: &Path, cfg: &DecoderConfig) -> Result<Self> {
        let (d, ff) = (cfg.d_model, cfg.ff_dim());
        let mlp = path / "mlp";
        let proj_std = 0.02 / (2.0 * cfg.n_layers as f64).sqrt();
        Ok(Self {
            ln_1: LayerNorm::new(&(path / "ln_1"), d, cfg.layer_norm_eps, cfg.bias)?,
            attn: CausalSelfAttention::new(&(path / "attn"), cfg)?,
            ln_2: LayerNorm::new(&(path / "ln_2"), d, cfg.layer_norm_eps, cfg.bias)?,
            c_fc: Conv1d::new(&(&mlp / "c_fc"), d, ff, 0.02, cfg.bias)?,
            c_proj: Conv1d::new(&(&mlp / "c_proj"), ff, d, proj_std, cfg.bias)?,
            activation: cfg.activation,
            dropout: cfg.dropout,
        })
    }

    /// The block applied to the residual stream `x` (`[B, t, d]`); `cache` is this block's
    /// layer of the model's cache, if any.
    pub fn forward(
        &self,
        x: &Tensor,
        ctx: &AttnContext<'_>,
        cache: Option<(&mut DecoderCache, usize)>,
    ) -> Result<Tensor> {
        let a = self.attn.forward(&self.ln_1.forward(x)?, ctx, cache)?;
        let x = x.f_add(&a.f_dropout(self.dropout, ctx.train)?)?;
        let h = self
            .c_fc
            .forward(&self.ln_2.forward(&x)?)?
            .f_gelu(self.activation.torch_name())?;
        let m = self.c_proj.forward(&h)?;
        Ok(x.f_add(&m.f_dropout(self.dropout, ctx.train)?)?)
    }
}
