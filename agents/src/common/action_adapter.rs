//! From an environment's action space to a policy head, and from the policy's flat `f32`
//! actions back to the environment's action values, in place (no allocation per step).

use tokengym::space::{AnySpace, Value};

use crate::error::{Error, Result};
use crate::nn::net::ActionHead;

/// How policy actions map onto an action space the policy-gradient agents support:
/// `Discrete` (a categorical policy) and `f32` boxes (a diagonal Gaussian, clipped to the
/// bounds before the environment sees it).
#[derive(Debug, Clone, PartialEq)]
pub enum ActionAdapter {
    /// `Discrete(n, start)`: policy index `i` is action `start + i`.
    Discrete {
        /// Number of actions.
        n: usize,
        /// The first action.
        start: i64,
    },
    /// A `BoxSpace<f32>` of any shape, flattened row-major.
    Box {
        /// Lower bounds (may be `-inf`).
        low: Vec<f32>,
        /// Upper bounds (may be `+inf`).
        high: Vec<f32>,
    },
}

impl ActionAdapter {
    /// The adapter for `space`, or an error naming the unsupported space.
    pub fn from_space(space: &AnySpace) -> Result<Self> {
        match space {
            AnySpace::Discrete(d) => {
                let n = usize::try_from(d.n())
                    .map_err(|_| Error::InvalidArgument("Discrete space too large".to_owned()))?;
                Ok(Self::Discrete {
                    n,
                    start: d.start(),
                })
            }
            AnySpace::BoxF32(b) if !b.low().is_empty() => Ok(Self::Box {
                low: b.low().to_vec(),
                high: b.high().to_vec(),
            }),
            other => Err(Error::InvalidArgument(format!(
                "policy-gradient agents support Discrete and non-empty f32 Box action spaces, \
                 not {}",
                describe(other)
            ))),
        }
    }

    /// The policy head that parameterises this space.
    pub fn head(&self) -> ActionHead {
        match self {
            Self::Discrete { n, .. } => ActionHead::Categorical { n: *n },
            Self::Box { low, .. } => ActionHead::Gaussian { dim: low.len() },
        }
    }

    /// A value of the right kind to be overwritten by [`write`](Self::write).
    pub fn blank(&self) -> Value {
        match self {
            Self::Discrete { start, .. } => Value::Discrete(*start),
            Self::Box { low, .. } => Value::BoxF32(vec![0.0; low.len()]),
        }
    }

    /// Writes the policy action `action` (one index as `f32`, or `dim` Gaussian values) into
    /// `value`, clipping Gaussian actions to the bounds. `value` must come from
    /// [`blank`](Self::blank).
    pub fn write(&self, action: &[f32], value: &mut Value) -> Result<()> {
        match (self, value) {
            (Self::Discrete { n, start }, Value::Discrete(v)) => {
                let a = action.first().copied().unwrap_or(f32::NAN);
                if !(a >= 0.0 && (a as usize) < *n && a.fract() == 0.0) {
                    return Err(Error::InvalidArgument(format!(
                        "policy produced action {a} outside 0..{n}"
                    )));
                }
                *v = start + a as i64;
                Ok(())
            }
            (Self::Box { low, high }, Value::BoxF32(v)) if v.len() == action.len() => {
                for (((out, &a), &lo), &hi) in v.iter_mut().zip(action).zip(low).zip(high) {
                    if a.is_nan() {
                        return Err(Error::NonFinite("policy produced a NaN action".to_owned()));
                    }
                    *out = a.clamp(lo, hi);
                }
                Ok(())
            }
            (_, value) => Err(Error::Shape(format!(
                "action value {value:?} does not fit the adapter {self:?}"
            ))),
        }
    }

    /// The policy-side action of an environment action value (for scoring given actions).
    pub fn read(&self, value: &Value, out: &mut [f32]) -> Result<()> {
        match (self, value) {
            (Self::Discrete { n, start }, Value::Discrete(v)) if out.len() == 1 => {
                let i = v - start;
                if i < 0 || i as usize >= *n {
                    return Err(Error::InvalidArgument(format!(
                        "action {v} is outside the space"
                    )));
                }
                out[0] = i as f32;
                Ok(())
            }
            (Self::Box { .. }, Value::BoxF32(v)) if v.len() == out.len() => {
                out.copy_from_slice(v);
                Ok(())
            }
            _ => Err(Error::Shape(format!(
                "action value {value:?} does not fit the adapter {self:?}"
            ))),
        }
    }
}

fn describe(space: &AnySpace) -> String {
    match space {
        AnySpace::Discrete(_) => "Discrete".to_owned(),
        AnySpace::BoxF32(_) => "an empty f32 Box".to_owned(),
        AnySpace::BoxF64(_) => "an f64 Box".to_owned(),
        AnySpace::MultiDiscrete(_) => "MultiDiscrete".to_owned(),
        AnySpace::MultiBinary(_) => "MultiBinary".to_owned(),
        AnySpace::Tuple(_) => "Tuple".to_owned(),
        AnySpace::Dict(_) => "Dict".to_owned(),
        AnySpace::TokenSeq(_) => "TokenSeq".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokengym::space::{BoxSpace, Discrete, MultiBinary};

    #[test]
    fn discrete_round_trip_with_start() {
        let a =
            ActionAdapter::from_space(&AnySpace::Discrete(Discrete::with_start(3, -1).unwrap()))
                .unwrap();
        assert_eq!(a.head(), ActionHead::Categorical { n: 3 });
        let mut v = a.blank();
        a.write(&[2.0], &mut v).unwrap();
        assert_eq!(v, Value::Discrete(1));
        let mut back = [0.0];
        a.read(&v, &mut back).unwrap();
        assert_eq!(back, [2.0]);
        assert!(a.write(&[3.0], &mut v).is_err());
        assert!(a.write(&[0.5], &mut v).is_err());
        assert!(a.write(&[f32::NAN], &mut v).is_err());
    }

    #[test]
    fn box_actions_are_clipped_and_nan_rejected() {
        let space = BoxSpace::<f32>::new(vec![-2.0, 0.0], vec![2.0, 1.0], vec![2]).unwrap();
        let a = ActionAdapter::from_space(&AnySpace::BoxF32(space)).unwrap();
        assert_eq!(a.head(), ActionHead::Gaussian { dim: 2 });
        let mut v = a.blank();
        a.write(&[3.0, 0.5], &mut v).unwrap();
        assert_eq!(v, Value::BoxF32(vec![2.0, 0.5]));
        assert!(a.write(&[f32::NAN, 0.0], &mut v).is_err());
        assert!(a.write(&[1.0], &mut v).is_err());
    }

    #[test]
    fn unsupported_spaces_are_named() {
        let e = ActionAdapter::from_space(&AnySpace::MultiBinary(MultiBinary::new(3).unwrap()))
            .unwrap_err();
        assert!(e.to_string().contains("MultiBinary"), "{e}");
    }
}
