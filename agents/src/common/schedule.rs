//! Hyperparameter schedules over training progress (learning rate, clip range).

use serde::{Deserialize, Serialize};

/// How a hyperparameter changes over the run. `progress` runs from 0 (start) to 1 (end of the
/// step budget).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Schedule {
    /// The initial value throughout.
    #[default]
    Constant,
    /// Linear decay from the initial value to 0 at the end of the budget (rl-zoo's `lin_X`).
    Linear,
}

impl Schedule {
    /// The value at `progress` (clamped to `[0, 1]`) for initial value `initial`.
    pub fn value(self, initial: f32, progress: f64) -> f32 {
        match self {
            Self::Constant => initial,
            Self::Linear => initial * (1.0 - progress.clamp(0.0, 1.0)) as f32,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linear_decays_to_zero() {
        assert_eq!(Schedule::Linear.value(1e-3, 0.0), 1e-3);
        assert!((Schedule::Linear.value(1e-3, 0.25) - 7.5e-4).abs() < 1e-9);
        assert_eq!(Schedule::Linear.value(1e-3, 1.0), 0.0);
        assert_eq!(Schedule::Linear.value(1e-3, 2.0), 0.0);
        assert_eq!(Schedule::Constant.value(0.2, 0.9), 0.2);
    }
}
