//! Neural-network building blocks: the [`PolicyValueNet`] interface and its two backends
//! ([`NativeActorCritic`], [`TchActorCritic`], chosen by [`build_net`]), host-side action
//! distributions, device choice, tch MLPs and tch distributions.

pub mod action_dist;
pub mod backend;
pub mod device;
pub mod distributions;
pub mod mlp;
pub mod native;
pub mod net;
pub mod tch_net;

pub use backend::build_net;
pub use device::{DeviceChoice, cuda_linked};
pub use distributions::{Categorical, DiagGaussian};
pub use mlp::{Activation, ActorCritic, Linear, Mlp, Trunk};
pub use native::NativeActorCritic;
pub use net::{ActionHead, AdamConfig, NamedTensor, NetSpec, PolicyValueNet};
pub use tch_net::TchActorCritic;
