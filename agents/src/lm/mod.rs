//! Language models on tch: the [`CausalLm`] interface, the GPT decoder ([`Gpt`], its
//! [`GptConfig`] and [`GptCache`]) with safetensors loading/saving, decoding and scoring, and
//! teacher-forcing pre-training ([`Trainer`] on a [`TextDataset`], checkpoints in
//! [`checkpoint`]).

pub mod attention;
pub mod beam_search;
pub mod block;
pub mod causal_lm;
pub mod checkpoint;
pub mod config;
pub mod dataset;
pub mod generate;
#[cfg(test)]
mod generate_tests;
pub mod gpt;
pub mod kv_cache;
pub mod layers;
pub mod logits_processing;
pub mod lr_schedule;
pub mod rope;
pub mod scoring;
#[cfg(test)]
pub(crate) mod test_models;
pub mod trainer;
pub mod validation;
pub mod weights;

pub use causal_lm::{CausalLm, KvCache};
pub use checkpoint::{
    LoadedCheckpoint, TokenizerSource, TrainerState, load_checkpoint, save_checkpoint,
};
pub use config::{GeluKind, GptConfig, PositionEncoding};
pub use dataset::{Layout, LmBatch, TextDataset};
pub use gpt::{Gpt, IGNORE_INDEX};
pub use kv_cache::GptCache;
pub use lr_schedule::LrSchedule;
pub use trainer::{CheckpointTarget, FitEvent, FitReport, StepStats, Trainer, TrainerConfig};
pub use validation::{EvalStats, evaluate, unigram_perplexity};
pub use weights::{load_gpt, load_hf_gpt2, save_gpt};
