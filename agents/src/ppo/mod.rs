//! Proximal policy optimisation (Schulman et al. 2017) as Stable-Baselines3 implements it:
//! clipped surrogate, GAE(λ), optional value clipping, entropy bonus, per-minibatch advantage
//! normalisation, several epochs of shuffled minibatches, global gradient-norm clipping,
//! linear learning-rate/clip-range schedules, a target-KL early stop, vector environments,
//! observation/reward normalisation saved with the model, and bootstrapping from the final
//! observation of truncated (not terminated) episodes.
//!
//! [`Ppo`] is the agent, [`PpoConfig`] its hyperparameters, [`loss`] the minibatch loss and its
//! gradient.

pub(crate) mod agent;
pub(crate) mod config;
pub mod loss;
pub(crate) mod update;

pub use agent::Ppo;
pub use config::PpoConfig;
pub use loss::{PpoBatch, PpoLoss, PpoStats};
pub use update::{UpdateStats, explained_variance};
