//! The two primitive layers of the GPT decoder, with parameters laid out as Hugging Face GPT-2
//! stores them so that a checkpoint loads without renaming or transposing:
//!
//! - [`Conv1d`]: GPT-2's `Conv1D`, an affine map whose weight is stored **`[in, out]`**
//!   (the transpose of `torch.nn.Linear`), `y = x W + b`;
//! - [`LayerNorm`]: `weight` and (optionally) `bias` of width `d`.

use tch::Tensor;
use tch::nn::{Init, Path};

use crate::error::Result;

/// An affine layer `y = x W + b` with `W` stored `[in, out]` (Hugging Face `Conv1D`).
#[derive(Debug)]
pub struct Conv1d {
    /// Weight `[in, out]`.
    pub weight: Tensor,
    /// Bias `[out]`, if the model has biases.
    pub bias: Option<Tensor>,
}

impl Conv1d {
    /// Creates `weight` (normal with standard deviation `std`) and, when `bias`, a zero `bias`
    /// under `path`.
    pub fn new(path: &Path, in_dim: i64, out_dim: i64, std: f64, bias: bool) -> Result<Self> {
        let weight = path.f_var(
            "weight",
            &[in_dim, out_dim],
            Init::Randn {
                mean: 0.0,
                stdev: std,
            },
        )?;
        let bias = if bias {
            Some(path.f_var("bias", &[out_dim], Init::Const(0.0))?)
        } else {
            None
        };
        Ok(Self { weight, bias })
    }

    /// Applies the layer to `x` (`[..., in]`).
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        // linear(x, A) computes x A^T; with A = W^T (a view, no copy) that is x W.
        Ok(x.f_linear(&self.weight.f_tr()?, self.bias.as_ref())?)
    }
}

/// Layer normalisation over the last dimension.
#[derive(Debug)]
pub struct LayerNorm {
    /// Scale `[d]`, initialised to one.
    pub weight: Tensor,
    /// Shift `[d]`, initialised to zero (absent without biases).
    pub bias: Option<Tensor>,
    /// The width `d`.
    pub dim: i64,
    /// Added to the variance.
    pub eps: f64,
}

impl LayerNorm {
    /// Creates `weight` (and `bias`) under `path`.
    pub fn new(path: &Path, dim: i64, eps: f64, bias: bool) -> Result<Self> {
        let weight = path.f_var("weight", &[dim], Init::Const(1.0))?;
        let bias = if bias {
            Some(path.f_var("bias", &[dim], Init::Const(0.0))?)
        } else {
            None
        };
        Ok(Self {
            weight,
            bias,
            dim,
            eps,
        })
    }

    /// Normalises `x` (`[..., d]`).
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        Ok(x.f_layer_norm(
            [self.dim],
            Some(&self.weight),
            self.bias.as_ref(),
            self.eps,
            true,
        )?)
    }
}
