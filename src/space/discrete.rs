//! `Discrete`: the integers `start, start + 1, ..., start + n - 1`.

use super::{AnySpace, Space, Value, check_flat_len, mismatch};
use crate::error::{Error, Result};
use crate::seeding::below;
use rand::Rng;
use serde::{Deserialize, Serialize};

/// The integers `{start, ..., start + n - 1}` (Gymnasium's `Discrete(n, start)`).
///
/// Flattened as a one-hot vector of length `n`.
///
/// ```
/// use tokengym::space::{Discrete, Space};
/// use rand::SeedableRng;
/// let space = Discrete::new(3)?;
/// let mut rng = tokengym::EnvRng::seed_from_u64(0);
/// let a = space.sample(&mut rng);
/// assert!(space.contains(&a));
/// assert_eq!(space.flatten(&2)?, vec![0.0, 0.0, 1.0]);
/// # Ok::<(), tokengym::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "DiscreteRepr", into = "DiscreteRepr")]
pub struct Discrete {
    n: u64,
    start: i64,
}

#[derive(Serialize, Deserialize)]
struct DiscreteRepr {
    n: u64,
    #[serde(default)]
    start: i64,
}

impl TryFrom<DiscreteRepr> for Discrete {
    type Error = Error;
    fn try_from(r: DiscreteRepr) -> Result<Self> {
        Discrete::with_start(r.n, r.start)
    }
}

impl From<Discrete> for DiscreteRepr {
    fn from(d: Discrete) -> Self {
        DiscreteRepr {
            n: d.n,
            start: d.start,
        }
    }
}

impl Discrete {
    /// `{0, ..., n - 1}`; `n` must be positive.
    pub fn new(n: u64) -> Result<Self> {
        Self::with_start(n, 0)
    }

    /// `{start, ..., start + n - 1}`; `n` must be positive and the range must fit in `i64`.
    pub fn with_start(n: u64, start: i64) -> Result<Self> {
        if n == 0 {
            return Err(Error::invalid_space("Discrete needs n > 0"));
        }
        let fits = i64::try_from(n - 1)
            .ok()
            .and_then(|m| start.checked_add(m))
            .is_some();
        if !fits {
            return Err(Error::invalid_space(format!(
                "Discrete(n={n}, start={start}) does not fit in i64"
            )));
        }
        Ok(Discrete { n, start })
    }

    /// Number of elements.
    pub fn n(&self) -> u64 {
        self.n
    }

    /// Smallest element.
    pub fn start(&self) -> i64 {
        self.start
    }

    /// Index of `value` in `0..n`, if it is a member.
    pub fn index_of(&self, value: i64) -> Option<usize> {
        let off = value.checked_sub(self.start)?;
        (off >= 0 && (off as u64) < self.n).then_some(off as usize)
    }

    /// Samples uniformly among the elements whose `mask` entry is `true`.
    ///
    /// `mask.len()` must equal `n`. As in Gymnasium (`sample(mask)`: `choice` among the allowed
    /// indices), when the mask allows no element the space's `start` is returned without a draw.
    pub fn sample_masked<R: Rng + ?Sized>(&self, rng: &mut R, mask: &[bool]) -> Result<i64> {
        if mask.len() as u64 != self.n {
            return Err(Error::shape("Discrete action mask", self.n, mask.len()));
        }
        let allowed = mask.iter().filter(|&&m| m).count();
        if allowed == 0 {
            return Ok(self.start);
        }
        let pick = below(rng, allowed as u64) as usize;
        let idx = mask
            .iter()
            .enumerate()
            .filter(|(_, m)| **m)
            .nth(pick)
            .map(|(i, _)| i)
            .unwrap_or(0);
        Ok(self.start + idx as i64)
    }
}

impl Space for Discrete {
    type Value = i64;

    /// Gymnasium's `start + integers(n)`.
    fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> i64 {
        self.start + below(rng, self.n) as i64
    }

    fn contains(&self, value: &i64) -> bool {
        self.index_of(*value).is_some()
    }

    fn flatdim(&self) -> usize {
        self.n as usize
    }

    fn flatten_into(&self, value: &i64, out: &mut [f32]) -> Result<()> {
        check_flat_len(self, out)?;
        let idx = self
            .index_of(*value)
            .ok_or_else(|| mismatch(self, format!("{value} is out of range")))?;
        out.fill(0.0);
        out[idx] = 1.0;
        Ok(())
    }

    fn to_any(&self) -> AnySpace {
        AnySpace::Discrete(*self)
    }

    fn to_value(&self, value: &i64) -> Value {
        Value::Discrete(*value)
    }

    fn from_value(&self, value: &Value) -> Result<i64> {
        match value {
            Value::Discrete(v) => Ok(*v),
            other => Err(mismatch(
                self,
                format!("expected a discrete value, got {}", other.kind()),
            )),
        }
    }
}

impl std::fmt::Display for Discrete {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.start == 0 {
            write!(f, "Discrete({})", self.n)
        } else {
            write!(f, "Discrete({}, start={})", self.n, self.start)
        }
    }
}
