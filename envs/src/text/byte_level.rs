//! [`ByteTokenizer`]: one token per UTF-8 byte, plus a few special tokens.

use super::tokenizer::{DEFAULT_SPECIALS, SpecialTokens, Tokenizer, id_out_of_range};
use tokengym::{Error, Result};

/// Number of byte tokens (ids `0..=255`).
const N_BYTES: usize = 256;

/// The simplest tokenizer: ids `0..=255` are the bytes of the UTF-8 text, ids from 256 on are
/// special tokens (by default `<bos>` = 256, `<eos>` = 257, `<pad>` = 258).
///
/// Any string round-trips exactly: `decode(encode(s)) == s`. Decoding ids whose bytes are not
/// valid UTF-8 (e.g. half of a multi-byte character) does not fail: each invalid sequence becomes
/// U+FFFD, as [`String::from_utf8_lossy`] does, so a language model's partial output can always
/// be shown.
///
/// Token spellings ([`Tokenizer::id_to_token`]): printable ASCII bytes (space to `~`) are the
/// character itself, other bytes `<0xHH>` (e.g. `<0x0A>` for a newline), specials their name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ByteTokenizer {
    specials: Vec<String>,
    roles: SpecialTokens,
}

impl Default for ByteTokenizer {
    fn default() -> Self {
        Self::new()
    }
}

impl ByteTokenizer {
    /// Bytes plus `<bos>`, `<eos>`, `<pad>` (ids 256, 257, 258).
    pub fn new() -> Self {
        let specials: Vec<String> = DEFAULT_SPECIALS.iter().map(|s| s.to_string()).collect();
        let roles = roles_of(&specials);
        ByteTokenizer { specials, roles }
    }

    /// Bytes plus the given special tokens, with ids from 256 in the given order. `<bos>`,
    /// `<eos>`, `<pad>` and `<unk>` take their role (see [`SpecialTokens::from_names`]); other
    /// names are specials without a role. Names must be non-empty, distinct, and differ from
    /// every byte's spelling.
    pub fn with_specials<S: AsRef<str>>(names: impl IntoIterator<Item = S>) -> Result<Self> {
        let specials: Vec<String> = names.into_iter().map(|s| s.as_ref().to_string()).collect();
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
            if byte_of_spelling(name).is_some() {
                return Err(Error::invalid_argument(format!(
                    "special token {name:?} is spelled like a byte token"
                )));
            }
        }
        if N_BYTES + specials.len() > u32::MAX as usize {
            return Err(Error::invalid_argument("too many special tokens"));
        }
        let roles = roles_of(&specials);
        Ok(ByteTokenizer { specials, roles })
    }

    /// The special tokens' names, in id order (the first has id 256).
    pub fn specials(&self) -> &[String] {
        &self.specials
    }
}

fn roles_of(specials: &[String]) -> SpecialTokens {
    SpecialTokens::from_names(
        specials
            .iter()
            .enumerate()
            .map(|(i, s)| ((N_BYTES + i) as u32, s.as_str())),
    )
}

/// The spelling of byte `b`: itself when printable ASCII, `<0xHH>` otherwise.
fn byte_spelling(b: u8) -> String {
    if (0x20..=0x7E).contains(&b) {
        char::from(b).to_string()
    } else {
        format!("<0x{b:02X}>")
    }
}

/// The byte spelled `s` (inverse of [`byte_spelling`]).
fn byte_of_spelling(s: &str) -> Option<u8> {
    match s.as_bytes() {
        [b] if (0x20..=0x7E).contains(b) => Some(*b),
        [b'<', b'0', b'x', h1, h2, b'>'] if h1.is_ascii_hexdigit() && h2.is_ascii_hexdigit() => {
            let b = u8::from_str_radix(s.get(3..5)?, 16).ok()?;
            // Only the canonical spelling: uppercase hex, and printable bytes as themselves.
            (byte_spelling(b) == s).then_some(b)
        }
        _ => None,
    }
}

impl Tokenizer for ByteTokenizer {
    fn vocab_size(&self) -> usize {
        N_BYTES + self.specials.len()
    }

    fn encode(&self, text: &str) -> Result<Vec<u32>> {
        Ok(text.bytes().map(u32::from).collect())
    }

