//! [`Policy`]: the acting half of the RL loop, plus rollout and evaluation helpers.
//!
//! A [`Policy`] maps an observation (and an RNG, for stochastic policies) to an action.
//! Hand-written policies, random baselines and trained agents (through
//! [`AgentPolicy`](crate::agent::AgentPolicy)) all run through the same [`rollout`] /
//! [`evaluate`] loop.

use crate::env::{ActOf, Env, ObsOf};
use crate::error::Result;
use crate::seeding::{EnvRng, sub_seed};
use crate::space::Space;
use rand::SeedableRng;
use std::marker::PhantomData;

/// Maps observations of type `O` to actions of type `A`.
pub trait Policy<O, A> {
    /// Chooses an action for `obs`; stochastic policies draw from `rng`.
    fn act(&mut self, obs: &O, rng: &mut EnvRng) -> Result<A>;

    /// Called at the start of every episode (for policies with per-episode state).
    fn reset(&mut self) {}
}

impl<O, A, P: Policy<O, A> + ?Sized> Policy<O, A> for &mut P {
    fn act(&mut self, obs: &O, rng: &mut EnvRng) -> Result<A> {
        (**self).act(obs, rng)
    }
    fn reset(&mut self) {
        (**self).reset()
    }
}

impl<O, A, P: Policy<O, A> + ?Sized> Policy<O, A> for Box<P> {
    fn act(&mut self, obs: &O, rng: &mut EnvRng) -> Result<A> {
        (**self).act(obs, rng)
    }
    fn reset(&mut self) {
        (**self).reset()
    }
}

/// Samples uniformly (or as the space defines) from an action space, ignoring observations.
///
/// ```
/// use tokengym::policy::{Policy, RandomPolicy};
/// use tokengym::space::{Discrete, Space};
/// use tokengym::EnvRng;
/// use rand::SeedableRng;
/// let mut policy = RandomPolicy::new(Discrete::new(2)?);
/// let mut rng = EnvRng::seed_from_u64(0);
/// let a: i64 = policy.act(&[0.0f32; 4], &mut rng)?;
/// assert!(a == 0 || a == 1);
/// # Ok::<(), tokengym::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct RandomPolicy<S: Space> {
    space: S,
}

impl<S: Space> RandomPolicy<S> {
    /// A policy sampling from `action_space`.
    pub fn new(action_space: S) -> Self {
        RandomPolicy {
            space: action_space,
        }
    }

    /// A random policy for `env`'s action space.
    pub fn for_env<E: Env<ActSpace = S>>(env: &E) -> Self {
        RandomPolicy::new(env.action_space().clone())
    }
}

impl<O, S: Space> Policy<O, S::Value> for RandomPolicy<S> {
    fn act(&mut self, _obs: &O, rng: &mut EnvRng) -> Result<S::Value> {
        Ok(self.space.sample(rng))
    }
}

/// A policy defined by a closure `(obs, rng) -> action`.
///
/// ```
/// use tokengym::policy::{FnPolicy, Policy};
/// use tokengym::EnvRng;
/// use rand::SeedableRng;
/// // Push the cart towards the side the pole leans to.
/// let mut policy = FnPolicy::new(|obs: &[f32; 4], _rng: &mut EnvRng| i64::from(obs[2] > 0.0));
/// let mut rng = EnvRng::seed_from_u64(0);
/// assert_eq!(policy.act(&[0.0, 0.0, 0.1, 0.0], &mut rng)?, 1);
/// # Ok::<(), tokengym::Error>(())
/// ```
pub struct FnPolicy<O, A, F> {
    f: F,
    _types: PhantomData<fn(&O) -> A>,
}

impl<O, A, F: FnMut(&O, &mut EnvRng) -> A> FnPolicy<O, A, F> {
    /// Wraps `f`.
    pub fn new(f: F) -> Self {
        FnPolicy {
            f,
            _types: PhantomData,
        }
    }
}

impl<O, A, F: FnMut(&O, &mut EnvRng) -> A> Policy<O, A> for FnPolicy<O, A, F> {
    fn act(&mut self, obs: &O, rng: &mut EnvRng) -> Result<A> {
        Ok((self.f)(obs, rng))
    }
}

/// One finished episode.
#[derive(Clone, Debug, PartialEq)]
pub struct Episode {
    /// Sum of rewards.
    pub ret: f64,
    /// Number of steps.
    pub len: u64,
    /// Whether it ended by termination (as opposed to truncation).
    pub terminated: bool,
}

