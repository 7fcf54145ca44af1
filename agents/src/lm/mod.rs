//! Language models on tch: the [`CausalLm`] interface, (later) the GPT decoder, decoding and
//! scoring.

pub mod beam_search;
pub mod causal_lm;
pub mod generate;
#[cfg(test)]
mod generate_tests;
pub mod logits_processing;
pub mod scoring;
#[cfg(test)]
pub(crate) mod test_models;

pub use causal_lm::{CausalLm, KvCache};
