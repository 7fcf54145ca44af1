//! Qwen3 (`model_type` `qwen3`): Llama's layout with an RMSNorm on every query and key head
//! (`q_norm`, `k_norm`, before RoPE) and a `head_dim` (128 unless given) that need not be
//! `hidden_size / num_attention_heads`.

use crate::error::Result;
use crate::model::{DecoderConfig, ModelFamily};
use crate::models::hf_config::HfConfig;
use crate::models::llama::{LlamaVariant, llama_like};
use crate::models::sliding_window::WindowStyle;

/// Qwen3's differences from Llama.
pub const QWEN3: LlamaVariant = LlamaVariant {
    family: ModelFamily::Qwen3,
    qkv_bias_always: false,
    qk_norm: true,
    default_head_dim: Some(128),
    default_tied: false,
    window: WindowStyle::PerLayer,
};

/// Reads a Qwen3 `config.json` (the fields of [`llama_like`]).
pub fn config(c: &HfConfig) -> Result<DecoderConfig> {
    llama_like(c, QWEN3)
}
