//! One type for "a trained policy-gradient agent of some algorithm", so binaries can load and
//! evaluate any checkpoint without knowing what wrote it.

use std::path::Path;

use tokengym::MakeOptions;
use tokengym::policy::Evaluation;

use crate::common::actor::Actor;
use crate::common::checkpoint;
use crate::error::{Error, Result};
use crate::nn::device::DeviceChoice;
use crate::ppo::Ppo;
use crate::reinforce::Reinforce;

/// A PPO or REINFORCE agent.
#[derive(Debug)]
pub enum AnyAgent {
    /// A [`Ppo`] agent.
    Ppo(Box<Ppo>),
    /// A [`Reinforce`] agent.
    Reinforce(Box<Reinforce>),
}

impl AnyAgent {
    /// Loads whatever agent the checkpoint at `path` holds.
    pub fn load(path: &Path, device: DeviceChoice) -> Result<Self> {
        let (meta, _) = checkpoint::load(path)?;
        match meta.algo.as_str() {
            "ppo" => Ok(Self::Ppo(Box::new(Ppo::load(path, device)?))),
            "reinforce" => Ok(Self::Reinforce(Box::new(Reinforce::load(path, device)?))),
            other => Err(Error::checkpoint(
                path,
                format!("unknown algorithm {other:?}"),
            )),
        }
    }

    /// `"ppo"` or `"reinforce"`.
    pub fn algo(&self) -> &'static str {
        match self {
            Self::Ppo(_) => "ppo",
            Self::Reinforce(_) => "reinforce",
        }
    }

    /// The environment id the agent was made for.
    pub fn env_id(&self) -> &str {
        match self {
            Self::Ppo(a) => a.env_id(),
            Self::Reinforce(a) => a.env_id(),
        }
    }

    /// How the environment is made.
    pub fn make_options(&self) -> &MakeOptions {
        match self {
            Self::Ppo(a) => a.make_options(),
            Self::Reinforce(a) => a.make_options(),
        }
    }

    /// Environment steps trained.
    pub fn steps(&self) -> u64 {
        match self {
            Self::Ppo(a) => a.steps(),
            Self::Reinforce(a) => a.steps(),
        }
    }

    /// Episodes finished while training.
    pub fn episodes(&self) -> u64 {
        match self {
            Self::Ppo(a) => a.episodes(),
            Self::Reinforce(a) => a.episodes(),
        }
    }

    /// The acting part.
    pub fn actor(&mut self) -> &mut Actor {
        match self {
            Self::Ppo(a) => a.actor(),
            Self::Reinforce(a) => a.actor(),
        }
    }

    /// Deterministic evaluation (see [`Ppo::evaluate`]).
    pub fn evaluate(&mut self, episodes: usize, seed: u64) -> Result<Evaluation> {
        match self {
            Self::Ppo(a) => a.evaluate(episodes, seed),
            Self::Reinforce(a) => a.evaluate(episodes, seed),
        }
    }

    /// Writes a checkpoint.
    pub fn save(&self, path: &Path) -> Result<()> {
        match self {
            Self::Ppo(a) => a.save(path),
            Self::Reinforce(a) => a.save(path),
        }
    }
}
