//! Wrappers: environments that change another environment's behaviour (Gymnasium's
//! `gymnasium.wrappers`).
//!
//! Every wrapper is a struct generic over the wrapped environment `E: Env` that implements
//! [`Env`] itself, so wrappers stack: `env.time_limit(200)?.order_enforcing()`. Each has
//! `inner()`, `inner_mut()` and `into_inner()`. Wrappers that leave observations alone forward
//! [`Env::reset_flat`] / [`Env::step_flat`] to the wrapped environment, so a stack of them adds
//! no allocation to the vector-env hot path.
//!
//! [`WrapperExt`] adds builder methods for all of them to every environment.
//!
//! ```
//! use tokengym::space::{BoxSpace, Space};
//! use tokengym::wrappers::WrapperExt;
//! use tokengym::{Env, Info, Result, Step};
//!
//! /// Moves by the action each step; never ends by itself.
//! struct Drift { x: f32, obs: BoxSpace<f32, [f32; 1]>, act: BoxSpace<f32, [f32; 1]> }
//! impl Env for Drift {
//!     type ObsSpace = BoxSpace<f32, [f32; 1]>;
//!     type ActSpace = BoxSpace<f32, [f32; 1]>;
//!     fn observation_space(&self) -> &Self::ObsSpace { &self.obs }
//!     fn action_space(&self) -> &Self::ActSpace { &self.act }
//!     fn reset(&mut self, _seed: Option<u64>) -> Result<([f32; 1], Info)> {
//!         self.x = 0.0;
//!         Ok(([self.x], Info::new()))
//!     }
//!     fn step(&mut self, a: &[f32; 1]) -> Result<Step<[f32; 1]>> {
//!         self.act.check_action(a)?;
//!         self.x += a[0];
//!         Ok(Step::new([self.x], -self.x.abs() as f64, false, false))
//!     }
//! }
//!
//! let drift = Drift {
//!     x: 0.0,
//!     obs: BoxSpace::uniform(f32::NEG_INFINITY, f32::INFINITY, vec![1])?,
//!     act: BoxSpace::uniform(-1.0, 1.0, vec![1])?,
//! };
//! let mut env = drift
//!     .clip_action()?            // any finite action is accepted and clipped to [-1, 1]
//!     .time_limit(3)?            // episodes end after 3 steps
//!     .record_episode_statistics()
//!     .order_enforcing();
//! assert!(env.step(&[0.5]).is_err()); // no step before reset
//! env.reset(Some(0))?;
//! env.step(&[5.0])?;
//! env.step(&[0.5])?;
//! let last = env.step(&[0.5])?;
//! assert!(last.truncated);
//! assert_eq!(last.obs, [2.0]);
//! let stats = *last.info.episode().expect("statistics on the last step");
//! assert_eq!((stats.ret, stats.len), (-4.5, 3));
//! # Ok::<(), tokengym::Error>(())
//! ```

/// Inside `impl Env for Wrapper<E>`: forwards `render_modes`, `render` and `render_fps` to the
/// wrapped environment in the field `env`.
macro_rules! forward_render {
    () => {
        fn render_modes(&self) -> &[$crate::RenderMode] {
            self.env.render_modes()
        }
        fn render(&self, mode: $crate::RenderMode) -> $crate::Result<$crate::Frame> {
            self.env.render(mode)
        }
        fn render_fps(&self) -> u32 {
            self.env.render_fps()
        }
    };
}

/// Inside `impl Env for Wrapper<E>`: `reset(seed)` as `reset_with_options(seed, no options)`,
/// so that a wrapper writes its reset once, in `reset_with_options`, and forwards Gymnasium's
/// reset options to the environment it wraps.
macro_rules! reset_via_options {
    () => {
        fn reset(
            &mut self,
            seed: Option<u64>,
        ) -> $crate::Result<($crate::ObsOf<Self>, $crate::Info)> {
            self.reset_with_options(seed, &$crate::ResetOptions::new())
        }
    };
}

/// Inside `impl Env for Wrapper<E>` whose spaces are the wrapped environment's: forwards
/// `observation_space` and `action_space`.
macro_rules! forward_spaces {
    () => {
        fn observation_space(&self) -> &Self::ObsSpace {
            self.env.observation_space()
        }
        fn action_space(&self) -> &Self::ActSpace {
            self.env.action_space()
        }
    };
}

/// Inside a wrapper's inherent `impl`: `inner`, `inner_mut` and `into_inner` over the field `env`.
macro_rules! inner_accessors {
    () => {
        /// The wrapped environment.
        pub fn inner(&self) -> &E {
            &self.env
        }

        /// The wrapped environment, mutably.
        pub fn inner_mut(&mut self) -> &mut E {
            &mut self.env
        }

        /// Unwraps the environment.
        pub fn into_inner(self) -> E {
            self.env
        }
    };
}

