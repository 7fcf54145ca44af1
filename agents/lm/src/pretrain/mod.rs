//! Teacher-forcing pre-training: a [`Trainer`] (AdamW, warm-up + cosine [`LrSchedule`],
//! clipping, validation) configured by a [`TrainerConfig`] on a [`TextDataset`], with atomic
//! checkpoints that hold the model, its tokenizer and the trainer's state
//! ([`save_checkpoint`], [`load_checkpoint`]).

pub mod checkpoint;
pub mod config;
pub mod dataset;
pub mod lr_schedule;
pub mod trainer;
pub mod validation;

pub use checkpoint::{
    LoadedCheckpoint, STATE_FILE, STATE_FORMAT, TOKENIZER_FILE, TokenizerKind, TokenizerSource,
    TrainerState, load_checkpoint, load_checkpoint_as, read_state, save_checkpoint,
};
pub use config::TrainerConfig;
pub use dataset::{Layout, LmBatch, TextDataset};
pub use lr_schedule::LrSchedule;
pub use trainer::{CheckpointTarget, FitEvent, FitReport, StepStats, Trainer};
pub use validation::{EvalStats, evaluate, unigram_perplexity};
