//! `OrderEnforcing`: no `step` (or `render`) before the first `reset`.

use crate::env::{ActOf, Env, ObsOf, Step, Transition};
use crate::error::{Error, Result};
use crate::info::Info;
use crate::render::{Frame, RenderMode};

/// Returns [`Error::ResetNeeded`] when `step` is called before the first `reset`, and
/// [`Error::RenderNeedsReset`] when `render` is (unless render order enforcing is disabled)
/// (Gymnasium's `OrderEnforcing`, with its `disable_render_order_enforcing` flag).
///
/// Like Gymnasium's, it only guards the *first* reset: stepping after an episode ended is the
/// inner environment's business. Observations are untouched, so the flat methods are forwarded.
pub struct OrderEnforcing<E> {
    env: E,
    has_reset: bool,
    disable_render_order_enforcing: bool,
}

impl<E: Env> OrderEnforcing<E> {
    /// Wraps `env`; both `step` and `render` require a prior `reset`.
    pub fn new(env: E) -> Self {
        Self::with_options(env, false)
    }

    /// Wraps `env`; with `disable_render_order_enforcing`, `render` is allowed before `reset`.
    pub fn with_options(env: E, disable_render_order_enforcing: bool) -> Self {
        OrderEnforcing {
            env,
            has_reset: false,
            disable_render_order_enforcing,
        }
    }

    /// Whether `reset` has been called.
    pub fn has_reset(&self) -> bool {
        self.has_reset
    }

    inner_accessors!();

    fn check_reset(&self) -> Result<()> {
        if self.has_reset {
            Ok(())
        } else {
            Err(Error::ResetNeeded)
        }
    }
}

impl<E: Env> Env for OrderEnforcing<E> {
    type ObsSpace = E::ObsSpace;
    type ActSpace = E::ActSpace;

    forward_spaces!();
    reset_via_options!();
    fn reset_with_options(
        &mut self,
        seed: Option<u64>,
        options: &crate::env::ResetOptions,
    ) -> Result<(ObsOf<Self>, Info)> {
        let out = self.env.reset_with_options(seed, options)?;
        self.has_reset = true;
        Ok(out)
    }
    fn step(&mut self, action: &ActOf<Self>) -> Result<Step<ObsOf<Self>>> {
        self.check_reset()?;
        self.env.step(action)
    }
    fn render_modes(&self) -> &[RenderMode] {
        self.env.render_modes()
    }
    fn render(&self, mode: RenderMode) -> Result<Frame> {
        if !self.disable_render_order_enforcing && !self.has_reset {
            return Err(Error::RenderNeedsReset);
        }
        self.env.render(mode)
    }
    fn render_fps(&self) -> u32 {
        self.env.render_fps()
    }
    fn reset_flat(&mut self, seed: Option<u64>, obs_out: &mut [f32]) -> Result<Info> {
        let info = self.env.reset_flat(seed, obs_out)?;
        self.has_reset = true;
        Ok(info)
    }
    fn step_flat(&mut self, action: &ActOf<Self>, obs_out: &mut [f32]) -> Result<Transition> {
        self.check_reset()?;
        self.env.step_flat(action, obs_out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wrappers::test_envs::Counter;

    #[test]
    fn step_before_reset_is_an_error() {
        let mut env = OrderEnforcing::new(Counter::new(None));
        assert!(matches!(env.step(&0), Err(Error::ResetNeeded)));
        let mut buf = [0.0];
        assert!(matches!(
            env.step_flat(&0, &mut buf),
            Err(Error::ResetNeeded)
        ));
        assert_eq!(env.inner().count, 0, "the inner env must not be stepped");
        assert!(!env.has_reset());
        env.reset(None).unwrap();
        assert!(env.has_reset());
        assert_eq!(env.step(&1).unwrap().obs, [1.0]);
    }

    #[test]
    fn flat_reset_counts_as_reset() {
        let mut env = OrderEnforcing::new(Counter::new(None));
        let mut buf = [5.0];
        env.reset_flat(Some(3), &mut buf).unwrap();
        assert_eq!(buf, [0.0]);
        assert_eq!(env.step_flat(&0, &mut buf).unwrap().reward, 0.0);
        assert_eq!(buf, [1.0]);
    }

    #[test]
    fn render_before_reset_depends_on_the_flag() {
        let env = OrderEnforcing::new(Counter::new(None));
        assert!(matches!(
            env.render(RenderMode::Ansi),
            Err(Error::RenderNeedsReset)
        ));
        let env = OrderEnforcing::with_options(Counter::new(None), true);
        assert!(env.render(RenderMode::Ansi).is_ok());
        let mut env = OrderEnforcing::new(Counter::new(None));
        env.reset(None).unwrap();
        assert!(env.render(RenderMode::RgbArray).is_ok());
        assert_eq!(env.into_inner().resets, 1);
    }
}
