//! # tokengym-envs
//!
//! Concrete environments for [`tokengym`].

#![warn(missing_docs)]

pub mod state;

pub use state::StateVector;
