//! # tokengym-envs
//!
//! Concrete environments for [`tokengym`].
