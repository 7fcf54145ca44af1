//! Rewards for generated text: the [`RewardFn`] trait and the built-in reward functions.
//!
//! A text-generation episode ends with one completion of one prompt; a [`RewardFn`] scores it
//! from a [`RewardContext`]. Rewards are **sparse at the end** by default: the environment calls
//! [`RewardFn::score`] once, on the last step. A reward may add per-token shaping through
//! [`RewardFn::per_token`] (and says so with [`RewardFn::shapes_per_token`], so environments
//! whose reward does not shape skip decoding the text at every step).
//!
//! ```
//! use tokengym_envs::text::{ArithmeticReward, LexiconReward, RewardContext, RewardFn, WeightedSum};
//!
//! let ctx = RewardContext::new("12+7=", "19").finished(true);
//! assert_eq!(ArithmeticReward.score(&ctx)?, 1.0);
//! let ctx = RewardContext::new("the movie was", " great, not bad, great.");
//! assert_eq!(LexiconReward::default().score(&ctx)?, 2.0 / 3.0);
//! let both = WeightedSum::new().add(0.5, ArithmeticReward).add(0.5, LexiconReward::default());
//! assert_eq!(both.score(&RewardContext::new("1+1=", "2 great"))?, 1.0);
//! # Ok::<(), tokengym::Error>(())
//! ```

mod arithmetic;
mod length;
mod lexicon;
mod regex_match;
mod rouge;
mod target;

pub use arithmetic::ArithmeticReward;
pub use length::LengthPenalty;
pub use lexicon::LexiconReward;
pub use regex_match::RegexReward;
pub use rouge::RougeReward;
pub use target::{EditDistanceReward, ExactMatch, levenshtein};

use tokengym::{Error, Result};

/// Everything a reward may look at: the prompt, the completion (text and ids), whether the
/// completion ended with the end-of-sequence token, and the prompt's target, if it has one.
///
/// `completion_ids` never contains the end-of-sequence token itself: `finished` records it.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct RewardContext<'a> {
    /// The prompt text.
    pub prompt: &'a str,
    /// The generated text (decoded, special tokens skipped).
    pub completion: &'a str,
    /// The prompt's token ids (as the environment fed them, a `<bos>` included if added).
    pub prompt_ids: &'a [u32],
    /// The generated token ids, without the end-of-sequence token.
    pub completion_ids: &'a [u32],
    /// The completion ended with the end-of-sequence token (not cut at the length limit).
    pub finished: bool,
    /// The prompt's target (expected answer), if the prompt set has one.
    pub target: Option<&'a str>,
}

impl<'a> RewardContext<'a> {
    /// A context with just the texts (no ids, not finished, no target): handy in tests and for
    /// rewards that only read text.
    pub fn new(prompt: &'a str, completion: &'a str) -> Self {
        RewardContext {
            prompt,
            completion,
            ..Default::default()
        }
    }

    /// With `finished` set.
    pub fn finished(mut self, finished: bool) -> Self {
        self.finished = finished;
        self
    }

    /// With a target.
    pub fn with_target(mut self, target: &'a str) -> Self {
        self.target = Some(target);
        self
    }

    /// With token ids.
    pub fn with_ids(mut self, prompt_ids: &'a [u32], completion_ids: &'a [u32]) -> Self {
        self.prompt_ids = prompt_ids;
        self.completion_ids = completion_ids;
        self
    }

    /// The target, or an error naming `who` (a reward that needs one).
    fn require_target(&self, who: &str) -> Result<&'a str> {
        self.target.ok_or_else(|| {
            Error::invalid_argument(format!(
                "{who} needs a target for every prompt, but the prompt {:?} has none",
                self.prompt
            ))
        })
    }
}

