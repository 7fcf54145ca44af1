//! The acting half of a policy-gradient agent: network, action distribution, action adapter and
//! (frozen or live) observation normalisation, with preallocated buffers.
//!
//! Training loops use [`Actor::act_batch`] on vector-environment observations; evaluation and
//! deployment use [`Actor::policy`], a [`tokengym::Policy`] over a type-erased environment's
//! values, so [`tokengym::policy::evaluate`] runs it like any other policy.

use tokengym::policy::Evaluation;
use tokengym::space::{AnySpace, Space, Value};
use tokengym::{EnvRng, MakeOptions, Policy};

use crate::common::action_adapter::ActionAdapter;
use crate::common::normalization::ObsNormalizer;
use crate::error::{Error, Result};
use crate::nn::action_dist::ActionDist;
use crate::nn::backend::build_net;
use crate::nn::device::DeviceChoice;
use crate::nn::net::PolicyValueNet;
use crate::nn::net_config::NetConfig;

/// The sampling generator of an agent after `updates` updates of a run with `seed`; `salt`
/// keeps different algorithms' streams apart. A resumed run continues with a generator of its
/// own rather than replaying the first one's draws.
pub fn sampling_rng(seed: u64, salt: u64, updates: u64) -> EnvRng {
    tokengym::seeding::rng_from_seed(Some(
        seed ^ salt ^ updates.wrapping_mul(0x9e37_79b9_7f4a_7c15),
    ))
}

/// A network that acts: outputs for `n` observations, then actions drawn or chosen from them.
pub struct Actor {
    /// The policy-value network.
    pub net: Box<dyn PolicyValueNet>,
    /// How policy actions become environment actions.
    pub adapter: ActionAdapter,
    /// The action distribution of the policy head.
    pub dist: ActionDist,
    /// Observation normalisation, if the agent uses it.
    pub obs_norm: Option<ObsNormalizer>,
    /// The environment's observation space (how single observations are flattened).
    obs_space: AnySpace,
    /// One flattened observation ([`Actor::act_value`]).
    flat: Vec<f32>,
    obs: Vec<f32>,
    policy_out: Vec<f32>,
    values: Vec<f32>,
    actions: Vec<f32>,
    log_probs: Vec<f32>,
    log_std: Vec<f32>,
}

impl std::fmt::Debug for Actor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Actor")
            .field("net", self.net.spec())
            .field("adapter", &self.adapter)
            .field("obs_norm", &self.obs_norm.is_some())
            .finish()
    }
}

/// What [`Actor::act_batch`] produced for a batch of observations (views into the actor's
/// buffers, valid until its next call).
#[derive(Debug)]
pub struct ActOutput<'a> {
    /// The (normalised) observations the network saw, `[n, obs_dim]`.
    pub obs: &'a [f32],
    /// Policy actions `[n, action_dim]` (unclipped Gaussian samples, or indices as `f32`).
    pub actions: &'a [f32],
    /// Their log-probabilities `[n]` (of the unclipped actions).
    pub log_probs: &'a [f32],
    /// Value estimates `[n]`.
    pub values: &'a [f32],
}

impl Actor {
    /// An actor over `net` for observations of `obs_space`; the network's head must match the
    /// adapter's and its input the space's flattened size.
    pub fn new(
        net: Box<dyn PolicyValueNet>,
        adapter: ActionAdapter,
        obs_space: AnySpace,
        obs_norm: Option<ObsNormalizer>,
    ) -> Result<Self> {
        let head = adapter.head();
        if obs_space.flatdim() != net.spec().obs_dim {
            return Err(Error::Shape(format!(
                "the observation space {obs_space} flattens to {} values, the network takes {}",
                obs_space.flatdim(),
                net.spec().obs_dim
            )));
        }
        if net.spec().head != head {
            return Err(Error::InvalidArgument(format!(
                "the network's head {:?} does not fit the action space ({head:?})",
                net.spec().head
            )));
        }
        if let Some(n) = &obs_norm
            && n.rms.len() != net.spec().obs_dim
        {
            return Err(Error::Shape(format!(
                "observation statistics have {} entries, the network takes {}",
                n.rms.len(),
                net.spec().obs_dim
            )));
        }
        Ok(Self {
            dist: ActionDist::new(head)?,
            net,
            adapter,
            obs_norm,
            flat: vec![0.0; obs_space.flatdim()],
            obs_space,
            obs: Vec::new(),
            policy_out: Vec::new(),
            values: Vec::new(),
            actions: Vec::new(),
            log_probs: Vec::new(),
            log_std: Vec::new(),
        })
    }

    /// Observation size.
    pub fn obs_dim(&self) -> usize {
        self.net.spec().obs_dim
    }

    fn resize(&mut self, n: usize) {
        let spec = self.net.spec();
        let (od, pd, ad) = (spec.obs_dim, spec.head.policy_dim(), spec.head.action_dim());
        self.obs.resize(n * od, 0.0);
        self.policy_out.resize(n * pd, 0.0);
        self.values.resize(n, 0.0);
        self.actions.resize(n * ad, 0.0);
        self.log_probs.resize(n, 0.0);
    }

