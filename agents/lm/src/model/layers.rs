//! The primitive layers of the decoder, with parameters laid out as the Hugging Face family
//! stores them so that a checkpoint loads without renaming or transposing:
//!
//! - [`Affine`]: an affine map `y = x W^T + b` stored either as `torch.nn.Linear` (`[out, in]`)
//!   or as GPT-2's `Conv1D` (`[in, out]`, the transpose);
//! - [`Norm`]: LayerNorm (`weight`, optional `bias`) or RMSNorm (`weight`, computed in f32 and
//!   cast back before the scale, as Llama does).

use tch::nn::{Init, Path};
use tch::{Kind, Tensor};

use crate::error::Result;
use crate::model::config::NormKind;

/// How an [`Affine`] weight is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AffineLayout {
    /// `torch.nn.Linear`: `[out, in]`.
    Linear,
    /// Hugging Face GPT-2 `Conv1D`: `[in, out]`.
    Conv1d,
}

/// An affine layer.
#[derive(Debug)]
pub struct Affine {
    /// The weight, `[out, in]` or `[in, out]` depending on `layout`.
    pub weight: Tensor,
    /// Bias `[out]`, if any.
    pub bias: Option<Tensor>,
    /// How `weight` is stored.
    pub layout: AffineLayout,
}

impl Affine {
    /// Creates `weight` (normal with standard deviation `std`; all zeros, without drawing, when
    /// `std` is 0) and, when `bias`, a zero `bias` under `path`.
    pub fn new(
        path: &Path,
        in_dim: i64,
        out_dim: i64,
        std: f64,
        bias: bool,
        layout: AffineLayout,
    ) -> Result<Self> {
        let shape = match layout {
            AffineLayout::Linear => [out_dim, in_dim],
            AffineLayout::Conv1d => [in_dim, out_dim],
        };
        let init = if std == 0.0 {
            Init::Const(0.0)
        } else {
            Init::Randn {
                mean: 0.0,
                stdev: std,
            }
        };
        let weight = path.f_var("weight", &shape, init)?;
        let bias = if bias {
            Some(path.f_var("bias", &[out_dim], Init::Const(0.0))?)
        } else {
            None
        };
        Ok(Self {
            weight,
            bias,
            layout,
        })
    }

    /// Applies the layer to `x` (`[..., in]`).
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        Ok(match self.layout {
            AffineLayout::Linear => x.f_linear(&self.weight, self.bias.as_ref())?,
            // linear(x, A) computes x A^T; with A = W^T (a view, no copy) that is x W.
            AffineLayout::Conv1d => x.f_linear(&self.weight.f_tr()?, self.bias.as_ref())?,
        })
    }
}

/// A normalisation over the last dimension.
#[derive(Debug)]
pub struct Norm {
    /// Scale `[d]`, initialised to one.
    pub weight: Tensor,
    /// Shift `[d]` (LayerNorm with biases only).
    pub bias: Option<Tensor>,
    /// LayerNorm or RMSNorm.
    pub kind: NormKind,
    /// The width `d`.
    pub dim: i64,
    /// Added to the variance (or the mean square).
    pub eps: f64,
}

impl Norm {
    /// Creates `weight` (and, for a LayerNorm with `bias`, `bias`) under `path`.
    pub fn new(path: &Path, kind: NormKind, dim: i64, eps: f64, bias: bool) -> Result<Self> {
        let weight = path.f_var("weight", &[dim], Init::Const(1.0))?;
        let bias = if bias && kind == NormKind::LayerNorm {
            Some(path.f_var("bias", &[dim], Init::Const(0.0))?)
        } else {
            None
        };
        Ok(Self {
            weight,
            bias,
            kind,
            dim,
            eps,
        })
    }

    /// Normalises `x` (`[..., d]`).
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        match self.kind {
            NormKind::LayerNorm => Ok(x.f_layer_norm(
                [self.dim],
                Some(&self.weight),
                self.bias.as_ref(),
                self.eps,
                true,
            )?),
            NormKind::RmsNorm => {
                let kind = x.kind();
                let h = x.f_to_kind(Kind::Float)?;
                let mean_sq = h
                    .f_square()?
                    .f_mean_dim(-1, true, Kind::Float)?
                    .f_add_scalar(self.eps)?;
                let normed = h.f_mul(&mean_sq.f_rsqrt()?)?.f_to_kind(kind)?;
                Ok(self.weight.f_mul(&normed)?)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::Device;
    use tch::nn::VarStore;

    #[test]
    fn linear_and_conv1d_layouts_compute_the_same_map() {
        tch::manual_seed(0);
        let vs = VarStore::new(Device::Cpu);
        let lin = Affine::new(&vs.root().sub("a"), 3, 5, 1.0, true, AffineLayout::Linear).unwrap();
        let conv = Affine::new(&vs.root().sub("b"), 3, 5, 1.0, true, AffineLayout::Conv1d).unwrap();
        assert_eq!(lin.weight.size(), [5, 3]);
        assert_eq!(conv.weight.size(), [3, 5]);
        tch::no_grad(|| conv.weight.shallow_clone().copy_(&lin.weight.tr()));
        let x = Tensor::randn([2, 3], (Kind::Float, Device::Cpu));
        let (a, b) = (lin.forward(&x).unwrap(), conv.forward(&x).unwrap());
        assert!(a.allclose(&b, 1e-6, 1e-6, false));
    }

    #[test]
    fn rms_norm_matches_its_formula_and_has_no_bias() {
        let vs = VarStore::new(Device::Cpu);
        let norm = Norm::new(&vs.root(), NormKind::RmsNorm, 4, 1e-6, true).unwrap();
        assert!(norm.bias.is_none());
        let x = Tensor::from_slice(&[1f32, -2., 3., -4.]).reshape([1, 4]);
        let y = Vec::<f32>::try_from(norm.forward(&x).unwrap().reshape([-1])).unwrap();
        let rms = ((1. + 4. + 9. + 16.) / 4f32 + 1e-6).sqrt();
        for (got, want) in y.iter().zip([1f32, -2., 3., -4.]) {
            assert!((got - want / rms).abs() < 1e-6, "{got} vs {}", want / rms);
        }
        // In bf16 the result stays bf16 (computed in f32 inside).
        let xb = x.to_kind(Kind::BFloat16);
        let mut vs16 = VarStore::new(Device::Cpu);
        vs16.set_kind(Kind::BFloat16);
        let norm16 = Norm::new(&vs16.root(), NormKind::RmsNorm, 4, 1e-6, false).unwrap();
        assert_eq!(norm16.forward(&xb).unwrap().kind(), Kind::BFloat16);
    }
}