    fn decode(&self, ids: &[u32]) -> Result<String> {
        let mut bytes = Vec::with_capacity(ids.len());
        for &id in ids {
            match u8::try_from(id) {
                Ok(b) => bytes.push(b),
                Err(_) if (id as usize) < self.vocab_size() => {} // a special: skipped
                Err(_) => return Err(id_out_of_range(id, self.vocab_size())),
            }
        }
        Ok(match String::from_utf8(bytes) {
            Ok(s) => s,
            Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
        })
    }

    fn special_tokens(&self) -> SpecialTokens {
        self.roles
    }

    fn token_to_id(&self, token: &str) -> Option<u32> {
        if let Some(b) = byte_of_spelling(token) {
            return Some(u32::from(b));
        }
        let i = self.specials.iter().position(|s| s == token)?;
        Some((N_BYTES + i) as u32)
    }

    fn id_to_token(&self, id: u32) -> Option<String> {
        match u8::try_from(id) {
            Ok(b) => Some(byte_spelling(b)),
            Err(_) => self.specials.get(id as usize - N_BYTES).cloned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_layout() {
        let t = ByteTokenizer::new();
        assert_eq!(t.vocab_size(), 259);
        assert_eq!(
            t.special_tokens(),
            SpecialTokens {
                bos: Some(256),
                eos: Some(257),
                pad: Some(258),
                unk: None
            }
        );
        assert_eq!(t.token_to_id("<eos>"), Some(257));
        assert_eq!(t.id_to_token(258).as_deref(), Some("<pad>"));
        assert_eq!(t.id_to_token(259), None);
    }

    #[test]
    fn spellings_round_trip_for_every_id() {
        let t = ByteTokenizer::new();
        for id in 0..t.vocab_size() as u32 {
            let s = t.id_to_token(id).unwrap();
            assert_eq!(t.token_to_id(&s), Some(id), "{s}");
        }
        assert_eq!(t.id_to_token(b'\n'.into()).as_deref(), Some("<0x0A>"));
        assert_eq!(t.token_to_id("<0x0a>"), None);
        assert_eq!(t.token_to_id("<0x41>"), None); // 'A' is spelled "A"
        assert_eq!(t.token_to_id("A"), Some(65));
    }

    #[test]
    fn decode_skips_specials_and_rejects_out_of_range() {
        let t = ByteTokenizer::new();
        assert_eq!(t.decode(&[256, 104, 105, 257, 258]).unwrap(), "hi");
        let err = t.decode(&[104, 259]).unwrap_err();
        assert!(err.to_string().contains("259"), "{err}");
    }

    #[test]
    fn invalid_utf8_decodes_lossily() {
        let t = ByteTokenizer::new();
        let ids = t.encode("é").unwrap(); // [0xC3, 0xA9]
        assert_eq!(t.decode(&ids[..1]).unwrap(), "\u{FFFD}");
        assert_eq!(t.decode(&[0xFF, 104]).unwrap(), "\u{FFFD}h");
    }

    #[test]
    fn specials_text_is_encoded_as_bytes() {
        let t = ByteTokenizer::new();
        assert_eq!(t.encode("<eos>").unwrap().len(), 5);
    }

    #[test]
    fn custom_specials_are_validated() {
        let t = ByteTokenizer::with_specials(["<eos>", "<sep>"]).unwrap();
        assert_eq!(t.vocab_size(), 258);
        assert_eq!(t.special_tokens().eos, Some(256));
        assert_eq!(t.special_tokens().pad, None);
        assert_eq!(t.decode(&[257, 97]).unwrap(), "a");
        assert!(ByteTokenizer::with_specials(["<a>", "<a>"]).is_err());
        assert!(ByteTokenizer::with_specials([""]).is_err());
        assert!(ByteTokenizer::with_specials(["x"]).is_err());
        assert!(ByteTokenizer::with_specials(["<0x0A>"]).is_err());
        let none = ByteTokenizer::with_specials(Vec::<String>::new()).unwrap();
        assert_eq!(none.vocab_size(), 256);
        assert!(none.encode_with_specials("a", true, false).is_err());
    }
}
