//! [`PromptSet`]: the prompts a text-generation environment draws its episodes from.
//!
//! A prompt set is never empty. It comes from a list, from a text file (one prompt a line, an
//! optional target after a tab), from a JSON Lines file (one object a line with a prompt and an
//! optional reference: [`PromptSet::from_jsonl`], the format of summarisation sets), or from the
//! project's corpus:
//!
//! ```
//! use tokengym_envs::text::PromptSet;
//! use tokengym::EnvRng;
//! use rand::SeedableRng;
//!
//! let set = PromptSet::parse("12+7=\t19\nthe movie was\n", "inline")?;
//! assert_eq!(set.len(), 2);
//! assert_eq!(set.get(0).map(|p| p.target.as_deref()), Some(Some("19")));
//!
//! let arithmetic = PromptSet::arithmetic(0, 100, 99)?;
//! let mut rng = EnvRng::seed_from_u64(3);
//! let (i, prompt) = arithmetic.sample(&mut rng);
//! assert!(prompt.text.ends_with('=') && i < 100);
//! # Ok::<(), tokengym::Error>(())
//! ```

use super::corpus::{CorpusConfig, LineKind, generate_lines};
use rand::{Rng, RngExt};
use std::path::Path;
use tokengym::{Error, Result};

/// One prompt and, optionally, the completion it expects.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Prompt {
    /// The prompt text.
    pub text: String,
    /// The expected completion (for verifiable rewards), if any.
    pub target: Option<String>,
}

impl Prompt {
    /// A prompt without a target.
    pub fn new(text: impl Into<String>) -> Self {
        Prompt {
            text: text.into(),
            target: None,
        }
    }

    /// A prompt with a target.
    pub fn with_target(text: impl Into<String>, target: impl Into<String>) -> Self {
        Prompt {
            text: text.into(),
            target: Some(target.into()),
        }
    }
}

/// A non-empty list of prompts, sampled uniformly with a caller-provided RNG.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PromptSet {
    prompts: Vec<Prompt>,
}

impl PromptSet {
    /// The prompts as given; an empty list is an error.
    pub fn new(prompts: Vec<Prompt>) -> Result<Self> {
        if prompts.is_empty() {
            return Err(Error::invalid_argument(
                "a prompt set needs at least one prompt, got none",
            ));
        }
        Ok(PromptSet { prompts })
    }

    /// Prompts without targets.
    pub fn from_texts<S: Into<String>>(texts: impl IntoIterator<Item = S>) -> Result<Self> {
        Self::new(texts.into_iter().map(Prompt::new).collect())
    }

    /// Prompts with targets, from `(prompt, target)` pairs.
    pub fn from_pairs<P: Into<String>, T: Into<String>>(
        pairs: impl IntoIterator<Item = (P, T)>,
    ) -> Result<Self> {
        Self::new(
            pairs
                .into_iter()
                .map(|(p, t)| Prompt::with_target(p, t))
                .collect(),
        )
    }

    /// Parses the prompt-file format; `source` names the text in error messages.
    ///
    /// One prompt a line; a tab separates the prompt from its target (`12+7=\t19`). A trailing
    /// `\r` is dropped (Windows line ends) and so are blank lines. There are no escapes: a prompt
    /// cannot contain a newline or a tab. Errors name the line: a line with more than one tab,
    /// a line whose prompt part is empty, and a text without any prompt.
    pub fn parse(text: &str, source: &str) -> Result<Self> {
        let mut prompts = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.strip_suffix('\r').unwrap_or(line);
            if line.trim().is_empty() {
                continue;
            }
            let bad = |why: &str| {
                Error::invalid_argument(format!("{source}, line {}: {why}: {line:?}", i + 1))
            };
            let mut parts = line.split('\t');
            let prompt = parts.next().unwrap_or_default();
            let target = parts.next();
            if parts.next().is_some() {
                return Err(bad(
                    "more than one tab (expected `prompt` or `prompt<TAB>target`)",
                ));
            }
            if prompt.is_empty() {
                return Err(bad("the prompt before the tab is empty"));
            }
            prompts.push(Prompt {
                text: prompt.to_string(),
                target: target.map(str::to_string),
            });
        }
        if prompts.is_empty() {
            return Err(Error::invalid_argument(format!(
                "{source}: no prompts (the text is empty or blank)"
            )));
        }
        Ok(PromptSet { prompts })
    }

    /// Reads a prompt file (format of [`PromptSet::parse`]); errors name the file.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        let text = String::from_utf8(bytes).map_err(|e| {
            Error::invalid_argument(format!(
                "{}: not UTF-8 text (invalid byte at offset {})",
                path.display(),
                e.utf8_error().valid_up_to()
            ))
        })?;
        Self::parse(&text, &path.display().to_string())
    }

    /// Sentiment prompts: the first `words` words of `count` sentiment sentences (positive and
    /// negative alike) of the corpus generated with `seed` (e.g. `the movie was`,
    /// `i hated the`). No targets. The same arguments always give the same prompts.
    pub fn sentiment(seed: u64, count: usize, words: usize) -> Result<Self> {
        if count == 0 || words == 0 {
            return Err(Error::invalid_argument(format!(
                "sentiment prompts need count > 0 and words > 0, got count {count} and words \
                 {words}"
            )));
        }
        let cfg = CorpusConfig {
            seed,
            sentences: count,
            arithmetic_fraction: 0.0,
            neutral_fraction: 0.0,
            ..CorpusConfig::train()
        };
        let prompts = generate_lines(&cfg)?
            .into_iter()
            .filter(|l| matches!(l.kind, LineKind::Positive | LineKind::Negative))
            .map(|l| {
                let head: Vec<&str> = l.text.split_whitespace().take(words).collect();
                Prompt::new(head.join(" "))
            })
            .collect();
        Self::new(prompts)
    }

    /// Arithmetic prompts `a+b=` / `a-b=` with the answer as target, `count` of them, operands
    /// in `0..=max_operand` (the corpus's arithmetic lines for `seed`, split at `=`).
    pub fn arithmetic(seed: u64, count: usize, max_operand: u32) -> Result<Self> {
        if count == 0 {
            return Err(Error::invalid_argument(
                "arithmetic prompts need count > 0, got 0",
            ));
        }
        let cfg = CorpusConfig {
            seed,
            sentences: count,
            arithmetic_fraction: 1.0,
            neutral_fraction: 0.0,
            max_operand,
        };
        let lines = generate_lines(&cfg)?;
        let mut prompts = Vec::with_capacity(lines.len());
        for line in lines {
            let (lhs, answer) = line.text.split_once('=').ok_or_else(|| {
                Error::invalid_argument(format!(
                    "corpus arithmetic line without '=': {:?}",
                    line.text
                ))
            })?;
            prompts.push(Prompt::with_target(format!("{lhs}="), answer));
        }
        Self::new(prompts)
    }

    /// Number of prompts (at least 1).
    pub fn len(&self) -> usize {
        self.prompts.len()
    }

    /// Always `false`: a prompt set is never empty.
    pub fn is_empty(&self) -> bool {
        self.prompts.is_empty()
    }

    /// Prompt `i`, if there is one.
    pub fn get(&self, i: usize) -> Option<&Prompt> {
        self.prompts.get(i)
    }

    /// The prompts in order.
    pub fn iter(&self) -> std::slice::Iter<'_, Prompt> {
        self.prompts.iter()
    }

    /// A uniformly drawn prompt and its index.
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> (usize, &Prompt) {
        let i = rng.random_range(0..self.prompts.len());
        (i, &self.prompts[i])
    }
}

