//! The language-model crate's error type.

/// Errors of the language models, their decoding, training and RL fine-tuning.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A libtorch operation failed (shape mismatch, bad dtype, out of memory, ...).
    #[error("libtorch: {0}")]
    Torch(#[from] tch::TchError),
    /// An argument was out of its valid range or malformed.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// Tensor shapes did not agree with what the operation needs.
    #[error("shape mismatch: {0}")]
    Shape(String),
    /// A value that must be finite was NaN or infinite (a loss, a gradient, a reward).
    #[error("non-finite value: {0}")]
    NonFinite(String),
    /// A checkpoint or model folder could not be written or read, or it is corrupted or of
    /// another model.
    #[error("checkpoint {path}: {reason}")]
    Checkpoint {
        /// The checkpoint file or folder.
        path: String,
        /// What went wrong.
        reason: String,
    },
    /// An error from the core crate (file I/O, tokenizers' and prompt sets' errors, spaces).
    #[error(transparent)]
    Core(#[from] tokengym::Error),
    /// An error from the agents crate (device choice, CUDA availability).
    #[error(transparent)]
    Agents(#[from] tokengym_agents::error::Error),
}

impl Error {
    /// A checkpoint error for `path`.
    pub fn checkpoint(path: &std::path::Path, reason: impl std::fmt::Display) -> Self {
        Self::Checkpoint {
            path: path.display().to_string(),
            reason: reason.to_string(),
        }
    }
}

/// Shorthand for results of the language-model crate.
pub type Result<T> = std::result::Result<T, Error>;
