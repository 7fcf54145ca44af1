//! Values just outside a space, to feed `step` as invalid actions.

use crate::space::{AnySpace, BoxElement, BoxSpace, Space, Value};
use rand::Rng;

/// Values that have the right kind and length for `space` but are not members: out of range
/// integers, NaN and out-of-bounds box entries, too-long token sequences, composites with one
/// bad part. May be empty (e.g. an unbounded box has no out-of-bounds finite value, but NaN is
/// always there for boxes with at least one element).
pub(crate) fn invalid_values<R: Rng + ?Sized>(space: &AnySpace, rng: &mut R) -> Vec<Value> {
    let mut out = match space {
        AnySpace::Discrete(d) => {
            let n = i64::try_from(d.n()).ok();
            [
                n.and_then(|n| d.start().checked_add(n)),
                d.start().checked_sub(1),
            ]
            .into_iter()
            .flatten()
            .map(Value::Discrete)
            .collect()
        }
        AnySpace::BoxF32(b) => box_values(b),
        AnySpace::BoxF64(b) => box_values(b),
        AnySpace::MultiDiscrete(m) => {
            let mut v = m.start().to_vec();
            match (v.first_mut(), m.nvec().first()) {
                (Some(first), Some(&n)) => {
                    match i64::try_from(n).ok().and_then(|n| first.checked_add(n)) {
                        Some(x) => {
                            *first = x;
                            vec![Value::MultiDiscrete(v)]
                        }
                        None => vec![],
                    }
                }
                _ => vec![],
            }
        }
        AnySpace::MultiBinary(m) => {
            let mut v = vec![0u8; m.len()];
            match v.first_mut() {
                Some(first) => {
                    *first = 2;
                    vec![Value::MultiBinary(v)]
                }
                None => vec![],
            }
        }
        AnySpace::TokenSeq(t) => {
            let mut out = vec![Value::Tokens(vec![0; t.max_len() + 1])];
            if t.max_len() > 0 {
                out.push(Value::Tokens(vec![t.vocab_size()]));
            }
            out
        }
        AnySpace::Tuple(t) => {
            let parts: Vec<Value> = t.spaces().iter().map(|s| s.sample(rng)).collect();
            let mut out = Vec::new();
            for (i, sub) in t.spaces().iter().enumerate() {
                if let Some(bad) = invalid_values(sub, rng).into_iter().next() {
                    let mut v = parts.clone();
                    v[i] = bad;
                    out.push(Value::Tuple(v));
                    break;
                }
            }
            out
        }
        AnySpace::Dict(d) => {
            let parts: std::collections::BTreeMap<String, Value> = d
                .spaces()
                .iter()
                .map(|(k, s)| (k.clone(), s.sample(rng)))
                .collect();
            let mut out = Vec::new();
            for (key, sub) in d.spaces() {
                if let Some(bad) = invalid_values(sub, rng).into_iter().next() {
                    let mut v = parts.clone();
                    v.insert(key.clone(), bad);
                    out.push(Value::Dict(v));
                    break;
                }
            }
            out
        }
    };
    // Only keep what really is outside (guards against surprises such as rounding).
    out.retain(|v| !space.contains(v));
    out
}

/// NaN everywhere; one entry above its finite upper bound; one below its finite lower bound.
/// The other entries sit at a member value (0 clamped into the bounds).
fn box_values<T: BoxElement>(b: &BoxSpace<T>) -> Vec<Value> {
    if b.is_empty() {
        return vec![];
    }
    let inside: Vec<T> = b
        .low()
        .iter()
        .zip(b.high())
        .map(|(&l, &h)| T::from_f64(0.0f64.clamp(l.to_f64(), h.to_f64())))
        .collect();
    let mut out = vec![T::into_value(vec![T::from_f64(f64::NAN); b.len()])];
    if let Some(i) = b.high().iter().position(|h| h.to_f64().is_finite()) {
        let h = b.high()[i].to_f64();
        let mut v = inside.clone();
        v[i] = T::from_f64(h + h.abs().max(1.0));
        out.push(T::into_value(v));
    }
    if let Some(i) = b.low().iter().position(|l| l.to_f64().is_finite()) {
        let l = b.low()[i].to_f64();
        let mut v = inside;
        v[i] = T::from_f64(l - l.abs().max(1.0));
        out.push(T::into_value(v));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::space::{DictSpace, Discrete, MultiBinary, MultiDiscrete, TokenSeq, TupleSpace};
    use rand::SeedableRng;

    #[test]
    fn every_candidate_is_outside_and_well_formed() {
        let mut rng = crate::EnvRng::seed_from_u64(0);
        let boxed = BoxSpace::<f32>::new(vec![-1.0, 0.0], vec![1.0, f32::INFINITY], vec![2]);
        let spaces = [
            Discrete::with_start(3, -1).unwrap().to_any(),
            boxed.unwrap().to_any(),
            BoxSpace::<f64>::uniform(f64::NEG_INFINITY, f64::INFINITY, vec![2])
                .unwrap()
                .to_any(),
            MultiDiscrete::new(vec![2, 3]).unwrap().to_any(),
            MultiBinary::new(3).unwrap().to_any(),
            TokenSeq::new(10, 4).unwrap().to_any(),
            AnySpace::Tuple(TupleSpace::new(vec![Discrete::new(2).unwrap().to_any()]).unwrap()),
            AnySpace::Dict(
                DictSpace::new(
                    [("a".to_string(), Discrete::new(2).unwrap().to_any())]
                        .into_iter()
                        .collect(),
                )
                .unwrap(),
            ),
        ];
        let counts: Vec<usize> = spaces
            .iter()
            .map(|s| {
                let bad = invalid_values(s, &mut rng);
                for v in &bad {
                    assert!(!s.contains(v), "{v} in {s}");
                    assert!(s.from_value(v).is_ok(), "{v} has the wrong kind for {s}");
                }
                bad.len()
            })
            .collect();
        // Discrete: above and below; box: NaN, above, below; unbounded box: NaN only.
        assert_eq!(counts, vec![2, 3, 1, 1, 1, 2, 1, 1]);
    }
}
