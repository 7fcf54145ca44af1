//! Sequence classifiers from Hugging Face folders — BERT, DistilBERT and RoBERTa
//! `*ForSequenceClassification` models with their own tokenizers — and their scores as a reward
//! ([`ClassifierReward`]): the reward of TRL's sentiment example and of RL homework that tunes a
//! GPT-2 to write positive reviews.
//!
//! The logits equal transformers' on tiny random models of each family
//! (`tests/fixtures/gen_hf_classifiers.py`, `tests/classifier_parity.rs`).

pub mod config;
pub mod encoder;
pub mod reward;

pub use config::{ClassifierConfig, EncoderFamily, SUPPORTED_CLASSIFIER_TYPES};
pub use encoder::SequenceClassifier;
pub use reward::{ClassifierInput, ClassifierReward, ClassifierScore};
