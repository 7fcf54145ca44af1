//! [`DecoderCache`]: the keys and values of every layer of a [`Decoder`](super::Decoder), for incremental
//! decoding.
//!
//! Each layer keeps a buffer `[B, H, capacity, Dh]` for the keys and one for the values, and the
//! cache a fill length. Appending writes into the buffers in place; when they are full they are
//! reallocated with doubled capacity (at most the model's context length), so a generation of
//! `n` tokens copies the stored keys `O(log n)` times instead of concatenating at every step.

use tch::{Device, Kind, Tensor};

use crate::error::{Error, Result};
use crate::model::causal_lm::KvCache;

/// The smallest capacity allocated (positions).
const MIN_CAPACITY: i64 = 16;

/// Keys and values of all layers of a GPT model.
#[derive(Debug)]
pub struct DecoderCache {
    keys: Vec<Tensor>,
    values: Vec<Tensor>,
    len: i64,
    capacity: i64,
    batch: i64,
    n_layers: usize,
    n_heads: i64,
    head_dim: i64,
    max_len: i64,
    device: Device,
    kind: Kind,
}

impl DecoderCache {
    /// An empty cache for `batch` rows of a model with these sizes; nothing is allocated until
    /// the first append.
    pub fn new(
        batch: i64,
        n_layers: usize,
        n_heads: i64,
        head_dim: i64,
        max_len: i64,
        device: Device,
    ) -> Result<Self> {
        if batch <= 0 {
            return Err(Error::InvalidArgument(format!(
                "a cache needs at least one row, got batch {batch}"
            )));
        }
        Ok(Self {
            keys: Vec::with_capacity(n_layers),
            values: Vec::with_capacity(n_layers),
            len: 0,
            capacity: 0,
            batch,
            n_layers,
            n_heads,
            head_dim,
            max_len,
            device,
            kind: Kind::Float,
        })
    }

    /// Number of rows.
    pub fn batch(&self) -> i64 {
        self.batch
    }

    /// Positions the buffers can hold before they grow.
    pub fn capacity(&self) -> i64 {
        self.capacity
    }

    /// Makes room for `t` more positions (all layers); call once per forward pass, before
    /// [`append`](Self::append).
    pub(crate) fn reserve(&mut self, t: i64, kind: Kind) -> Result<()> {
        let needed = self.len + t;
        if needed > self.max_len {
            return Err(Error::InvalidArgument(format!(
                "sequence of {needed} positions exceeds the context length {}",
                self.max_len
            )));
        }
        if needed <= self.capacity && kind == self.kind {
            return Ok(());
        }
        let new_cap = needed
            .max(2 * self.capacity)
            .max(MIN_CAPACITY)
            .min(self.max_len);
        let shape = [self.batch, self.n_heads, new_cap, self.head_dim];
        let grow = |old: Option<&Tensor>| -> Result<Tensor> {
            let buf = Tensor::f_zeros(shape, (kind, self.device))?;
            if let Some(old) = old
                && self.len > 0
            {
                buf.f_narrow(2, 0, self.len)?
                    .f_copy_(&old.f_narrow(2, 0, self.len)?)?;
            }
            Ok(buf)
        };
        let mut keys = Vec::with_capacity(self.n_layers);
        let mut values = Vec::with_capacity(self.n_layers);
        for layer in 0..self.n_layers {
            keys.push(grow(self.keys.get(layer))?);
            values.push(grow(self.values.get(layer))?);
        }
        self.keys = keys;
        self.values = values;
        self.capacity = new_cap;
        self.kind = kind;
        Ok(())
    }

    /// Writes the new keys/values (`[B, H, t, Dh]`) of `layer` after the stored positions and
    /// returns views of all of them (`[B, H, len + t, Dh]`). The fill length advances only
    /// in [`advance`](Self::advance), after every layer has appended.
    pub(crate) fn append(
        &mut self,
        layer: usize,
        k: &Tensor,
        v: &Tensor,
    ) -> Result<(Tensor, Tensor)> {
        let t = k.size().get(2).copied().unwrap_or(0);
        if self.len + t > self.capacity || layer >= self.keys.len() {
            return Err(Error::InvalidArgument(format!(
                "cache append without reserve (layer {layer}, len {}, +{t}, capacity {})",
                self.len, self.capacity
            )));
        }
        let (kb, vb) = (&self.keys[layer], &self.values[layer]);
        tch::no_grad(|| -> Result<()> {
            kb.f_narrow(2, self.len, t)?.f_copy_(k)?;
            vb.f_narrow(2, self.len, t)?.f_copy_(v)?;
            Ok(())
        })?;
        Ok((
            kb.f_narrow(2, 0, self.len + t)?,
            vb.f_narrow(2, 0, self.len + t)?,
        ))
    }

