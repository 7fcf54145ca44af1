//! [`LengthPenalty`]: a penalty for completions longer or shorter than a target length.

use super::{RewardContext, RewardFn};
use tokengym::{Error, Result};

/// A penalty for the completion's length in tokens (the end-of-sequence token not counted):
/// `-(over * max(0, len - target) + under * max(0, target - len))`, so 0 at the target length.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LengthPenalty {
    target: usize,
    over: f64,
    under: f64,
}

impl LengthPenalty {
    /// Penalises each token beyond `target` by `over` and each token short of it by `under`
    /// (both finite and non-negative).
    pub fn new(target: usize, over: f64, under: f64) -> Result<Self> {
        for (name, v) in [("over", over), ("under", under)] {
            if !v.is_finite() || v < 0.0 {
                return Err(Error::invalid_argument(format!(
                    "LengthPenalty: the {name} coefficient must be finite and >= 0, got {v}"
                )));
            }
        }
        Ok(LengthPenalty {
            target,
            over,
            under,
        })
    }
}

impl RewardFn for LengthPenalty {
    fn score(&self, ctx: &RewardContext<'_>) -> Result<f64> {
        let len = ctx.completion_ids.len();
        let over = len.saturating_sub(self.target) as f64;
        let under = self.target.saturating_sub(len) as f64;
        Ok(-(self.over * over + self.under * under))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx<'a>(prompt: &'a str, completion: &'a str) -> RewardContext<'a> {
        RewardContext::new(prompt, completion)
    }

    #[test]
    fn length_penalty_hand_values() {
        let r = LengthPenalty::new(3, 0.5, 0.25).unwrap();
        let at = |n: usize| {
            let ids = vec![1u32; n];
            r.score(&ctx("", "").with_ids(&[], &ids)).unwrap()
        };
        assert_eq!(at(3), 0.0);
        assert_eq!(at(5), -1.0);
        assert_eq!(at(0), -0.75);
        assert!(LengthPenalty::new(3, -1.0, 0.0).is_err());
        assert!(LengthPenalty::new(3, 0.0, f64::NAN).is_err());
    }
}
