//! ROUGE, computed exactly as Google's `rouge_score` 0.1.2 computes it (with NLTK's Porter
//! stemmer for `use_stemmer=True`): the metric of summarisation, and through
//! [`RougeReward`](super::RougeReward) a reward.
//!
//! - [`tokenize`]: `rouge_score`'s default tokenizer (lowercase, ASCII letters and digits only,
//!   optional stemming of words longer than three characters).
//! - [`porter_stem`]: NLTK's `PorterStemmer()` in its default `NLTK_EXTENSIONS` mode.
//! - [`rouge_n`], [`rouge_l`], [`rouge_lsum`]: the measures over token lists.
//! - [`RougeScorer`]: texts in, [`RougeScore`]s out, like `rouge_scorer.RougeScorer`.
//!
//! ```
//! use tokengym_envs::text::rouge::{RougeMetric, RougeScorer};
//!
//! let scorer = RougeScorer::new(true);
//! let target = "The quick brown fox jumps over the lazy dog";
//! let prediction = "The quick brown dog jumps on the log.";
//! let r1 = scorer.score(RougeMetric::N(1), target, prediction);
//! assert!((r1.precision - 0.75).abs() < 1e-12 && (r1.recall - 6.0 / 9.0).abs() < 1e-12);
//! let rl = scorer.score(RougeMetric::L, target, prediction);
//! assert!((rl.fmeasure - 0.5882352941176471).abs() < 1e-12);
//! assert_eq!("rougeLsum".parse::<RougeMetric>()?, RougeMetric::Lsum);
//! # Ok::<(), tokengym::Error>(())
//! ```

mod porter;
mod score;
mod tokenize;

pub use porter::porter_stem;
pub use score::{RougeScore, rouge_l, rouge_lsum, rouge_n};
pub use tokenize::tokenize;

use tokengym::{Error, Result};

/// Which ROUGE measure: named as in `rouge_score` (`rouge1`, `rouge2`, ..., `rougeL`,
/// `rougeLsum`) by [`Display`](std::fmt::Display) and [`FromStr`](std::str::FromStr).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RougeMetric {
    /// ROUGE-N over n-grams, `n >= 1` (`rouge_score` accepts `rouge1` to `rouge9`; any `n`
    /// here).
    N(usize),
    /// ROUGE-L: the longest common subsequence of the two texts' tokens.
    L,
    /// ROUGE-Lsum: summary-level LCS over sentences, one sentence per line.
    Lsum,
}

impl RougeMetric {
    /// ROUGE-1.
    pub const ROUGE1: RougeMetric = RougeMetric::N(1);
    /// ROUGE-2.
    pub const ROUGE2: RougeMetric = RougeMetric::N(2);

    /// The metric, or an error for ROUGE-0.
    pub fn validated(self) -> Result<Self> {
        match self {
            RougeMetric::N(0) => Err(Error::invalid_argument("ROUGE-N needs n >= 1, got rouge0")),
            m => Ok(m),
        }
    }
}

impl std::fmt::Display for RougeMetric {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RougeMetric::N(n) => write!(f, "rouge{n}"),
            RougeMetric::L => f.write_str("rougeL"),
            RougeMetric::Lsum => f.write_str("rougeLsum"),
        }
    }
}

impl std::str::FromStr for RougeMetric {
    type Err = Error;

    /// `rouge1`, `rouge2`, ... (any n >= 1), `rougeL`, `rougeLsum`; case-sensitive, as in
    /// `rouge_score`.
    fn from_str(s: &str) -> Result<Self> {
        let bad = || {
            Error::invalid_argument(format!(
                "unknown ROUGE metric {s:?} (expected rouge1, rouge2, ..., rougeL or rougeLsum)"
            ))
        };
        match s {
            "rougeL" => Ok(RougeMetric::L),
            "rougeLsum" => Ok(RougeMetric::Lsum),
            _ => {
                let digits = s.strip_prefix("rouge").ok_or_else(bad)?;
                if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(bad());
                }
                let n: usize = digits.parse().map_err(|_| bad())?;
                RougeMetric::N(n).validated()
            }
        }
    }
}

/// Scores a prediction against a target text, as `rouge_scorer.RougeScorer(types,
/// use_stemmer=stemming)` does (its default tokenizer, sentences of `rougeLsum` split at
/// `\n`, i.e. `split_summaries=False`).
///
/// Empty texts, or texts without any ASCII letter or digit, score 0 on every measure.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RougeScorer {
    /// Porter-stem tokens longer than three characters (`use_stemmer`).
    pub stemming: bool,
}

