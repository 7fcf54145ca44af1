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

use super::corpus::{NEGATIVE_WORDS, POSITIVE_WORDS};
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

/// Lexicon sentiment of the completion, in `[0, 1]`: the fraction of its sentiment words that
/// are positive, 0.5 when it has none. Words are matched whole and case-insensitively (a word
/// is a maximal run of alphabetic characters).
///
/// The default lists are the corpus lexicon ([`POSITIVE_WORDS`], [`NEGATIVE_WORDS`]), so the
/// default score equals [`sentiment_of`](super::corpus::sentiment_of) of the completion.
#[derive(Clone, Debug, PartialEq)]
pub struct LexiconReward {
    positive: Vec<String>,
    negative: Vec<String>,
    include_prompt: bool,
}

impl Default for LexiconReward {
    fn default() -> Self {
        LexiconReward {
            positive: POSITIVE_WORDS.iter().map(|w| w.to_string()).collect(),
            negative: NEGATIVE_WORDS.iter().map(|w| w.to_string()).collect(),
            include_prompt: false,
        }
    }
}

impl LexiconReward {
    /// A lexicon of your own. Words are lower-cased; a word in both lists, an empty word or a
    /// word with a non-alphabetic character (it could never match) is an error, and so are two
    /// empty lists.
    pub fn with_words<S: AsRef<str>>(
        positive: impl IntoIterator<Item = S>,
        negative: impl IntoIterator<Item = S>,
    ) -> Result<Self> {
        let clean = |words: Vec<String>| -> Result<Vec<String>> {
            for w in &words {
                if w.is_empty() || !w.chars().all(char::is_alphabetic) {
                    return Err(Error::invalid_argument(format!(
                        "LexiconReward: lexicon word {w:?} must be a non-empty run of letters"
                    )));
                }
            }
            Ok(words)
        };
        let lower = |it: Vec<S>| it.iter().map(|w| w.as_ref().to_lowercase()).collect();
        let positive = clean(lower(positive.into_iter().collect()))?;
        let negative = clean(lower(negative.into_iter().collect()))?;
        if positive.is_empty() && negative.is_empty() {
            return Err(Error::invalid_argument(
                "LexiconReward: both word lists are empty",
            ));
        }
        if let Some(w) = positive.iter().find(|w| negative.contains(w)) {
            return Err(Error::invalid_argument(format!(
                "LexiconReward: {w:?} is both positive and negative"
            )));
        }
        Ok(LexiconReward {
            positive,
            negative,
            include_prompt: false,
        })
    }

    /// Score the prompt and the completion together instead of the completion alone.
    pub fn include_prompt(mut self, include: bool) -> Self {
        self.include_prompt = include;
        self
    }

    /// Counts (positive, negative) sentiment words of `text`.
    fn count(&self, text: &str, pos: &mut u32, neg: &mut u32) {
        let mut lowered = String::new();
        for word in text.split(|c: char| !c.is_alphabetic()) {
            if word.is_empty() {
                continue;
            }
            let word = if word.chars().any(char::is_uppercase) {
                lowered.clear();
                lowered.extend(word.chars().flat_map(char::to_lowercase));
                lowered.as_str()
            } else {
                word
            };
            if self.positive.iter().any(|w| w == word) {
                *pos += 1;
            } else if self.negative.iter().any(|w| w == word) {
                *neg += 1;
            }
        }
    }
}

impl RewardFn for LexiconReward {
    fn score(&self, ctx: &RewardContext<'_>) -> Result<f64> {
        let (mut pos, mut neg) = (0, 0);
        if self.include_prompt {
            // Words never span the boundary: count the two texts separately.
            self.count(ctx.prompt, &mut pos, &mut neg);
        }
        self.count(ctx.completion, &mut pos, &mut neg);
        Ok(if pos + neg == 0 {
            0.5
        } else {
            f64::from(pos) / f64::from(pos + neg)
        })
    }
}

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

/// A verifiable reward for arithmetic prompts: 1 when the completion's leading integer is the
/// answer, else 0.
///
/// - The prompt is `a+b=`, `a-b=` or `a*b=` with non-negative integer operands (spaces around
///   the parts are allowed). A prompt that is not of this form is scored against its target
///   instead, when the target is an integer; otherwise it is an error (a configuration mistake,
///   not the policy's).
/// - The completion's leading integer: leading whitespace is skipped, then an optional `-` and
///   the longest run of ASCII digits. Whatever follows is ignored (`"19."`, `"19 apples"` and
///   `"19\n"` all answer 19; `"190"` answers 190).
/// - Junk scores 0, never an error: no leading integer (`""`, `"abc"`, `"-"`), or an integer
///   too long for `i64`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ArithmeticReward;

impl ArithmeticReward {
    /// The value of an arithmetic prompt `a+b=` (`+`, `-` or `*`), if it is one.
    pub fn answer(prompt: &str) -> Option<i64> {
        let lhs = prompt.trim().strip_suffix('=')?;
        let (pos, op) = lhs.char_indices().find(|&(_, c)| "+-*".contains(c))?;
        let a = parse_operand(&lhs[..pos])?;
        let b = parse_operand(&lhs[pos + op.len_utf8()..])?;
        match op {
            '+' => a.checked_add(b),
            '-' => a.checked_sub(b),
            _ => a.checked_mul(b),
        }
    }

    /// The leading integer of a completion (see the type's documentation), if it has one.
    pub fn leading_integer(completion: &str) -> Option<i64> {
        let s = completion.trim_start();
        let (neg, digits) = match s.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, s),
        };
        let end = digits
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(digits.len());
        let value: i64 = digits[..end].parse().ok()?;
        Some(if neg { -value } else { value })
    }
}

