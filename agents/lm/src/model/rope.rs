//! Rotary position embeddings (RoPE, Su et al. 2021) in the GPT-NeoX / Llama "rotate_half"
//! layout, with the frequency scalings of Hugging Face's `rope_scaling` ([`RopeScaling`]).
//!
//! For a head of width `Dh` (even), dimension `i < Dh/2` is paired with dimension `i + Dh/2`, and
//! the pair at position `p` is rotated by the angle `p * inv_freq[i]`, with
//! `inv_freq[i] = theta^(-2i/Dh)` before scaling: `x' = x * cos + rotate_half(x) * sin` with
//! `rotate_half([a, b]) = [-b, a]` and the cos/sin tables repeated over both halves. Rotating a
//! query at position `m` and a key at position `n` makes their dot product depend on `m - n`
//! only; position 0 is the identity.
//!
//! The frequencies and the tables are computed in f32 the way `transformers` computes them
//! (`1 / theta ** (arange(0, Dh, 2) / Dh)`, then `positions * inv_freq`), and the gathered
//! tables take the dtype of the queries, so a model gives the same rotations as its Hugging
//! Face original.

use serde::{Deserialize, Serialize};
use tch::{Device, Kind, Tensor};

use crate::error::{Error, Result};

/// How the RoPE frequencies are rescaled for a longer context (Hugging Face's
/// `rope_scaling` / `rope_parameters`, by `rope_type`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "rope_type", rename_all = "snake_case", deny_unknown_fields)]
pub enum RopeScaling {
    /// Position interpolation: every frequency divided by `factor`.
    Linear {
        /// The divisor (>= 1).
        factor: f64,
    },
    /// Dynamic NTK scaling. It changes the frequencies only for sequences longer than the
    /// pre-training context (`max_position_embeddings`), which is this model's hard context
    /// limit, so within what the model accepts it is plain RoPE, exactly as in `transformers`.
    Dynamic {
        /// The NTK factor (kept for the export; no effect within the context).
        factor: f64,
    },
    /// Llama 3.1's scaling: low frequencies divided by `factor`, high ones kept, a smooth ramp
    /// between the wavelengths `original / low_freq_factor` and `original / high_freq_factor`.
    Llama3 {
        /// The divisor of the low frequencies.
        factor: f64,
        /// Wavelengths above `original / low_freq_factor` are scaled fully.
        low_freq_factor: f64,
        /// Wavelengths below `original / high_freq_factor` are kept.
        high_freq_factor: f64,
        /// The pre-training context length.
        original_max_position_embeddings: i64,
    },
    /// YaRN (Peng et al. 2023): interpolation blended with extrapolation by a linear ramp over
    /// the dimensions between the correction range of `beta_fast` / `beta_slow` rotations, and
    /// cos/sin multiplied by `attention_factor`.
    Yarn {
        /// The interpolation factor.
        factor: f64,
        /// The pre-training context length.
        original_max_position_embeddings: i64,
        /// The factor on cos and sin (`0.1 ln(factor) + 1` unless given).
        attention_factor: f64,
        /// Rotations that bound the extrapolated dimensions (32 by default).
        beta_fast: f64,
        /// Rotations that bound the interpolated dimensions (1 by default).
        beta_slow: f64,
        /// Round the correction range outward to whole dimensions (the default).
        truncate: bool,
    },
}

