//! Reusable pieces of the policy-gradient algorithms.

pub mod gae;