    /// Copies raw observations `[n, obs_dim]`, checks they are finite, and normalises them
    /// (without updating the statistics) into the actor's observation buffer.
    fn load_obs(&mut self, raw: &[f32]) -> Result<usize> {
        let od = self.obs_dim();
        if raw.is_empty() || !raw.len().is_multiple_of(od) {
            return Err(Error::Shape(format!(
                "{} observation values are not whole rows of {od}",
                raw.len()
            )));
        }
        if let Some(i) = raw.iter().position(|x| !x.is_finite()) {
            return Err(Error::NonFinite(format!(
                "observation row {} has {} at index {}",
                i / od,
                raw[i],
                i % od
            )));
        }
        let n = raw.len() / od;
        self.resize(n);
        self.obs.copy_from_slice(raw);
        if let Some(norm) = &self.obs_norm {
            norm.normalize(&mut self.obs)?;
        }
        Ok(n)
    }

    /// Values `[n]` of raw observations (for bootstrapping), without acting.
    pub fn values(&mut self, raw: &[f32]) -> Result<&[f32]> {
        self.load_obs(raw)?;
        self.net
            .infer(&self.obs, &mut self.policy_out, &mut self.values)?;
        Ok(&self.values)
    }

    /// Acts on raw observations `[n, obs_dim]`: samples (or, if `deterministic`, takes the
    /// mode), and returns the normalised observations, actions, log-probabilities and values.
    pub fn act_batch(
        &mut self,
        raw: &[f32],
        deterministic: bool,
        rng: &mut EnvRng,
    ) -> Result<ActOutput<'_>> {
        self.load_obs(raw)?;
        self.net
            .infer(&self.obs, &mut self.policy_out, &mut self.values)?;
        if let Some(i) = self.policy_out.iter().position(|x| !x.is_finite()) {
            return Err(Error::NonFinite(format!(
                "the policy network output {} (row {}): the parameters have diverged",
                self.policy_out[i],
                i / self.net.spec().head.policy_dim()
            )));
        }
        self.net.log_std_into(&mut self.log_std);
        if deterministic {
            self.dist.mode(&self.policy_out, &mut self.actions)?;
            self.dist.log_prob(
                &self.policy_out,
                &self.log_std,
                &self.actions,
                &mut self.log_probs,
            )?;
        } else {
            self.dist.sample(
                &self.policy_out,
                &self.log_std,
                rng,
                &mut self.actions,
                &mut self.log_probs,
            )?;
        }
        Ok(ActOutput {
            obs: &self.obs,
            actions: &self.actions,
            log_probs: &self.log_probs,
            values: &self.values,
        })
    }

    /// Acts on one observation of the environment's observation space: flattens it as the
    /// vector environments do, acts (see [`act_batch`](Self::act_batch)) and returns the
    /// environment action (a clipped Gaussian sample, or the category).
    pub fn act_value(
        &mut self,
        obs: &Value,
        deterministic: bool,
        rng: &mut EnvRng,
    ) -> Result<Value> {
        let mut flat = std::mem::take(&mut self.flat);
        let acted = self
            .obs_space
            .flatten_into(obs, &mut flat)
            .map_err(Error::from)
            .and_then(|()| self.act_batch(&flat, deterministic, rng).map(|_| ()));
        self.flat = flat;
        acted?;
        let mut value = self.adapter.blank();
        self.adapter.write(&self.actions, &mut value)?;
        Ok(value)
    }

    /// A [`Policy`] over the environment's values (see [`act_value`](Self::act_value)).
    pub fn policy(&mut self, deterministic: bool) -> ActorPolicy<'_> {
        ActorPolicy {
            actor: self,
            deterministic,
        }
    }
}

/// An [`Actor`] acting in a single type-erased environment (see [`Actor::policy`]).
pub struct ActorPolicy<'a> {
    actor: &'a mut Actor,
    deterministic: bool,
}

impl Policy<Value, Value> for ActorPolicy<'_> {
    fn act(&mut self, obs: &Value, rng: &mut EnvRng) -> tokengym::Result<Value> {
        self.actor
            .act_value(obs, self.deterministic, rng)
            .map_err(|e| tokengym::Error::Agent(e.to_string()))
    }
}

/// Deterministic evaluation of `actor` on fresh copies of `env_id`.
pub fn evaluate_actor(
    actor: &mut Actor,
    env_id: &str,
    make: &MakeOptions,
    episodes: usize,
    seed: u64,
) -> Result<Evaluation> {
    let mut env = tokengym_envs::make_with(env_id, make)?;
    let mut policy = actor.policy(true);
    Ok(tokengym::policy::evaluate(
        &mut policy,
        &mut env,
        episodes,
        seed,
    )?)
}

/// Builds the actor of an agent for the registered environment `env_id`: reads its spaces,
/// shapes the network from `net` (initialised from `seed` on `device`) and, when
/// `normalize_obs`, adds fresh observation statistics clipped at `clip_obs`.
pub fn build_actor(
    env_id: &str,
    make: &MakeOptions,
    net: &NetConfig,
    normalize_obs: Option<f32>,
    seed: u64,
    device: DeviceChoice,
) -> Result<Actor> {
    let env = tokengym_envs::make_with(env_id, make)?;
    let obs_dim = env.observation_space().flatdim();
    let adapter = ActionAdapter::from_space(env.action_space())?;
    let spec = net.spec(obs_dim, adapter.head())?;
    let network = build_net(&spec, net.backend, device, seed)?;
    let obs_norm = normalize_obs.map(|clip| ObsNormalizer::new(obs_dim, clip));
    Actor::new(network, adapter, env.observation_space().clone(), obs_norm)
}
