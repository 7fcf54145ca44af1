//! The native backend: a hand-written `f32` MLP actor-critic with manual backpropagation, Adam
//! and gradient clipping on the CPU, for the small networks of classic control where libtorch's
//! per-operation overhead would dominate.
//!
//! All parameters live in one flat vector ([`params::ParamStore`]); layers ([`dense::Dense`])
//! and MLPs ([`mlp::NativeMlp`]) refer to ranges of it, so the optimiser ([`adam::Adam`]) and
//! clipping are single loops.

pub mod activation;
pub mod actor_critic;
pub mod adam;
pub mod dense;
pub mod gemm;
pub mod init;
pub mod mlp;
pub mod params;

pub use actor_critic::NativeActorCritic;
