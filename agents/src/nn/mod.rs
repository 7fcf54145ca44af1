//! Neural-network building blocks on `tch`: device choice, MLPs, action distributions.

pub mod device;
pub mod distributions;
pub mod mlp;

pub use device::{DeviceChoice, cuda_linked};
pub use distributions::{Categorical, DiagGaussian};
pub use mlp::{Activation, ActorCritic, Linear, Mlp, Trunk};
