//! `RescaleAction`: expose a box action space as another box, mapped affinely.

use super::map_action::{BoxActionMap, MapBoxAction};
use crate::env::Env;
use crate::error::{Error, Result};
use crate::space::{BoxElement, BoxSpace, BoxStorage, Space};

/// Presents the action space `[min_action, max_action]` (element-wise) and maps each action
/// affinely onto the wrapped environment's bounded box `[low, high]`:
/// `low + (high - low) * (a - min_action) / (max_action - min_action)`
/// (Gymnasium's `RescaleAction`; the usual use is a policy acting in `[-1, 1]`).
///
/// The map is computed in `f64` and the result is clamped into `[low, high]` against rounding.
/// An action outside `[min_action, max_action]` is an [`Error::InvalidAction`] (our `Env`
/// contract; wrap with [`ClipAction`](super::ClipAction) *outside* this wrapper to clip first).
/// The rescaled action lives in a buffer owned by the wrapper: stepping does not allocate.
pub type RescaleAction<E> = MapBoxAction<E, Rescale>;

/// The map of [`RescaleAction`]: the affine map from the wrapper's box onto the inner one.
#[derive(Clone, Copy, Debug, Default)]
pub struct Rescale;

impl<T: BoxElement, V: BoxStorage<T>> BoxActionMap<T, V> for Rescale {
    fn map(
        &self,
        outer: &BoxSpace<T, V>,
        inner: &BoxSpace<T, V>,
        action: &V,
        out: &mut V,
    ) -> Result<()> {
        outer.check_action(action)?;
        let parts = action
            .as_slice()
            .iter()
            .zip(outer.low().iter().zip(outer.high()))
            .zip(inner.low().iter().zip(inner.high()));
        for (o, ((a, (min, max)), (low, high))) in out.as_mut_slice().iter_mut().zip(parts) {
            let (a, min, max) = (a.to_f64(), min.to_f64(), max.to_f64());
            let (low, high) = (low.to_f64(), high.to_f64());
            let t = (a - min) / (max - min);
            // Gymnasium's formula; for bounds so wide that `high - low` overflows, the
            // equivalent interpolation that cannot.
            let span = high - low;
            let y = if span.is_finite() {
                low + span * t
            } else {
                low * (1.0 - t) + high * t
            };
            *o = T::from_f64(y.clamp(low, high));
        }
        // Narrowing to f32 may round just past a bound.
        inner.clip(out);
        Ok(())
    }
}

impl<E, T, V> RescaleAction<E>
where
    E: Env<ActSpace = BoxSpace<T, V>>,
    T: BoxElement,
    V: BoxStorage<T>,
{
    /// Wraps `env` with the same `min_action` / `max_action` for every element.
    pub fn new(env: E, min_action: T, max_action: T) -> Result<Self> {
        let n = env.action_space().len();
        Self::with_bounds(env, vec![min_action; n], vec![max_action; n])
    }

    /// Wraps `env` with per-element bounds. Fails when the inner box is not bounded, when the
    /// bounds have the wrong length or are not finite, or when `min_action >= max_action`
    /// somewhere (the map would have no inverse).
    pub fn with_bounds(env: E, min_action: Vec<T>, max_action: Vec<T>) -> Result<Self> {
        let inner = env.action_space();
        if !inner.is_bounded() {
            return Err(Error::invalid_argument(format!(
                "RescaleAction needs a bounded action box, got {inner}"
            )));
        }
        for (i, (lo, hi)) in min_action.iter().zip(&max_action).enumerate() {
            let (lo, hi) = (lo.to_f64(), hi.to_f64());
            if !(lo.is_finite() && hi.is_finite() && lo < hi) {
                return Err(Error::invalid_argument(format!(
                    "RescaleAction: min_action[{i}] = {lo} must be finite and below \
                     max_action[{i}] = {hi}"
                )));
            }
        }
        let act_space = BoxSpace::new(min_action, max_action, inner.shape().to_vec())?;
        Ok(Self::with_map(env, act_space, Rescale))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wrappers::test_envs::Line;

    #[test]
    fn maps_minus_one_one_onto_the_inner_box() {
        // Line's action box is [-2, 2] x [0, 10].
        let mut env = RescaleAction::new(Line::new(), -1.0, 1.0).unwrap();
        assert_eq!(env.action_space().low(), &[-1.0, -1.0]);
        env.reset(None).unwrap();
        assert_eq!(env.step(&vec![-1.0, -1.0]).unwrap().obs, vec![-2.0, 0.0]);
        assert_eq!(env.step(&vec![1.0, 1.0]).unwrap().obs, vec![2.0, 10.0]);
        assert_eq!(env.step(&vec![0.0, 0.5]).unwrap().obs, vec![0.0, 7.5]);
        let mut buf = [0.0; 2];
        env.step_flat(&vec![0.5, -0.5], &mut buf).unwrap();
        assert_eq!(buf, [1.0, 2.5]);
    }

    #[test]
    fn bad_bounds_and_out_of_range_actions_are_errors() {
        assert!(RescaleAction::new(Line::new(), 1.0, 1.0).is_err());
        assert!(RescaleAction::new(Line::new(), 0.0, f32::INFINITY).is_err());
        assert!(RescaleAction::with_bounds(Line::new(), vec![0.0], vec![1.0]).is_err());
        let mut env =
            RescaleAction::with_bounds(Line::new(), vec![0.0, 0.0], vec![1.0, 2.0]).unwrap();
        env.reset(None).unwrap();
        assert!(matches!(
            env.step(&vec![1.5, 0.0]),
            Err(Error::InvalidAction { .. })
        ));
        assert_eq!(env.step(&vec![1.0, 1.0]).unwrap().obs, vec![2.0, 5.0]);
        // Unbounded inner boxes are refused.
        let unbounded = super::super::ClipAction::new(Line::new()).unwrap();
        assert!(RescaleAction::new(unbounded, -1.0, 1.0).is_err());
    }
}
