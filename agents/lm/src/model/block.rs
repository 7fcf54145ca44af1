//! One pre-norm transformer block: `x + attn(norm_1(x))`, then `x + mlp(norm_2(x))`.
//!
//! Parameter names under the block's path follow the family's layout: GPT-2 and GPT-Neo use
//! `ln_1`, `attn` (GPT-Neo: `attn.attention`), `ln_2`, `mlp`; Llama and Qwen use
//! `input_layernorm`, `self_attn`, `post_attention_layernorm`, `mlp`.

use tch::Tensor;
use tch::nn::Path;

use crate::error::Result;
use crate::model::attention::{AttnContext, CausalSelfAttention};
use crate::model::config::{DecoderConfig, WeightLayout};
use crate::model::kv_cache::DecoderCache;
use crate::model::layers::Norm;
use crate::model::mlp::Mlp;

/// A transformer block.
#[derive(Debug)]
pub struct Block {
    norm_1: Norm,
    attn: CausalSelfAttention,
    norm_2: Norm,
    mlp: Mlp,
    dropout: f64,
}

impl Block {
    /// Creates the parameters of block `layer` under `path` (for example `transformer.h.3`),
    /// weights of standard deviation `std` (0: zeros).
    pub fn new(path: &Path, cfg: &DecoderConfig, layer: usize, std: f64) -> Result<Self> {
        let (norm_1, attn, norm_2) = match cfg.family.layout() {
            WeightLayout::Gpt2 => ("ln_1", path / "attn", "ln_2"),
            WeightLayout::GptNeo => ("ln_1", path / "attn" / "attention", "ln_2"),
            WeightLayout::Llama => (
                "input_layernorm",
                path / "self_attn",
                "post_attention_layernorm",
            ),
        };
        let norm = |name: &str| {
            Norm::new(
                &(path / name),
                cfg.norm,
                cfg.d_model,
                cfg.layer_norm_eps,
                cfg.bias,
            )
        };
        Ok(Self {
            norm_1: norm(norm_1)?,
            attn: CausalSelfAttention::new(&attn, cfg, layer, std)?,
            norm_2: norm(norm_2)?,
            mlp: Mlp::new(&(path / "mlp"), cfg, std)?,
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
        let a = self.attn.forward(&self.norm_1.forward(x)?, ctx, cache)?;
        let x = x.f_add(&a.f_dropout(self.dropout, ctx.train)?)?;
        let m = self.mlp.forward(&self.norm_2.forward(&x)?)?;
        Ok(x.f_add(&m.f_dropout(self.dropout, ctx.train)?)?)
    }
}
