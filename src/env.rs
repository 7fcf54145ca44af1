//! The `Env` trait: Gymnasium 1.x's environment API in Rust.

use crate::error::{Error, Result};
use crate::info::Info;
use crate::registry::Kwargs;
use crate::render::{Frame, RenderMode};
use crate::space::Space;

/// The options of [`Env::reset_with_options`] (Gymnasium's `reset(options=...)` dict): named
/// numbers, flags or strings, read with [`Kwargs`]' typed getters.
pub type ResetOptions = Kwargs;

/// The observation type of environment `E`.
pub type ObsOf<E> = <<E as Env>::ObsSpace as Space>::Value;
/// The action type of environment `E`.
pub type ActOf<E> = <<E as Env>::ActSpace as Space>::Value;

/// What [`Env::step`] returns (Gymnasium's `(obs, reward, terminated, truncated, info)`).
#[derive(Clone, Debug, PartialEq)]
pub struct Step<O> {
    /// Observation after the step.
    pub obs: O,
    /// Reward for the step.
    pub reward: f64,
    /// The episode reached a terminal state of the MDP (no bootstrapping past it).
    pub terminated: bool,
    /// The episode was cut short (time limit, out of bounds); its value may be bootstrapped.
    pub truncated: bool,
    /// Auxiliary information.
    pub info: Info,
}

impl<O> Step<O> {
    /// A step with an empty info.
    pub fn new(obs: O, reward: f64, terminated: bool, truncated: bool) -> Self {
        Step {
            obs,
            reward,
            terminated,
            truncated,
            info: Info::new(),
        }
    }

    /// Whether the episode is over (`terminated || truncated`).
    pub fn done(&self) -> bool {
        self.terminated || self.truncated
    }

    /// Splits into the observation and the rest.
    pub fn split(self) -> (O, Transition) {
        (
            self.obs,
            Transition {
                reward: self.reward,
                terminated: self.terminated,
                truncated: self.truncated,
                info: self.info,
            },
        )
    }

    /// Replaces the observation, keeping the rest.
    pub fn map_obs<P>(self, f: impl FnOnce(O) -> P) -> Step<P> {
        Step {
            obs: f(self.obs),
            reward: self.reward,
            terminated: self.terminated,
            truncated: self.truncated,
            info: self.info,
        }
    }
}

/// A [`Step`] without its observation: what [`Env::step_flat`] returns.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Transition {
    /// Reward for the step.
    pub reward: f64,
    /// The episode reached a terminal state.
    pub terminated: bool,
    /// The episode was cut short.
    pub truncated: bool,
    /// Auxiliary information.
    pub info: Info,
}

impl Transition {
    /// Whether the episode is over.
    pub fn done(&self) -> bool {
        self.terminated || self.truncated
    }
}

/// An environment: the world an agent acts in (Gymnasium's `Env`).
///
/// Semantics follow Gymnasium 1.x:
/// - [`Env::reset`] starts an episode. It re-seeds the environment's RNG only when `seed` is
///   `Some`; `reset(None)` continues the current random stream.
/// - [`Env::step`] advances one step. An action outside [`Env::action_space`] (out of range, NaN,
///   wrong length) is an error, never a panic.
/// - `terminated` means the MDP reached a terminal state; `truncated` means the episode was cut
///   short (usually by a [`TimeLimit`](crate::wrappers) wrapper).
///
/// Implementing a new environment means choosing the two spaces and writing `reset` and `step`:
///
/// ```
/// use tokengym::{Env, Info, Result, Step, EnvRng};
/// use tokengym::space::{BoxSpace, Discrete, Space};
/// use rand::{RngExt, SeedableRng};
///
/// /// Walk left or right on a line; reach +3 to win.
/// struct Walk { pos: i32, obs_space: BoxSpace<f32, [f32; 1]>, act_space: Discrete, rng: EnvRng }
///
/// impl Env for Walk {
///     type ObsSpace = BoxSpace<f32, [f32; 1]>;
///     type ActSpace = Discrete;
///     fn observation_space(&self) -> &Self::ObsSpace { &self.obs_space }
///     fn action_space(&self) -> &Self::ActSpace { &self.act_space }
///     fn reset(&mut self, seed: Option<u64>) -> Result<([f32; 1], Info)> {
///         if let Some(s) = seed { self.rng = EnvRng::seed_from_u64(s); }
///         self.pos = self.rng.random_range(-1..=1);
///         Ok(([self.pos as f32], Info::new()))
///     }
///     fn step(&mut self, action: &i64) -> Result<Step<[f32; 1]>> {
///         self.act_space.check_action(action)?;
///         self.pos += if *action == 1 { 1 } else { -1 };
///         let done = self.pos.abs() >= 3;
///         Ok(Step::new([self.pos as f32], if self.pos >= 3 { 1.0 } else { 0.0 }, done, false))
///     }
/// }
///
/// let mut env = Walk {
///     pos: 0,
///     obs_space: BoxSpace::new(vec![-3.0], vec![3.0], vec![1])?,
///     act_space: Discrete::new(2)?,
///     rng: EnvRng::seed_from_u64(0),
/// };
/// let (obs, _) = env.reset(Some(42))?;
/// let step = env.step(&1)?;
/// assert_eq!(step.obs[0], obs[0] + 1.0);
/// assert!(env.step(&7).is_err()); // outside Discrete(2)
/// # Ok::<(), tokengym::Error>(())
/// ```
pub trait Env: Send {
    /// The space of observations.
    type ObsSpace: Space;
    /// The space of actions.
    type ActSpace: Space;

