//! `TimeLimit`: truncate episodes after a fixed number of steps.

use crate::env::{ActOf, Env, ObsOf, Step, Transition};
use crate::error::{Error, Result};
use crate::info::Info;

/// Sets `truncated = true` on the step that brings the episode to `max_episode_steps` steps
/// (Gymnasium's `TimeLimit`).
///
/// The step counter restarts at every `reset`. Stepping past the limit without a reset keeps
/// returning `truncated = true` (the inner environment decides whether that is allowed; wrap
/// with [`OrderEnforcing`](super::OrderEnforcing) or rely on the environment to complain).
/// Observations are untouched, so [`Env::reset_flat`] / [`Env::step_flat`] go straight to the
/// inner environment.
///
/// ```
/// # use tokengym::wrappers::{TimeLimit, WrapperExt};
/// # fn demo<E: tokengym::Env>(env: E) -> tokengym::Result<()> {
/// let env: TimeLimit<E> = env.time_limit(500)?;
/// assert_eq!(env.max_episode_steps(), 500);
/// # Ok(()) }
/// ```
pub struct TimeLimit<E> {
    env: E,
    max_episode_steps: u64,
    elapsed_steps: u64,
}

impl<E: Env> TimeLimit<E> {
    /// Wraps `env`; `max_episode_steps` must be positive.
    pub fn new(env: E, max_episode_steps: u64) -> Result<Self> {
        if max_episode_steps == 0 {
            return Err(Error::invalid_argument(
                "TimeLimit: max_episode_steps must be positive",
            ));
        }
        Ok(TimeLimit {
            env,
            max_episode_steps,
            elapsed_steps: 0,
        })
    }

    /// The step limit.
    pub fn max_episode_steps(&self) -> u64 {
        self.max_episode_steps
    }

    /// Steps taken since the last reset.
    pub fn elapsed_steps(&self) -> u64 {
        self.elapsed_steps
    }

    inner_accessors!();

    fn tick(&mut self) -> bool {
        self.elapsed_steps = self.elapsed_steps.saturating_add(1);
        self.elapsed_steps >= self.max_episode_steps
    }
}

impl<E: Env> Env for TimeLimit<E> {
    type ObsSpace = E::ObsSpace;
    type ActSpace = E::ActSpace;

    forward_spaces!();
    reset_via_options!();
    fn reset_with_options(
        &mut self,
        seed: Option<u64>,
        options: &crate::env::ResetOptions,
    ) -> Result<(ObsOf<Self>, Info)> {
        self.elapsed_steps = 0;
        self.env.reset_with_options(seed, options)
    }
    fn step(&mut self, action: &ActOf<Self>) -> Result<Step<ObsOf<Self>>> {
        let mut step = self.env.step(action)?;
        if self.tick() {
            step.truncated = true;
        }
        Ok(step)
    }
    forward_render!();
    fn reset_flat(&mut self, seed: Option<u64>, obs_out: &mut [f32]) -> Result<Info> {
        self.elapsed_steps = 0;
        self.env.reset_flat(seed, obs_out)
    }
    fn step_flat(&mut self, action: &ActOf<Self>, obs_out: &mut [f32]) -> Result<Transition> {
        let mut t = self.env.step_flat(action, obs_out)?;
        if self.tick() {
            t.truncated = true;
        }
        Ok(t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wrappers::test_envs::Counter;
    use crate::{Frame, RenderMode};

    #[test]
    fn zero_limit_is_rejected() {
        assert!(matches!(
            TimeLimit::new(Counter::new(None), 0),
            Err(Error::InvalidArgument(_))
        ));
    }

    #[test]
    fn truncates_on_the_nth_step_and_resets_the_count() {
        let mut env = TimeLimit::new(Counter::new(None), 3).unwrap();
        env.reset(Some(1)).unwrap();
        let flags: Vec<bool> = (0..3).map(|_| env.step(&0).unwrap().truncated).collect();
        assert_eq!(flags, [false, false, true]);
        assert_eq!(env.elapsed_steps(), 3);
        // Past the limit it stays truncated.
        assert!(env.step(&0).unwrap().truncated);
        env.reset(None).unwrap();
        assert_eq!(env.elapsed_steps(), 0);
        assert!(!env.step(&1).unwrap().truncated);
        assert_eq!(env.inner().last_seed, None);
        assert_eq!(env.inner().resets, 2);
    }

    #[test]
    fn termination_is_kept_and_flat_path_truncates_too() {
        let mut env = TimeLimit::new(Counter::new(Some(2)), 2).unwrap();
        let mut obs = [0.0f32; 1];
        env.reset_flat(None, &mut obs).unwrap();
        let t1 = env.step_flat(&1, &mut obs).unwrap();
        assert!(!t1.done());
        assert_eq!(obs, [1.0]);
        let t2 = env.step_flat(&1, &mut obs).unwrap();
        assert!(t2.terminated && t2.truncated);
        assert_eq!(obs, [2.0]);
        assert_eq!(t2.reward, 1.0);
    }

    #[test]
    fn forwards_render_and_unwraps() {
        let env = TimeLimit::new(Counter::new(None), 5).unwrap();
        assert_eq!(env.render_fps(), 20);
        assert_eq!(
            env.render(RenderMode::Ansi).unwrap(),
            Frame::Ansi("count=0".into())
        );
        assert_eq!(env.into_inner().resets, 0);
    }
}
