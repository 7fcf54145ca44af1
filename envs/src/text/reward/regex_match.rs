//! [`RegexReward`]: 1 when a regular expression matches the completion.

use super::{RewardContext, RewardFn};
use tokengym::{Error, Result};

/// 1 when a regular expression matches somewhere in the completion, else 0 (anchor it with
/// `^...$` to require a whole match).
#[derive(Clone, Debug)]
pub struct RegexReward {
    re: regex::Regex,
}

impl RegexReward {
    /// Compiles `pattern` (the `regex` crate's syntax); an invalid pattern is an error.
    pub fn new(pattern: &str) -> Result<Self> {
        let re = regex::Regex::new(pattern).map_err(|e| {
            Error::invalid_argument(format!("RegexReward: invalid pattern {pattern:?}: {e}"))
        })?;
        Ok(RegexReward { re })
    }
}

impl RewardFn for RegexReward {
    fn score(&self, ctx: &RewardContext<'_>) -> Result<f64> {
        Ok(if self.re.is_match(ctx.completion) {
            1.0
        } else {
            0.0
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx<'a>(prompt: &'a str, completion: &'a str) -> RewardContext<'a> {
        RewardContext::new(prompt, completion)
    }

    #[test]
    fn regex_reward() {
        let r = RegexReward::new(r"^\s*\d+\.?$").unwrap();
        assert_eq!(r.score(&ctx("", " 42.")).unwrap(), 1.0);
        assert_eq!(r.score(&ctx("", "42 apples")).unwrap(), 0.0);
        let err = RegexReward::new("(unclosed").unwrap_err().to_string();
        assert!(err.contains("(unclosed"), "{err}");
    }
}
