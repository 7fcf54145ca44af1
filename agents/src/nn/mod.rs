//! Neural-network building blocks: the [`PolicyValueNet`] interface, device choice, tch MLPs and
//! action distributions.

pub mod action_dist;
pub mod device;
pub mod distributions;
pub mod mlp;
pub mod net;

pub use device::{DeviceChoice, cuda_linked};
pub use distributions::{Categorical, DiagGaussian};
pub use mlp::{Activation, ActorCritic, Linear, Mlp, Trunk};
pub use net::{ActionHead, AdamConfig, NamedTensor, NetSpec, PolicyValueNet};
