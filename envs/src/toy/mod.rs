//! Course toys: the environments a first reinforcement-learning course starts with.

pub mod bandit;

pub use bandit::{BanditConfig, KArmedBandit};
