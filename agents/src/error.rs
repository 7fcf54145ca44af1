//! The agents crate's error type for the policy-gradient agents and their networks.
//!
//! The bandit, planning and tabular agents report errors through `tokengym::Error`; PPO,
//! REINFORCE and the networks report them through [`Error`], which also wraps libtorch's own
//! errors when the crate is built with the `tch` feature.

/// Errors of the neural-network agents.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A libtorch operation failed (shape mismatch, bad dtype, out of memory, ...).
    #[cfg(feature = "tch")]
    #[error("libtorch: {0}")]
    Torch(#[from] tch::TchError),
    /// An argument was out of its valid range or malformed.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// Tensor shapes did not agree with what the operation needs.
    #[error("shape mismatch: {0}")]
    Shape(String),
    /// CUDA (or the tch backend) was asked for but is not usable in this process: no GPU, no
    /// driver, `libtorch_cuda.so` not linked, or the crate built without the `tch` feature.
    #[error("CUDA requested but not available: {0}")]
    CudaUnavailable(String),
    /// An error from the core crate (environments, spaces).
    #[error(transparent)]
    Core(#[from] tokengym::Error),
    /// A value that must be finite was NaN or infinite (an observation, a loss, an action).
    #[error("non-finite value: {0}")]
    NonFinite(String),
    /// A checkpoint could not be written or read, or it is corrupted or of another model.
    #[error("checkpoint {path}: {reason}")]
    Checkpoint {
        /// The checkpoint file or folder.
        path: String,
        /// What went wrong.
        reason: String,
    },
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

/// Shorthand for results of the neural-network agents.
pub type Result<T> = std::result::Result<T, Error>;
