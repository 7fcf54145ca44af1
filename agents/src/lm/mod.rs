//! Language models on tch: the [`CausalLm`] interface, the GPT decoder ([`Gpt`], its
//! [`GptConfig`] and [`GptCache`]) with safetensors loading/saving, decoding and scoring.

pub mod attention;
pub mod beam_search;
pub mod block;
pub mod causal_lm;
pub mod config;
pub mod generate;
#[cfg(test)]
mod generate_tests;
pub mod gpt;
pub mod kv_cache;
pub mod layers;
pub mod logits_processing;
pub mod rope;
pub mod scoring;
#[cfg(test)]
pub(crate) mod test_models;
pub mod weights;

pub use causal_lm::{CausalLm, KvCache};
pub use config::{GeluKind, GptConfig, PositionEncoding};
pub use gpt::{Gpt, IGNORE_INDEX};
pub use kv_cache::GptCache;
pub use weights::{load_gpt, load_hf_gpt2, save_gpt};
