//! REINFORCE (Monte-Carlo policy gradient) with optional baselines.

pub mod config;

pub use config::{Baseline, ReinforceConfig};