/// Scores a completion of a prompt.
///
/// Object safe: environments hold an `Arc<dyn RewardFn>`. Implementations must be deterministic
/// for the environment to pass [`check_env`](tokengym::check_env)'s determinism checks.
pub trait RewardFn: Send + Sync {
    /// The reward for a whole completion, given once at the end of the episode.
    fn score(&self, ctx: &RewardContext<'_>) -> Result<f64>;

    /// The rewards of several completions, in order. The default calls [`RewardFn::score`] on
    /// each; a scorer with a per-call cost (a neural reward model) overrides it to score the
    /// batch at once. Batched rollouts call this.
    fn score_batch(&self, ctxs: &[RewardContext<'_>]) -> Result<Vec<f64>> {
        ctxs.iter().map(|c| self.score(c)).collect()
    }

    /// Optional shaping: an extra reward on every step, given the completion so far (`ctx`,
    /// which already contains the new token) and the text the new token added. The default is
    /// 0, i.e. the reward is sparse at the end of the episode. On the last step the environment
    /// pays `per_token + score`.
    fn per_token(&self, ctx: &RewardContext<'_>, new_token_text: &str) -> Result<f64> {
        let _ = (ctx, new_token_text);
        Ok(0.0)
    }

    /// Whether [`RewardFn::per_token`] can be non-zero. Environments only decode the completion
    /// at every step when it is `true` (the default `false` matches the default `per_token`).
    fn shapes_per_token(&self) -> bool {
        false
    }
}

impl<R: RewardFn + ?Sized> RewardFn for Box<R> {
    fn score(&self, ctx: &RewardContext<'_>) -> Result<f64> {
        (**self).score(ctx)
    }
    fn score_batch(&self, ctxs: &[RewardContext<'_>]) -> Result<Vec<f64>> {
        (**self).score_batch(ctxs)
    }
    fn per_token(&self, ctx: &RewardContext<'_>, new_token_text: &str) -> Result<f64> {
        (**self).per_token(ctx, new_token_text)
    }
    fn shapes_per_token(&self) -> bool {
        (**self).shapes_per_token()
    }
}

impl<R: RewardFn + ?Sized> RewardFn for std::sync::Arc<R> {
    fn score(&self, ctx: &RewardContext<'_>) -> Result<f64> {
        (**self).score(ctx)
    }
    fn score_batch(&self, ctxs: &[RewardContext<'_>]) -> Result<Vec<f64>> {
        (**self).score_batch(ctxs)
    }
    fn per_token(&self, ctx: &RewardContext<'_>, new_token_text: &str) -> Result<f64> {
        (**self).per_token(ctx, new_token_text)
    }
    fn shapes_per_token(&self) -> bool {
        (**self).shapes_per_token()
    }
}

type ScoreFn = dyn Fn(&RewardContext<'_>) -> Result<f64> + Send + Sync;

/// A reward from a closure (no per-token shaping).
///
/// ```
/// use tokengym_envs::text::{FnReward, RewardContext, RewardFn};
/// let shout = FnReward::new(|ctx| ctx.completion.matches('!').count() as f64);
/// assert_eq!(shout.score(&RewardContext::new("hi", "wow!!"))?, 2.0);
/// # Ok::<(), tokengym::Error>(())
/// ```
pub struct FnReward {
    f: Box<ScoreFn>,
}

impl FnReward {
    /// A reward computed by `f`.
    pub fn new(f: impl Fn(&RewardContext<'_>) -> f64 + Send + Sync + 'static) -> Self {
        FnReward {
            f: Box::new(move |ctx| Ok(f(ctx))),
        }
    }

    /// A reward computed by a closure that may fail.
    pub fn fallible(f: impl Fn(&RewardContext<'_>) -> Result<f64> + Send + Sync + 'static) -> Self {
        FnReward { f: Box::new(f) }
    }
}

impl RewardFn for FnReward {
    fn score(&self, ctx: &RewardContext<'_>) -> Result<f64> {
        (self.f)(ctx)
    }
}

impl std::fmt::Debug for FnReward {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FnReward(..)")
    }
}

/// A weighted sum of rewards: `sum_i w_i * r_i` (scores and per-token shaping alike).
///
/// An empty sum scores 0.
#[derive(Default)]
pub struct WeightedSum {
    parts: Vec<(f64, Box<dyn RewardFn>)>,
}

impl WeightedSum {
    /// An empty sum.
    pub fn new() -> Self {
        WeightedSum::default()
    }

    /// Adds `weight * reward`.
    pub fn add(mut self, weight: f64, reward: impl RewardFn + 'static) -> Self {
        self.parts.push((weight, Box::new(reward)));
        self
    }

    /// Adds an already boxed reward.
    pub fn add_boxed(mut self, weight: f64, reward: Box<dyn RewardFn>) -> Self {
        self.parts.push((weight, reward));
        self
    }

    /// Number of terms.
    pub fn len(&self) -> usize {
        self.parts.len()
    }

    /// Whether the sum has no terms.
    pub fn is_empty(&self) -> bool {
        self.parts.is_empty()
    }
}

impl RewardFn for WeightedSum {
    fn score(&self, ctx: &RewardContext<'_>) -> Result<f64> {
        let mut total = 0.0;
        for (w, r) in &self.parts {
            total += w * r.score(ctx)?;
        }
        Ok(total)
    }

    fn per_token(&self, ctx: &RewardContext<'_>, new_token_text: &str) -> Result<f64> {
        let mut total = 0.0;
        for (w, r) in self.parts.iter().filter(|(_, r)| r.shapes_per_token()) {
            total += w * r.per_token(ctx, new_token_text)?;
        }
        Ok(total)
    }

    fn shapes_per_token(&self) -> bool {
        self.parts.iter().any(|(_, r)| r.shapes_per_token())
    }
}

impl std::fmt::Debug for WeightedSum {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let weights: Vec<f64> = self.parts.iter().map(|(w, _)| *w).collect();
        f.debug_struct("WeightedSum")
            .field("weights", &weights)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx<'a>(prompt: &'a str, completion: &'a str) -> RewardContext<'a> {
        RewardContext::new(prompt, completion)
    }

    #[test]
    fn fn_reward_calls_the_closure() {
        let r = FnReward::new(|c| c.completion.len() as f64 + f64::from(u8::from(c.finished)));
        assert_eq!(r.score(&ctx("p", "abc")).unwrap(), 3.0);
        assert_eq!(r.score(&ctx("p", "abc").finished(true)).unwrap(), 4.0);
        let failing = FnReward::fallible(|_| Err(Error::invalid_argument("nope")));
        assert!(failing.score(&ctx("p", "")).is_err());
        assert_eq!(r.per_token(&ctx("p", "a"), "a").unwrap(), 0.0);
        assert!(!r.shapes_per_token());
        // The default batch scores each context in order, through Box and Arc alike.
        let batch = [
            ctx("p", "ab"),
            ctx("p", "abcd").finished(true),
            ctx("p", ""),
        ];
        assert_eq!(r.score_batch(&batch).unwrap(), [2.0, 5.0, 0.0]);
        let boxed: Box<dyn RewardFn> = Box::new(r);
        assert_eq!(boxed.score_batch(&batch).unwrap(), [2.0, 5.0, 0.0]);
        assert!(failing.score_batch(&batch).is_err());
    }

    struct Shaper;

    impl RewardFn for Shaper {
        fn score(&self, _ctx: &RewardContext<'_>) -> Result<f64> {
            Ok(10.0)
        }
        fn per_token(&self, _ctx: &RewardContext<'_>, new: &str) -> Result<f64> {
            Ok(new.len() as f64)
        }
        fn shapes_per_token(&self) -> bool {
            true
        }
    }

    #[test]
    fn weighted_sum_combines_scores_and_shaping() {
        let sum = WeightedSum::new()
            .add(2.0, ArithmeticReward)
            .add(-1.0, LengthPenalty::new(0, 1.0, 0.0).unwrap())
            .add(0.5, Shaper);
        assert_eq!(sum.len(), 3);
        let ids = [1u32, 2];
        let c = ctx("1+1=", "2").with_ids(&[], &ids);
        assert_eq!(sum.score(&c).unwrap(), 2.0 + 2.0 + 5.0);
        assert!(sum.shapes_per_token());
        assert_eq!(sum.per_token(&c, "ab").unwrap(), 1.0);
        let plain = WeightedSum::new().add(1.0, ArithmeticReward);
        assert!(!plain.shapes_per_token());
        assert_eq!(WeightedSum::new().score(&c).unwrap(), 0.0);
        let boxed: Box<dyn RewardFn> = Box::new(sum);
        assert!(boxed.shapes_per_token());
        let err = WeightedSum::new().add(1.0, ExactMatch::default()).score(&c);
        assert!(err.is_err());
    }
}
