//! `SyncVecEnv`: sub-environments stepped one after the other on the calling thread.

use super::buffers::VecStep;
use super::chunk::{self, Status};
use super::{AutoresetMode, VecEnv};
use crate::env::{ActOf, Env};
use crate::error::{Error, Result};

/// A vector environment that steps its sub-environments sequentially on the calling thread
/// (Gymnasium's `SyncVectorEnv`).
///
/// The fastest choice for cheap environments: there is no synchronisation at all, and a step
/// does not allocate (as long as the sub-environments' `step_flat` does not). See the
/// [module docs](super) for seeding, autoreset and error semantics.
pub struct SyncVecEnv<E: Env> {
    envs: Vec<E>,
    obs_space: E::ObsSpace,
    act_space: E::ActSpace,
    mode: AutoresetMode,
    status: Vec<Status>,
    out: VecStep,
}

impl<E: Env> SyncVecEnv<E> {
    /// A vector environment over `envs` in [`AutoresetMode::NextStep`].
    ///
    /// Fails if `envs` is empty or the sub-environments' spaces differ.
    pub fn new(envs: Vec<E>) -> Result<Self> {
        Self::with_mode(envs, AutoresetMode::default())
    }

    /// A vector environment over `envs` in autoreset mode `mode`.
    pub fn with_mode(envs: Vec<E>, mode: AutoresetMode) -> Result<Self> {
        let (obs_space, act_space) = chunk::common_spaces(&envs)?;
        let dim = crate::space::Space::flatdim(&obs_space);
        let n = envs.len();
        Ok(SyncVecEnv {
            envs,
            obs_space,
            act_space,
            mode,
            status: vec![Status::NeedsReset; n],
            out: VecStep::new(n, dim, mode),
        })
    }

    /// `num_envs` sub-environments built by `make(0), make(1), ...`, in NextStep mode.
    pub fn from_fn(num_envs: usize, make: impl FnMut(usize) -> Result<E>) -> Result<Self> {
        Self::new((0..num_envs).map(make).collect::<Result<Vec<_>>>()?)
    }

    /// Switches to autoreset mode `mode`. Every sub-environment must then be reset before the
    /// next step.
    pub fn with_autoreset_mode(self, mode: AutoresetMode) -> Self {
        let n = self.envs.len();
        let dim = self.out.obs.ncols();
        SyncVecEnv {
            mode,
            status: vec![Status::NeedsReset; n],
            out: VecStep::new(n, dim, mode),
            ..self
        }
    }

    /// The sub-environments.
    pub fn envs(&self) -> &[E] {
        &self.envs
    }

    /// The sub-environments, mutably (Gymnasium's `envs` attribute). Changing a
    /// sub-environment's state behind the vector environment's back is allowed; its
    /// autoreset bookkeeping only follows `reset`/`step` results.
    pub fn envs_mut(&mut self) -> &mut [E] {
        &mut self.envs
    }

    /// Calls `f(i, env)` on every sub-environment and collects the results (Gymnasium's
    /// `call`).
    pub fn call<R>(&mut self, mut f: impl FnMut(usize, &mut E) -> R) -> Vec<R> {
        self.envs
            .iter_mut()
            .enumerate()
            .map(|(i, e)| f(i, e))
            .collect()
    }

    /// Takes the sub-environments back.
    pub fn into_envs(self) -> Vec<E> {
        self.envs
    }

    fn reset_impl(&mut self, seed: Option<u64>, mask: Option<&[bool]>) -> Result<&VecStep> {
        let n = self.envs.len();
        let result =
            chunk::reset_chunk(&mut self.envs, 0, seed, mask, &mut self.out.chunk_mut(0, n));
        match result {
            Ok(()) => {
                chunk::mark_reset(&mut self.status, mask);
                Ok(&self.out)
            }
            Err(e) => {
                self.status.fill(Status::NeedsReset);
                Err(e)
            }
        }
    }
}

impl<E: Env> VecEnv for SyncVecEnv<E> {
    type ObsSpace = E::ObsSpace;
    type ActSpace = E::ActSpace;

    fn num_envs(&self) -> usize {
        self.envs.len()
    }

    fn single_observation_space(&self) -> &E::ObsSpace {
        &self.obs_space
    }

    fn single_action_space(&self) -> &E::ActSpace {
        &self.act_space
    }

    fn obs_dim(&self) -> usize {
        self.out.obs.ncols()
    }

    fn autoreset_mode(&self) -> AutoresetMode {
        self.mode
    }

    fn reset(&mut self, seed: Option<u64>) -> Result<&VecStep> {
        self.reset_impl(seed, None)
    }

    fn reset_masked(&mut self, seed: Option<u64>, mask: &[bool]) -> Result<&VecStep> {
        chunk::check_mask(mask, self.envs.len())?;
        self.reset_impl(seed, Some(mask))
    }

    fn step(&mut self, actions: &[ActOf<E>]) -> Result<&VecStep> {
        let n = self.envs.len();
        if actions.len() != n {
            return Err(Error::shape(
                "actions (one per sub-environment)",
                n,
                actions.len(),
            ));
        }
        chunk::check_steppable(&self.status, self.mode)?;
        let mut view = self.out.chunk_mut(0, n);
        match chunk::step_chunk(&mut self.envs, &self.status, self.mode, actions, &mut view) {
            Ok(()) => {
                chunk::mark_stepped(
                    &mut self.status,
                    self.mode,
                    &self.out.terminated,
                    &self.out.truncated,
                );
                Ok(&self.out)
            }
            Err(e) => {
                self.status.fill(Status::NeedsReset);
                Err(e)
            }
        }
    }

    fn last(&self) -> &VecStep {
        &self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vector::test_env::Counter;

    fn counters(n: usize) -> Vec<Counter> {
        (0..n).map(|i| Counter::new(i as u32 + 2)).collect()
    }

    #[test]
    fn empty_and_mismatched_spaces_are_errors() {
        assert!(SyncVecEnv::<Counter>::new(vec![]).is_err());
        let envs = vec![Counter::new(2), Counter::with_obs_high(2, 99.0)];
        let err = SyncVecEnv::new(envs).err().map(|e| e.to_string());
        assert!(err.is_some_and(|e| e.contains("sub-environment 1")));
    }

    #[test]
    fn step_before_reset_and_wrong_action_count() {
        let mut v = SyncVecEnv::new(counters(2)).unwrap();
        assert!(matches!(v.step(&[0, 0]), Err(Error::ResetNeeded)));
        v.reset(Some(0)).unwrap();
        assert!(matches!(v.step(&[0]), Err(Error::ShapeMismatch { .. })));
        assert!(v.step(&[0, 0]).is_ok());
    }

    #[test]
    fn call_and_envs() {
        let mut v = SyncVecEnv::new(counters(3)).unwrap();
        assert_eq!(v.call(|i, e| (i, e.limit())), vec![(0, 2), (1, 3), (2, 4)]);
        assert_eq!(v.envs().len(), 3);
        v.envs_mut()[0].set_limit(9);
        assert_eq!(v.into_envs()[0].limit(), 9);
    }

    #[test]
    fn switching_mode_requires_reset() {
        let mut v = SyncVecEnv::new(counters(2)).unwrap();
        v.reset(None).unwrap();
        let mut v = v.with_autoreset_mode(AutoresetMode::SameStep);
        assert_eq!(v.autoreset_mode(), AutoresetMode::SameStep);
        assert!(matches!(v.step(&[0, 0]), Err(Error::ResetNeeded)));
        v.reset(None).unwrap();
        assert_eq!(v.last().final_obs().nrows(), 2);
    }
}
