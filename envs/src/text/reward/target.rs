//! Rewards against the prompt's target: [`ExactMatch`] and [`EditDistanceReward`].

use super::{RewardContext, RewardFn};
use tokengym::Result;

/// 1 when the completion equals the prompt's target, else 0. By default both are compared with
/// surrounding whitespace trimmed. A prompt without a target is an error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExactMatch {
    /// Trim leading and trailing whitespace of both texts before comparing (default `true`).
    pub trim: bool,
}

impl Default for ExactMatch {
    fn default() -> Self {
        ExactMatch { trim: true }
    }
}

impl RewardFn for ExactMatch {
    fn score(&self, ctx: &RewardContext<'_>) -> Result<f64> {
        let target = ctx.require_target("ExactMatch")?;
        let (a, b) = if self.trim {
            (ctx.completion.trim(), target.trim())
        } else {
            (ctx.completion, target)
        };
        Ok(if a == b { 1.0 } else { 0.0 })
    }
}

/// Similarity of the completion to the prompt's target in `[0, 1]`:
/// `1 - levenshtein(completion, target) / max(len)` over Unicode characters (1 for two empty
/// texts). Surrounding whitespace is trimmed first when `trim` is set (the default). A prompt
/// without a target is an error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EditDistanceReward {
    /// Trim leading and trailing whitespace of both texts first (default `true`).
    pub trim: bool,
}

impl Default for EditDistanceReward {
    fn default() -> Self {
        EditDistanceReward { trim: true }
    }
}

/// Levenshtein distance between `a` and `b` in Unicode characters (insert, delete, substitute
/// each cost 1).
pub fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diag = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let up = row[j + 1];
            row[j + 1] = (diag + usize::from(ca != cb)).min(up + 1).min(row[j] + 1);
            diag = up;
        }
    }
    row[b.len()]
}

impl RewardFn for EditDistanceReward {
    fn score(&self, ctx: &RewardContext<'_>) -> Result<f64> {
        let target = ctx.require_target("EditDistanceReward")?;
        let (a, b) = if self.trim {
            (ctx.completion.trim(), target.trim())
        } else {
            (ctx.completion, target)
        };
        let longest = a.chars().count().max(b.chars().count());
        if longest == 0 {
            return Ok(1.0);
        }
        Ok(1.0 - levenshtein(a, b) as f64 / longest as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx<'a>(prompt: &'a str, completion: &'a str) -> RewardContext<'a> {
        RewardContext::new(prompt, completion)
    }

    #[test]
    fn exact_match_and_missing_target() {
        let r = ExactMatch::default();
        assert_eq!(r.score(&ctx("q", " 19 ").with_target("19")).unwrap(), 1.0);
        assert_eq!(r.score(&ctx("q", "19.").with_target("19")).unwrap(), 0.0);
        let strict = ExactMatch { trim: false };
        assert_eq!(
            strict.score(&ctx("q", " 19").with_target("19")).unwrap(),
            0.0
        );
        let err = r.score(&ctx("what?", "19")).unwrap_err().to_string();
        assert!(err.contains("ExactMatch") && err.contains("what?"), "{err}");
    }

    #[test]
    fn edit_distance_hand_values() {
        assert_eq!(levenshtein("kitten", "sitting"), 3);
        assert_eq!(levenshtein("", "abc"), 3);
        assert_eq!(levenshtein("abc", ""), 3);
        assert_eq!(levenshtein("héllo", "hello"), 1);
        let r = EditDistanceReward::default();
        let s = r.score(&ctx("q", "kitten").with_target("sitting")).unwrap();
        assert!((s - (1.0 - 3.0 / 7.0)).abs() < 1e-12);
        assert_eq!(r.score(&ctx("q", " abc").with_target("abc")).unwrap(), 1.0);
        assert_eq!(r.score(&ctx("q", "").with_target("")).unwrap(), 1.0);
        assert_eq!(r.score(&ctx("q", "xyz").with_target("abc")).unwrap(), 0.0);
        assert!(r.score(&ctx("q", "abc")).is_err());
    }
}
