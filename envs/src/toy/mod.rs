//! Course toys: the environments a first reinforcement-learning course starts with.

pub mod bandit;
pub mod gridworld;
pub mod mdp;

pub use bandit::{BanditConfig, KArmedBandit};
pub use gridworld::{GridWorld, GridWorldConfig, TerminalReward};
pub use mdp::{Mdp, Outcome};
