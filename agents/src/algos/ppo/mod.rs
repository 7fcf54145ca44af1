//! Proximal policy optimisation (Schulman et al. 2017) as Stable-Baselines3 implements it:
//! clipped surrogate, GAE(λ), optional value clipping, entropy bonus, per-minibatch advantage
//! normalisation, several epochs of shuffled minibatches, global gradient-norm clipping,
//! linear learning-rate/clip-range schedules, a target-KL early stop, vector environments,
//! observation/reward normalisation saved with the model, and bootstrapping from the final
//! observation of truncated (not terminated) episodes.

pub mod agent;
pub mod config;
pub mod update;

pub use agent::{LearnSummary, Ppo};
pub use config::PpoConfig;
