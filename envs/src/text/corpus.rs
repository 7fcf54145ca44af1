//! The project's own training corpus: a seeded generator, no downloads.
//!
//! One item per line, drawn from a small grammar:
//! - **sentiment** sentences, positive or negative with equal probability, each using sentiment
//!   words of one polarity only (`the movie was wonderful and the actors were great.`,
//!   `i hated the soup.`); the words come from [`POSITIVE_WORDS`] and [`NEGATIVE_WORDS`], which
//!   [`sentiment_of`] scores (the RL sentiment reward uses the same lexicon);
//! - **arithmetic** lines `a+b=c` or `a-b=c` with operands in `0..=max_operand` (subtraction never
//!   goes below zero: the larger operand comes first);
//! - **neutral** filler sentences without any sentiment word (`anna walked to the park in the
//!   morning.`).
//!
//! Everything is lower case ASCII. The output depends only on the configuration: the generator
//! draws from Xoshiro256++ seeded through SplitMix64 and maps draws to choices itself, so it does
//! not change with `rand` versions. The committed files `envs/data/corpus/train.txt` and
//! `valid.txt` are [`CorpusConfig::train`] and [`CorpusConfig::valid`].
//!
//! ```
//! use tokengym_envs::text::corpus::{generate, sentiment_of, CorpusConfig};
//! let cfg = CorpusConfig { sentences: 5, ..CorpusConfig::train() };
//! let text = generate(&cfg)?;
//! assert_eq!(text.lines().count(), 5);
//! assert_eq!(text, generate(&cfg)?); // deterministic
//! assert_eq!(sentiment_of("the food was awful and cold."), 0.0);
//! assert_eq!(sentiment_of("the movie was wonderful!"), 1.0);
//! assert_eq!(sentiment_of("12+7=19"), 0.5);
//! # Ok::<(), tokengym::Error>(())
//! ```

use super::write_atomic;
use rand::{Rng, SeedableRng};
use std::path::Path;
use tokengym::{Error, Result};

/// Seed of the committed training corpus.
pub const TRAIN_SEED: u64 = 1;
/// Seed of the committed validation corpus.
pub const VALID_SEED: u64 = 2;

/// Number of adjectives at the start of [`POSITIVE_WORDS`] and [`NEGATIVE_WORDS`] (the rest are
/// verbs in the past tense).
const N_ADJECTIVES: usize = 18;

/// Positive sentiment words: 18 adjectives, then 5 verbs.
pub const POSITIVE_WORDS: [&str; 23] = [
    "wonderful",
    "great",
    "good",
    "excellent",
    "amazing",
    "delightful",
    "lovely",
    "fantastic",
    "superb",
    "pleasant",
    "brilliant",
    "perfect",
    "beautiful",
    "friendly",
    "charming",
    "fresh",
    "tasty",
    "fun",
    "loved",
    "enjoyed",
    "liked",
    "adored",
    "admired",
];

/// Negative sentiment words: 18 adjectives, then 5 verbs.
pub const NEGATIVE_WORDS: [&str; 23] = [
    "awful",
    "terrible",
    "bad",
    "horrible",
    "boring",
    "dull",
    "cold",
    "rude",
    "disappointing",
    "poor",
    "ugly",
    "bland",
    "dirty",
    "slow",
    "stale",
    "noisy",
    "annoying",
    "weak",
    "hated",
    "disliked",
    "regretted",
    "despised",
    "loathed",
];

const SINGULAR: [&str; 20] = [
    "movie",
    "film",
    "food",
    "service",
    "hotel",
    "book",
    "show",
    "music",
    "pizza",
    "coffee",
    "game",
    "concert",
    "trip",
    "story",
    "ending",
    "plot",
    "soup",
    "album",
    "museum",
    "restaurant",
];
const PLURAL: [&str; 12] = [
    "actors",
    "waiters",
    "songs",
    "rooms",
    "seats",
    "fries",
    "pictures",
    "characters",
    "dishes",
    "lessons",
    "players",
    "drinks",
];
const INTENSIFIERS: [&str; 5] = ["really", "very", "so", "truly", "quite"];
const NAMES: [&str; 8] = ["anna", "tom", "maria", "sam", "lee", "nora", "ben", "iris"];
const PLACES: [&str; 10] = [
    "station", "park", "library", "market", "school", "office", "garden", "river", "bridge",
    "kitchen",
];
const TIMES: [&str; 3] = ["morning", "afternoon", "evening"];
const OBJECTS: [&str; 10] = [
    "book", "cup", "chair", "box", "apple", "key", "pen", "plate", "shoe", "lamp",
];
const OBJECTS_PLURAL: [&str; 10] = [
    "books", "cups", "chairs", "boxes", "apples", "keys", "pens", "plates", "shoes", "lamps",
];
const EVENTS: [&str; 8] = [
    "movie", "film", "show", "concert", "game", "lecture", "class", "match",
];
const SURFACES: [&str; 5] = ["table", "shelf", "desk", "floor", "bench"];
const COLORS: [&str; 8] = [
    "red", "blue", "green", "yellow", "white", "black", "brown", "gray",
];

