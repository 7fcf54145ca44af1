//! The optimizer step of the LM learners: AdamW over a [`VarStore`] with global gradient-norm
//! clipping, refusing non-finite losses and gradients with a clear error instead of corrupting
//! the weights.

use tch::nn::{self, OptimizerConfig, VarStore};
use tch::{Kind, Tensor};

use crate::error::{Error, Result};

/// AdamW settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OptimConfig {
    /// Learning rate (finite, `> 0`).
    pub lr: f64,
    /// Decoupled weight decay (`>= 0`).
    pub weight_decay: f64,
    /// Clip the global L2 norm of the gradients to this value (`None`: no clipping).
    pub max_grad_norm: Option<f64>,
}

impl Default for OptimConfig {
    fn default() -> Self {
        Self {
            lr: 1e-4,
            weight_decay: 0.0,
            max_grad_norm: Some(1.0),
        }
    }
}

impl OptimConfig {
    /// Checks the ranges.
    pub fn validate(&self) -> Result<()> {
        if !(self.lr.is_finite() && self.lr > 0.0) {
            return Err(Error::InvalidArgument(format!(
                "learning rate must be finite and > 0, got {}",
                self.lr
            )));
        }
        if !(self.weight_decay.is_finite() && self.weight_decay >= 0.0) {
            return Err(Error::InvalidArgument(format!(
                "weight decay must be finite and >= 0, got {}",
                self.weight_decay
            )));
        }
        if let Some(m) = self.max_grad_norm
            && !(m.is_finite() && m > 0.0)
        {
            return Err(Error::InvalidArgument(format!(
                "max_grad_norm must be finite and > 0, got {m}"
            )));
        }
        Ok(())
    }
}

/// AdamW over the trainable variables of a [`VarStore`].
pub struct LmOptimizer {
    opt: nn::Optimizer,
    vars: Vec<Tensor>,
    cfg: OptimConfig,
}

impl std::fmt::Debug for LmOptimizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LmOptimizer")
            .field("cfg", &self.cfg)
            .field("variables", &self.vars.len())
            .finish_non_exhaustive()
    }
}

impl LmOptimizer {
    /// AdamW (betas 0.9 / 0.999, eps 1e-8) over `vs`'s trainable variables.
    pub fn new(vs: &VarStore, cfg: OptimConfig) -> Result<Self> {
        cfg.validate()?;
        let opt = nn::AdamW {
            wd: cfg.weight_decay,
            ..nn::AdamW::default()
        }
        .build(vs, cfg.lr)?;
        Ok(Self {
            opt,
            vars: vs.trainable_variables(),
            cfg,
        })
    }

    /// The settings.
    pub fn config(&self) -> &OptimConfig {
        &self.cfg
    }

    /// Back-propagates the scalar `loss`, clips the gradients and steps; returns the gradient
    /// norm before clipping. A non-finite loss or gradient norm is an [`Error::NonFinite`] and
    /// leaves the weights untouched.
    pub fn step(&mut self, loss: &Tensor) -> Result<f64> {
        let value = loss.f_double_value(&[])?;
        if !value.is_finite() {
            return Err(Error::NonFinite(format!(
                "LM policy loss is {value}; weights left unchanged"
            )));
        }
        self.opt.zero_grad();
        loss.f_backward()?;
        let norm = tch::no_grad(|| -> Result<f64> {
            let mut total = 0.0;
            for v in &self.vars {
                let g = v.grad();
                if g.defined() {
                    total += g
                        .f_pow_tensor_scalar(2)?
                        .f_sum(Kind::Double)?
                        .f_double_value(&[])?;
                }
            }
            let norm = total.sqrt();
            if !norm.is_finite() {
                return Ok(norm);
            }
            if let Some(max) = self.cfg.max_grad_norm {
                let coef = max / (norm + 1e-6);
                if coef < 1.0 {
                    for v in &self.vars {
                        let mut g = v.grad();
                        if g.defined() {
                            let _ = g.f_mul_scalar_(coef)?;
                        }
                    }
                }
            }
            Ok(norm)
        })?;
        if !norm.is_finite() {
            self.opt.zero_grad();
            return Err(Error::NonFinite(format!(
                "gradient norm is {norm}; weights left unchanged"
            )));
        }
        self.opt.step();
        Ok(norm)
    }
}
