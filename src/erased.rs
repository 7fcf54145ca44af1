//! Type erasure: any `Env` as an `AnyEnv` whose spaces are `AnySpace` and values are `Value`.

use crate::env::{ActOf, Env, Step, Transition};
use crate::error::Result;
use crate::info::Info;
use crate::render::{Frame, RenderMode};
use crate::space::{AnySpace, Space, Value};

/// An environment of unknown concrete type: what [`make`](crate::registry) returns.
pub type AnyEnv = Box<dyn Env<ObsSpace = AnySpace, ActSpace = AnySpace>>;

/// Adapter that presents a typed environment with [`AnySpace`] spaces and [`Value`]
/// observations/actions. Built by [`EnvExt::erase`] / [`EnvExt::boxed`].
///
/// [`Env::step_flat`] goes straight to the inner environment, so vector environments built on
/// erased environments do not allocate per step for Box/Discrete envs.
pub struct Erased<E: Env> {
    env: E,
    obs_space: AnySpace,
    act_space: AnySpace,
}

impl<E: Env> Erased<E> {
    /// Wraps `env`.
    pub fn new(env: E) -> Self {
        let obs_space = env.observation_space().to_any();
        let act_space = env.action_space().to_any();
        Erased {
            env,
            obs_space,
            act_space,
        }
    }

    /// The typed environment inside.
    pub fn inner(&self) -> &E {
        &self.env
    }

    /// The typed environment inside, mutably.
    pub fn inner_mut(&mut self) -> &mut E {
        &mut self.env
    }

    /// Unwraps the typed environment.
    pub fn into_inner(self) -> E {
        self.env
    }

    fn action(&self, action: &Value) -> Result<ActOf<E>> {
        self.env
            .action_space()
            .from_value(action)
            .map_err(|_| crate::Error::InvalidAction {
                action: action.to_string(),
                space: self.act_space.to_string(),
            })
    }
}

impl<E: Env> Env for Erased<E> {
    type ObsSpace = AnySpace;
    type ActSpace = AnySpace;

    fn observation_space(&self) -> &AnySpace {
        &self.obs_space
    }

    fn action_space(&self) -> &AnySpace {
        &self.act_space
    }

    fn reset(&mut self, seed: Option<u64>) -> Result<(Value, Info)> {
        let (obs, info) = self.env.reset(seed)?;
        Ok((self.env.observation_space().to_value(&obs), info))
    }

    fn reset_with_options(
        &mut self,
        seed: Option<u64>,
        options: &crate::env::ResetOptions,
    ) -> Result<(Value, Info)> {
        let (obs, info) = self.env.reset_with_options(seed, options)?;
        Ok((self.env.observation_space().to_value(&obs), info))
    }

    fn step(&mut self, action: &Value) -> Result<Step<Value>> {
        let action = self.action(action)?;
        let step = self.env.step(&action)?;
        let space = self.env.observation_space();
        Ok(step.map_obs(|o| space.to_value(&o)))
    }

    fn render_modes(&self) -> &[RenderMode] {
        self.env.render_modes()
    }

    fn render(&self, mode: RenderMode) -> Result<Frame> {
        self.env.render(mode)
    }

    fn render_fps(&self) -> u32 {
        self.env.render_fps()
    }

    fn reset_flat(&mut self, seed: Option<u64>, obs_out: &mut [f32]) -> Result<Info> {
        self.env.reset_flat(seed, obs_out)
    }

    fn step_flat(&mut self, action: &Value, obs_out: &mut [f32]) -> Result<Transition> {
        let action = self.action(action)?;
        self.env.step_flat(&action, obs_out)
    }
}

/// Conveniences available on every environment.
pub trait EnvExt: Env + Sized + 'static {
    /// Wraps the environment in the type-erased [`Erased`] adapter.
    fn erase(self) -> Erased<Self> {
        Erased::new(self)
    }

    /// Boxes the environment as an [`AnyEnv`].
    fn boxed(self) -> AnyEnv {
        Box::new(Erased::new(self))
    }
}

impl<E: Env + Sized + 'static> EnvExt for E {}
