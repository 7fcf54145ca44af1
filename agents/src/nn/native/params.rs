//! The flat parameter store of the native network: every parameter lives in one `Vec<f32>` (and
//! its gradient in another of the same length), so Adam and gradient clipping are single loops.
//!
//! Weights are stored transposed, `[in, out]` row-major, which is the layout the forward matrix
//! product streams; [`ParamStore::to_named`] and [`ParamStore::gather`] convert from and to the
//! `[out, in]` layout of [`NamedTensor`].

use std::collections::HashMap;
use std::ops::Range;

use crate::error::{Error, Result};
use crate::nn::architecture::Trunk;
use crate::nn::net::{NamedTensor, NetSpec};

/// The parameter names and shapes of a network with shape `spec`, in checkpoint order (shared
/// trunk, actor, critic, log-std), named as documented on [`NamedTensor`].
pub fn parameter_layout(spec: &NetSpec) -> Vec<(String, Vec<usize>)> {
    let mut out = Vec::new();
    let push_linear = |out: &mut Vec<(String, Vec<usize>)>, prefix: &str, i: usize, a, b| {
        out.push((format!("{prefix}.{i}.weight"), vec![b, a]));
        out.push((format!("{prefix}.{i}.bias"), vec![b]));
    };
    let policy_dim = spec.head.policy_dim();
    match spec.trunk {
        Trunk::Separate => {
            for (prefix, out_dim) in [("actor", policy_dim), ("critic", 1)] {
                let mut last = spec.obs_dim;
                for (i, &h) in spec.hidden.iter().enumerate() {
                    push_linear(&mut out, prefix, i, last, h);
                    last = h;
                }
                push_linear(&mut out, prefix, spec.hidden.len(), last, out_dim);
            }
        }
        Trunk::Shared => {
            let mut last = spec.obs_dim;
            for (i, &h) in spec.hidden.iter().enumerate() {
                push_linear(&mut out, "trunk", i, last, h);
                last = h;
            }
            push_linear(&mut out, "actor", 0, last, policy_dim);
            push_linear(&mut out, "critic", 0, last, 1);
        }
    }
    let log_std = spec.head.log_std_dim();
    if log_std > 0 {
        out.push(("log_std".to_owned(), vec![log_std]));
    }
    out
}

/// One named parameter: where it lives in the flat store.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamEntry {
    /// Name, as documented on [`NamedTensor`].
    pub name: String,
    /// Shape.
    pub shape: Vec<usize>,
    /// Position in the flat store.
    pub range: Range<usize>,
    /// Whether the store holds the transpose (2-D weights: `[in, out]` instead of `[out, in]`).
    pub transposed: bool,
}

impl ParamEntry {
    /// Copies `external` (row-major in [`shape`](Self::shape)) into `internal` (the store's
    /// layout).
    pub fn to_internal(&self, external: &[f32], internal: &mut [f32]) {
        if self.transposed {
            let (rows, cols) = (self.shape[0], self.shape[1]);
            for r in 0..rows {
                for c in 0..cols {
                    internal[c * rows + r] = external[r * cols + c];
                }
            }
        } else {
            internal.copy_from_slice(external);
        }
    }

    /// The store's `internal` values in the row-major layout of [`shape`](Self::shape).
    pub fn to_external(&self, internal: &[f32]) -> Vec<f32> {
        if self.transposed {
            let (rows, cols) = (self.shape[0], self.shape[1]);
            let mut out = vec![0.0; internal.len()];
            for r in 0..rows {
                for c in 0..cols {
                    out[r * cols + c] = internal[c * rows + r];
                }
            }
            out
        } else {
            internal.to_vec()
        }
    }
}

/// All parameters and their gradients, flat.
#[derive(Debug, Clone)]
pub struct ParamStore {
    /// Parameter values.
    pub values: Vec<f32>,
    /// Accumulated gradients (same layout as `values`).
    pub grads: Vec<f32>,
    entries: Vec<ParamEntry>,
    index: HashMap<String, usize>,
}

impl ParamStore {
    /// A zero-initialised store with the given names and shapes.
    pub fn new(layout: &[(String, Vec<usize>)]) -> Self {
        let mut entries = Vec::with_capacity(layout.len());
        let mut index = HashMap::with_capacity(layout.len());
        let mut offset = 0;
        for (name, shape) in layout {
            let len: usize = shape.iter().product();
            index.insert(name.clone(), entries.len());
            entries.push(ParamEntry {
                name: name.clone(),
                shape: shape.clone(),
                range: offset..offset + len,
                transposed: shape.len() == 2,
            });
            offset += len;
        }
        Self {
            values: vec![0.0; offset],
            grads: vec![0.0; offset],
            entries,
            index,
        }
    }

    /// The entries, in layout order.
    pub fn entries(&self) -> &[ParamEntry] {
        &self.entries
    }

    /// Where parameter `name` lives.
    pub fn range(&self, name: &str) -> Result<Range<usize>> {
        self.index
            .get(name)
            .map(|&i| self.entries[i].range.clone())
            .ok_or_else(|| Error::InvalidArgument(format!("no parameter named {name:?}")))
    }

