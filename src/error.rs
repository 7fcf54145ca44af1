//! The one error type of the core crate.

use thiserror::Error;

/// Result alias used throughout `tokengym`.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in the core RL loop.
///
/// Every variant carries enough context to be printed as one readable line.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum Error {
    /// A space was constructed with inconsistent parameters (e.g. `low > high`, `n == 0`).
    #[error("invalid space: {0}")]
    InvalidSpace(String),
    /// An action was outside the action space (out of range, NaN, wrong length, wrong kind).
    #[error("invalid action {action} for action space {space}")]
    InvalidAction {
        /// The offending action, formatted.
        action: String,
        /// The action space, formatted.
        space: String,
    },
    /// A value did not have the kind or shape a space expects.
    #[error("value does not fit space {space}: {reason}")]
    ValueMismatch {
        /// The space, formatted.
        space: String,
        /// What was wrong.
        reason: String,
    },
    /// A buffer or array had the wrong length or shape.
    #[error("shape mismatch in {what}: expected {expected}, got {got}")]
    ShapeMismatch {
        /// Which buffer.
        what: String,
        /// Expected shape or length.
        expected: String,
        /// Actual shape or length.
        got: String,
    },
    /// `step` was called before the first `reset`.
    #[error("cannot call step() before reset(): reset the environment first")]
    ResetNeeded,
    /// `step` was called after the episode ended, without a `reset`.
    #[error(
        "cannot call step() after the episode ended (terminated or truncated): call reset() first"
    )]
    EpisodeEnded,
    /// An observation, reward or state held NaN or infinity where that is not allowed.
    #[error("non-finite {what}: {detail}")]
    NonFinite {
        /// What held the non-finite number (observation, reward, state...).
        what: String,
        /// Where in it, formatted.
        detail: String,
    },
    /// A state vector passed to `set_state` was malformed.
    #[error("invalid state: {0}")]
    InvalidState(String),
    /// The environment cannot render in the requested mode.
    #[error("render mode {mode} is not supported (supported: {supported})")]
    UnsupportedRenderMode {
        /// The requested mode.
        mode: String,
        /// The modes the environment supports.
        supported: String,
    },
    /// An environment id is not in the registry.
    #[error("unknown environment id {id:?}{}", did_you_mean(.suggestions))]
    UnknownEnv {
        /// The id that was asked for.
        id: String,
        /// Registered ids close to it, best first.
        suggestions: Vec<String>,
    },
    /// An environment id was registered twice.
    #[error("environment id {0:?} is already registered")]
    AlreadyRegistered(String),
    /// A configuration argument was invalid (bad kwarg, bad wrapper parameter, ...).
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// A vector environment's worker failed or disappeared.
    #[error("vector environment worker failed: {0}")]
    Worker(String),
    /// An encoder (GIF, ...) failed.
    #[error("encoding failed: {0}")]
    Encode(String),
    /// A file-system operation failed.
    #[error("I/O error on {path}: {source}")]
    Io {
        /// The path involved.
        path: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// An agent (policy) failed while choosing an action.
    #[error("agent failed: {0}")]
    Agent(String),
    /// `render` was called before the first `reset` (raised by the `OrderEnforcing` wrapper).
    #[error(
        "cannot call render() before reset(): reset the environment first (or disable render order enforcing)"
    )]
    RenderNeedsReset,
}

fn did_you_mean(suggestions: &[String]) -> String {
    if suggestions.is_empty() {
        String::new()
    } else {
        format!("; did you mean {}?", suggestions.join(", "))
    }
}

impl Error {
    /// Shorthand for [`Error::InvalidSpace`].
    pub fn invalid_space(msg: impl Into<String>) -> Self {
        Error::InvalidSpace(msg.into())
    }

    /// Shorthand for [`Error::InvalidArgument`].
    pub fn invalid_argument(msg: impl Into<String>) -> Self {
        Error::InvalidArgument(msg.into())
    }

    /// Shorthand for [`Error::ShapeMismatch`].
    pub fn shape(what: impl Into<String>, expected: impl ToString, got: impl ToString) -> Self {
        Error::ShapeMismatch {
            what: what.into(),
            expected: expected.to_string(),
            got: got.to_string(),
        }
    }

    /// Shorthand for [`Error::Io`].
    pub fn io(path: impl AsRef<std::path::Path>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.as_ref().display().to_string(),
            source,
        }
    }
}
