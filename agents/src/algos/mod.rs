//! Policy-gradient algorithms and their pieces: GAE, losses, schedules, network settings,
//! normalisation, rollouts, checkpoints, and the PPO and REINFORCE agents.

pub mod action_adapter;
pub mod actor;
pub mod any_agent;
pub mod checkpoint;
pub mod gae;
pub mod net_config;
pub mod normalization;
pub mod ppo;
pub mod ppo_loss;
pub mod reinforce;
pub mod reinforce_loss;
pub mod rollout;
pub mod schedule;