impl<'a> IntoIterator for &'a PromptSet {
    type Item = &'a Prompt;
    type IntoIter = std::slice::Iter<'a, Prompt>;
    fn into_iter(self) -> Self::IntoIter {
        self.prompts.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use tokengym::EnvRng;

    #[test]
    fn empty_sets_are_errors() {
        assert!(PromptSet::new(vec![]).is_err());
        assert!(PromptSet::from_texts(Vec::<String>::new()).is_err());
        let err = PromptSet::parse("\n  \n", "p.txt").unwrap_err().to_string();
        assert!(err.contains("p.txt") && err.contains("no prompts"), "{err}");
        assert!(PromptSet::sentiment(0, 0, 3).is_err());
        assert!(PromptSet::sentiment(0, 5, 0).is_err());
        assert!(PromptSet::arithmetic(0, 0, 9).is_err());
    }

    #[test]
    fn parse_lines_targets_and_errors() {
        let set = PromptSet::parse("a\r\n\nb\tB\nc\t\n", "x").unwrap();
        let got: Vec<_> = set.iter().cloned().collect();
        assert_eq!(
            got,
            vec![
                Prompt::new("a"),
                Prompt::with_target("b", "B"),
                Prompt::with_target("c", "")
            ]
        );
        let err = PromptSet::parse("ok\nx\ty\tz\n", "f.tsv")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("f.tsv, line 2") && err.contains("tab"),
            "{err}"
        );
        let err = PromptSet::parse("ok\n\ttarget\n", "f.tsv")
            .unwrap_err()
            .to_string();
        assert!(err.contains("line 2") && err.contains("empty"), "{err}");
    }

    #[test]
    fn sampling_is_seeded_and_uniform_enough() {
        let set = PromptSet::from_texts(["a", "b", "c", "d"]).unwrap();
        let draw = |seed| {
            let mut rng = EnvRng::seed_from_u64(seed);
            (0..50).map(|_| set.sample(&mut rng).0).collect::<Vec<_>>()
        };
        assert_eq!(draw(1), draw(1));
        assert_ne!(draw(1), draw(2));
        let mut seen = [0; 4];
        for i in draw(3) {
            seen[i] += 1;
        }
        assert!(seen.iter().all(|&n| n > 0), "{seen:?}");
    }

    #[test]
    fn corpus_prompts() {
        let s = PromptSet::sentiment(4, 50, 3).unwrap();
        assert_eq!(s.len(), 50);
        assert_eq!(s, PromptSet::sentiment(4, 50, 3).unwrap());
        for p in &s {
            assert_eq!(p.text.split_whitespace().count(), 3, "{}", p.text);
            assert!(p.target.is_none());
        }
        // A count that cannot fit in memory is an error, not an aborted process.
        let e = PromptSet::sentiment(4, usize::MAX / 2, 3).unwrap_err();
        assert!(e.to_string().contains("do not fit in memory"), "{e}");
        assert!(PromptSet::arithmetic(4, usize::MAX / 2, 20).is_err());
        let a = PromptSet::arithmetic(4, 30, 20).unwrap();
        assert_eq!(a.len(), 30);
        for p in &a {
            let answer = crate::text::ArithmeticReward::answer(&p.text).unwrap();
            assert_eq!(p.target.as_deref(), Some(answer.to_string().as_str()));
        }
    }
}
