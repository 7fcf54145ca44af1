//! What PPO and REINFORCE share (Stable-Baselines3's `common`): the acting half of an agent
//! ([`Actor`]: network, action distribution, action adapter, observation normalisation),
//! rollout collection from vector environments ([`VecRunner`] into a [`RolloutBuffer`]), GAE and
//! discounted returns, observation and reward normalisation, schedules, the gradient buffers and
//! input checks of the host-side losses, and the checkpoint format.

pub(crate) mod action_adapter;
pub mod actor;
pub mod checkpoint;
pub mod gae;
pub(crate) mod loss_io;
pub(crate) mod normalization;
pub mod rollout;
pub(crate) mod schedule;

pub use action_adapter::ActionAdapter;
pub use actor::{ActOutput, Actor, ActorPolicy, build_actor, evaluate_actor, sampling_rng};
pub use checkpoint::{AgentCheckpoint, CHECKPOINT_FILE, CheckpointMeta, FORMAT_VERSION};
pub use gae::{Real, Steps, discounted_returns, discounted_returns_into, gae, gae_into};
pub use loss_io::OutputGrads;
pub use normalization::{NORM_EPSILON, ObsNormalizer, RewardNormalizer};
pub use rollout::{EpisodeTracker, RolloutBuffer, VecRunner};
pub use schedule::Schedule;
