//! `ClipAction`: clip continuous actions into the action box.

use super::map_action::{BoxActionMap, MapBoxAction};
use crate::env::Env;
use crate::error::{Error, Result};
use crate::space::{BoxElement, BoxSpace, BoxStorage};

/// Clips each action element-wise into the wrapped environment's box before stepping
/// (Gymnasium's `ClipAction`).
///
/// The wrapper's action space is an unbounded box of the same shape, so any finite action of the
/// right length is accepted (a policy's raw Gaussian sample, say). NaN stays NaN and is rejected
/// by the inner environment; a wrong length is an [`Error::InvalidAction`]. The clipped action
/// is written into a buffer owned by the wrapper, so stepping does not allocate.
pub type ClipAction<E> = MapBoxAction<E, Clip>;

/// The map of [`ClipAction`]: copy, then clip into the inner box.
#[derive(Clone, Copy, Debug, Default)]
pub struct Clip;

impl<T: BoxElement, V: BoxStorage<T>> BoxActionMap<T, V> for Clip {
    fn map(
        &self,
        outer: &BoxSpace<T, V>,
        inner: &BoxSpace<T, V>,
        action: &V,
        out: &mut V,
    ) -> Result<()> {
        let a = action.as_slice();
        let buf = out.as_mut_slice();
        if a.len() != buf.len() {
            return Err(Error::InvalidAction {
                action: format!("{action:?}"),
                space: outer.to_string(),
            });
        }
        buf.copy_from_slice(a);
        inner.clip(out);
        Ok(())
    }
}

impl<E, T, V> ClipAction<E>
where
    E: Env<ActSpace = BoxSpace<T, V>>,
    T: BoxElement,
    V: BoxStorage<T>,
{
    /// Wraps `env`.
    pub fn new(env: E) -> Result<Self> {
        let act_space = BoxSpace::uniform(
            T::from_f64(f64::NEG_INFINITY),
            T::from_f64(f64::INFINITY),
            env.action_space().shape().to_vec(),
        )?;
        Ok(Self::with_map(env, act_space, Clip))
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
