//! # tokengym-agents
//!
//! Everything that learns: bandit agents, tabular reinforcement learning and dynamic
//! programming for the course toys (and, later, neural agents on `tch`).

#![warn(missing_docs)]

pub mod bandit;
pub mod planning;
pub mod tabular;
