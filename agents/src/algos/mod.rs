//! Policy-gradient algorithms and their pieces: GAE, schedules, network settings, PPO and
//! REINFORCE configurations.

pub mod gae;
pub mod net_config;
pub mod ppo;
pub mod ppo_loss;
pub mod reinforce;
pub mod reinforce_loss;
pub mod schedule;
