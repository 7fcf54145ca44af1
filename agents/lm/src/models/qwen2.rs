//! Qwen2 and Qwen2.5 (`model_type` `qwen2`): Llama's layout with biases on the query, key and
//! value projections (none on the output projection or the MLP). Sliding-window layers
//! (`use_sliding_window`) as [`crate::models::sliding_window`] reads them.

use crate::error::Result;
use crate::model::{DecoderConfig, ModelFamily};
use crate::models::hf_config::HfConfig;
use crate::models::llama::{LlamaVariant, llama_like};
use crate::models::sliding_window::WindowStyle;

/// Qwen2's differences from Llama.
pub const QWEN2: LlamaVariant = LlamaVariant {
    family: ModelFamily::Qwen2,
    qkv_bias_always: true,
    qk_norm: false,
    default_head_dim: None,
    default_tied: false,
    window: WindowStyle::PerLayer,
};

/// Reads a Qwen2 `config.json` (the fields of [`llama_like`]).
pub fn config(c: &HfConfig) -> Result<DecoderConfig> {
    llama_like(c, QWEN2)
}
