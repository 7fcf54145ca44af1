//! One type for "a trained policy-gradient agent of some algorithm" ([`AnyAgent`]), so
//! binaries can train, load and evaluate any checkpoint without knowing what wrote it: the
//! [`Agent`] surface, plus the [`PolicyGradientAgent`] methods every such agent has.

use std::ops::{Deref, DerefMut};
use std::path::Path;

use tokengym::policy::Evaluation;
use tokengym::space::Value;
use tokengym::{Agent, Budget, Callback, LearnSummary, MakeOptions, Progress};

use crate::common::actor::Actor;
use crate::common::checkpoint;
use crate::error::{Error, Result};
use crate::nn::device::DeviceChoice;
use crate::ppo::Ppo;
use crate::reinforce::Reinforce;

/// A policy-gradient [`Agent`] on a registered environment (observations and actions as the
/// type-erased [`Value`]s of its spaces): [`Ppo`] and [`Reinforce`].
pub trait PolicyGradientAgent:
    Agent<Obs = Value, Action = Value, Error = Error> + std::fmt::Debug
{
    /// The algorithm's name as checkpoints record it (`"ppo"`, `"reinforce"`).
    fn algo(&self) -> &'static str;

    /// The environment id the agent was made for.
    fn env_id(&self) -> &str;

    /// How the environment is made (keyword arguments, step limit).
    fn make_options(&self) -> &MakeOptions;

    /// The acting part (network, distribution, normalisation).
    fn actor(&mut self) -> &mut Actor;

    /// Deterministic evaluation: `episodes` episodes of a fresh environment (seeds `seed`,
    /// `seed + 1`, ...), observations normalised with the frozen training statistics.
    fn evaluate(&mut self, episodes: usize, seed: u64) -> Result<Evaluation>;
}

impl PolicyGradientAgent for Ppo {
    fn algo(&self) -> &'static str {
        "ppo"
    }
    fn env_id(&self) -> &str {
        Ppo::env_id(self)
    }
    fn make_options(&self) -> &MakeOptions {
        Ppo::make_options(self)
    }
    fn actor(&mut self) -> &mut Actor {
        Ppo::actor(self)
    }
    fn evaluate(&mut self, episodes: usize, seed: u64) -> Result<Evaluation> {
        Ppo::evaluate(self, episodes, seed)
    }
}

impl PolicyGradientAgent for Reinforce {
    fn algo(&self) -> &'static str {
        "reinforce"
    }
    fn env_id(&self) -> &str {
        Reinforce::env_id(self)
    }
    fn make_options(&self) -> &MakeOptions {
        Reinforce::make_options(self)
    }
    fn actor(&mut self) -> &mut Actor {
        Reinforce::actor(self)
    }
    fn evaluate(&mut self, episodes: usize, seed: u64) -> Result<Evaluation> {
        Reinforce::evaluate(self, episodes, seed)
    }
}

/// A PPO or REINFORCE agent behind one type; it dereferences to [`PolicyGradientAgent`] and is
/// itself an [`Agent`].
///
/// ```
/// use tokengym::{Agent, Budget};
/// use tokengym_agents::AnyAgent;
/// use tokengym_agents::nn::DeviceChoice;
/// use tokengym_agents::reinforce::{Reinforce, ReinforceConfig};
///
/// let reinforce = Reinforce::new("CartPole-v1", &Default::default(), ReinforceConfig::default(), 0, DeviceChoice::Cpu)?;
/// let mut agent = AnyAgent::new(reinforce);
/// agent.learn(Budget::Episodes(4), &mut ())?;
/// assert_eq!((agent.algo(), agent.env_id(), agent.progress().episodes), ("reinforce", "CartPole-v1", 4));
/// # Ok::<(), tokengym_agents::error::Error>(())
/// ```
#[derive(Debug)]
pub struct AnyAgent(Box<dyn PolicyGradientAgent>);

impl AnyAgent {
    /// Wraps `agent`.
    pub fn new(agent: impl PolicyGradientAgent + 'static) -> Self {
        Self(Box::new(agent))
    }

    /// Loads whatever agent the checkpoint at `path` holds.
    pub fn load(path: &Path, device: DeviceChoice) -> Result<Self> {
        let (meta, _) = checkpoint::load(path)?;
        match meta.algo.as_str() {
            "ppo" => Ok(Self::new(Ppo::load(path, device)?)),
            "reinforce" => Ok(Self::new(Reinforce::load(path, device)?)),
            other => Err(Error::checkpoint(
                path,
                format!("unknown algorithm {other:?}"),
            )),
        }
    }
}

impl Deref for AnyAgent {
    type Target = dyn PolicyGradientAgent;
    fn deref(&self) -> &Self::Target {
        self.0.as_ref()
    }
}

impl DerefMut for AnyAgent {
    fn deref_mut(&mut self) -> &mut Self::Target {
        self.0.as_mut()
    }
}

impl Agent for AnyAgent {
    type Obs = Value;
    type Action = Value;
    type Error = Error;

    fn learn_until(
        &mut self,
        stop: Budget,
        budget: Budget,
        callback: &mut dyn Callback,
    ) -> Result<LearnSummary> {
        self.0.learn_until(stop, budget, callback)
    }
    fn progress(&self) -> Progress {
        self.0.progress()
    }
    fn act(&mut self, obs: &Value, deterministic: bool) -> Result<Value> {
        self.0.act(obs, deterministic)
    }
    fn save(&self, path: &Path) -> Result<()> {
        self.0.save(path)
    }
    fn restore(&mut self, path: &Path) -> Result<()> {
        self.0.restore(path)
    }
}
