//! [`CharTokenizer`]: one token per character of a fixed alphabet learnt from a corpus.

use super::tokenizer::{SpecialTokens, Tokenizer, id_out_of_range};
use super::{with_path, write_atomic};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use tokengym::{Error, Result};

/// Name of the unknown-character token, always part of a [`CharTokenizer`]'s vocabulary.
pub const UNK: &str = "<unk>";

/// The `format` field of a saved [`CharTokenizer`].
pub(crate) const FORMAT: &str = "tokengym-char-tokenizer";
/// The `version` field of a saved [`CharTokenizer`].
const VERSION: u32 = 1;

/// A character-level tokenizer: ids `0..n` are the distinct characters of a corpus in sorted
/// (code point) order, then the special tokens in the order given, then `<unk>` (unless it was
/// among the specials).
///
/// Characters outside the alphabet encode to `<unk>`, which decodes to U+FFFD; text made of the
/// alphabet's characters round-trips exactly. Saved as JSON ([`save`](CharTokenizer::save)) and
/// validated when loaded.
///
/// ```
/// use tokengym_envs::text::{CharTokenizer, Tokenizer};
/// let tok = CharTokenizer::from_corpus("abba cab", &["<bos>", "<eos>", "<pad>"])?;
/// assert_eq!(tok.vocab_size(), 4 + 3 + 1); // ' ', a, b, c; specials; <unk>
/// assert_eq!(tok.encode("cab")?, vec![3, 1, 2]);
/// assert_eq!(tok.decode(&tok.encode("x a")?)?, "\u{FFFD} a");
/// # Ok::<(), tokengym::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "CharTokenizerFile", into = "CharTokenizerFile")]
pub struct CharTokenizer {
    chars: Vec<char>,
    specials: Vec<String>,
    index: HashMap<char, u32>,
    roles: SpecialTokens,
    unk: u32,
}

/// The JSON form of a [`CharTokenizer`].
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct CharTokenizerFile {
    format: String,
    version: u32,
    chars: Vec<char>,
    specials: Vec<String>,
}

impl TryFrom<CharTokenizerFile> for CharTokenizer {
    type Error = Error;
    fn try_from(f: CharTokenizerFile) -> Result<Self> {
        if f.format != FORMAT || f.version != VERSION {
            return Err(Error::invalid_argument(format!(
                "not a character tokenizer file: format {:?} version {} (expected {FORMAT:?} version {VERSION})",
                f.format, f.version
            )));
        }
        CharTokenizer::from_parts(f.chars, f.specials)
    }
}

impl From<CharTokenizer> for CharTokenizerFile {
    fn from(t: CharTokenizer) -> Self {
        CharTokenizerFile {
            format: FORMAT.to_string(),
            version: VERSION,
            chars: t.chars,
            specials: t.specials,
        }
    }
}

impl CharTokenizer {
    /// The alphabet of `corpus` plus `specials` (ids after the characters, in the given order)
    /// plus `<unk>` (last, unless listed in `specials`). `<bos>`, `<eos>`, `<pad>`, `<unk>` take
    /// their role (see [`SpecialTokens::from_names`]).
    pub fn from_corpus(corpus: &str, specials: &[&str]) -> Result<Self> {
        let chars: Vec<char> = corpus
            .chars()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let mut specials: Vec<String> = specials.iter().map(|s| s.to_string()).collect();
        if !specials.iter().any(|s| s == UNK) {
            specials.push(UNK.to_string());
        }
        Self::from_parts(chars, specials)
    }

