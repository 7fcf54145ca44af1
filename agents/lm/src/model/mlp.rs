//! The feed-forward layer of a block: GPT-2's `c_proj(act(c_fc(h)))` (as `Conv1D` for GPT-2, as
//! `Linear` for GPT-Neo) or Llama's gated `down_proj(act(gate_proj(h)) * up_proj(h))`.

use tch::Tensor;
use tch::nn::Path;

use crate::error::Result;
use crate::model::config::{Activation, DecoderConfig, WeightLayout};
use crate::model::layers::{Affine, AffineLayout};

/// The feed-forward layer.
#[derive(Debug)]
pub enum Mlp {
    /// `proj(act(fc(h)))`.
    Plain {
        /// `c_fc`, `d -> ff`.
        fc: Affine,
        /// `c_proj`, `ff -> d`.
        proj: Affine,
        /// The nonlinearity.
        activation: Activation,
    },
    /// `down(act(gate(h)) * up(h))`.
    Gated {
        /// `gate_proj`, `d -> ff`.
        gate: Affine,
        /// `up_proj`, `d -> ff`.
        up: Affine,
        /// `down_proj`, `ff -> d`.
        down: Affine,
        /// The nonlinearity on the gate.
        activation: Activation,
    },
}

impl Mlp {
    /// Creates the layer's parameters under `path` (the block's `mlp`), with weights of
    /// standard deviation `std` (the output projection's scaled by `1/sqrt(2 n_layers)`; 0:
    /// zeros).
    pub fn new(path: &Path, cfg: &DecoderConfig, std: f64) -> Result<Self> {
        let (d, ff, bias) = (cfg.d_model, cfg.ff_dim(), cfg.has_mlp_bias());
        let proj_std = std / (2.0 * cfg.n_layers as f64).sqrt();
        let activation = cfg.activation;
        Ok(match cfg.family.layout() {
            WeightLayout::Gpt2 | WeightLayout::GptNeo => {
                let layout = if cfg.family.layout() == WeightLayout::Gpt2 {
                    AffineLayout::Conv1d
                } else {
                    AffineLayout::Linear
                };
                Self::Plain {
                    fc: Affine::new(&(path / "c_fc"), d, ff, std, bias, layout)?,
                    proj: Affine::new(&(path / "c_proj"), ff, d, proj_std, bias, layout)?,
                    activation,
                }
            }
            WeightLayout::Llama => {
                let lin = AffineLayout::Linear;
                Self::Gated {
                    gate: Affine::new(&(path / "gate_proj"), d, ff, std, bias, lin)?,
                    up: Affine::new(&(path / "up_proj"), d, ff, std, bias, lin)?,
                    down: Affine::new(&(path / "down_proj"), ff, d, proj_std, bias, lin)?,
                    activation,
                }
            }
        })
    }

    /// Applies the layer to `h` (`[B, t, d]`).
    pub fn forward(&self, h: &Tensor) -> Result<Tensor> {
        match self {
            Self::Plain {
                fc,
                proj,
                activation,
            } => proj.forward(&activation.apply(&fc.forward(h)?)?),
            Self::Gated {
                gate,
                up,
                down,
                activation,
            } => {
                let g = activation.apply(&gate.forward(h)?)?;
                down.forward(&g.f_mul(&up.forward(h)?)?)
            }
        }
    }
}
