//! Mistral (`model_type` `mistral`: Mistral 7B v0.1–v0.3, Mistral NeMo's layout): Llama's
//! layout (no biases, untied head unless the config says so, an optional `head_dim`) with a
//! sliding window in every layer (`sliding_window`, 4096 when absent, `null` for none; see
//! [`crate::models::sliding_window`]).

use crate::error::Result;
use crate::model::{DecoderConfig, ModelFamily};
use crate::models::hf_config::HfConfig;
use crate::models::llama::{LlamaVariant, llama_like};
use crate::models::sliding_window::WindowStyle;

/// Mistral's differences from Llama.
pub const MISTRAL: LlamaVariant = LlamaVariant {
    family: ModelFamily::Mistral,
    qkv_bias_always: false,
    qk_norm: false,
    default_head_dim: None,
    default_tied: false,
    window: WindowStyle::EveryLayer,
};

/// Reads a Mistral `config.json` (the fields of [`llama_like`]).
pub fn config(c: &HfConfig) -> Result<DecoderConfig> {
    llama_like(c, MISTRAL)
}
