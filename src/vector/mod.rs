//! Vector environments: many copies of one environment stepped as a batch (Gymnasium 1.x's
//! `gymnasium.vector`).
//!
//! - [`SyncVecEnv`] steps its sub-environments one after the other on the calling thread.
//! - [`ParallelVecEnv`] splits them across persistent worker threads (the calling thread runs a
//!   share too) and gives results identical to [`SyncVecEnv`] for the same seeds.
//!
//! Both implement [`VecEnv`], so agents can be written once for either.
//!
//! Which one: for cheap environments (classic control, ~50 ns a step) and a handful of copies,
//! [`SyncVecEnv`] is fastest; handing work to another core costs a few hundred nanoseconds per
//! step, more than stepping 8 such copies. [`ParallelVecEnv`] pays off once a step of the
//! whole batch takes several microseconds (many copies, or expensive environments); by default
//! it measures which way is faster and falls back to stepping on the calling thread alone when
//! that wins ([`ParallelOptions::adaptive`]).
//!
//! # Observations, rewards, flags
//!
//! A step returns a reference to a [`VecStep`], a set of buffers owned by the vector
//! environment and overwritten in place, so stepping does not allocate. Row `i` of
//! [`VecStep::obs`] is the observation of sub-environment `i` flattened with
//! [`Space::flatten_into`]: boxes are copied in row-major
//! order, [`Discrete`](crate::space::Discrete) values are one-hot encoded, composites are
//! concatenated. Rewards are `f64`; `terminated`, `truncated` and the infos are per
//! sub-environment.
//!
//! # Seeding
//!
//! `reset(Some(seed))` resets sub-environment `i` with seed `seed + i`
//! ([`sub_seed`](crate::seeding::sub_seed)), as Gymnasium does, so sub-environment `i` of a
//! vector environment reproduces a single environment reset with `seed + i`. `reset(None)`
//! continues each sub-environment's own random stream. The automatic resets of
//! [`AutoresetMode::NextStep`] and [`AutoresetMode::SameStep`] pass no seed.
//!
//! # Autoreset
//!
//! See [`AutoresetMode`]. Partial resets ([`VecEnv::reset_masked`]) work in every mode, as
//! Gymnasium's `reset(options={"reset_mask": mask})` does.
//!
//! # Errors
//!
//! A sub-environment's error is returned as is. After any error from a sub-environment the
//! vector environment's sub-environments may have been stepped partially, so every
//! sub-environment is marked as needing a reset: the next [`VecEnv::step`] fails with
//! [`Error::ResetNeeded`](crate::Error::ResetNeeded) until [`VecEnv::reset`] is called.
//!
//! ```
//! use tokengym::vector::{AutoresetMode, SyncVecEnv, VecEnv};
//! # use tokengym::{Env, Info, Result, Step};
//! # use tokengym::space::{BoxSpace, Discrete};
//! # /// Counts its steps; ends after 2.
//! # struct Count { n: u32, obs: BoxSpace<f32, [f32; 1]>, act: Discrete }
//! # impl Env for Count {
//! #     type ObsSpace = BoxSpace<f32, [f32; 1]>;
//! #     type ActSpace = Discrete;
//! #     fn observation_space(&self) -> &Self::ObsSpace { &self.obs }
//! #     fn action_space(&self) -> &Self::ActSpace { &self.act }
//! #     fn reset(&mut self, _seed: Option<u64>) -> Result<([f32; 1], Info)> {
//! #         self.n = 0; Ok(([0.0], Info::new()))
//! #     }
//! #     fn step(&mut self, _a: &i64) -> Result<Step<[f32; 1]>> {
//! #         self.n += 1; Ok(Step::new([self.n as f32], 1.0, self.n == 2, false))
//! #     }
//! # }
//! # let make = |_i: usize| -> Result<Count> {
//! #     Ok(Count { n: 0, obs: BoxSpace::new(vec![0.0], vec![9.0], vec![1])?, act: Discrete::new(2)? })
//! # };
//! // `make(i)` builds sub-environment `i`.
//! let mut envs = SyncVecEnv::from_fn(3, make)?;
//! assert_eq!(envs.autoreset_mode(), AutoresetMode::NextStep);
//! let first = envs.reset(Some(42))?;
//! assert_eq!(first.obs().shape(), &[3, 1]);
//! envs.step(&[0, 1, 0])?;
//! let step = envs.step(&[0, 1, 0])?; // every copy ends here...
//! assert!(step.terminated().iter().all(|&t| t));
//! let step = envs.step(&[0, 1, 0])?; // ...and is reset on the next step (reward 0)
//! assert_eq!(step.rewards(), &[0.0, 0.0, 0.0]);
//! assert_eq!(step.obs().column(0).to_vec(), vec![0.0, 0.0, 0.0]);
//! # Ok::<(), tokengym::Error>(())
//! ```

