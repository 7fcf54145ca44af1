//! # tokengym-agents
//!
//! Everything that learns: bandit agents, tabular reinforcement learning and dynamic
//! programming for the course toys, and the neural-network building blocks (on `tch`) of the
//! policy-gradient agents: device choice, MLPs, action distributions, GAE.

#![warn(missing_docs)]

pub mod algos;
pub mod bandit;
pub mod error;
pub mod nn;
pub mod planning;
pub mod tabular;
