//! # tokengym-envs
//!
//! Concrete environments for [`tokengym`].

#![warn(missing_docs)]

pub mod classic_control;
pub mod state;

pub use state::StateVector;
