//! # tokengym-agents
//!
//! Everything that learns in the classic RL world:
//!
//! - [`ppo`] and [`reinforce`]: policy-gradient agents on any registered environment with a
//!   `Discrete` or box action space, built on the pieces in [`common`] (actor, rollouts, GAE,
//!   normalisation, checkpoints) and the networks of [`nn`] (a hand-written CPU backend, and
//!   libtorch through `tch` with the `tch` feature, on by default); [`AnyAgent`] loads and runs
//!   whichever a checkpoint holds;
//! - [`tabular`]: Q-learning, SARSA and expected SARSA; [`planning`]: value and policy
//!   iteration; [`bandit`]: the bandit agents of Sutton & Barto's chapter 2.
//!
//! Language models live in the `tokengym-lm` crate (`agents/lm/`), which builds on this one.
//!
//! ```
//! use tokengym::{Agent, Budget};
//! use tokengym_agents::nn::DeviceChoice;
//! use tokengym_agents::ppo::{Ppo, PpoConfig};
//!
//! let config = PpoConfig { num_envs: 2, n_steps: 16, batch_size: 16, n_epochs: 1, ..PpoConfig::default() };
//! let mut ppo = Ppo::new("CartPole-v1", &Default::default(), config, 0, DeviceChoice::Cpu)?;
//! ppo.learn(Budget::Steps(32), &mut ())?;
//! assert_eq!(ppo.evaluate(1, 0)?.returns.len(), 1);
//! # Ok::<(), tokengym_agents::error::Error>(())
//! ```

#![warn(missing_docs)]

mod any_agent;
pub mod bandit;
pub mod common;
pub mod error;
pub mod nn;
pub mod planning;
pub mod ppo;
pub mod reinforce;
pub mod tabular;

pub use any_agent::{AnyAgent, PolicyGradientAgent};
pub use error::{Error, Result};
