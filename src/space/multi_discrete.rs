//! `MultiDiscrete`: a vector of independent discrete values.

use super::{AnySpace, Space, Value, check_flat_len, checked_sum, mismatch};
use crate::error::{Error, Result};
use crate::seeding::random;
use rand::Rng;
use serde::{Deserialize, Serialize};

/// A vector whose entry `i` lies in `{start[i], ..., start[i] + nvec[i] - 1}` (Gymnasium's
/// `MultiDiscrete`). Flattened as the concatenation of one one-hot vector per entry.
///
/// ```
/// use tokengym::space::{MultiDiscrete, Space};
/// let space = MultiDiscrete::new(vec![2, 3])?;
/// assert!(space.contains(&vec![1, 2]));
/// assert_eq!(space.flatten(&vec![1, 0])?, vec![0.0, 1.0, 1.0, 0.0, 0.0]);
/// # Ok::<(), tokengym::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "MultiDiscreteRepr", into = "MultiDiscreteRepr")]
pub struct MultiDiscrete {
    nvec: Vec<u64>,
    start: Vec<i64>,
}

#[derive(Serialize, Deserialize)]
struct MultiDiscreteRepr {
    nvec: Vec<u64>,
    #[serde(default)]
    start: Option<Vec<i64>>,
}

impl TryFrom<MultiDiscreteRepr> for MultiDiscrete {
    type Error = Error;
    fn try_from(r: MultiDiscreteRepr) -> Result<Self> {
        let n = r.nvec.len();
        MultiDiscrete::with_start(r.nvec, r.start.unwrap_or_else(|| vec![0; n]))
    }
}

impl From<MultiDiscrete> for MultiDiscreteRepr {
    fn from(m: MultiDiscrete) -> Self {
        MultiDiscreteRepr {
            nvec: m.nvec,
            start: Some(m.start),
        }
    }
}

impl MultiDiscrete {
    /// Entries in `{0, ..., nvec[i] - 1}`; every `nvec[i]` must be positive.
    pub fn new(nvec: Vec<u64>) -> Result<Self> {
        let n = nvec.len();
        Self::with_start(nvec, vec![0; n])
    }

    /// Entries in `{start[i], ..., start[i] + nvec[i] - 1}`.
    pub fn with_start(nvec: Vec<u64>, start: Vec<i64>) -> Result<Self> {
        if nvec.len() != start.len() {
            return Err(Error::invalid_space(format!(
                "MultiDiscrete nvec has {} entries but start has {}",
                nvec.len(),
                start.len()
            )));
        }
        for (i, (&n, &s)) in nvec.iter().zip(&start).enumerate() {
            if n == 0 {
                return Err(Error::invalid_space(format!(
                    "MultiDiscrete nvec[{i}] is 0"
                )));
            }
            let fits = i64::try_from(n - 1)
                .ok()
                .and_then(|m| s.checked_add(m))
                .is_some();
            if !fits {
                return Err(Error::invalid_space(format!(
                    "MultiDiscrete entry {i} (n={n}, start={s}) does not fit in i64"
                )));
            }
        }
        checked_sum("MultiDiscrete", nvec.iter().map(|&n| n as usize))?;
        Ok(MultiDiscrete { nvec, start })
    }

    /// Number of values of each entry.
    pub fn nvec(&self) -> &[u64] {
        &self.nvec
    }

    /// Smallest value of each entry.
    pub fn start(&self) -> &[i64] {
        &self.start
    }
}

impl Space for MultiDiscrete {
    type Value = Vec<i64>;

    /// Gymnasium's `(random(shape) * nvec).astype(int64) + start`.
    fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> Vec<i64> {
        self.nvec
            .iter()
            .zip(&self.start)
            // `min` keeps the index inside when `n` is too large for an f64 to hold exactly.
            .map(|(&n, &s)| s + ((random(rng) * n as f64) as u64).min(n - 1) as i64)
            .collect()
    }

    fn contains(&self, value: &Vec<i64>) -> bool {
        value.len() == self.nvec.len()
            && value
                .iter()
                .zip(self.nvec.iter().zip(&self.start))
                .all(|(&v, (&n, &s))| v >= s && (v.wrapping_sub(s) as u64) < n)
    }

    fn flatdim(&self) -> usize {
        self.nvec.iter().map(|&n| n as usize).sum()
    }

    fn flatten_into(&self, value: &Vec<i64>, out: &mut [f32]) -> Result<()> {
        check_flat_len(self, out)?;
        if !self.contains(value) {
            return Err(mismatch(self, format!("{value:?} is not a member")));
        }
        out.fill(0.0);
        let mut offset = 0;
        for ((&v, &n), &s) in value.iter().zip(&self.nvec).zip(&self.start) {
            out[offset + v.wrapping_sub(s) as usize] = 1.0;
            offset += n as usize;
        }
        Ok(())
    }

    fn to_any(&self) -> AnySpace {
        AnySpace::MultiDiscrete(self.clone())
    }

    fn to_value(&self, value: &Vec<i64>) -> Value {
        Value::MultiDiscrete(value.clone())
    }

    fn from_value(&self, value: &Value) -> Result<Vec<i64>> {
        match value {
            Value::MultiDiscrete(v) if v.len() == self.nvec.len() => Ok(v.clone()),
            Value::MultiDiscrete(v) => Err(mismatch(
                self,
                format!("expected {} entries, got {}", self.nvec.len(), v.len()),
            )),
            other => Err(mismatch(
                self,
                format!("expected a multi_discrete value, got {}", other.kind()),
            )),
        }
    }
}

impl std::fmt::Display for MultiDiscrete {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MultiDiscrete({:?})", self.nvec)
    }
}
