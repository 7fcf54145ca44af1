//! `MultiBinary`: an array of bits.

use super::{AnySpace, Space, Value, check_flat_len, checked_len, mismatch};
use crate::error::{Error, Result};
use crate::seeding::bounded_u8_fill;
use rand::Rng;
use serde::{Deserialize, Serialize};

/// An array of 0/1 entries with a shape (Gymnasium's `MultiBinary`). Flattened as the bits.
///
/// ```
/// use tokengym::space::{MultiBinary, Space};
/// let space = MultiBinary::new(3)?;
/// assert!(space.contains(&vec![1, 0, 1]));
/// assert!(!space.contains(&vec![2, 0, 1]));
/// # Ok::<(), tokengym::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "MultiBinaryRepr", into = "MultiBinaryRepr")]
pub struct MultiBinary {
    shape: Vec<usize>,
}

#[derive(Serialize, Deserialize)]
struct MultiBinaryRepr {
    shape: Vec<usize>,
}

impl TryFrom<MultiBinaryRepr> for MultiBinary {
    type Error = Error;
    fn try_from(r: MultiBinaryRepr) -> Result<Self> {
        MultiBinary::with_shape(r.shape)
    }
}

impl From<MultiBinary> for MultiBinaryRepr {
    fn from(m: MultiBinary) -> Self {
        MultiBinaryRepr { shape: m.shape }
    }
}

impl MultiBinary {
    /// `n` bits; `n` must be positive.
    pub fn new(n: usize) -> Result<Self> {
        Self::with_shape(vec![n])
    }

    /// Bits arranged in `shape` (row-major); every dimension must be positive.
    pub fn with_shape(shape: Vec<usize>) -> Result<Self> {
        if shape.is_empty() || shape.contains(&0) {
            return Err(Error::invalid_space(format!(
                "MultiBinary needs a non-empty shape of positive sizes, got {shape:?}"
            )));
        }
        checked_len("MultiBinary", &shape)?;
        Ok(MultiBinary { shape })
    }

    /// The shape.
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// Number of bits.
    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }

    /// Always false: a `MultiBinary` has at least one bit.
    pub fn is_empty(&self) -> bool {
        false
    }
}

impl Space for MultiBinary {
    type Value = Vec<u8>;

    fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> Vec<u8> {
        // Gymnasium's `integers(0, 2, size=shape, dtype=np.int8)`: one fill, bytes of 32-bit words.
        let mut out = vec![0u8; self.len()];
        bounded_u8_fill(rng, 0, 1, &mut out);
        out
    }

    fn contains(&self, value: &Vec<u8>) -> bool {
        value.len() == self.len() && value.iter().all(|&b| b <= 1)
    }

    fn flatdim(&self) -> usize {
        self.len()
    }

    fn flatten_into(&self, value: &Vec<u8>, out: &mut [f32]) -> Result<()> {
        check_flat_len(self, out)?;
        if !self.contains(value) {
            return Err(mismatch(self, format!("{value:?} is not a member")));
        }
        for (o, &b) in out.iter_mut().zip(value) {
            *o = b as f32;
        }
        Ok(())
    }

    fn to_any(&self) -> AnySpace {
        AnySpace::MultiBinary(self.clone())
    }

    fn to_value(&self, value: &Vec<u8>) -> Value {
        Value::MultiBinary(value.clone())
    }

    fn from_value(&self, value: &Value) -> Result<Vec<u8>> {
        match value {
            Value::MultiBinary(v) if v.len() == self.len() => Ok(v.clone()),
            Value::MultiBinary(v) => Err(mismatch(
                self,
                format!("expected {} bits, got {}", self.len(), v.len()),
            )),
            other => Err(mismatch(
                self,
                format!("expected a multi_binary value, got {}", other.kind()),
            )),
        }
    }
}

impl std::fmt::Display for MultiBinary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MultiBinary({:?})", self.shape)
    }
}
