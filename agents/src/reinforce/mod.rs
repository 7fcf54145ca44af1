//! REINFORCE (Monte-Carlo policy gradient) with optional baselines: [`Reinforce`] is the agent,
//! [`ReinforceConfig`] its hyperparameters, [`loss`] the batch loss and its gradient.

pub(crate) mod agent;
pub(crate) mod config;
pub mod loss;

pub use agent::Reinforce;
pub use config::{Baseline, ReinforceConfig};
pub use loss::{
    ReinforceBatch, ReinforceLoss, ReinforceStats, ValueTargets, baseline_weights, reward_to_go,
};
