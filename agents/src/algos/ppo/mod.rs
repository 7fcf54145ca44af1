//! Proximal policy optimisation.

pub mod config;

pub use config::PpoConfig;