    /// Builds and validates: `chars` strictly increasing, specials non-empty, distinct, holding
    /// `<unk>`, and none spelled like one of the characters.
    fn from_parts(chars: Vec<char>, specials: Vec<String>) -> Result<Self> {
        if let Some(w) = chars.windows(2).find(|w| w[0] >= w[1]) {
            return Err(Error::invalid_argument(format!(
                "character vocabulary must be sorted and distinct, found {:?} before {:?}",
                w[0], w[1]
            )));
        }
        for (i, name) in specials.iter().enumerate() {
            if name.is_empty() {
                return Err(Error::invalid_argument(
                    "special token names must not be empty",
                ));
            }
            if specials[..i].contains(name) {
                return Err(Error::invalid_argument(format!(
                    "special token {name:?} is listed twice"
                )));
            }
            let mut cs = name.chars();
            if let (Some(c), None) = (cs.next(), cs.next())
                && chars.binary_search(&c).is_ok()
            {
                return Err(Error::invalid_argument(format!(
                    "special token {name:?} is spelled like a character of the vocabulary"
                )));
            }
        }
        if chars.len() + specials.len() > u32::MAX as usize {
            return Err(Error::invalid_argument("vocabulary too large for u32 ids"));
        }
        let index = chars
            .iter()
            .enumerate()
            .map(|(i, &c)| (c, i as u32))
            .collect();
        let base = chars.len();
        let roles = SpecialTokens::from_names(
            specials
                .iter()
                .enumerate()
                .map(|(i, s)| ((base + i) as u32, s.as_str())),
        );
        let unk_pos = specials.iter().position(|s| s == UNK).ok_or_else(|| {
            Error::invalid_argument(format!(
                "a character tokenizer needs the {UNK} special token"
            ))
        })?;
        let unk = (base + unk_pos) as u32;
        Ok(CharTokenizer {
            chars,
            specials,
            index,
            roles,
            unk,
        })
    }

    /// The alphabet, in id order.
    pub fn chars(&self) -> &[char] {
        &self.chars
    }

    /// The special tokens' names, in id order (the first has id `chars().len()`).
    pub fn specials(&self) -> &[String] {
        &self.specials
    }

    /// The id of `<unk>`.
    pub fn unk_id(&self) -> u32 {
        self.unk
    }

    /// True when every character of `text` is in the alphabet (so it round-trips exactly).
    pub fn covers(&self, text: &str) -> bool {
        text.chars().all(|c| self.index.contains_key(&c))
    }

    /// The tokenizer as JSON.
    pub fn to_json(&self) -> Result<String> {
        serde_json::to_string_pretty(self)
            .map_err(|e| Error::invalid_argument(format!("cannot serialize tokenizer: {e}")))
    }

    /// A tokenizer from its JSON form, validated.
    pub fn from_json(json: &str) -> Result<Self> {
        serde_json::from_str(json)
            .map_err(|e| Error::invalid_argument(format!("invalid character tokenizer JSON: {e}")))
    }

    /// Writes the tokenizer as JSON to `path` (atomically: a temporary file, then a rename).
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        write_atomic(path.as_ref(), self.to_json()?.as_bytes())
    }

    /// Reads a tokenizer written by [`save`](CharTokenizer::save).
    pub fn load(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let json = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        Self::from_json(&json).map_err(|e| with_path(path, e))
    }
}

impl Tokenizer for CharTokenizer {
    fn vocab_size(&self) -> usize {
        self.chars.len() + self.specials.len()
    }

    fn encode(&self, text: &str) -> Result<Vec<u32>> {
        let unk = self.unk_id();
        Ok(text
            .chars()
            .map(|c| self.index.get(&c).copied().unwrap_or(unk))
            .collect())
    }

    /// Characters as themselves, `<unk>` as U+FFFD, other specials skipped.
    fn decode(&self, ids: &[u32]) -> Result<String> {
        let unk = self.unk_id();
        let mut out = String::with_capacity(ids.len());
        for &id in ids {
            if let Some(&c) = self.chars.get(id as usize) {
                out.push(c);
            } else if id == unk {
                out.push(char::REPLACEMENT_CHARACTER);
            } else if id as usize >= self.vocab_size() {
                return Err(id_out_of_range(id, self.vocab_size()));
            }
        }
        Ok(out)
    }

    fn special_tokens(&self) -> SpecialTokens {
        self.roles
    }

    fn token_to_id(&self, token: &str) -> Option<u32> {
        let mut cs = token.chars();
        if let (Some(c), None) = (cs.next(), cs.next())
            && let Some(&id) = self.index.get(&c)
        {
            return Some(id);
        }
        let i = self.specials.iter().position(|s| s == token)?;
        Some((self.chars.len() + i) as u32)
    }

