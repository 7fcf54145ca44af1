//! The decoder: the [`CausalLm`] interface every language model implements, the GPT decoder
//! ([`Decoder`], its [`DecoderConfig`] and [`DecoderCache`]), and its weights as safetensors folders
//! ([`load_gpt`], [`load_hf_gpt2`], [`save_gpt`]).
//!
//! The decoder's inner parts (attention, blocks, layers, RoPE) are private to this module:
//! they are reached through [`Decoder`].

pub(crate) mod attention;
pub(crate) mod block;
pub mod causal_lm;
pub mod config;
pub mod decoder;
pub mod kv_cache;
pub(crate) mod layers;
pub(crate) mod rope;
pub mod weights;

pub use causal_lm::{CausalLm, KvCache};
pub use config::{DecoderConfig, GeluKind, PositionEncoding};
pub use decoder::{Decoder, IGNORE_INDEX};
pub use kv_cache::DecoderCache;
pub use weights::{CONFIG_FILE, WEIGHTS_FILE, load_gpt, load_hf_gpt2, load_weights, save_gpt};
