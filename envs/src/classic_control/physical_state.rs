//! `PhysicalState`: the state every classic-control environment keeps, checks, exposes and
//! renders the same way.

use tokengym::{Error, Frame, RenderMode, Result};

/// The render modes of every classic-control environment: Gymnasium's `"ansi"` (here a text
/// picture) and `"rgb_array"`.
pub(crate) const RENDER_MODES: &[RenderMode] = &[RenderMode::Ansi, RenderMode::RgbArray];

/// `N` float64 numbers in Gymnasium's `env.unwrapped.state` order, and whether the environment
/// has one yet (it has none until the first `reset` or `set_state`).
///
/// Stepping or rendering without a state is [`Error::ResetNeeded`]; the
/// [`StateVector`](crate::StateVector) view of a missing state is empty.
#[derive(Clone, Debug)]
pub(crate) struct PhysicalState<const N: usize> {
    values: [f64; N],
    present: bool,
}

impl<const N: usize> PhysicalState<N> {
    /// No state yet.
    pub(crate) const fn absent() -> Self {
        PhysicalState {
            values: [0.0; N],
            present: false,
        }
    }

    /// The state, or [`Error::ResetNeeded`] before the first reset.
    #[inline]
    pub(crate) fn get(&self) -> Result<[f64; N]> {
        if self.present {
            Ok(self.values)
        } else {
            Err(Error::ResetNeeded)
        }
    }

    /// The numbers as they are (zeros before the first reset).
    #[inline]
    pub(crate) fn values(&self) -> [f64; N] {
        self.values
    }

    /// Replaces the state.
    #[inline]
    pub(crate) fn put(&mut self, values: [f64; N]) {
        self.values = values;
        self.present = true;
    }

    /// The state as a vector, empty before the first reset
    /// ([`StateVector::state`](crate::StateVector::state)).
    pub(crate) fn to_vec(&self) -> Vec<f64> {
        if self.present {
            self.values.to_vec()
        } else {
            Vec::new()
        }
    }

    /// Sets the state from a user's vector
    /// ([`StateVector::set_state`](crate::StateVector::set_state)): exactly `N` finite numbers,
    /// or [`Error::InvalidState`] naming `env`, with the state left as it was.
    pub(crate) fn set_checked(&mut self, env: &str, state: &[f64]) -> Result<()> {
        self.put(check_state(env, state)?);
        Ok(())
    }

    /// Renders the state with `draw` (given only the modes in [`RENDER_MODES`]), or
    /// [`Error::ResetNeeded`] before the first reset.
    pub(crate) fn render(
        &self,
        mode: RenderMode,
        draw: impl FnOnce(&[f64; N], RenderMode) -> Frame,
    ) -> Result<Frame> {
        if !RENDER_MODES.contains(&mode) {
            return Err(tokengym::env::unsupported_render_mode(mode, RENDER_MODES));
        }
        Ok(draw(&self.get()?, mode))
    }
}

/// Checks a user's state vector: exactly `N` finite numbers.
pub(crate) fn check_state<const N: usize>(env: &str, state: &[f64]) -> Result<[f64; N]> {
    let arr: [f64; N] = state.try_into().map_err(|_| {
        Error::InvalidState(format!(
            "{env} state needs {N} numbers, got {}: {state:?}",
            state.len()
        ))
    })?;
    if let Some(i) = arr.iter().position(|x| !x.is_finite()) {
        return Err(Error::InvalidState(format!(
            "{env} state element {i} is {} (must be finite): {state:?}",
            arr[i]
        )));
    }
    Ok(arr)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absent_until_put_and_checked_when_set() {
        let mut s = PhysicalState::<2>::absent();
        assert!(matches!(s.get(), Err(Error::ResetNeeded)));
        assert!(s.to_vec().is_empty());
        assert_eq!(s.values(), [0.0, 0.0]);
        let draw = |_: &[f64; 2], _| Frame::Ansi(String::new());
        assert!(matches!(
            s.render(RenderMode::Ansi, draw),
            Err(Error::ResetNeeded)
        ));
        for bad in [vec![1.0], vec![1.0, 2.0, 3.0], vec![f64::NAN, 0.0]] {
            assert!(matches!(
                s.set_checked("Test", &bad),
                Err(Error::InvalidState(m)) if m.contains("Test")
            ));
            assert!(s.get().is_err(), "a rejected state is not stored");
        }
        s.set_checked("Test", &[1.0, -2.0]).unwrap();
        assert_eq!(s.get().unwrap(), [1.0, -2.0]);
        assert_eq!(s.to_vec(), vec![1.0, -2.0]);
        let frame = s
            .render(RenderMode::RgbArray, |v, m| {
                Frame::Ansi(format!("{v:?} {m:?}"))
            })
            .unwrap();
        assert!(matches!(frame, Frame::Ansi(t) if t == "[1.0, -2.0] RgbArray"));
    }
}