impl RopeScaling {
    /// Checks the parameters are finite and in range.
    pub fn validate(&self) -> Result<()> {
        let bad = |msg: String| Err(Error::InvalidArgument(format!("rope_scaling: {msg}")));
        let check_original = |n: i64| {
            if n > 0 {
                Ok(())
            } else {
                bad(format!(
                    "original_max_position_embeddings must be positive, got {n}"
                ))
            }
        };
        let factor = match self {
            Self::Linear { factor } | Self::Dynamic { factor } => *factor,
            Self::Llama3 {
                factor,
                low_freq_factor,
                high_freq_factor,
                original_max_position_embeddings,
            } => {
                if !(low_freq_factor.is_finite()
                    && high_freq_factor.is_finite()
                    && *low_freq_factor > 0.0
                    && high_freq_factor > low_freq_factor)
                {
                    return bad(format!(
                        "llama3 needs 0 < low_freq_factor < high_freq_factor, got \
                         {low_freq_factor} and {high_freq_factor}"
                    ));
                }
                check_original(*original_max_position_embeddings)?;
                *factor
            }
            Self::Yarn {
                factor,
                original_max_position_embeddings,
                attention_factor,
                beta_fast,
                beta_slow,
                ..
            } => {
                check_original(*original_max_position_embeddings)?;
                for (name, v) in [
                    ("attention_factor", attention_factor),
                    ("beta_fast", beta_fast),
                    ("beta_slow", beta_slow),
                ] {
                    if !(v.is_finite() && *v > 0.0) {
                        return bad(format!("yarn {name} must be finite and positive, got {v}"));
                    }
                }
                *factor
            }
        };
        if !(factor.is_finite() && factor >= 1.0) {
            return bad(format!("factor must be finite and >= 1, got {factor}"));
        }
        Ok(())
    }

    /// The inverse frequencies (f32 `[Dh/2]`) from `pos_freqs = theta ** (2i / Dh)`, scaled,
    /// and the factor on cos/sin (each operation in the order `transformers` does it).
    fn inv_freq(&self, pos_freqs: &Tensor, head_dim: i64, theta: f64) -> Result<(Tensor, f64)> {
        let inv_freq = pos_freqs.f_reciprocal()?;
        match *self {
            Self::Dynamic { .. } => Ok((inv_freq, 1.0)),
            Self::Linear { factor } => Ok((inv_freq.f_div_scalar(factor)?, 1.0)),
            Self::Llama3 {
                factor,
                low_freq_factor,
                high_freq_factor,
                original_max_position_embeddings,
            } => {
                let old = original_max_position_embeddings as f64;
                let low_wavelen = old / low_freq_factor;
                let high_wavelen = old / high_freq_factor;
                let wavelen = inv_freq
                    .f_reciprocal()?
                    .f_mul_scalar(2.0 * std::f64::consts::PI)?;
                let scaled = inv_freq.f_div_scalar(factor)?;
                let low_band = wavelen.f_gt(low_wavelen)?;
                let kept = scaled.f_where_self(&low_band, &inv_freq)?;
                let smooth = wavelen
                    .f_reciprocal()?
                    .f_mul_scalar(old)?
                    .f_sub_scalar(low_freq_factor)?
                    .f_div_scalar(high_freq_factor - low_freq_factor)?;
                let smoothed = smooth
                    .f_neg()?
                    .f_add_scalar(1.0)?
                    .f_mul(&kept)?
                    .f_div_scalar(factor)?
                    .f_add(&smooth.f_mul(&kept)?)?;
                let medium = wavelen
                    .f_lt(high_wavelen)?
                    .f_logical_not()?
                    .f_logical_and(&low_band.f_logical_not()?)?;
                Ok((smoothed.f_where_self(&medium, &kept)?, 1.0))
            }
            Self::Yarn {
                factor,
                original_max_position_embeddings,
                attention_factor,
                beta_fast,
                beta_slow,
                truncate,
            } => {
                let dim = head_dim as f64;
                let old = original_max_position_embeddings as f64;
                let correction_dim = |rotations: f64| {
                    dim * (old / (rotations * 2.0 * std::f64::consts::PI)).ln() / (2.0 * theta.ln())
                };
                let (mut low, mut high) = (correction_dim(beta_fast), correction_dim(beta_slow));
                if truncate {
                    low = low.floor();
                    high = high.ceil();
                }
                let low = low.max(0.0);
                let mut high = high.min(dim - 1.0);
                if low == high {
                    high += 0.001;
                }
                let ramp = Tensor::f_arange(head_dim / 2, (Kind::Float, Device::Cpu))?
                    .f_sub_scalar(low)?
                    .f_div_scalar(high - low)?
                    .f_clamp(0.0, 1.0)?;
                let extrapolation = ramp.f_neg()?.f_add_scalar(1.0)?;
                let interpolation = pos_freqs.f_mul_scalar(factor)?.f_reciprocal()?;
                let inv = interpolation
                    .f_mul(&extrapolation.f_neg()?.f_add_scalar(1.0)?)?
                    .f_add(&inv_freq.f_mul(&extrapolation)?)?;
                Ok((inv, attention_factor))
            }
        }
    }
}

