//! `PassiveEnvChecker`: check the first `reset`, `step` and `render` of an environment.

use crate::env::{ActOf, Env, ObsOf, Step, Transition};
use crate::error::{Error, Result};
use crate::info::Info;
use crate::render::{Frame, RenderMode};
use crate::space::Space;
use std::cell::Cell;

/// Checks the first `reset`, the first `step` and the first `render` of the wrapped
/// environment, then gets out of the way (Gymnasium's `PassiveEnvChecker`).
///
/// What is checked:
/// - the first observation from `reset` and from `step` is finite (no NaN, no infinity:
///   [`Error::NonFinite`]) and inside the observation space ([`Error::ValueMismatch`]);
/// - the first reward is finite ([`Error::NonFinite`]);
/// - the first `render` returns the frame kind its mode asks for (text for `ansi`, a non-empty
///   RGB frame for `rgb_array`), and `render_fps` is positive ([`Error::ValueMismatch`]).
///
/// **Errors, not warnings.** Gymnasium only logs warnings for these problems. Here they are
/// errors: a NaN observation or reward, or an observation outside the declared space, silently
/// poisons training, and the Rust type system already rules out the type-level mistakes
/// Gymnasium warns about (a reward that is not a float, flags that are not booleans). The checks
/// run once per wrapper; afterwards every call costs one branch, and the flat methods are
/// forwarded to the inner environment.
pub struct PassiveEnvChecker<E> {
    env: E,
    checked_reset: bool,
    checked_step: bool,
    checked_render: Cell<bool>,
}

impl<E: Env> PassiveEnvChecker<E> {
    /// Wraps `env`.
    pub fn new(env: E) -> Self {
        PassiveEnvChecker {
            env,
            checked_reset: false,
            checked_step: false,
            checked_render: Cell::new(false),
        }
    }

    /// Whether the first `reset` and the first `step` have been checked.
    pub fn checks_done(&self) -> bool {
        self.checked_reset && self.checked_step
    }

    inner_accessors!();

    fn check_obs(&self, obs: &ObsOf<E>, origin: &str) -> Result<()> {
        let space = self.env.observation_space();
        let flat = space.flatten(obs).map_err(|e| Error::ValueMismatch {
            space: space.to_any().to_string(),
            reason: format!("observation returned by {origin} has the wrong shape: {e}"),
        })?;
        if let Some((i, x)) = flat.iter().enumerate().find(|(_, x)| !x.is_finite()) {
            return Err(Error::NonFinite {
                what: format!("observation returned by {origin}"),
                detail: format!("flattened element {i} is {x} (observation {obs:?})"),
            });
        }
        if !space.contains(obs) {
            return Err(Error::ValueMismatch {
                space: space.to_any().to_string(),
                reason: format!(
                    "observation returned by {origin} is not in the observation space: {obs:?}"
                ),
            });
        }
        Ok(())
    }

    fn check_step(&mut self, step: &Step<ObsOf<E>>) -> Result<()> {
        if !step.reward.is_finite() {
            return Err(Error::NonFinite {
                what: "reward returned by step()".into(),
                detail: format!("{}", step.reward),
            });
        }
        self.check_obs(&step.obs, "step()")?;
        self.checked_step = true;
        Ok(())
    }

    fn check_frame(&self, mode: RenderMode, frame: &Frame) -> Result<()> {
        let mismatch = |reason: String| Error::ValueMismatch {
            space: format!("render({mode})"),
            reason,
        };
        match (mode, frame) {
            (RenderMode::Ansi, Frame::Ansi(_)) => {}
            (RenderMode::RgbArray, Frame::Rgb(f)) => {
                if f.width() == 0 || f.height() == 0 {
                    return Err(mismatch(format!(
                        "empty RGB frame ({}x{})",
                        f.width(),
                        f.height()
                    )));
                }
            }
            (_, Frame::Ansi(_)) => return Err(mismatch("returned a text frame".into())),
            (_, Frame::Rgb(_)) => return Err(mismatch("returned an RGB frame".into())),
        }
        if self.env.render_fps() == 0 {
            return Err(mismatch("render_fps() is 0".into()));
        }
        Ok(())
    }
}

impl<E: Env> Env for PassiveEnvChecker<E> {
    type ObsSpace = E::ObsSpace;
    type ActSpace = E::ActSpace;

