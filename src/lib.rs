//! # tokengym
//!
//! Gym-style reinforcement learning in Rust. This core crate holds the vocabulary of the RL loop
//! and nothing that needs a neural-network library:
//!
//! - [`space`]: `Discrete`, `BoxSpace`, `MultiDiscrete`, `MultiBinary`, `TupleSpace`,
//!   `DictSpace`, `TokenSeq`, and the type-erased `AnySpace` / `Value`;
//! - [`Env`]: Gymnasium 1.x semantics (`reset(seed)`, `step -> Step { obs, reward, terminated,
//!   truncated, info }`), rendering to text or pixels;
//! - [`AnyEnv`]: any environment behind one type, as the registry hands them out.
//! - [`wrappers`]: Gymnasium's wrappers (`TimeLimit`, `OrderEnforcing`, `NormalizeObservation`,
//!   `RecordVideo`, ...) with builder methods from [`WrapperExt`];
//! - [`RunningMeanStd`]: mergeable, serializable running statistics for normalization;
//! - [`registry`]: `register` / `make` environments by id (`make("CartPole-v1")`), with
//!   Gymnasium's default wrapper stack;
//! - [`checker`]: [`check_env`], Gymnasium's environment checker.
//!
//! Concrete environments live in the `tokengym-envs` crate.
//!
//! ```
//! use tokengym::space::{Discrete, Space};
//! use tokengym::EnvRng;
//! use rand::SeedableRng;
//!
//! let actions = Discrete::new(2)?;
//! let mut rng = EnvRng::seed_from_u64(7);
//! let a = actions.sample(&mut rng);
//! assert!(actions.contains(&a));
//! # Ok::<(), tokengym::Error>(())
//! ```

#![warn(missing_docs)]

pub mod agent;
pub mod atomic_write;
pub mod checker;
pub mod env;
pub mod erased;
pub mod error;
pub mod evaluation;
pub mod info;
pub mod policy;
pub mod registry;
pub mod render;
pub mod running_stats;
pub mod seeding;
pub mod space;
pub mod vector;
pub mod wrappers;

pub use agent::{Agent, Budget, BudgetUnit, Callback, LearnSummary, Progress};
pub use checker::check_env;
pub use env::{ActOf, Env, ObsOf, ResetOptions, Step, Transition};
pub use erased::{AnyEnv, EnvExt, Erased};
pub use error::{Error, Result};
pub use info::{EpisodeStats, Info, InfoValue};
pub use policy::Policy;
pub use registry::{EnvSpec, Kwargs, MakeOptions, make, make_with, register};
pub use render::{Frame, RenderMode, RgbFrame};
pub use running_stats::RunningMeanStd;
pub use seeding::EnvRng;
pub use wrappers::WrapperExt;