/// What a corpus line is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LineKind {
    /// A sentence using only positive sentiment words.
    Positive,
    /// A sentence using only negative sentiment words.
    Negative,
    /// A filler sentence without sentiment words.
    Neutral,
    /// An arithmetic line `a+b=c` / `a-b=c`.
    Arithmetic,
}

/// One generated line and its kind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CorpusLine {
    /// What the line is.
    pub kind: LineKind,
    /// The line, without newline.
    pub text: String,
}

/// Settings of the corpus generator.
#[derive(Clone, Debug, PartialEq)]
pub struct CorpusConfig {
    /// Seed of the generator; the same configuration always gives the same text.
    pub seed: u64,
    /// Number of lines.
    pub sentences: usize,
    /// Probability that a line is arithmetic.
    pub arithmetic_fraction: f64,
    /// Probability that a line is neutral filler (the rest are sentiment sentences, half
    /// positive, half negative).
    pub neutral_fraction: f64,
    /// Largest arithmetic operand.
    pub max_operand: u32,
}

impl CorpusConfig {
    /// The committed training corpus: 20 000 lines, seed [`TRAIN_SEED`], a quarter arithmetic,
    /// 15% neutral, 60% sentiment, operands up to 99.
    pub fn train() -> Self {
        CorpusConfig {
            seed: TRAIN_SEED,
            sentences: 20_000,
            arithmetic_fraction: 0.25,
            neutral_fraction: 0.15,
            max_operand: 99,
        }
    }

    /// The committed validation corpus: as [`train`](CorpusConfig::train) with 1 000 lines and
    /// seed [`VALID_SEED`].
    pub fn valid() -> Self {
        CorpusConfig {
            seed: VALID_SEED,
            sentences: 1_000,
            ..Self::train()
        }
    }

    fn validate(&self) -> Result<()> {
        let ok = |p: f64| (0.0..=1.0).contains(&p);
        if !ok(self.arithmetic_fraction)
            || !ok(self.neutral_fraction)
            || self.arithmetic_fraction + self.neutral_fraction > 1.0
        {
            return Err(Error::invalid_argument(format!(
                "corpus fractions must lie in [0, 1] and sum to at most 1, got arithmetic {} and neutral {}",
                self.arithmetic_fraction, self.neutral_fraction
            )));
        }
        Ok(())
    }
}

/// The generator's draws: uniform choices from raw 64-bit outputs, independent of `rand`'s
/// sampling code.
///
/// The corpus keeps its own fixed generator, Xoshiro256++ seeded through SplitMix64 (what the
/// environments used before they switched to NumPy's PCG64), so the committed corpus files and
/// everything trained on them stay as they are.
struct Draw(rand::rngs::Xoshiro256PlusPlus);

impl Draw {
    /// Uniform in `0..n` (`n > 0`), by multiply-shift (bias at most `n / 2^64`).
    fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.0.next_u64()) * n as u128) >> 64) as usize
    }

    /// Uniform in `[0, 1)`, 53 bits.
    fn unit(&mut self) -> f64 {
        (self.0.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    fn pick<'a>(&mut self, words: &[&'a str]) -> &'a str {
        words[self.below(words.len())]
    }
}

/// The corpus lines of `cfg`, with their kinds.
pub fn generate_lines(cfg: &CorpusConfig) -> Result<Vec<CorpusLine>> {
    cfg.validate()?;
    let mut d = Draw(rand::rngs::Xoshiro256PlusPlus::seed_from_u64(cfg.seed));
    // The count comes from the user (`rl-lm --prompts`): too many is an error, not an abort.
    let mut lines = Vec::new();
    lines.try_reserve_exact(cfg.sentences).map_err(|_| {
        Error::invalid_argument(format!(
            "{} corpus lines do not fit in memory",
            cfg.sentences
        ))
    })?;
    for _ in 0..cfg.sentences {
        let u = d.unit();
        let line = if u < cfg.arithmetic_fraction {
            CorpusLine {
                kind: LineKind::Arithmetic,
                text: arithmetic(&mut d, cfg.max_operand),
            }
        } else if u < cfg.arithmetic_fraction + cfg.neutral_fraction {
            CorpusLine {
                kind: LineKind::Neutral,
                text: neutral(&mut d),
            }
        } else {
            let positive = d.below(2) == 0;
            CorpusLine {
                kind: if positive {
                    LineKind::Positive
                } else {
                    LineKind::Negative
                },
                text: sentiment(&mut d, positive),
            }
        };
        lines.push(line);
    }
    Ok(lines)
}