    fn id_to_token(&self, id: u32) -> Option<String> {
        let id = id as usize;
        match self.chars.get(id) {
            Some(c) => Some(c.to_string()),
            None => self.specials.get(id - self.chars.len()).cloned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tok() -> CharTokenizer {
        CharTokenizer::from_corpus("hello world", &["<bos>", "<eos>", "<pad>"]).unwrap()
    }

    #[test]
    fn layout_is_sorted_chars_then_specials_then_unk() {
        let t = tok();
        assert_eq!(t.chars(), &[' ', 'd', 'e', 'h', 'l', 'o', 'r', 'w']);
        assert_eq!(t.vocab_size(), 8 + 4);
        assert_eq!(
            t.special_tokens(),
            SpecialTokens {
                bos: Some(8),
                eos: Some(9),
                pad: Some(10),
                unk: Some(11)
            }
        );
        assert_eq!(t.unk_id(), 11);
        for id in 0..t.vocab_size() as u32 {
            assert_eq!(t.token_to_id(&t.id_to_token(id).unwrap()), Some(id));
        }
        assert_eq!(t.id_to_token(12), None);
    }

    #[test]
    fn unk_listed_explicitly_keeps_its_place() {
        let t = CharTokenizer::from_corpus("ab", &["<unk>", "<pad>"]).unwrap();
        assert_eq!(t.unk_id(), 2);
        assert_eq!(t.special_tokens().pad, Some(3));
        assert_eq!(t.vocab_size(), 4);
    }

    #[test]
    fn unseen_chars_map_to_unk_and_specials_are_skipped() {
        let t = tok();
        let ids = t.encode("hello, world").unwrap();
        assert_eq!(ids[5], t.unk_id());
        assert_eq!(t.decode(&ids).unwrap(), "hello\u{FFFD} world");
        assert_eq!(t.decode(&[8, 3, 2, 9, 10]).unwrap(), "he");
        assert!(t.decode(&[12]).is_err());
        assert!(t.covers("low"));
        assert!(!t.covers("low!"));
    }

    #[test]
    fn json_round_trip_and_validation() {
        let t = tok();
        let json = t.to_json().unwrap();
        assert_eq!(CharTokenizer::from_json(&json).unwrap(), t);
        let bad = [
            r#"{"format":"tokengym-char-tokenizer","version":1,"chars":["b","a"],"specials":["<unk>"]}"#,
            r#"{"format":"tokengym-char-tokenizer","version":1,"chars":["a","a"],"specials":["<unk>"]}"#,
            r#"{"format":"tokengym-char-tokenizer","version":1,"chars":["a"],"specials":["<pad>"]}"#,
            r#"{"format":"tokengym-char-tokenizer","version":1,"chars":["a"],"specials":["<unk>","a"]}"#,
            r#"{"format":"tokengym-char-tokenizer","version":1,"chars":["a"],"specials":["<unk>","<unk>"]}"#,
            r#"{"format":"tokengym-char-tokenizer","version":1,"chars":["a"],"specials":["<unk>",""]}"#,
            r#"{"format":"tokengym-char-tokenizer","version":2,"chars":["a"],"specials":["<unk>"]}"#,
            r#"{"format":"other","version":1,"chars":["a"],"specials":["<unk>"]}"#,
            r#"{"format":"tokengym-char-tokenizer","version":1,"chars":["ab"],"specials":["<unk>"]}"#,
            r#"{"format":"tokengym-char-tokenizer","version":1,"chars":["a"],"specials":["<unk>"],"x":1}"#,
        ];
        for b in bad {
            assert!(CharTokenizer::from_json(b).is_err(), "{b}");
        }
    }

    #[test]
    fn special_spelled_like_a_char_is_rejected() {
        assert!(CharTokenizer::from_corpus("abc", &["a"]).is_err());
        assert!(CharTokenizer::from_corpus("abc", &["<a>", "<a>"]).is_err());
        // A one-character special outside the alphabet is fine.
        assert!(CharTokenizer::from_corpus("abc", &["#"]).is_ok());
    }

    #[test]
    fn save_and_load() {
        let dir = std::env::temp_dir().join(format!("tokengym-char-{}", std::process::id()));
        let path = dir.join("tok.json");
        let t = tok();
        t.save(&path).unwrap();
        assert_eq!(CharTokenizer::load(&path).unwrap(), t);
        std::fs::write(&path, "{").unwrap();
        let err = CharTokenizer::load(&path).unwrap_err();
        assert!(err.to_string().contains("tok.json"), "{err}");
        assert!(CharTokenizer::load(dir.join("missing.json")).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn empty_corpus_has_only_specials() {
        let t = CharTokenizer::from_corpus("", &[]).unwrap();
        assert_eq!(t.vocab_size(), 1);
        assert_eq!(t.encode("a").unwrap(), vec![0]);
        assert_eq!(t.decode(&[0]).unwrap(), "\u{FFFD}");
    }
}
