//! `TupleSpace`: a fixed sequence of spaces.

use super::{AnySpace, Space, SpaceRng, Value, check_flat_len, checked_sum, mismatch};
use crate::error::{Error, Result};
use rand::Rng;
use serde::{Deserialize, Serialize};

/// The product of a list of spaces (Gymnasium's `Tuple`); values are `Vec<Value>`.
/// Flattened as the concatenation of the parts' flat encodings.
///
/// ```
/// use tokengym::space::{AnySpace, Discrete, TupleSpace, Space, Value};
/// let space = TupleSpace::new(vec![Discrete::new(2)?.to_any(), Discrete::new(3)?.to_any()])?;
/// assert!(space.contains(&vec![Value::Discrete(1), Value::Discrete(2)]));
/// assert_eq!(space.flatdim(), 5);
/// # Ok::<(), tokengym::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "TupleRepr", into = "TupleRepr")]
pub struct TupleSpace {
    spaces: Vec<AnySpace>,
}

#[derive(Serialize, Deserialize)]
struct TupleRepr {
    spaces: Vec<AnySpace>,
}

impl TryFrom<TupleRepr> for TupleSpace {
    type Error = Error;
    fn try_from(r: TupleRepr) -> Result<Self> {
        TupleSpace::new(r.spaces)
    }
}

impl From<TupleSpace> for TupleRepr {
    fn from(t: TupleSpace) -> Self {
        TupleRepr { spaces: t.spaces }
    }
}

impl TupleSpace {
    /// The product of `spaces` (at least one).
    pub fn new(spaces: Vec<AnySpace>) -> Result<Self> {
        if spaces.is_empty() {
            return Err(Error::invalid_space("Tuple needs at least one space"));
        }
        checked_sum("Tuple", spaces.iter().map(Space::flatdim))?;
        Ok(TupleSpace { spaces })
    }

    /// The component spaces.
    pub fn spaces(&self) -> &[AnySpace] {
        &self.spaces
    }
}

impl Space for TupleSpace {
    type Value = Vec<Value>;

    fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> Vec<Value> {
        self.spaces.iter().map(|s| s.sample(rng)).collect()
    }

    /// Gymnasium's `Tuple.seed(seed)`: one seed per subspace drawn from the tuple's generator.
    fn seed(&self, seed: u64) -> SpaceRng {
        SpaceRng::composite(seed, self.spaces.len(), |i, s| self.spaces[i].seed(s))
    }

    fn sample_seeded(&self, rng: &mut SpaceRng) -> Vec<Value> {
        self.spaces
            .iter()
            .zip(rng.children())
            .map(|(s, r)| s.sample_seeded(r))
            .collect()
    }

    fn contains(&self, value: &Vec<Value>) -> bool {
        value.len() == self.spaces.len()
            && self.spaces.iter().zip(value).all(|(s, v)| s.contains(v))
    }

    fn flatdim(&self) -> usize {
        self.spaces.iter().map(Space::flatdim).sum()
    }

    fn flatten_into(&self, value: &Vec<Value>, out: &mut [f32]) -> Result<()> {
        check_flat_len(self, out)?;
        if value.len() != self.spaces.len() {
            return Err(mismatch(
                self,
                format!("expected {} parts, got {}", self.spaces.len(), value.len()),
            ));
        }
        let mut offset = 0;
        for (s, v) in self.spaces.iter().zip(value) {
            let d = s.flatdim();
            s.flatten_into(v, &mut out[offset..offset + d])?;
            offset += d;
        }
        Ok(())
    }

    fn to_any(&self) -> AnySpace {
        AnySpace::Tuple(self.clone())
    }

    fn to_value(&self, value: &Vec<Value>) -> Value {
        Value::Tuple(value.clone())
    }

    fn from_value(&self, value: &Value) -> Result<Vec<Value>> {
        match value {
            Value::Tuple(v) if v.len() == self.spaces.len() => Ok(v.clone()),
            Value::Tuple(v) => Err(mismatch(
                self,
                format!("expected {} parts, got {}", self.spaces.len(), v.len()),
            )),
            other => Err(mismatch(
                self,
                format!("expected a tuple, got {}", other.kind()),
            )),
        }
    }
}

impl std::fmt::Display for TupleSpace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Tuple(")?;
        for (i, s) in self.spaces.iter().enumerate() {
            if i > 0 {
                write!(f, ", ")?;
            }
            write!(f, "{s}")?;
        }
        write!(f, ")")
    }
}
