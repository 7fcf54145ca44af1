//! The type-erased value of any space.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// A value of any [`crate::space::AnySpace`]: what type-erased environments exchange.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum Value {
    /// A value of a [`crate::space::Discrete`] space.
    Discrete(i64),
    /// A value of an `f32` [`crate::space::BoxSpace`], row-major.
    BoxF32(Vec<f32>),
    /// A value of an `f64` [`crate::space::BoxSpace`], row-major.
    BoxF64(Vec<f64>),
    /// A value of a [`crate::space::MultiDiscrete`] space.
    MultiDiscrete(Vec<i64>),
    /// A value of a [`crate::space::MultiBinary`] space (each entry 0 or 1), row-major.
    MultiBinary(Vec<u8>),
    /// A value of a [`crate::space::TupleSpace`].
    Tuple(Vec<Value>),
    /// A value of a [`crate::space::DictSpace`].
    Dict(BTreeMap<String, Value>),
    /// A value of a [`crate::space::TokenSeq`] space: token ids.
    Tokens(Vec<u32>),
}

impl Value {
    /// A short name of the value's kind, for error messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Discrete(_) => "discrete",
            Value::BoxF32(_) => "box_f32",
            Value::BoxF64(_) => "box_f64",
            Value::MultiDiscrete(_) => "multi_discrete",
            Value::MultiBinary(_) => "multi_binary",
            Value::Tuple(_) => "tuple",
            Value::Dict(_) => "dict",
            Value::Tokens(_) => "tokens",
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Discrete(v) => write!(f, "{v}"),
            Value::BoxF32(v) => write!(f, "{v:?}"),
            Value::BoxF64(v) => write!(f, "{v:?}"),
            Value::MultiDiscrete(v) => write!(f, "{v:?}"),
            Value::MultiBinary(v) => write!(f, "{v:?}"),
            Value::Tokens(v) => write!(f, "tokens{v:?}"),
            Value::Tuple(v) => {
                write!(f, "(")?;
                for (i, x) in v.iter().enumerate() {
                    if i > 0 {
                        write!(f, ", ")?;
                    }
                    write!(f, "{x}")?;
                }
                write!(f, ")")
            }
            Value::Dict(m) => {
                write!(f, "{{")?;
                for (i, (k, x)) in m.iter().enumerate() {
                    if i > 0 {
                        write!(f, ", ")?;
                    }
                    write!(f, "{k:?}: {x}")?;
                }
                write!(f, "}}")
            }
        }
    }
}