    forward_spaces!();
    reset_via_options!();
    fn reset_with_options(
        &mut self,
        seed: Option<u64>,
        options: &crate::env::ResetOptions,
    ) -> Result<(ObsOf<Self>, Info)> {
        let (obs, info) = self.env.reset_with_options(seed, options)?;
        if !self.checked_reset {
            self.check_obs(&obs, "reset()")?;
            self.checked_reset = true;
        }
        Ok((obs, info))
    }
    fn step(&mut self, action: &ActOf<Self>) -> Result<Step<ObsOf<Self>>> {
        let step = self.env.step(action)?;
        if !self.checked_step {
            self.check_step(&step)?;
        }
        Ok(step)
    }
    fn render_modes(&self) -> &[RenderMode] {
        self.env.render_modes()
    }
    fn render(&self, mode: RenderMode) -> Result<Frame> {
        let frame = self.env.render(mode)?;
        if !self.checked_render.get() {
            self.check_frame(mode, &frame)?;
            self.checked_render.set(true);
        }
        Ok(frame)
    }
    fn render_fps(&self) -> u32 {
        self.env.render_fps()
    }
    fn reset_flat(&mut self, seed: Option<u64>, obs_out: &mut [f32]) -> Result<Info> {
        if self.checked_reset {
            return self.env.reset_flat(seed, obs_out);
        }
        let (obs, info) = self.reset(seed)?;
        self.env.observation_space().flatten_into(&obs, obs_out)?;
        Ok(info)
    }
    fn step_flat(&mut self, action: &ActOf<Self>, obs_out: &mut [f32]) -> Result<Transition> {
        if self.checked_step {
            return self.env.step_flat(action, obs_out);
        }
        let (obs, t) = self.step(action)?.split();
        self.env.observation_space().flatten_into(&obs, obs_out)?;
        Ok(t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wrappers::test_envs::{Counter, Fault, Faulty};

    fn first_step(fault: Fault) -> Result<Step<[f32; 1]>> {
        let mut env = PassiveEnvChecker::new(Faulty::new(fault));
        env.reset(None)?;
        env.step(&0)
    }

    #[test]
    fn a_well_behaved_env_passes() {
        let mut env = PassiveEnvChecker::new(Counter::new(None));
        assert!(!env.checks_done());
        env.reset(Some(0)).unwrap();
        assert_eq!(env.step(&1).unwrap().obs, [1.0]);
        assert!(env.checks_done());
        assert!(env.render(RenderMode::RgbArray).is_ok());
        assert_eq!(env.into_inner().count, 1);
    }

    #[test]
    fn nan_observation_on_reset_is_non_finite() {
        let mut env = PassiveEnvChecker::new(Faulty::new(Fault::NanObsOnReset));
        let err = env.reset(None).unwrap_err();
        assert!(matches!(err, Error::NonFinite { .. }), "{err}");
        assert!(err.to_string().contains("reset()"));
    }

    #[test]
    fn bad_first_steps_are_errors() {
        for fault in [Fault::NanObsOnStep, Fault::InfObsOnStep, Fault::NanReward] {
            let err = first_step(fault).unwrap_err();
            assert!(matches!(err, Error::NonFinite { .. }), "{fault:?}: {err}");
        }
        let err = first_step(Fault::OutOfSpaceObs).unwrap_err();
        assert!(matches!(err, Error::ValueMismatch { .. }), "{err}");
        assert!(err.to_string().contains("not in the observation space"));
        assert!(first_step(Fault::None).is_ok());
    }

    #[test]
    fn only_the_first_step_is_checked() {
        let mut env = PassiveEnvChecker::new(Faulty::new(Fault::None));
        env.reset(None).unwrap();
        env.step(&0).unwrap();
        env.inner_mut().fault = Fault::NanReward;
        assert!(env.step(&0).unwrap().reward.is_nan());
        // And the flat path is forwarded after the checks.
        let mut buf = [0.0];
        env.inner_mut().fault = Fault::OutOfSpaceObs;
        env.step_flat(&0, &mut buf).unwrap();
        assert_eq!(buf, [3.0]);
    }

    #[test]
    fn flat_methods_check_before_forwarding() {
        let mut env = PassiveEnvChecker::new(Faulty::new(Fault::OutOfSpaceObs));
        let mut buf = [0.0];
        env.reset_flat(None, &mut buf).unwrap();
        assert!(matches!(
            env.step_flat(&0, &mut buf),
            Err(Error::ValueMismatch { .. })
        ));
        let mut env = PassiveEnvChecker::new(Faulty::new(Fault::NanObsOnReset));
        assert!(matches!(
            env.reset_flat(None, &mut buf),
            Err(Error::NonFinite { .. })
        ));
    }

    #[test]
    fn first_render_frame_kind_is_checked() {
        let env = PassiveEnvChecker::new(Faulty::new(Fault::WrongFrameKind));
        assert!(matches!(
            env.render(RenderMode::RgbArray),
            Err(Error::ValueMismatch { .. })
        ));
        let env = PassiveEnvChecker::new(Faulty::new(Fault::None));
        assert!(env.render(RenderMode::RgbArray).is_ok());
        assert!(env.render(RenderMode::Ansi).is_err());
    }
}
