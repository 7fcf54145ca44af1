//! KL-penalty coefficients for PPO on language models: a fixed `beta`, or the adaptive
//! controller of Ziegler et al. (2019), "Fine-Tuning Language Models from Human Preferences":
//!
//! `e = clip(KL / target - 1, -0.2, 0.2)`, `beta <- beta * (1 + e * n_steps / horizon)`
//!
//! where `KL` is the measured KL of the last batch to the reference, and `n_steps` the number
//! of samples (completions) it was measured on. The proportional error is clipped so one
//! outlier batch moves `beta` by at most 20% of `n_steps / horizon`.

use crate::error::{Error, Result};

/// How the KL coefficient evolves.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum KlController {
    /// A constant `beta`.
    Fixed {
        /// The coefficient.
        beta: f64,
    },
    /// Ziegler et al.'s proportional controller.
    Adaptive {
        /// The current coefficient (`> 0`).
        beta: f64,
        /// The KL the controller steers to (`> 0`).
        target: f64,
        /// Number of samples over which `beta` may change by up to 20% (`> 0`).
        horizon: f64,
    },
}

impl KlController {
    /// Checks the ranges.
    pub fn validate(&self) -> Result<()> {
        let ok = match *self {
            Self::Fixed { beta } => beta.is_finite() && beta >= 0.0,
            Self::Adaptive {
                beta,
                target,
                horizon,
            } => {
                beta.is_finite()
                    && beta > 0.0
                    && target.is_finite()
                    && target > 0.0
                    && horizon.is_finite()
                    && horizon > 0.0
            }
        };
        if ok {
            Ok(())
        } else {
            Err(Error::InvalidArgument(format!(
                "invalid KL controller {self:?} (beta >= 0, adaptive: beta, target, horizon > 0)"
            )))
        }
    }

    /// The current coefficient.
    pub fn beta(&self) -> f64 {
        match *self {
            Self::Fixed { beta } | Self::Adaptive { beta, .. } => beta,
        }
    }

    /// Updates `beta` after a batch of `n_steps` samples whose mean KL was `kl` (a no-op for
    /// the fixed controller). A non-finite KL is an error and leaves `beta` unchanged.
    pub fn update(&mut self, kl: f64, n_steps: usize) -> Result<()> {
        if !kl.is_finite() {
            return Err(Error::NonFinite(format!(
                "KL {kl} given to the KL controller"
            )));
        }
        if let Self::Adaptive {
            beta,
            target,
            horizon,
        } = self
        {
            let err = (kl / *target - 1.0).clamp(-0.2, 0.2);
            *beta *= 1.0 + err * n_steps as f64 / *horizon;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adaptive_beta_follows_ziegler() {
        let mut c = KlController::Adaptive {
            beta: 0.1,
            target: 6.0,
            horizon: 10_000.0,
        };
        c.update(12.0, 256).unwrap(); // error clipped to +0.2
        assert!((c.beta() - 0.1 * (1.0 + 0.2 * 256.0 / 10_000.0)).abs() < 1e-15);
        let b = c.beta();
        c.update(5.4, 100).unwrap(); // error -0.1
        assert!((c.beta() - b * (1.0 - 0.1 * 100.0 / 10_000.0)).abs() < 1e-15);
        let b = c.beta();
        c.update(6.0, 100).unwrap();
        assert_eq!(c.beta(), b);
        assert!(c.update(f64::NAN, 1).is_err());
        assert_eq!(c.beta(), b);
        let mut f = KlController::Fixed { beta: 0.05 };
        f.update(100.0, 1000).unwrap();
        assert_eq!(f.beta(), 0.05);
        assert!(
            KlController::Adaptive {
                beta: 0.1,
                target: 0.0,
                horizon: 1.0
            }
            .validate()
            .is_err()
        );
        assert!(KlController::Fixed { beta: -1.0 }.validate().is_err());
    }
}
