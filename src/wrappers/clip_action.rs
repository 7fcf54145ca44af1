//! `ClipAction`: clip continuous actions into the action box.

use crate::env::{ActOf, Env, ObsOf, Step, Transition};
use crate::error::{Error, Result};
use crate::info::Info;
use crate::space::{BoxElement, BoxSpace, BoxStorage};

/// Clips each action element-wise into the wrapped environment's box before stepping
/// (Gymnasium's `ClipAction`).
///
/// The wrapper's action space is an unbounded box of the same shape, so any finite action of the
/// right length is accepted (a policy's raw Gaussian sample, say). NaN stays NaN and is rejected
/// by the inner environment; a wrong length is an [`Error::InvalidAction`]. The clipped action
/// is written into a buffer owned by the wrapper, so stepping does not allocate.
pub struct ClipAction<E: Env> {
    env: E,
    act_space: E::ActSpace,
    buf: ActOf<E>,
}

impl<E, T, V> ClipAction<E>
where
    E: Env<ActSpace = BoxSpace<T, V>>,
    T: BoxElement,
    V: BoxStorage<T>,
{
    /// Wraps `env`.
    pub fn new(env: E) -> Result<Self> {
        let inner = env.action_space();
        let n = inner.len();
        let act_space = BoxSpace::uniform(
            T::from_f64(f64::NEG_INFINITY),
            T::from_f64(f64::INFINITY),
            inner.shape().to_vec(),
        )?;
        Ok(ClipAction {
            env,
            act_space,
            buf: V::from_fn(n, |_| T::default()),
        })
    }

    inner_accessors!();

    /// Copies `action` into the buffer and clips it.
    fn clip(&mut self, action: &V) -> Result<()> {
        let a = action.as_slice();
        let buf = self.buf.as_mut_slice();
        if a.len() != buf.len() {
            return Err(Error::InvalidAction {
                action: format!("{action:?}"),
                space: self.act_space.to_string(),
            });
        }
        buf.copy_from_slice(a);
        self.env.action_space().clip(&mut self.buf);
        Ok(())
    }
}

impl<E, T, V> Env for ClipAction<E>
where
    E: Env<ActSpace = BoxSpace<T, V>>,
    T: BoxElement,
    V: BoxStorage<T>,
{
    type ObsSpace = E::ObsSpace;
    type ActSpace = BoxSpace<T, V>;

    fn observation_space(&self) -> &Self::ObsSpace {
        self.env.observation_space()
    }
    fn action_space(&self) -> &Self::ActSpace {
        &self.act_space
    }
    fn reset(&mut self, seed: Option<u64>) -> Result<(ObsOf<Self>, Info)> {
        self.env.reset(seed)
    }
    fn step(&mut self, action: &V) -> Result<Step<ObsOf<Self>>> {
        self.clip(action)?;
        self.env.step(&self.buf)
    }
    forward_render!();
    fn reset_flat(&mut self, seed: Option<u64>, obs_out: &mut [f32]) -> Result<Info> {
        self.env.reset_flat(seed, obs_out)
    }
    fn step_flat(&mut self, action: &V, obs_out: &mut [f32]) -> Result<Transition> {
        self.clip(action)?;
        self.env.step_flat(&self.buf, obs_out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::space::Space;
    use crate::wrappers::test_envs::Line;

    #[test]
    fn clips_into_the_inner_box() {
        // Line's action box is [-2, 2] x [0, 10].
        let mut env = ClipAction::new(Line::new()).unwrap();
        assert!(!env.action_space().is_bounded());
        assert!(env.action_space().contains(&vec![-100.0, 100.0]));
        env.reset(None).unwrap();
        let s = env.step(&vec![-5.0, 3.0]).unwrap();
        assert_eq!(s.obs, vec![-2.0, 3.0]);
        assert_eq!(env.inner().last_action, vec![-2.0, 3.0]);
        let mut buf = [0.0; 2];
        env.step_flat(&vec![1.5, 11.0], &mut buf).unwrap();
        assert_eq!(buf, [1.5, 10.0]);
    }

    #[test]
    fn wrong_length_and_nan_are_errors() {
        let mut env = ClipAction::new(Line::new()).unwrap();
        env.reset(None).unwrap();
        assert!(matches!(
            env.step(&vec![1.0]),
            Err(Error::InvalidAction { .. })
        ));
        assert!(env.step(&vec![f32::NAN, 1.0]).is_err());
        assert_eq!(env.into_inner().last_action, vec![0.0, 0.0]);
    }
}
