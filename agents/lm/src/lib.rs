//! # tokengym-lm
//!
//! Language models as policies whose actions are tokens, on `tch` (libtorch):
//!
//! - [`model`]: the [`CausalLm`] interface and the decoder ([`Decoder`], [`DecoderConfig`], its KV
//!   cache) with safetensors loading and saving (our checkpoints and Hugging Face folders);
//! - [`models`]: the Hugging Face families (GPT-2, GPT-Neo, Llama, Qwen2, Qwen3) and their
//!   `config.json`;
//! - [`decoding`]: generation (greedy, sampling, constrained), beam search, the logits pipeline,
//!   scoring and multiple choice;
//! - [`pretrain`]: teacher-forcing pre-training with checkpoints and resume;
//! - [`rl`]: reinforcement learning for language models: batched rollouts scored by a
//!   [`RewardFn`](tokengym_envs::text::RewardFn), log-probabilities under the sampling
//!   transforms, KL to a frozen reference, REINFORCE, group baselines (GRPO / RLOO), PPO with a
//!   value head, reward models, and the fine-tuning loop [`rl::FineTuner`] (an
//!   [`Agent`](tokengym::Agent) whose observations are prompts and actions completions).
//!
//! Every fallible function returns this crate's [`Error`].
//!
//! ```
//! use tch::{Device, Tensor, nn::VarStore};
//! use tokengym_lm::{CausalLm, Decoder, DecoderConfig};
//!
//! let vs = VarStore::new(Device::Cpu);
//! let mut cfg = DecoderConfig::tiny(16);
//! (cfg.d_model, cfg.n_layers, cfg.n_heads, cfg.context_len) = (16, 1, 2, 8);
//! let gpt = Decoder::new(&vs.root(), cfg)?;
//! let tokens = Tensor::from_slice(&[1i64, 2, 3]).reshape([1, 3]);
//! let logits = tch::no_grad(|| gpt.logits(&tokens, None))?;
//! assert_eq!(logits.size(), [1, 3, 16]);
//! # Ok::<(), tokengym_lm::Error>(())
//! ```

#![warn(missing_docs)]

pub mod classifier;
pub mod decoding;
pub mod error;
pub mod model;
pub mod models;
pub mod pretrain;
pub mod rl;
#[cfg(test)]
pub(crate) mod test_models;
pub mod write_folder;

pub use error::{Error, Result};
pub use model::{CausalLm, Decoder, DecoderConfig, KvCache};
