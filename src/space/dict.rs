//! `DictSpace`: named spaces.

use super::{AnySpace, Space, SpaceRng, Value, check_flat_len, checked_sum, mismatch};
use crate::error::{Error, Result};
use rand::Rng;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Named component spaces (Gymnasium's `Dict`); values are `BTreeMap<String, Value>`.
/// Keys are kept sorted, and the flat encoding concatenates the parts in key order.
///
/// ```
/// use tokengym::space::{BoxSpace, DictSpace, Discrete, Space};
/// let space = DictSpace::new([
///     ("position".to_string(), BoxSpace::<f32>::uniform(-1.0, 1.0, vec![2])?.to_any()),
///     ("mode".to_string(), Discrete::new(3)?.to_any()),
/// ].into_iter().collect())?;
/// assert_eq!(space.flatdim(), 5);
/// # Ok::<(), tokengym::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "DictRepr", into = "DictRepr")]
pub struct DictSpace {
    spaces: BTreeMap<String, AnySpace>,
}

#[derive(Serialize, Deserialize)]
struct DictRepr {
    spaces: BTreeMap<String, AnySpace>,
}

impl TryFrom<DictRepr> for DictSpace {
    type Error = Error;
    fn try_from(r: DictRepr) -> Result<Self> {
        DictSpace::new(r.spaces)
    }
}

impl From<DictSpace> for DictRepr {
    fn from(d: DictSpace) -> Self {
        DictRepr { spaces: d.spaces }
    }
}

impl DictSpace {
    /// Named spaces (at least one).
    pub fn new(spaces: BTreeMap<String, AnySpace>) -> Result<Self> {
        if spaces.is_empty() {
            return Err(Error::invalid_space("Dict needs at least one space"));
        }
        checked_sum("Dict", spaces.values().map(Space::flatdim))?;
        Ok(DictSpace { spaces })
    }

    /// The component spaces by name.
    pub fn spaces(&self) -> &BTreeMap<String, AnySpace> {
        &self.spaces
    }
}

impl Space for DictSpace {
    type Value = BTreeMap<String, Value>;

    fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> Self::Value {
        self.spaces
            .iter()
            .map(|(k, s)| (k.clone(), s.sample(rng)))
            .collect()
    }

    /// Gymnasium's `Dict.seed(seed)`: one seed per subspace, keys in sorted order.
    fn seed(&self, seed: u64) -> SpaceRng {
        let spaces: Vec<&AnySpace> = self.spaces.values().collect();
        SpaceRng::composite(seed, spaces.len(), |i, s| spaces[i].seed(s))
    }

    fn sample_seeded(&self, rng: &mut SpaceRng) -> Self::Value {
        self.spaces
            .iter()
            .zip(rng.children())
            .map(|((k, s), r)| (k.clone(), s.sample_seeded(r)))
            .collect()
    }

    fn contains(&self, value: &Self::Value) -> bool {
        value.len() == self.spaces.len()
            && self
                .spaces
                .iter()
                .all(|(k, s)| value.get(k).is_some_and(|v| s.contains(v)))
    }

    fn flatdim(&self) -> usize {
        self.spaces.values().map(Space::flatdim).sum()
    }

    fn flatten_into(&self, value: &Self::Value, out: &mut [f32]) -> Result<()> {
        check_flat_len(self, out)?;
        let mut offset = 0;
        for (k, s) in &self.spaces {
            let v = value
                .get(k)
                .ok_or_else(|| mismatch(self, format!("missing key {k:?}")))?;
            let d = s.flatdim();
            s.flatten_into(v, &mut out[offset..offset + d])?;
            offset += d;
        }
        Ok(())
    }

    fn to_any(&self) -> AnySpace {
        AnySpace::Dict(self.clone())
    }

    fn to_value(&self, value: &Self::Value) -> Value {
        Value::Dict(value.clone())
    }

    fn from_value(&self, value: &Value) -> Result<Self::Value> {
        match value {
            Value::Dict(m) => {
                if let Some(k) = self.spaces.keys().find(|k| !m.contains_key(*k)) {
                    return Err(mismatch(self, format!("missing key {k:?}")));
                }
                if let Some(k) = m.keys().find(|k| !self.spaces.contains_key(*k)) {
                    return Err(mismatch(self, format!("unexpected key {k:?}")));
                }
                Ok(m.clone())
            }
            other => Err(mismatch(
                self,
                format!("expected a dict, got {}", other.kind()),
            )),
        }
    }
}

impl std::fmt::Display for DictSpace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Dict(")?;
        for (i, (k, s)) in self.spaces.iter().enumerate() {
            if i > 0 {
                write!(f, ", ")?;
            }
            write!(f, "{k}: {s}")?;
        }
        write!(f, ")")
    }
}