/// Runs one episode of `policy` in `env`, resetting with `seed`.
///
/// The policy's RNG is seeded from `seed` too, so the whole episode is reproducible. The episode
/// runs until the environment terminates or truncates it: wrap environments that never end in a
/// `TimeLimit`.
pub fn rollout<E, P>(policy: &mut P, env: &mut E, seed: u64) -> Result<Episode>
where
    E: Env,
    P: Policy<ObsOf<E>, ActOf<E>> + ?Sized,
{
    let mut rng = EnvRng::seed_from_u64(seed ^ 0x9e37_79b9_7f4a_7c15);
    policy.reset();
    let (mut obs, _) = env.reset(Some(seed))?;
    let mut episode = Episode {
        ret: 0.0,
        len: 0,
        terminated: false,
    };
    loop {
        let action = policy.act(&obs, &mut rng)?;
        let step = env.step(&action)?;
        episode.ret += step.reward;
        episode.len += 1;
        if step.done() {
            episode.terminated = step.terminated;
            return Ok(episode);
        }
        obs = step.obs;
    }
}

/// Per-episode results of [`evaluate`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Evaluation {
    /// Return of each episode.
    pub returns: Vec<f64>,
    /// Length of each episode.
    pub lengths: Vec<u64>,
}

impl Evaluation {
    /// Mean return (NaN when there are no episodes).
    pub fn mean_return(&self) -> f64 {
        self.returns.iter().sum::<f64>() / self.returns.len() as f64
    }

    /// Population standard deviation of the returns (NaN when there are no episodes).
    pub fn std_return(&self) -> f64 {
        let m = self.mean_return();
        (self.returns.iter().map(|r| (r - m) * (r - m)).sum::<f64>() / self.returns.len() as f64)
            .sqrt()
    }

    /// Mean episode length (NaN when there are no episodes).
    pub fn mean_length(&self) -> f64 {
        self.lengths.iter().sum::<u64>() as f64 / self.lengths.len() as f64
    }
}

/// Runs `episodes` episodes of `policy` in `env`; episode `i` is reset with seed `seed + i`.
///
/// ```
/// use tokengym::policy::{evaluate, FnPolicy};
/// # use tokengym::{Env, Info, Result, Step};
/// # use tokengym::space::{BoxSpace, Discrete};
/// # struct Coin { t: u32, obs: BoxSpace<f32, [f32; 1]>, act: Discrete }
/// # impl Env for Coin {
/// #     type ObsSpace = BoxSpace<f32, [f32; 1]>;
/// #     type ActSpace = Discrete;
/// #     fn observation_space(&self) -> &Self::ObsSpace { &self.obs }
/// #     fn action_space(&self) -> &Self::ActSpace { &self.act }
/// #     fn reset(&mut self, _seed: Option<u64>) -> Result<([f32; 1], Info)> { self.t = 0; Ok(([0.0], Info::new())) }
/// #     fn step(&mut self, a: &i64) -> Result<Step<[f32; 1]>> {
/// #         self.t += 1;
/// #         Ok(Step::new([self.t as f32], *a as f64, self.t == 3, false))
/// #     }
/// # }
/// # let mut env = Coin { t: 0, obs: BoxSpace::new(vec![0.0], vec![3.0], vec![1])?, act: Discrete::new(2)? };
/// // `env` pays the action as reward and ends after 3 steps.
/// let mut always_one = FnPolicy::new(|_obs: &[f32; 1], _rng: &mut tokengym::EnvRng| 1i64);
/// let eval = evaluate(&mut always_one, &mut env, 5, 0)?;
/// assert_eq!(eval.returns, vec![3.0; 5]);
/// # Ok::<(), tokengym::Error>(())
/// ```
pub fn evaluate<E, P>(policy: &mut P, env: &mut E, episodes: usize, seed: u64) -> Result<Evaluation>
where
    E: Env,
    P: Policy<ObsOf<E>, ActOf<E>> + ?Sized,
{
    let mut eval = Evaluation::default();
    for i in 0..episodes {
        let ep = rollout(policy, env, sub_seed(seed, i))?;
        eval.returns.push(ep.ret);
        eval.lengths.push(ep.len);
    }
    Ok(eval)
}