mod buffers;
mod chunk;
mod handoff;
mod parallel;
mod sync;
#[cfg(test)]
mod test_env;
mod tuner;

pub use buffers::VecStep;
pub use parallel::{ParallelOptions, ParallelVecEnv};
pub use sync::SyncVecEnv;

use crate::error::Result;
use crate::space::Space;
use std::fmt;

/// When a vector environment resets a sub-environment whose episode ended (Gymnasium's
/// `AutoresetMode`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum AutoresetMode {
    /// The step *after* a sub-environment's episode ended resets it: that step ignores the
    /// sub-environment's action and returns the reset observation and info, reward `0.0`,
    /// `terminated = truncated = false`. The final observation of an episode is the observation
    /// of the step that ended it. Gymnasium's default.
    #[default]
    NextStep,
    /// A sub-environment whose episode ends is reset within the same step: the step returns the
    /// reward and flags of the ending step, but the *reset* observation and reset info; the final
    /// observation and info are in [`VecStep::final_obs_row`] / [`VecStep::final_info`], flagged
    /// by [`VecStep::final_mask`].
    SameStep,
    /// Nothing is reset automatically. Stepping a sub-environment whose episode ended, without
    /// resetting it first with [`VecEnv::reset_masked`] (or [`VecEnv::reset`]), is an
    /// [`Error::EpisodeEnded`](crate::Error::EpisodeEnded) error.
    Disabled,
}

impl AutoresetMode {
    /// Gymnasium's name for the mode (`"NextStep"`, `"SameStep"`, `"Disabled"`).
    pub fn as_str(self) -> &'static str {
        match self {
            AutoresetMode::NextStep => "NextStep",
            AutoresetMode::SameStep => "SameStep",
            AutoresetMode::Disabled => "Disabled",
        }
    }
}

impl fmt::Display for AutoresetMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The action type of vector environment `V` (one per sub-environment).
pub type VecActOf<V> = <<V as VecEnv>::ActSpace as Space>::Value;

/// A batch of sub-environments with equal spaces, stepped together (Gymnasium's `VectorEnv`).
///
/// Implemented by [`SyncVecEnv`] and [`ParallelVecEnv`]; see the [module docs](self) for the
/// semantics of observations, seeds, autoreset and errors.
pub trait VecEnv {
    /// The observation space of one sub-environment.
    type ObsSpace: Space;
    /// The action space of one sub-environment.
    type ActSpace: Space;

    /// Number of sub-environments.
    fn num_envs(&self) -> usize;

    /// The observation space of one sub-environment.
    fn single_observation_space(&self) -> &Self::ObsSpace;

    /// The action space of one sub-environment.
    fn single_action_space(&self) -> &Self::ActSpace;

    /// Length of one flattened observation (the number of columns of [`VecStep::obs`]).
    fn obs_dim(&self) -> usize;

    /// The autoreset mode.
    fn autoreset_mode(&self) -> AutoresetMode;

    /// Resets every sub-environment (sub-environment `i` with seed `seed + i` when `seed` is
    /// `Some`). Rewards are set to `0.0`, flags to `false`, infos to the reset infos.
    fn reset(&mut self, seed: Option<u64>) -> Result<&VecStep>;

    /// Resets only the sub-environments `i` with `mask[i]` (seeded with `seed + i` when `seed`
    /// is `Some`); the rows of the others are left as they were. `mask.len()` must equal
    /// [`VecEnv::num_envs`] and at least one entry must be `true`.
    fn reset_masked(&mut self, seed: Option<u64>, mask: &[bool]) -> Result<&VecStep>;

    /// Steps every sub-environment with its action (`actions.len()` must equal
    /// [`VecEnv::num_envs`]), resetting ended ones as the [`AutoresetMode`] says.
    fn step(&mut self, actions: &[VecActOf<Self>]) -> Result<&VecStep>;

    /// The buffers of the last `reset` or `step`.
    fn last(&self) -> &VecStep;
}
