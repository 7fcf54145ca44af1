//! Spaces: the sets that observations and actions live in.
//!
//! Every space implements [`Space`]: seeded [`Space::sample`], [`Space::contains`],
//! [`Space::flatdim`] / [`Space::flatten_into`] (Gymnasium's `flatten`), and a conversion to and
//! from the type-erased [`Value`] so that any environment can be driven through [`AnySpace`].
//! Spaces serialize with serde; deserializing validates the parameters, so a malformed file gives
//! an error rather than an inconsistent space.

mod any;
mod box_space;
mod dict;
mod discrete;
mod multi_binary;
mod multi_discrete;
mod space_rng;
mod token_seq;
mod tuple;
mod value;

pub use any::AnySpace;
pub use box_space::{BoxElement, BoxSpace, BoxStorage};
pub use dict::DictSpace;
pub use discrete::Discrete;
pub use multi_binary::MultiBinary;
pub use multi_discrete::MultiDiscrete;
pub use space_rng::SpaceRng;
pub use token_seq::TokenSeq;
pub use tuple::TupleSpace;
pub use value::Value;

use crate::error::{Error, Result};
use rand::Rng;
use std::fmt::Debug;

/// A set of values with a sampler, a membership test and a flat `f32` encoding.
///
/// Implementations are cheap to clone and immutable once built; constructors validate their
/// parameters and return [`Error::InvalidSpace`] for inconsistent ones.
pub trait Space: Clone + Debug + Send + Sync + 'static {
    /// The values of this space (e.g. `i64` for [`Discrete`], `[f32; 4]` for a fixed-size box).
    type Value: Clone + Debug + PartialEq + Send + Sync + 'static;

    /// Draws a value from the space with `rng` (uniform where the space is bounded).
    ///
    /// Simple spaces draw as Gymnasium's `sample()` does, so with an
    /// [`EnvRng`](crate::EnvRng) seeded with `s` they give Gymnasium's values after
    /// `space.seed(s)`. Composite spaces draw every subspace from this one `rng`; for
    /// Gymnasium's composite samples (one generator per subspace) use [`Space::seed`] and
    /// [`Space::sample_seeded`].
    fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> Self::Value;

    /// Gymnasium's `space.seed(seed)`: the generator(s) this space samples with in
    /// [`Space::sample_seeded`] (one per subspace for composite spaces, seeded as Gymnasium
    /// seeds them).
    fn seed(&self, seed: u64) -> SpaceRng {
        SpaceRng::leaf(seed)
    }

    /// Gymnasium's `space.sample()` with the generators of [`Space::seed`].
    fn sample_seeded(&self, rng: &mut SpaceRng) -> Self::Value {
        self.sample(rng.rng())
    }

    /// Whether `value` is a member of the space (right shape, inside the bounds, no NaN).
    fn contains(&self, value: &Self::Value) -> bool;

    /// Length of the flat `f32` encoding of a value (Gymnasium's `flatdim`).
    fn flatdim(&self) -> usize;

    /// Writes the flat encoding of `value` into `out` (`out.len()` must equal [`Space::flatdim`]).
    ///
    /// Discrete values are one-hot encoded, boxes are copied in row-major order, composites are
    /// concatenated; see each space for details.
    fn flatten_into(&self, value: &Self::Value, out: &mut [f32]) -> Result<()>;

    /// The flat encoding of `value` as a new vector.
    fn flatten(&self, value: &Self::Value) -> Result<Vec<f32>> {
        let mut out = vec![0.0; self.flatdim()];
        self.flatten_into(value, &mut out)?;
        Ok(out)
    }

    /// This space as an [`AnySpace`] (for serialization and type-erased environments).
    fn to_any(&self) -> AnySpace;

    /// Converts a value of this space to the type-erased [`Value`].
    fn to_value(&self, value: &Self::Value) -> Value;

    /// Converts a type-erased [`Value`] to a value of this space.
    ///
    /// Fails with [`Error::ValueMismatch`] when the value has the wrong kind or length; it does
    /// not check bounds (use [`Space::contains`] for that).
    #[allow(clippy::wrong_self_convention)]
    fn from_value(&self, value: &Value) -> Result<Self::Value>;

    /// Returns `Ok(())` if the space contains `value`, otherwise [`Error::InvalidAction`].
    fn check_action(&self, value: &Self::Value) -> Result<()> {
        if self.contains(value) {
            Ok(())
        } else {
            Err(Error::InvalidAction {
                action: format!("{value:?}"),
                space: format!("{}", self.to_any()),
            })
        }
    }
}

/// The number of elements of `shape`, or an error if it overflows `usize`.
pub(crate) fn checked_len(what: &str, shape: &[usize]) -> Result<usize> {
    shape
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .ok_or_else(|| Error::invalid_space(format!("{what} of shape {shape:?} is too large")))
}

/// The sum of `parts`, or an error if it overflows `usize`.
pub(crate) fn checked_sum(what: &str, parts: impl IntoIterator<Item = usize>) -> Result<usize> {
    parts
        .into_iter()
        .try_fold(0usize, |acc, d| acc.checked_add(d))
        .ok_or_else(|| Error::invalid_space(format!("{what} has too many elements")))
}

/// Checks that a flat output buffer has the right length.
pub(crate) fn check_flat_len(space: &impl Space, out: &[f32]) -> Result<()> {
    if out.len() == space.flatdim() {
        Ok(())
    } else {
        Err(Error::shape("flattened value", space.flatdim(), out.len()))
    }
}

/// Builds a [`Error::ValueMismatch`] for `space`.
pub(crate) fn mismatch(space: &impl Space, reason: impl Into<String>) -> Error {
    Error::ValueMismatch {
        space: format!("{}", space.to_any()),
        reason: reason.into(),
    }
}