impl RougeScorer {
    /// A scorer, stemming or not.
    pub fn new(stemming: bool) -> Self {
        RougeScorer { stemming }
    }

    /// The tokens of `text` under this scorer's tokenizer.
    pub fn tokenize(&self, text: &str) -> Vec<String> {
        tokenize(text, self.stemming)
    }

    /// `metric` of `prediction` against `target`. `RougeMetric::N(0)` scores 0 (see
    /// [`RougeMetric::validated`]).
    pub fn score(&self, metric: RougeMetric, target: &str, prediction: &str) -> RougeScore {
        match metric {
            RougeMetric::N(n) => rouge_n(&self.tokenize(target), &self.tokenize(prediction), n),
            RougeMetric::L => rouge_l(&self.tokenize(target), &self.tokenize(prediction)),
            RougeMetric::Lsum => rouge_lsum(&self.sentences(target), &self.sentences(prediction)),
        }
    }

    /// Several metrics at once, tokenizing each text once (in the order of `metrics`).
    pub fn score_all(
        &self,
        metrics: &[RougeMetric],
        target: &str,
        prediction: &str,
    ) -> Vec<RougeScore> {
        let t = self.tokenize(target);
        let p = self.tokenize(prediction);
        metrics
            .iter()
            .map(|m| match m {
                RougeMetric::N(n) => rouge_n(&t, &p, *n),
                RougeMetric::L => rouge_l(&t, &p),
                RougeMetric::Lsum => self.score(RougeMetric::Lsum, target, prediction),
            })
            .collect()
    }

    /// The best score over several targets, as `score_multi` picks it: the target with the
    /// highest F1 (the first of equals), chosen for each metric on its own. No targets score 0
    /// (where `rouge_score` fails on an empty list).
    pub fn score_multi<T: AsRef<str>>(
        &self,
        metric: RougeMetric,
        targets: &[T],
        prediction: &str,
    ) -> RougeScore {
        let mut best: Option<RougeScore> = None;
        for t in targets {
            let s = self.score(metric, t.as_ref(), prediction);
            if best.is_none_or(|b| s.fmeasure > b.fmeasure) {
                best = Some(s);
            }
        }
        best.unwrap_or_default()
    }

    /// The tokenized sentences of `text` for `rougeLsum`: its lines (split at `\n` only), the
    /// empty ones dropped (a line of punctuation stays, as a sentence without tokens).
    fn sentences(&self, text: &str) -> Vec<Vec<String>> {
        text.split('\n')
            .filter(|line| !line.is_empty())
            .map(|line| self.tokenize(line))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metric_names_round_trip() {
        for m in [
            RougeMetric::ROUGE1,
            RougeMetric::ROUGE2,
            RougeMetric::N(12),
            RougeMetric::L,
            RougeMetric::Lsum,
        ] {
            assert_eq!(m.to_string().parse::<RougeMetric>().unwrap(), m);
        }
        for bad in ["rouge0", "rouge", "rougel", "rouge-1", "bleu", "rouge+1"] {
            assert!(bad.parse::<RougeMetric>().is_err(), "{bad}");
        }
        assert!(RougeMetric::N(0).validated().is_err());
    }

    #[test]
    fn empty_texts_and_multi() {
        let s = RougeScorer::new(false);
        for m in [RougeMetric::ROUGE1, RougeMetric::L, RougeMetric::Lsum] {
            assert_eq!(s.score(m, "", "a b"), RougeScore::default());
            assert_eq!(s.score(m, "a b", "!!"), RougeScore::default());
            assert_eq!(s.score(m, "a b", "A, b.").fmeasure, 1.0);
        }
        let best = s.score_multi(RougeMetric::ROUGE1, &["x y", "a z", "a b"], "a b");
        assert_eq!(best.fmeasure, 1.0);
        let first = s.score_multi(RougeMetric::ROUGE1, &["a x", "a y"], "a b");
        assert_eq!(first, s.score(RougeMetric::ROUGE1, "a x", "a b"));
        assert_eq!(
            s.score_multi::<&str>(RougeMetric::L, &[], "a"),
            RougeScore::default()
        );
        let all = s.score_all(&[RougeMetric::ROUGE2, RougeMetric::Lsum], "a b\nc", "a b c");
        assert_eq!(all[0], s.score(RougeMetric::ROUGE2, "a b\nc", "a b c"));
        assert_eq!(all[1].fmeasure, 1.0);
    }
}
