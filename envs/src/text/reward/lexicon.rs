//! [`LexiconReward`]: sentiment of the completion by word lists.

use super::{RewardContext, RewardFn};
use crate::text::corpus::{NEGATIVE_WORDS, POSITIVE_WORDS};
use tokengym::{Error, Result};

/// Lexicon sentiment of the completion, in `[0, 1]`: the fraction of its sentiment words that
/// are positive, 0.5 when it has none. Words are matched whole and case-insensitively (a word
/// is a maximal run of alphabetic characters).
///
/// The default lists are the corpus lexicon ([`POSITIVE_WORDS`], [`NEGATIVE_WORDS`]), so the
/// default score equals [`sentiment_of`](crate::text::corpus::sentiment_of) of the completion.
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::corpus::sentiment_of;

    fn ctx<'a>(prompt: &'a str, completion: &'a str) -> RewardContext<'a> {
        RewardContext::new(prompt, completion)
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
}
