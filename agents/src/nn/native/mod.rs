//! The native backend: a hand-written `f32` MLP actor-critic with manual backpropagation, Adam
//! and gradient clipping on the CPU, for the small networks of classic control where libtorch's
//! per-operation overhead would dominate.
//!
//! All parameters live in one flat vector (`params::ParamStore`); layers (`dense::Dense`) and
//! MLPs (`mlp::NativeMlp`) refer to ranges of it, so the optimiser (`adam::Adam`) and clipping
//! are single loops. Those parts are private to the backend: [`NativeActorCritic`] is its face.

pub(crate) mod activation;
pub(crate) mod actor_critic;
pub(crate) mod adam;
pub(crate) mod dense;
pub(crate) mod gemm;
pub(crate) mod init;
pub(crate) mod mlp;
pub(crate) mod params;

pub use actor_critic::NativeActorCritic;