fn parse_operand(s: &str) -> Option<i64> {
    let s = s.trim();
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

impl RewardFn for ArithmeticReward {
    fn score(&self, ctx: &RewardContext<'_>) -> Result<f64> {
        let answer = match Self::answer(ctx.prompt) {
            Some(a) => a,
            None => ctx
                .target
                .and_then(|t| t.trim().parse::<i64>().ok())
                .ok_or_else(|| {
                    Error::invalid_argument(format!(
                        "ArithmeticReward: the prompt {:?} is not of the form a+b=, a-b= or a*b= \
                         and has no integer target",
                        ctx.prompt
                    ))
                })?,
        };
        Ok(match Self::leading_integer(ctx.completion) {
            Some(v) if v == answer => 1.0,
            _ => 0.0,
        })
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
    use crate::text::corpus::sentiment_of;

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
    }

    #[test]
    fn lexicon_hand_values_and_agreement_with_the_corpus() {
        let r = LexiconReward::default();
        assert_eq!(r.score(&ctx("", "it was great.")).unwrap(), 1.0);
        assert_eq!(r.score(&ctx("", "It was AWFUL.")).unwrap(), 0.0);
        assert_eq!(r.score(&ctx("", "good, good, bad")).unwrap(), 2.0 / 3.0);
        assert_eq!(r.score(&ctx("", "nothing here")).unwrap(), 0.5);
        assert_eq!(r.score(&ctx("", "goodness")).unwrap(), 0.5);
        // The prompt is ignored unless asked for.
        assert_eq!(r.score(&ctx("great great", "bad")).unwrap(), 0.0);
        let with_prompt = LexiconReward::default().include_prompt(true);
        assert_eq!(
            with_prompt.score(&ctx("great great", "bad")).unwrap(),
            2.0 / 3.0
        );
        // The prompt and completion do not merge into one word.
        assert_eq!(with_prompt.score(&ctx("goo", "d")).unwrap(), 0.5);
        for text in [
            "The movie was WONDERFUL and the actors were great.",
            "great but cold",
            "i hated the soup, it was dull and rude!",
            "12+7=19",
        ] {
            let expected = f64::from(sentiment_of(text));
            let got = r.score(&ctx("", text)).unwrap();
            assert!((got - expected).abs() < 1e-6, "{text}: {got} vs {expected}");
        }
    }

    #[test]
    fn lexicon_custom_words() {
        let r = LexiconReward::with_words(["Yes", "éclat"], ["no"]).unwrap();
        assert_eq!(r.score(&ctx("", "yes YES no")).unwrap(), 2.0 / 3.0);
        assert_eq!(r.score(&ctx("", "ÉCLAT")).unwrap(), 1.0);
        assert_eq!(r.score(&ctx("", "great")).unwrap(), 0.5);
        assert!(LexiconReward::with_words(["a"], ["a"]).is_err());
        assert!(LexiconReward::with_words(["two words"], ["x"]).is_err());
        assert!(LexiconReward::with_words(Vec::<&str>::new(), vec![]).is_err());
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

    #[test]
    fn regex_reward() {
        let r = RegexReward::new(r"^\s*\d+\.?$").unwrap();
        assert_eq!(r.score(&ctx("", " 42.")).unwrap(), 1.0);
        assert_eq!(r.score(&ctx("", "42 apples")).unwrap(), 0.0);
        let err = RegexReward::new("(unclosed").unwrap_err().to_string();
        assert!(err.contains("(unclosed"), "{err}");
    }

    #[test]
    fn arithmetic_parsing_and_junk() {
        assert_eq!(ArithmeticReward::answer("12+7="), Some(19));
        assert_eq!(ArithmeticReward::answer(" 12 - 20 = "), Some(-8));
        assert_eq!(ArithmeticReward::answer("6*7="), Some(42));
        assert_eq!(ArithmeticReward::answer("12+7"), None);
        assert_eq!(ArithmeticReward::answer("+7="), None);
        assert_eq!(ArithmeticReward::answer("a+7="), None);
        assert_eq!(ArithmeticReward::leading_integer(" 19."), Some(19));
        assert_eq!(ArithmeticReward::leading_integer("-8x"), Some(-8));
        assert_eq!(ArithmeticReward::leading_integer("x19"), None);
        assert_eq!(ArithmeticReward::leading_integer("-"), None);
        assert_eq!(
            ArithmeticReward::leading_integer("99999999999999999999999"),
            None
        );
        let r = ArithmeticReward;
        let score = |p: &str, c: &str| r.score(&ctx(p, c)).unwrap();
        assert_eq!(score("12+7=", "19"), 1.0);
        assert_eq!(score("12+7=", "19 and more"), 1.0);
        assert_eq!(score("12+7=", "190"), 0.0);
        assert_eq!(score("12+7=", "18"), 0.0);
        assert_eq!(score("12+7=", ""), 0.0);
        assert_eq!(score("12+7=", "nineteen"), 0.0);
        assert_eq!(score("3-5=", "-2"), 1.0);
        // A prompt that is not an expression falls back to the target, or is an error.
        assert_eq!(
            r.score(&ctx("what is twelve plus seven?", "19").with_target("19"))
                .unwrap(),
            1.0
        );
        let err = r.score(&ctx("hello", "19")).unwrap_err().to_string();
        assert!(err.contains("hello"), "{err}");
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