mod autoreset;
mod clip_action;
mod frame_stack;
mod map_action;
mod normalize_observation;
mod normalize_reward;
mod order_enforcing;
mod passive_env_checker;
mod record_episode_statistics;
mod record_video;
mod rescale_action;
mod time_limit;
mod transform;

#[cfg(test)]
pub(crate) mod test_envs;

pub use autoreset::Autoreset;
pub use clip_action::{Clip, ClipAction};
pub use frame_stack::{FramePadding, FrameStack};
pub use map_action::{BoxActionMap, MapBoxAction};
pub use normalize_observation::{NORMALIZE_EPSILON, NormalizeObservation};
pub use normalize_reward::{NORMALIZE_REWARD_GAMMA, NormalizeReward};
pub use order_enforcing::OrderEnforcing;
pub use passive_env_checker::PassiveEnvChecker;
pub use record_episode_statistics::{DEFAULT_STATS_BUFFER, RecordEpisodeStatistics};
pub use record_video::{DEFAULT_GIF_SPEED, DEFAULT_VIDEO_PREFIX, EpisodeTrigger, RecordVideo};
pub use rescale_action::{Rescale, RescaleAction};
pub use time_limit::TimeLimit;
pub use transform::{TransformObservation, TransformReward};

use crate::env::{Env, ObsOf};
use crate::error::Result;
use crate::space::{BoxElement, BoxSpace, BoxStorage, Space};

/// Builder methods that wrap an environment: `env.time_limit(500)?.order_enforcing()`.
pub trait WrapperExt: Env + Sized {
    /// Wraps in [`TimeLimit`] (fails when `max_episode_steps == 0`).
    fn time_limit(self, max_episode_steps: u64) -> Result<TimeLimit<Self>> {
        TimeLimit::new(self, max_episode_steps)
    }

    /// Wraps in [`OrderEnforcing`] (render before reset is an error too).
    fn order_enforcing(self) -> OrderEnforcing<Self> {
        OrderEnforcing::new(self)
    }

    /// Wraps in [`PassiveEnvChecker`].
    fn passive_env_checker(self) -> PassiveEnvChecker<Self> {
        PassiveEnvChecker::new(self)
    }

    /// Wraps in [`RecordEpisodeStatistics`] (queues of the last 100 episodes).
    fn record_episode_statistics(self) -> RecordEpisodeStatistics<Self> {
        RecordEpisodeStatistics::new(self)
    }

    /// Wraps in [`NormalizeObservation`] (epsilon 1e-8); needs `f32` box observations.
    fn normalize_observation<V>(self) -> Result<NormalizeObservation<Self>>
    where
        Self: Env<ObsSpace = BoxSpace<f32, V>>,
        V: BoxStorage<f32>,
    {
        NormalizeObservation::new(self)
    }

    /// Wraps in [`NormalizeReward`] with discount `gamma` (epsilon 1e-8).
    fn normalize_reward(self, gamma: f64) -> Result<NormalizeReward<Self>> {
        NormalizeReward::with_params(self, gamma, NORMALIZE_EPSILON)
    }

    /// Wraps in [`ClipAction`]; needs box actions.
    fn clip_action<T, V>(self) -> Result<ClipAction<Self>>
    where
        Self: Env<ActSpace = BoxSpace<T, V>>,
        T: BoxElement,
        V: BoxStorage<T>,
    {
        ClipAction::new(self)
    }

    /// Wraps in [`RescaleAction`] from `[min_action, max_action]`; needs bounded box actions.
    fn rescale_action<T, V>(self, min_action: T, max_action: T) -> Result<RescaleAction<Self>>
    where
        Self: Env<ActSpace = BoxSpace<T, V>>,
        T: BoxElement,
        V: BoxStorage<T>,
    {
        RescaleAction::new(self, min_action, max_action)
    }

    /// Wraps in [`TransformObservation`], mapping observations with `f` into `obs_space`.
    fn transform_observation<F, S>(self, f: F, obs_space: S) -> TransformObservation<Self, F, S>
    where
        S: Space,
        F: FnMut(ObsOf<Self>) -> S::Value + Send,
    {
        TransformObservation::new(self, f, obs_space)
    }

    /// Wraps in [`TransformReward`], mapping rewards with `f`.
    fn transform_reward<F>(self, f: F) -> TransformReward<Self, F>
    where
        F: FnMut(f64) -> f64 + Send,
    {
        TransformReward::new(self, f)
    }

    /// Wraps in [`FrameStack`] of `stack_size` observations, padded with the reset observation.
    fn frame_stack(self, stack_size: usize) -> Result<FrameStack<Self>> {
        FrameStack::new(self, stack_size)
    }

    /// Wraps in [`RecordVideo`], recording every episode as a GIF into `folder`.
    fn record_video(self, folder: impl Into<std::path::PathBuf>) -> Result<RecordVideo<Self>> {
        RecordVideo::new(self, folder)
    }

    /// Wraps in [`Autoreset`].
    fn autoreset(self) -> Autoreset<Self> {
        Autoreset::new(self)
    }
}

impl<E: Env + Sized> WrapperExt for E {}