    /// The space observations belong to.
    fn observation_space(&self) -> &Self::ObsSpace;

    /// The space actions must belong to.
    fn action_space(&self) -> &Self::ActSpace;

    /// Starts a new episode; re-seeds the RNG only when `seed` is `Some`.
    fn reset(&mut self, seed: Option<u64>) -> Result<(ObsOf<Self>, Info)>;

    /// Gymnasium's `reset(seed=seed, options=options)`: [`Env::reset`] with options that change
    /// how the episode starts (e.g. `low`/`high` for CartPole's starting bounds).
    ///
    /// Environments that take options override this; the default accepts only empty options and
    /// fails with [`Error::InvalidArgument`] naming any key it is given. Wrappers forward the
    /// options to the environment they wrap. An unknown key is an error, not ignored.
    fn reset_with_options(
        &mut self,
        seed: Option<u64>,
        options: &ResetOptions,
    ) -> Result<(ObsOf<Self>, Info)> {
        options.check_keys_as(&[], "reset option")?;
        self.reset(seed)
    }

    /// Applies `action` and advances one step.
    fn step(&mut self, action: &ActOf<Self>) -> Result<Step<ObsOf<Self>>>;

    /// The render modes this environment supports.
    fn render_modes(&self) -> &[RenderMode] {
        &[]
    }

    /// Renders the current state.
    fn render(&self, mode: RenderMode) -> Result<Frame> {
        Err(unsupported_render_mode(mode, self.render_modes()))
    }

    /// Frames per second at which rendered episodes should play back (Gymnasium's `render_fps`).
    fn render_fps(&self) -> u32 {
        30
    }

    /// [`Env::reset`], writing the flattened observation into `obs_out` (length
    /// `observation_space().flatdim()`). Vector environments use this; it does not allocate for
    /// environments whose observations do not.
    fn reset_flat(&mut self, seed: Option<u64>, obs_out: &mut [f32]) -> Result<Info> {
        let (obs, info) = self.reset(seed)?;
        self.observation_space().flatten_into(&obs, obs_out)?;
        Ok(info)
    }

    /// [`Env::step`], writing the flattened observation into `obs_out`.
    fn step_flat(&mut self, action: &ActOf<Self>, obs_out: &mut [f32]) -> Result<Transition> {
        let (obs, transition) = self.step(action)?.split();
        self.observation_space().flatten_into(&obs, obs_out)?;
        Ok(transition)
    }
}

/// The error for a render mode that `supported` does not include.
pub fn unsupported_render_mode(mode: RenderMode, supported: &[RenderMode]) -> Error {
    Error::UnsupportedRenderMode {
        mode: mode.to_string(),
        supported: if supported.is_empty() {
            "none".to_string()
        } else {
            supported
                .iter()
                .map(|m| m.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        },
    }
}

impl<E: Env + ?Sized> Env for Box<E> {
    type ObsSpace = E::ObsSpace;
    type ActSpace = E::ActSpace;

    fn observation_space(&self) -> &Self::ObsSpace {
        (**self).observation_space()
    }
    fn action_space(&self) -> &Self::ActSpace {
        (**self).action_space()
    }
    fn reset(&mut self, seed: Option<u64>) -> Result<(ObsOf<Self>, Info)> {
        (**self).reset(seed)
    }
    fn reset_with_options(
        &mut self,
        seed: Option<u64>,
        options: &ResetOptions,
    ) -> Result<(ObsOf<Self>, Info)> {
        (**self).reset_with_options(seed, options)
    }
    fn step(&mut self, action: &ActOf<Self>) -> Result<Step<ObsOf<Self>>> {
        (**self).step(action)
    }
    fn render_modes(&self) -> &[RenderMode] {
        (**self).render_modes()
    }
    fn render(&self, mode: RenderMode) -> Result<Frame> {
        (**self).render(mode)
    }
    fn render_fps(&self) -> u32 {
        (**self).render_fps()
    }
    fn reset_flat(&mut self, seed: Option<u64>, obs_out: &mut [f32]) -> Result<Info> {
        (**self).reset_flat(seed, obs_out)
    }
    fn step_flat(&mut self, action: &ActOf<Self>, obs_out: &mut [f32]) -> Result<Transition> {
        (**self).step_flat(action, obs_out)
    }
}
