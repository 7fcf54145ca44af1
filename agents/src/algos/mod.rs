//! Policy-gradient algorithms and their pieces: GAE, schedules, network settings, PPO and
//! REINFORCE configurations.

pub mod action_adapter;
pub mod actor;
pub mod any_agent;
pub mod checkpoint;
pub mod gae;
pub mod net_config;
pub mod normalization;
pub mod ppo;
pub mod reinforce;
pub mod rollout;
pub mod schedule;