/// The corpus of `cfg` as text: one line each, every line ending in `\n`.
pub fn generate(cfg: &CorpusConfig) -> Result<String> {
    let lines = generate_lines(cfg)?;
    let mut out = String::with_capacity(lines.iter().map(|l| l.text.len() + 1).sum());
    for line in lines {
        out.push_str(&line.text);
        out.push('\n');
    }
    Ok(out)
}

/// Writes [`generate`]`(cfg)` to `path` atomically (a temporary file in the same directory,
/// then a rename); missing parent directories are created.
pub fn write_corpus(path: impl AsRef<Path>, cfg: &CorpusConfig) -> Result<()> {
    write_atomic(path.as_ref(), generate(cfg)?.as_bytes())
}

/// Lexicon sentiment of `text` in `[0, 1]`: the fraction of its sentiment words (from
/// [`POSITIVE_WORDS`] and [`NEGATIVE_WORDS`], matched as whole words, case-insensitively) that
/// are positive; 0.5 when it has none.
pub fn sentiment_of(text: &str) -> f32 {
    let (mut pos, mut neg) = (0u32, 0u32);
    for word in text.split(|c: char| !c.is_alphabetic()) {
        if word.is_empty() {
            continue;
        }
        // The lexicon is ASCII, so an ASCII case-insensitive comparison is exact (and allocates
        // nothing).
        let is = |w: &&str| w.eq_ignore_ascii_case(word);
        if POSITIVE_WORDS.iter().any(is) {
            pos += 1;
        } else if NEGATIVE_WORDS.iter().any(is) {
            neg += 1;
        }
    }
    if pos + neg == 0 {
        0.5
    } else {
        pos as f32 / (pos + neg) as f32
    }
}

fn arithmetic(d: &mut Draw, max_operand: u32) -> String {
    let n = max_operand as usize + 1;
    let a = d.below(n);
    let b = d.below(n);
    if d.below(2) == 0 {
        format!("{a}+{b}={}", a + b)
    } else {
        let (hi, lo) = (a.max(b), a.min(b));
        format!("{hi}-{lo}={}", hi - lo)
    }
}

fn sentiment(d: &mut Draw, positive: bool) -> String {
    let words = if positive {
        &POSITIVE_WORDS
    } else {
        &NEGATIVE_WORDS
    };
    let (adjectives, verbs) = words.split_at(N_ADJECTIVES);
    let adj = d.pick(adjectives);
    let verb = d.pick(verbs);
    let sing = d.pick(&SINGULAR);
    let plur = d.pick(&PLURAL);
    let int = d.pick(&INTENSIFIERS);
    match d.below(9) {
        0 => format!("the {sing} was {adj}."),
        1 => format!("the {sing} was {int} {adj}."),
        2 => {
            let adj2 = d.pick(adjectives);
            format!("the {sing} was {adj} and the {plur} were {adj2}.")
        }
        3 => {
            let adj2 = d.pick(adjectives);
            format!("the {plur} were {adj} and the {sing} was {adj2}.")
        }
        4 => format!("i {verb} the {sing}."),
        5 => format!("we {verb} the {plur} and the {sing} was {adj}."),
        6 => format!("what a {adj} {sing}!"),
        7 => {
            let adj2 = d.pick(adjectives);
            format!("the {sing} was {adj} and {adj2}.")
        }
        _ => {
            let name = d.pick(&NAMES);
            format!("{name} {verb} the {sing}, it was {int} {adj}.")
        }
    }
}