    /// Records that `t` positions were appended to every layer.
    pub(crate) fn advance(&mut self, t: i64) {
        self.len += t;
    }
}

impl KvCache for DecoderCache {
    fn len(&self) -> i64 {
        self.len
    }

    fn reorder(&mut self, index: &Tensor) -> Result<()> {
        let size = index.size();
        if size.len() != 1 || size[0] == 0 {
            return Err(Error::Shape(format!(
                "reorder index must be a non-empty 1-D tensor, got shape {size:?}"
            )));
        }
        if index.kind() != Kind::Int64 {
            return Err(Error::InvalidArgument(format!(
                "reorder index must be int64, got {:?}",
                index.kind()
            )));
        }
        let lo = index.f_min()?.f_int64_value(&[])?;
        let hi = index.f_max()?.f_int64_value(&[])?;
        if lo < 0 || hi >= self.batch {
            return Err(Error::InvalidArgument(format!(
                "reorder index values must be in [0, {}), got [{lo}, {hi}]",
                self.batch
            )));
        }
        let index = index.f_to_device(self.device)?;
        for buf in self.keys.iter_mut().chain(self.values.iter_mut()) {
            *buf = buf.f_index_select(0, &index)?;
        }
        self.batch = size[0];
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_and_keeps_stored_positions() {
        let mut c = DecoderCache::new(2, 1, 1, 2, 40, Device::Cpu).unwrap();
        assert!(c.is_empty());
        let mut expect = Vec::new();
        for step in 0..20 {
            c.reserve(1, Kind::Float).unwrap();
            let k = Tensor::full([2, 1, 1, 2], step as f64, (Kind::Float, Device::Cpu));
            let (ks, vs) = c.append(0, &k, &(-&k)).unwrap();
            c.advance(1);
            expect.push(step as f32);
            assert_eq!(ks.size(), [2, 1, step + 1, 2]);
            let got = Vec::<f32>::try_from(ks.select(0, 1).select(0, 0).select(1, 0)).unwrap();
            assert_eq!(got, expect);
            assert_eq!(vs.double_value(&[0, 0, step, 1]), -(step as f64));
        }
        assert_eq!(c.len(), 20);
        assert_eq!(c.capacity(), 32);
        // Growth stops at the context length, and going past it is an error.
        c.reserve(20, Kind::Float).unwrap();
        assert_eq!(c.capacity(), 40);
        assert!(c.reserve(21, Kind::Float).is_err());
    }

    #[test]
    fn reorder_selects_rows_and_validates_index() {
        let mut c = DecoderCache::new(3, 2, 1, 1, 8, Device::Cpu).unwrap();
        c.reserve(1, Kind::Float).unwrap();
        let k = Tensor::from_slice(&[10f32, 11., 12.]).reshape([3, 1, 1, 1]);
        for layer in 0..2 {
            let _ = c.append(layer, &k, &k).unwrap();
        }
        c.advance(1);
        c.reorder(&Tensor::from_slice(&[2i64, 2, 0, 1])).unwrap();
        assert_eq!(c.batch(), 4);
        let (ks, _) = {
            c.reserve(1, Kind::Float).unwrap();
            let z = Tensor::zeros([4, 1, 1, 1], (Kind::Float, Device::Cpu));
            c.append(1, &z, &z).unwrap()
        };
        let col = Vec::<f32>::try_from(ks.select(2, 0).reshape([-1])).unwrap();
        assert_eq!(col, [12., 12., 10., 11.]);
        assert!(c.reorder(&Tensor::from_slice(&[7i64])).is_err());
        assert!(c.reorder(&Tensor::from_slice(&[-1i64])).is_err());
        assert!(c.reorder(&Tensor::from_slice(&[0i32])).is_err());
        assert!(
            c.reorder(&Tensor::from_slice(&[0i64, 1]).reshape([1, 2]))
                .is_err()
        );
        assert!(DecoderCache::new(0, 1, 1, 1, 8, Device::Cpu).is_err());
    }
}
