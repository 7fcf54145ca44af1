//! The decoder: the [`CausalLm`] interface every language model implements, the decoder
//! ([`Decoder`], its [`DecoderConfig`] and [`DecoderCache`]), and its weights as safetensors folders
//! ([`load_decoder`], [`save_decoder`]; [`folder`] reads the weight files).
//!
//! The decoder's inner parts (attention, blocks, layers, RoPE) are private to this module:
//! they are reached through [`Decoder`].

pub(crate) mod attention;
pub(crate) mod block;
pub mod causal_lm;
pub mod config;
pub mod decoder;
pub mod folder;
pub mod hf_export;
pub mod kv_cache;
pub(crate) mod layers;
pub(crate) mod mlp;
pub(crate) mod rope;
pub mod weights;

pub use causal_lm::{CausalLm, KvCache};
pub use config::{
    Activation, DecoderConfig, LayerAttention, ModelFamily, NormKind, PositionEncoding,
    RopeScaling, WeightLayout,
};
pub use decoder::{Decoder, IGNORE_INDEX};
pub use hf_export::{save_hf_folder, write_hf_files};
pub use kv_cache::DecoderCache;
pub use weights::{
    CONFIG_FILE, LOAD_KINDS, WEIGHTS_FILE, load_decoder, load_weights, read_decoder_config,
    save_decoder, save_language_model,
};