fn neutral(d: &mut Draw) -> String {
    let name = d.pick(&NAMES);
    let place = d.pick(&PLACES);
    match d.below(7) {
        0 => {
            let time = d.pick(&TIMES);
            format!("{name} walked to the {place} in the {time}.")
        }
        1 => {
            let (objs, surface) = (d.pick(&OBJECTS_PLURAL), d.pick(&SURFACES));
            let n = 2 + d.below(11);
            format!("there are {n} {objs} on the {surface}.")
        }
        2 => {
            let (color, obj, surface) = (d.pick(&COLORS), d.pick(&OBJECTS), d.pick(&SURFACES));
            format!("the {color} {obj} is on the {surface}.")
        }
        3 => {
            let hour = 1 + d.below(12);
            format!("the {} starts at {hour} o'clock.", d.pick(&EVENTS))
        }
        4 => {
            let other = d.pick(&NAMES);
            format!("{name} and {other} met at the {place}.")
        }
        5 => {
            let (hour, time) = (1 + d.below(12), d.pick(&TIMES));
            format!("the {place} opens at {hour} in the {time}.")
        }
        _ => {
            let (color, obj) = (d.pick(&COLORS), d.pick(&OBJECTS));
            format!("{name} has a {color} {obj}.")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn small(seed: u64) -> CorpusConfig {
        CorpusConfig {
            seed,
            sentences: 4_000,
            ..CorpusConfig::train()
        }
    }

    #[test]
    fn deterministic_per_seed_and_seed_sensitive() {
        assert_eq!(generate(&small(7)).unwrap(), generate(&small(7)).unwrap());
        assert_ne!(generate(&small(7)).unwrap(), generate(&small(8)).unwrap());
    }

    #[test]
    fn kinds_are_roughly_balanced_and_labelled_correctly() {
        let lines = generate_lines(&small(3)).unwrap();
        let mut counts: HashMap<LineKind, usize> = HashMap::new();
        for l in &lines {
            *counts.entry(l.kind).or_default() += 1;
            let s = sentiment_of(&l.text);
            match l.kind {
                LineKind::Positive => assert_eq!(s, 1.0, "{}", l.text),
                LineKind::Negative => assert_eq!(s, 0.0, "{}", l.text),
                LineKind::Neutral | LineKind::Arithmetic => assert_eq!(s, 0.5, "{}", l.text),
            }
            assert!(l.text.is_ascii() && !l.text.contains('\n'));
            assert_eq!(l.text, l.text.to_lowercase());
        }
        let frac = |k| counts.get(&k).copied().unwrap_or(0) as f64 / lines.len() as f64;
        assert!((frac(LineKind::Arithmetic) - 0.25).abs() < 0.03);
        assert!((frac(LineKind::Neutral) - 0.15).abs() < 0.03);
        assert!((frac(LineKind::Positive) - 0.30).abs() < 0.03);
        assert!((frac(LineKind::Negative) - 0.30).abs() < 0.03);
    }

    #[test]
    fn arithmetic_lines_are_correct_and_in_range() {
        let cfg = CorpusConfig {
            arithmetic_fraction: 1.0,
            neutral_fraction: 0.0,
            ..small(5)
        };
        let (mut plus, mut minus) = (0, 0);
        for l in generate_lines(&cfg).unwrap() {
            let (lhs, rhs) = l.text.split_once('=').unwrap();
            let c: i64 = rhs.parse().unwrap();
            let (a, b, value) = if let Some((a, b)) = lhs.split_once('+') {
                plus += 1;
                let (a, b): (i64, i64) = (a.parse().unwrap(), b.parse().unwrap());
                (a, b, a + b)
            } else {
                minus += 1;
                let (a, b) = lhs.split_once('-').unwrap();
                let (a, b): (i64, i64) = (a.parse().unwrap(), b.parse().unwrap());
                (a, b, a - b)
            };
            assert!((0..=99).contains(&a) && (0..=99).contains(&b), "{}", l.text);
            assert_eq!(c, value, "{}", l.text);
            assert!(c >= 0);
        }
        assert!(plus > 1_800 && minus > 1_800, "{plus} {minus}");
    }

    #[test]
    fn sentiment_scores() {
        assert_eq!(
            sentiment_of("The movie was WONDERFUL and the actors were great."),
            1.0
        );
        assert_eq!(sentiment_of("great but cold"), 0.5);
        assert_eq!(sentiment_of("good, good, bad"), 2.0 / 3.0);
        assert_eq!(sentiment_of(""), 0.5);
        assert_eq!(sentiment_of("goodness"), 0.5); // whole words only
    }

    #[test]
    fn lexicons_are_disjoint_and_verbs_come_last() {
        for w in POSITIVE_WORDS {
            assert!(!NEGATIVE_WORDS.contains(&w), "{w}");
        }
        for words in [POSITIVE_WORDS, NEGATIVE_WORDS] {
            assert!(words[N_ADJECTIVES..].iter().all(|w| w.ends_with("ed")));
        }
        for w in SINGULAR.iter().chain(&PLURAL).chain(&NAMES).chain(&PLACES) {
            assert_eq!(sentiment_of(w), 0.5, "{w}");
        }
    }

    #[test]
    fn bad_fractions_are_rejected() {
        for (a, n) in [(0.8, 0.3), (-0.1, 0.0), (f64::NAN, 0.0), (0.0, 1.5)] {
            let cfg = CorpusConfig {
                arithmetic_fraction: a,
                neutral_fraction: n,
                ..small(0)
            };
            assert!(generate(&cfg).is_err(), "{a} {n}");
        }
    }

    #[test]
    fn write_corpus_is_atomic_and_matches_generate() {
        let dir = std::env::temp_dir().join(format!("tokengym-corpus-{}", std::process::id()));
        let path = dir.join("sub").join("c.txt");
        let cfg = CorpusConfig {
            sentences: 50,
            ..small(9)
        };
        write_corpus(&path, &cfg).unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            generate(&cfg).unwrap()
        );
        assert!(!dir.join("sub").join("c.txt.tmp").exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
