//! `AnySpace`: every kind of space behind one type.

use super::{
    BoxSpace, DictSpace, Discrete, MultiBinary, MultiDiscrete, Space, SpaceRng, TokenSeq,
    TupleSpace, Value, mismatch,
};
use crate::error::Result;
use rand::Rng;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Any space, type-erased; its values are [`Value`]s. This is what the registry, the env checker
/// and serialized configs use. It implements [`Space`] itself.
///
/// ```
/// use tokengym::space::{AnySpace, Discrete, Space, Value};
/// let space: AnySpace = Discrete::new(4)?.to_any();
/// let json = serde_json::to_string(&space).unwrap();
/// let back: AnySpace = serde_json::from_str(&json).unwrap();
/// assert_eq!(space, back);
/// assert!(back.contains(&Value::Discrete(3)));
/// # Ok::<(), tokengym::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AnySpace {
    /// See [`Discrete`].
    Discrete(Discrete),
    /// An `f32` [`BoxSpace`].
    BoxF32(BoxSpace<f32>),
    /// An `f64` [`BoxSpace`].
    BoxF64(BoxSpace<f64>),
    /// See [`MultiDiscrete`].
    MultiDiscrete(MultiDiscrete),
    /// See [`MultiBinary`].
    MultiBinary(MultiBinary),
    /// See [`TupleSpace`].
    Tuple(TupleSpace),
    /// See [`DictSpace`].
    Dict(DictSpace),
    /// See [`TokenSeq`].
    TokenSeq(TokenSeq),
}

/// Calls `$body` with `$s` bound to the inner space, whatever the variant.
macro_rules! dispatch {
    ($self:expr, $s:ident => $body:expr) => {
        match $self {
            AnySpace::Discrete($s) => $body,
            AnySpace::BoxF32($s) => $body,
            AnySpace::BoxF64($s) => $body,
            AnySpace::MultiDiscrete($s) => $body,
            AnySpace::MultiBinary($s) => $body,
            AnySpace::Tuple($s) => $body,
            AnySpace::Dict($s) => $body,
            AnySpace::TokenSeq($s) => $body,
        }
    };
}

impl AnySpace {
    /// The shape of one value's array form: `[]` for `Discrete`, the box shape for `Box`, etc.
    /// Composite spaces (`Tuple`, `Dict`) and `TokenSeq` report `[flatdim]`.
    pub fn shape(&self) -> Vec<usize> {
        match self {
            AnySpace::Discrete(_) => vec![],
            AnySpace::BoxF32(b) => b.shape().to_vec(),
            AnySpace::BoxF64(b) => b.shape().to_vec(),
            AnySpace::MultiDiscrete(m) => vec![m.nvec().len()],
            AnySpace::MultiBinary(m) => m.shape().to_vec(),
            other => vec![other.flatdim()],
        }
    }

    /// The discrete space inside, if this is one.
    pub fn as_discrete(&self) -> Option<&Discrete> {
        match self {
            AnySpace::Discrete(d) => Some(d),
            _ => None,
        }
    }

    /// The `f32` box inside, if this is one.
    pub fn as_box_f32(&self) -> Option<&BoxSpace<f32>> {
        match self {
            AnySpace::BoxF32(b) => Some(b),
            _ => None,
        }
    }
}

impl Space for AnySpace {
    type Value = Value;

    fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> Value {
        dispatch!(self, s => s.to_value(&s.sample(rng)))
    }

    fn seed(&self, seed: u64) -> SpaceRng {
        dispatch!(self, s => s.seed(seed))
    }

    fn sample_seeded(&self, rng: &mut SpaceRng) -> Value {
        dispatch!(self, s => s.to_value(&s.sample_seeded(rng)))
    }

    fn contains(&self, value: &Value) -> bool {
        dispatch!(self, s => s.from_value(value).is_ok_and(|v| s.contains(&v)))
    }

    fn flatdim(&self) -> usize {
        dispatch!(self, s => s.flatdim())
    }

    fn flatten_into(&self, value: &Value, out: &mut [f32]) -> Result<()> {
        match (self, value) {
            // Fast paths without a conversion (and without allocating).
            (AnySpace::Discrete(s), Value::Discrete(v)) => s.flatten_into(v, out),
            (AnySpace::BoxF32(s), Value::BoxF32(v)) => s.flatten_into(v, out),
            (AnySpace::BoxF64(s), Value::BoxF64(v)) => s.flatten_into(v, out),
            (AnySpace::MultiDiscrete(s), Value::MultiDiscrete(v)) => s.flatten_into(v, out),
            (AnySpace::MultiBinary(s), Value::MultiBinary(v)) => s.flatten_into(v, out),
            (AnySpace::Tuple(s), Value::Tuple(v)) => s.flatten_into(v, out),
            (AnySpace::Dict(s), Value::Dict(v)) => s.flatten_into(v, out),
            (AnySpace::TokenSeq(s), Value::Tokens(v)) => s.flatten_into(v, out),
            (s, v) => Err(mismatch(
                s,
                format!("a {} value cannot be flattened here", v.kind()),
            )),
        }
    }

    fn to_any(&self) -> AnySpace {
        self.clone()
    }

    fn to_value(&self, value: &Value) -> Value {
        value.clone()
    }

    fn from_value(&self, value: &Value) -> Result<Value> {
        dispatch!(self, s => s.from_value(value).map(|v| s.to_value(&v)))
    }
}

impl fmt::Display for AnySpace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        dispatch!(self, s => fmt::Display::fmt(s, f))
    }
}