/// Precomputed cos/sin tables `[context_len, Dh]` (f32) for every position the model accepts.
#[derive(Debug)]
pub struct Rope {
    cos: Tensor,
    sin: Tensor,
    head_dim: i64,
}

impl Rope {
    /// Tables for positions `0..context_len`, head width `head_dim` (even), base `theta` and an
    /// optional scaling.
    pub fn new(
        context_len: i64,
        head_dim: i64,
        theta: f64,
        scaling: Option<&RopeScaling>,
        device: Device,
    ) -> Result<Self> {
        if head_dim <= 0 || head_dim % 2 != 0 || context_len <= 0 {
            return Err(Error::InvalidArgument(format!(
                "RoPE needs an even positive head dimension and a positive context, got \
                 head_dim {head_dim}, context_len {context_len}"
            )));
        }
        let cpu = (Kind::Float, Device::Cpu);
        // inv_freq[i] = 1 / theta ** (2i / Dh), in f32 as transformers computes it.
        let exponent = Tensor::f_arange_start_step(0, head_dim, 2, (Kind::Int64, Device::Cpu))?
            .f_to_kind(Kind::Float)?
            .f_div_scalar(head_dim as f64)?;
        let pos_freqs = Tensor::f_pow_scalar(theta, &exponent)?;
        let (inv_freq, attention_factor) = match scaling {
            Some(s) => s.inv_freq(&pos_freqs, head_dim, theta)?,
            None => (pos_freqs.f_reciprocal()?, 1.0),
        };
        let pos = Tensor::f_arange(context_len, cpu)?;
        let freqs = pos.f_outer(&inv_freq)?; // [T, Dh/2]
        let emb = Tensor::f_cat(&[&freqs, &freqs], 1)?; // [T, Dh]
        let (mut cos, mut sin) = (emb.f_cos()?, emb.f_sin()?);
        if attention_factor != 1.0 {
            cos = cos.f_mul_scalar(attention_factor)?;
            sin = sin.f_mul_scalar(attention_factor)?;
        }
        Ok(Self {
            cos: cos.f_to_device(device)?,
            sin: sin.f_to_device(device)?,
            head_dim,
        })
    }

    /// The cos and sin tables gathered at `positions` (int64 `[B, t]`), shaped `[B, 1, t, Dh]`
    /// so they broadcast over heads, in dtype `kind`; computed once per forward pass and shared
    /// by all layers.
    pub fn tables(&self, positions: &Tensor, kind: Kind) -> Result<(Tensor, Tensor)> {
        let size = positions.size();
        if size.len() != 2 {
            return Err(Error::Shape(format!(
                "RoPE positions must be [B, t], got {size:?}"
            )));
        }
        let flat = positions.f_reshape([-1])?;
        let shape = [size[0], 1, size[1], self.head_dim];
        let cos = self
            .cos
            .f_index_select(0, &flat)?
            .f_reshape(shape)?
            .f_to_kind(kind)?;
        let sin = self
            .sin
            .f_index_select(0, &flat)?
            .f_reshape(shape)?
            .f_to_kind(kind)?;
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
        let (cos, sin) = rope.tables(&p, Kind::Float).unwrap();
        Rope::apply(x, &cos, &sin).unwrap()
    }

    #[test]
    fn position_zero_is_identity() {
        tch::manual_seed(0);
        let rope = Rope::new(16, 8, 10_000.0, None, Device::Cpu).unwrap();
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
        let rope = Rope::new(64, 16, 10_000.0, None, Device::Cpu).unwrap();
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
        assert!(Rope::new(8, 7, 10_000.0, None, Device::Cpu).is_err());
        let rope = Rope::new(8, 4, 10_000.0, None, Device::Cpu).unwrap();
        assert!(
            rope.tables(&Tensor::from_slice(&[1i64, 2]), Kind::Float)
                .is_err()
        );
        // An out-of-table position is a libtorch error, not a panic.
        let far = Tensor::from_slice(&[100i64]).reshape([1, 1]);
        assert!(rope.tables(&far, Kind::Float).is_err());
    }
}
