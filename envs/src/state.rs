//! Access to a simulator's full state, for replaying reference trajectories.

use tokengym::Result;

/// An environment whose complete state is a vector of `f64`, in the order of Gymnasium's
/// `env.unwrapped.state`.
///
/// Setting the state of a Gymnasium trajectory and replaying its actions reproduces its
/// observations, rewards and flags exactly (see the `gymnasium_replay` tests).
pub trait StateVector {
    /// The current state.
    fn state(&self) -> Vec<f64>;

    /// Replaces the state. Fails with [`tokengym::Error::InvalidState`] when `state` has the wrong
    /// length or holds NaN. The episode continues from the new state (as assigning
    /// `env.unwrapped.state` does in Gymnasium).
    fn set_state(&mut self, state: &[f64]) -> Result<()>;
}
