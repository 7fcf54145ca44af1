//! REINFORCE (Monte-Carlo policy gradient) with optional baselines.

pub mod agent;
pub mod config;

pub use agent::{Budget, Reinforce, ReinforceSummary};
pub use config::{Baseline, ReinforceConfig};
