//! Settings of a pre-training run ([`TrainerConfig`]), saved with every checkpoint.

use serde::{Deserialize, Serialize};
use tokengym_agents::nn::DeviceChoice;

use crate::error::{Error, Result};
use crate::pretrain::dataset::Layout;
use crate::pretrain::lr_schedule::LrSchedule;

/// Settings of a training run (serde; missing fields take the defaults below, unknown fields
/// are rejected).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrainerConfig {
    /// Rows per batch (default 16).
    pub batch_size: usize,
    /// Input tokens per row (default 64); at most the model's context.
    pub context: usize,
    /// Total optimizer steps of the run (default 2000).
    pub steps: u64,
    /// Peak learning rate (default 1e-3).
    pub lr: f64,
    /// Decoupled weight decay of the weight matrices (default 0.1).
    pub weight_decay: f64,
    /// AdamW `beta1` (default 0.9).
    pub beta1: f64,
    /// AdamW `beta2` (default 0.95).
    pub beta2: f64,
    /// Linear warm-up steps (default 100; shortened to `steps` for shorter runs).
    pub warmup_steps: u64,
    /// Floor of the cosine decay as a fraction of `lr` (default 0.1).
    pub min_lr_ratio: f64,
    /// Largest global gradient L2 norm; larger gradients are scaled down (default 1; 0 = off).
    pub grad_clip: f64,
    /// Validate (and checkpoint) every this many steps (default 100; 0 = only at the end).
    pub eval_every: u64,
    /// Validation batches per periodic evaluation (default 20; 0 = the whole validation set).
    /// The final evaluation always uses the whole set.
    pub eval_batches: usize,
    /// Seed of the initialisation, the dropout and the data order (default 0).
    pub seed: u64,
    /// `auto`, `cpu` or `cuda` (default `auto`).
    pub device: String,
    /// How lines become rows (default packing).
    pub layout: Layout,
}

impl Default for TrainerConfig {
    fn default() -> Self {
        Self {
            batch_size: 16,
            context: 64,
            steps: 2000,
            lr: 1e-3,
            weight_decay: 0.1,
            beta1: 0.9,
            beta2: 0.95,
            warmup_steps: 100,
            min_lr_ratio: 0.1,
            grad_clip: 1.0,
            eval_every: 100,
            eval_batches: 20,
            seed: 0,
            device: "auto".to_owned(),
            layout: Layout::Pack,
        }
    }
}

impl TrainerConfig {
    /// Checks every field's range.
    pub fn validate(&self) -> Result<()> {
        let bad = |msg: String| Err(Error::InvalidArgument(format!("TrainerConfig: {msg}")));
        if self.batch_size == 0 {
            return bad("batch_size must be at least 1".to_owned());
        }
        if self.context == 0 {
            return bad("context must be at least 1".to_owned());
        }
        if !(self.weight_decay.is_finite() && self.weight_decay >= 0.0) {
            return bad(format!(
                "weight_decay must be >= 0, got {}",
                self.weight_decay
            ));
        }
        for (name, b) in [("beta1", self.beta1), ("beta2", self.beta2)] {
            if !(0.0..1.0).contains(&b) {
                return bad(format!("{name} must be in [0, 1), got {b}"));
            }
        }
        if !(self.grad_clip.is_finite() && self.grad_clip >= 0.0) {
            return bad(format!("grad_clip must be >= 0, got {}", self.grad_clip));
        }
        self.device.parse::<DeviceChoice>()?;
        self.schedule().map(|_| ())
    }

    /// The learning-rate schedule of the run (warm-up capped at `steps`).
    pub fn schedule(&self) -> Result<LrSchedule> {
        LrSchedule::new(
            self.lr,
            self.warmup_steps.min(self.steps),
            self.steps,
            self.min_lr_ratio,
        )
    }
}
