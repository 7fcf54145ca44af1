//! [`LrSchedule`]: linear warm-up followed by cosine decay, the usual schedule for training
//! transformers.
//!
//! For a base rate `lr`, `W` warm-up steps, `N` total steps and a floor ratio `r`, the rate used
//! at (0-based) step `s` is
//!
//! - `lr * (s + 1) / W` while `s < W` (so the first step already moves, and step `W - 1` uses
//!   the full rate);
//! - `lr * (r + (1 - r) * (1 + cos(pi * p)) / 2)` with `p = (s - W) / (N - W)` for
//!   `W <= s < N` (cosine from `lr` down towards `r * lr`);
//! - `r * lr` from step `N` on (a resumed run that trains past its planned length stays at the
//!   floor).

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Linear warm-up then cosine decay to `min_lr_ratio * base_lr`.
///
/// ```
/// use tokengym_lm::pretrain::LrSchedule;
///
/// let s = LrSchedule::new(1e-3, 10, 110, 0.1)?;
/// assert!((s.lr_at(0) - 1e-4).abs() < 1e-12); // warm-up: 1/10 of the rate
/// assert!((s.lr_at(9) - 1e-3).abs() < 1e-12); // end of the warm-up
/// assert!((s.lr_at(60) - 5.5e-4).abs() < 1e-12); // half-way down the cosine
/// assert!((s.lr_at(500) - 1e-4).abs() < 1e-12); // the floor
/// # Ok::<(), tokengym_lm::error::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LrSchedule {
    /// Peak learning rate (reached at the end of the warm-up).
    pub base_lr: f64,
    /// Number of warm-up steps (0: start at the peak).
    pub warmup_steps: u64,
    /// Step at which the cosine reaches the floor.
    pub total_steps: u64,
    /// Floor of the decay as a fraction of `base_lr`, in `[0, 1]`.
    pub min_lr_ratio: f64,
}

impl LrSchedule {
    /// A validated schedule: `base_lr` finite and `> 0`, `min_lr_ratio` in `[0, 1]`,
    /// `warmup_steps <= total_steps`.
    pub fn new(
        base_lr: f64,
        warmup_steps: u64,
        total_steps: u64,
        min_lr_ratio: f64,
    ) -> Result<Self> {
        let s = Self {
            base_lr,
            warmup_steps,
            total_steps,
            min_lr_ratio,
        };
        s.validate()?;
        Ok(s)
    }

    /// Checks the fields (see [`new`](Self::new)).
    pub fn validate(&self) -> Result<()> {
        if !(self.base_lr.is_finite() && self.base_lr > 0.0) {
            return Err(Error::InvalidArgument(format!(
                "learning rate must be finite and > 0, got {}",
                self.base_lr
            )));
        }
        if !(0.0..=1.0).contains(&self.min_lr_ratio) {
            return Err(Error::InvalidArgument(format!(
                "min_lr_ratio must be in [0, 1], got {}",
                self.min_lr_ratio
            )));
        }
        if self.warmup_steps > self.total_steps {
            return Err(Error::InvalidArgument(format!(
                "warmup_steps ({}) must not exceed the total number of steps ({})",
                self.warmup_steps, self.total_steps
            )));
        }
        Ok(())
    }

    /// The learning rate of 0-based step `step` (see the module docs).
    pub fn lr_at(&self, step: u64) -> f64 {
        let floor = self.min_lr_ratio * self.base_lr;
        if step < self.warmup_steps {
            return self.base_lr * (step + 1) as f64 / self.warmup_steps as f64;
        }
        if step >= self.total_steps {
            return floor;
        }
        let span = (self.total_steps - self.warmup_steps) as f64;
        let progress = (step - self.warmup_steps) as f64 / span;
        let cosine = 0.5 * (1.0 + (std::f64::consts::PI * progress).cos());
        floor + (self.base_lr - floor) * cosine
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    #[test]
    fn warm_up_is_linear_and_ends_at_the_peak() {
        let s = LrSchedule::new(0.01, 4, 20, 0.0).unwrap();
        let lrs: Vec<f64> = (0..4).map(|i| s.lr_at(i)).collect();
        for (got, want) in lrs.iter().zip([0.0025, 0.005, 0.0075, 0.01]) {
            assert!(close(*got, want), "{lrs:?}");
        }
        // First step after the warm-up: cosine at progress 0, the full rate.
        assert!(close(s.lr_at(4), 0.01));
    }

    #[test]
    fn cosine_by_hand() {
        // W = 0, N = 4, floor 0: lr * (1 + cos(pi s / 4)) / 2.
        let s = LrSchedule::new(2.0, 0, 4, 0.0).unwrap();
        let want = [
            2.0,
            1.0 + std::f64::consts::FRAC_1_SQRT_2,
            1.0,
            1.0 - std::f64::consts::FRAC_1_SQRT_2,
            0.0,
            0.0,
        ];
        for (i, w) in want.iter().enumerate() {
            assert!(
                close(s.lr_at(i as u64), *w),
                "step {i}: {}",
                s.lr_at(i as u64)
            );
        }
        // With a floor of 0.25: 0.5 + 1.5 * cosine.
        let s = LrSchedule::new(2.0, 0, 4, 0.25).unwrap();
        assert!(close(s.lr_at(2), 0.5 + 1.5 * 0.5));
        assert!(close(s.lr_at(4), 0.5));
        assert!(close(s.lr_at(1000), 0.5));
    }

    #[test]
    fn schedule_is_monotone_after_the_warm_up() {
        let s = LrSchedule::new(3e-4, 10, 200, 0.1).unwrap();
        for i in 10..250 {
            assert!(s.lr_at(i + 1) <= s.lr_at(i) + 1e-18);
        }
        for i in 0..9 {
            assert!(s.lr_at(i + 1) > s.lr_at(i));
        }
    }

    #[test]
    fn invalid_schedules_are_errors() {
        assert!(LrSchedule::new(0.0, 0, 10, 0.1).is_err());
        assert!(LrSchedule::new(f64::NAN, 0, 10, 0.1).is_err());
        assert!(LrSchedule::new(1e-3, 0, 10, 1.5).is_err());
        assert!(LrSchedule::new(1e-3, 11, 10, 0.1).is_err());
        let s = LrSchedule::new(1e-3, 10, 10, 0.1).unwrap();
        assert!(close(s.lr_at(9), 1e-3));
        assert!(close(s.lr_at(10), 1e-4));
    }
}
