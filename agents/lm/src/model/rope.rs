//! Rotary position embeddings (RoPE, Su et al. 2021) in the GPT-NeoX / Llama "rotate_half"
//! layout.
//!
//! For a head of width `Dh` (even), dimension `i < Dh/2` is paired with dimension `i + Dh/2`, and
//! the pair at position `p` is rotated by the angle `p * theta^(-2i/Dh)`:
//! `x' = x * cos + rotate_half(x) * sin` with `rotate_half([a, b]) = [-b, a]` and the cos/sin
//! tables repeated over both halves. Rotating a query at position `m` and a key at position `n`
//! makes their dot product depend on `m - n` only; position 0 is the identity.

use tch::{Device, Kind, Tensor};

use crate::error::{Error, Result};

/// Precomputed cos/sin tables `[context_len, Dh]` for every position the model accepts.
#[derive(Debug)]
pub struct Rope {
    cos: Tensor,
    sin: Tensor,
    head_dim: i64,
}

impl Rope {
    /// Tables for positions `0..context_len`, head width `head_dim` (even) and base `theta`.
    pub fn new(context_len: i64, head_dim: i64, theta: f64, device: Device) -> Result<Self> {
        if head_dim <= 0 || head_dim % 2 != 0 || context_len <= 0 {
            return Err(Error::InvalidArgument(format!(
                "RoPE needs an even positive head dimension and a positive context, got \
                 head_dim {head_dim}, context_len {context_len}"
            )));
        }
        let half = head_dim / 2;
        // inv_freq[i] = theta^(-2i/Dh), computed in f64 and stored in f32.
        let exponent =
            Tensor::f_arange(half, (Kind::Double, Device::Cpu))? * (2.0 / head_dim as f64);
        let inv_freq = Tensor::f_full([half], theta, (Kind::Double, Device::Cpu))?
            .f_pow(&exponent)?
            .f_reciprocal()?;
        let pos = Tensor::f_arange(context_len, (Kind::Double, Device::Cpu))?;
        let freqs = pos.f_outer(&inv_freq)?; // [T, Dh/2]
        let emb = Tensor::f_cat(&[&freqs, &freqs], 1)?; // [T, Dh]
        Ok(Self {
            cos: emb.f_cos()?.f_to_kind(Kind::Float)?.f_to_device(device)?,
            sin: emb.f_sin()?.f_to_kind(Kind::Float)?.f_to_device(device)?,
            head_dim,
        })
    }

    /// The cos and sin tables gathered at `positions` (int64 `[B, t]`), shaped `[B, 1, t, Dh]`
    /// so they broadcast over heads; computed once per forward pass and shared by all layers.
    pub fn tables(&self, positions: &Tensor) -> Result<(Tensor, Tensor)> {
        let size = positions.size();
        if size.len() != 2 {
            return Err(Error::Shape(format!(
                "RoPE positions must be [B, t], got {size:?}"
            )));
        }
        let flat = positions.f_reshape([-1])?;
        let shape = [size[0], 1, size[1], self.head_dim];
        let cos = self.cos.f_index_select(0, &flat)?.f_reshape(shape)?;
        let sin = self.sin.f_index_select(0, &flat)?.f_reshape(shape)?;
        Ok((cos, sin))
    }

    /// Rotates `x` (`[B, H, t, Dh]`) with tables from [`tables`](Self::tables).
    pub fn apply(x: &Tensor, cos: &Tensor, sin: &Tensor) -> Result<Tensor> {
        let dh = x.size().last().copied().unwrap_or(0);
        let half = dh / 2;
        let x1 = x.f_narrow(-1, 0, half)?;
        let x2 = x.f_narrow(-1, half, half)?;
        let rotated = Tensor::f_cat(&[&x2.f_neg()?, &x1], -1)?;
        Ok(x.f_mul(cos)?.f_add(&rotated.f_mul(sin)?)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rotate_at(rope: &Rope, x: &Tensor, pos: i64) -> Tensor {
        let p = Tensor::from_slice(&[pos]).reshape([1, 1]);
        let (cos, sin) = rope.tables(&p).unwrap();
        Rope::apply(x, &cos, &sin).unwrap()
    }

    #[test]
    fn position_zero_is_identity() {
        tch::manual_seed(0);
        let rope = Rope::new(16, 8, 10_000.0, Device::Cpu).unwrap();
        let x = Tensor::randn([1, 1, 1, 8], (Kind::Float, Device::Cpu));
        let y = rotate_at(&rope, &x, 0);
        assert!(y.allclose(&x, 0.0, 1e-7, false));
        // Any other position changes the vector but keeps its norm (it is a rotation).
        let y5 = rotate_at(&rope, &x, 5);
        assert!(!y5.allclose(&x, 1e-3, 1e-3, false));
        let n0 = x.norm().double_value(&[]);
        let n5 = y5.norm().double_value(&[]);
        assert!((n0 - n5).abs() < 1e-5, "{n0} vs {n5}");
    }

    #[test]
    fn dot_product_depends_only_on_position_difference() {
        tch::manual_seed(1);
        let rope = Rope::new(64, 16, 10_000.0, Device::Cpu).unwrap();
        let q = Tensor::randn([1, 1, 1, 16], (Kind::Float, Device::Cpu));
        let k = Tensor::randn([1, 1, 1, 16], (Kind::Float, Device::Cpu));
        let dot = |m: i64, n: i64| {
            (rotate_at(&rope, &q, m) * rotate_at(&rope, &k, n))
                .sum(Kind::Float)
                .double_value(&[])
        };
        for (m, n) in [(3, 1), (10, 8), (40, 38), (2, 0)] {
            assert!(
                (dot(m, n) - dot(2, 0)).abs() < 1e-4,
                "offset 2 at ({m}, {n})"
            );
        }
        for (m, n) in [(7, 7), (50, 50)] {
            assert!((dot(m, n) - dot(0, 0)).abs() < 1e-4);
        }
        // Different offsets give different products (the encoding is not trivial).
        assert!((dot(5, 0) - dot(2, 0)).abs() > 1e-4);
    }

    #[test]
    fn rejects_odd_head_dim_and_bad_positions_shape() {
        assert!(Rope::new(8, 7, 10_000.0, Device::Cpu).is_err());
        let rope = Rope::new(8, 4, 10_000.0, Device::Cpu).unwrap();
        assert!(rope.tables(&Tensor::from_slice(&[1i64, 2])).is_err());
        // An out-of-table position is a libtorch error, not a panic.
        let far = Tensor::from_slice(&[100i64]).reshape([1, 1]);
        assert!(rope.tables(&far).is_err());
    }
}
