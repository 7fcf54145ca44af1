//! `Autoreset`: reset automatically on the step after an episode ends.

use crate::env::{ActOf, Env, ObsOf, Step, Transition};
use crate::error::Result;
use crate::info::Info;

/// Resets the environment on the `step` call that follows a finished episode (Gymnasium 1.x's
/// `Autoreset`, "next-step" semantics).
///
/// After a step with `terminated || truncated`, the next `step` ignores its action, calls
/// `reset(None)` on the inner environment and returns the reset observation and info with
/// reward 0, `terminated = false` and `truncated = false`. An explicit `reset` clears the
/// pending autoreset. The flat methods are forwarded.
pub struct Autoreset<E> {
    env: E,
    autoreset: bool,
}

impl<E: Env> Autoreset<E> {
    /// Wraps `env`.
    pub fn new(env: E) -> Self {
        Autoreset {
            env,
            autoreset: false,
        }
    }

    /// Whether the next `step` will reset instead of stepping.
    pub fn needs_reset(&self) -> bool {
        self.autoreset
    }

    inner_accessors!();
}

impl<E: Env> Env for Autoreset<E> {
    type ObsSpace = E::ObsSpace;
    type ActSpace = E::ActSpace;

    forward_spaces!();
    reset_via_options!();
    fn reset_with_options(
        &mut self,
        seed: Option<u64>,
        options: &crate::env::ResetOptions,
    ) -> Result<(ObsOf<Self>, Info)> {
        self.autoreset = false;
        self.env.reset_with_options(seed, options)
    }
    fn step(&mut self, action: &ActOf<Self>) -> Result<Step<ObsOf<Self>>> {
        let step = if self.autoreset {
            let (obs, info) = self.env.reset(None)?;
            Step {
                obs,
                reward: 0.0,
                terminated: false,
                truncated: false,
                info,
            }
        } else {
            self.env.step(action)?
        };
        self.autoreset = step.done();
        Ok(step)
    }
    forward_render!();
    fn reset_flat(&mut self, seed: Option<u64>, obs_out: &mut [f32]) -> Result<Info> {
        self.autoreset = false;
        self.env.reset_flat(seed, obs_out)
    }
    fn step_flat(&mut self, action: &ActOf<Self>, obs_out: &mut [f32]) -> Result<Transition> {
        let t = if self.autoreset {
            let info = self.env.reset_flat(None, obs_out)?;
            Transition {
                reward: 0.0,
                terminated: false,
                truncated: false,
                info,
            }
        } else {
            self.env.step_flat(action, obs_out)?
        };
        self.autoreset = t.done();
        Ok(t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wrappers::test_envs::Counter;

    #[test]
    fn the_step_after_the_end_resets() {
        let mut env = Autoreset::new(Counter::new(Some(2)));
        env.reset(Some(5)).unwrap();
        let s1 = env.step(&1).unwrap();
        let s2 = env.step(&1).unwrap();
        assert!(s2.terminated && env.needs_reset());
        assert_eq!(s1.obs, [1.0]);
        let s3 = env.step(&1).unwrap();
        assert_eq!(s3, Step::new([0.0], 0.0, false, false));
        assert_eq!(env.inner().resets, 2);
        assert_eq!(env.inner().last_seed, None);
        assert!(!env.needs_reset());
        assert_eq!(env.step(&1).unwrap().obs, [1.0]);
    }

    #[test]
    fn flat_path_and_explicit_reset() {
        let mut env = Autoreset::new(Counter::new(Some(1)));
        let mut buf = [0.0];
        env.reset_flat(None, &mut buf).unwrap();
        assert!(env.step_flat(&1, &mut buf).unwrap().terminated);
        assert_eq!(buf, [1.0]);
        let t = env.step_flat(&1, &mut buf).unwrap();
        assert_eq!((t.reward, t.done(), buf), (0.0, false, [0.0]));
        assert!(env.step_flat(&1, &mut buf).unwrap().terminated);
        // An explicit reset cancels the pending autoreset: the next step really steps.
        env.reset(None).unwrap();
        assert_eq!(env.step(&1).unwrap().reward, 1.0);
    }
}