    /// The entry of parameter `name`, if any.
    pub fn entry(&self, name: &str) -> Option<&ParamEntry> {
        self.index.get(name).map(|&i| &self.entries[i])
    }

    /// The values (or gradients, moments: any buffer in the store's layout) as named tensors in
    /// the [`NamedTensor`] layout, in layout order.
    pub fn to_named(&self, prefix: &str, data: &[f32]) -> Vec<NamedTensor> {
        self.entries
            .iter()
            .map(|e| NamedTensor {
                name: format!("{prefix}{}", e.name),
                shape: e.shape.clone(),
                data: e.to_external(&data[e.range.clone()]),
            })
            .collect()
    }

    /// Builds a complete flat buffer (in the store's layout) from `tensors` named
    /// `prefix + name` (in the [`NamedTensor`] layout): every parameter must
    /// be present exactly once with its shape and a matching data length. Tensors whose names
    /// do not start with `prefix` are not looked at.
    pub fn gather(&self, prefix: &str, tensors: &[&NamedTensor]) -> Result<Vec<f32>> {
        let mut out = vec![0.0; self.values.len()];
        let mut seen = vec![false; self.entries.len()];
        for t in tensors {
            let Some(name) = t.name.strip_prefix(prefix) else {
                continue;
            };
            let Some(&i) = self.index.get(name) else {
                return Err(Error::InvalidArgument(format!(
                    "unknown parameter {:?}",
                    t.name
                )));
            };
            let e = &self.entries[i];
            if t.shape != e.shape || t.data.len() != e.range.len() {
                return Err(Error::Shape(format!(
                    "{:?}: expected shape {:?}, got {:?} with {} values",
                    t.name,
                    e.shape,
                    t.shape,
                    t.data.len()
                )));
            }
            if seen[i] {
                return Err(Error::InvalidArgument(format!(
                    "parameter {:?} given twice",
                    t.name
                )));
            }
            seen[i] = true;
            e.to_internal(&t.data, &mut out[e.range.clone()]);
        }
        if let Some(i) = seen.iter().position(|s| !s) {
            return Err(Error::InvalidArgument(format!(
                "missing parameter {prefix}{}",
                self.entries[i].name
            )));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::architecture::Activation;
    use crate::nn::net::{ActionHead, AdamConfig};

    fn spec(trunk: Trunk, head: ActionHead) -> NetSpec {
        NetSpec {
            obs_dim: 3,
            head,
            hidden: vec![5, 4],
            activation: Activation::Tanh,
            trunk,
            log_std_init: 0.0,
            adam: AdamConfig::default(),
        }
    }

    #[test]
    fn layout_names_and_shapes() {
        let l = parameter_layout(&spec(Trunk::Separate, ActionHead::Categorical { n: 2 }));
        let names: Vec<&str> = l.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names.len(), 12);
        assert_eq!(l[0], ("actor.0.weight".to_owned(), vec![5, 3]));
        assert_eq!(l[5], ("actor.2.bias".to_owned(), vec![2]));
        assert_eq!(l[10], ("critic.2.weight".to_owned(), vec![1, 4]));
        let l = parameter_layout(&spec(Trunk::Shared, ActionHead::Gaussian { dim: 2 }));
        let names: Vec<&str> = l.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "trunk.0.weight",
                "trunk.0.bias",
                "trunk.1.weight",
                "trunk.1.bias",
                "actor.0.weight",
                "actor.0.bias",
                "critic.0.weight",
                "critic.0.bias",
                "log_std"
            ]
        );
        assert_eq!(l[4].1, vec![2, 4]);
    }

    #[test]
    fn gather_checks_names_shapes_and_completeness() {
        let s = ParamStore::new(&[("a".into(), vec![2]), ("b".into(), vec![1, 2])]);
        let a = NamedTensor {
            name: "a".into(),
            shape: vec![2],
            data: vec![1.0, 2.0],
        };
        let b = NamedTensor {
            name: "b".into(),
            shape: vec![1, 2],
            data: vec![3.0, 4.0],
        };
        assert_eq!(s.gather("", &[&b, &a]).unwrap(), vec![1.0, 2.0, 3.0, 4.0]);
        // A [2, 3] weight is stored as its [3, 2] transpose and exported back.
        let w = ParamStore::new(&[("w".into(), vec![2, 3])]);
        let t = NamedTensor {
            name: "w".into(),
            shape: vec![2, 3],
            data: vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
        };
        let flat = w.gather("", &[&t]).unwrap();
        assert_eq!(flat, vec![1.0, 4.0, 2.0, 5.0, 3.0, 6.0]);
        assert_eq!(w.to_named("", &flat), vec![t]);
        assert!(s.gather("", &[&a]).is_err());
        assert!(s.gather("", &[&a, &b, &a]).is_err());
        let mut bad = b.clone();
        bad.shape = vec![2, 1];
        assert!(matches!(s.gather("", &[&a, &bad]), Err(Error::Shape(_))));
        let mut short = b.clone();
        short.data.pop();
        assert!(matches!(s.gather("", &[&a, &short]), Err(Error::Shape(_))));
        let mut unknown = b.clone();
        unknown.name = "c".into();
        assert!(s.gather("", &[&a, &b, &unknown]).is_err());
    }
}
