//! The neural networks of the policy-gradient agents: the [`PolicyValueNet`] interface, its two
//! backends (chosen by [`build_net`]), host-side action distributions and the device choice.
//!
//! A policy-value network maps a batch of (already normalised) observations to the policy head's
//! outputs (logits for a categorical policy, means for a diagonal Gaussian) and a value estimate
//! per row. The losses of PPO and REINFORCE are computed once, on the host, from those outputs
//! (see [`crate::ppo::loss`]); a backend only has to run the network forward, take the gradient of
//! the loss with respect to its outputs, backpropagate it and apply an Adam step. Two backends
//! implement it:
//! - [`native`] ([`NativeActorCritic`]) — a hand-written f32 MLP with manual backpropagation
//!   and Adam on the CPU, for the small networks of classic control where libtorch's
//!   per-operation overhead dominates;
//! - `TchActorCritic` — the same network on `tch` (CPU or CUDA), trained through autograd; only
//!   with the crate's `tch` feature (on by default).
//!
//! Both use the same parameter names and layouts ([`NamedTensor`]), so a checkpoint written by
//! one loads into the other.

pub mod action_dist;
pub(crate) mod architecture;
pub(crate) mod backend;
pub(crate) mod device;
pub mod native;
pub(crate) mod net;
pub(crate) mod net_config;
#[cfg(feature = "tch")]
pub(crate) mod tch_mlp;
#[cfg(feature = "tch")]
pub(crate) mod tch_net;

pub use action_dist::ActionDist;
pub use architecture::{Activation, HIDDEN_GAIN, POLICY_GAIN, Trunk, VALUE_GAIN};
pub use backend::build_net;
pub use device::DeviceChoice;
#[cfg(feature = "tch")]
pub use device::{cuda_linked, describe_device};
pub use native::NativeActorCritic;
pub use net::{ActionHead, AdamConfig, NamedTensor, NetSpec, PolicyValueNet};
pub use net_config::{Backend, NetConfig};
#[cfg(feature = "tch")]
pub use tch_mlp::{ActorCritic, Linear, Mlp};
#[cfg(feature = "tch")]
pub use tch_net::TchActorCritic;
