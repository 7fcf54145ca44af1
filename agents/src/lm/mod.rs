//! Language models on tch: the [`CausalLm`] interface, (later) the GPT decoder, decoding and
//! scoring.

pub mod causal_lm;

pub use causal_lm::{CausalLm, KvCache};
