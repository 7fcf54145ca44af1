//! The [`Tokenizer`] trait: text to token ids and back, plus batching with padding and masks.

use tokengym::space::TokenSeq;
use tokengym::{Error, Result};

/// The special tokens most tokenizers define: `<bos>`, `<eos>`, `<pad>` (in that order).
pub const DEFAULT_SPECIALS: [&str; 3] = ["<bos>", "<eos>", "<pad>"];

/// The ids of a tokenizer's special tokens; `None` when the tokenizer has no such token.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SpecialTokens {
    /// Beginning of sequence.
    pub bos: Option<u32>,
    /// End of sequence (a language model stops generating after it).
    pub eos: Option<u32>,
    /// Padding (never attended to; see [`Batch::attention_mask`]).
    pub pad: Option<u32>,
    /// Stands for text the vocabulary cannot represent.
    pub unk: Option<u32>,
}

impl SpecialTokens {
    /// Roles assigned from token names: `<bos>`, `<eos>`, `<pad>` and `<unk>` take the role of
    /// their name; other names have no role. `tokens` yields `(id, name)`; the first token of a
    /// role wins.
    pub fn from_names<'a>(tokens: impl IntoIterator<Item = (u32, &'a str)>) -> SpecialTokens {
        let mut s = SpecialTokens::default();
        for (id, name) in tokens {
            let slot = match name {
                "<bos>" => &mut s.bos,
                "<eos>" => &mut s.eos,
                "<pad>" => &mut s.pad,
                "<unk>" => &mut s.unk,
                _ => continue,
            };
            slot.get_or_insert(id);
        }
        s
    }

    /// The ids that are set, in the order bos, eos, pad, unk (duplicates kept).
    pub fn ids(&self) -> impl Iterator<Item = u32> + '_ {
        [self.bos, self.eos, self.pad, self.unk]
            .into_iter()
            .flatten()
    }
}

/// Which side of a row the padding goes on in [`Tokenizer::encode_batch`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Padding {
    /// Pads first, tokens last: every row's last real token sits in the last column, which is
    /// what batched autoregressive decoding needs (the next token of every row is appended in the
    /// same column). The default.
    #[default]
    Left,
    /// Tokens first, pads last: the layout for teacher-forced training.
    Right,
}

/// Options of [`Tokenizer::encode_batch`]. The default adds no specials, pads on the left to the
/// longest row and never truncates.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BatchOptions {
    /// Prepend the `bos` token to every row (an error if the tokenizer has none).
    pub add_bos: bool,
    /// Append the `eos` token to every row (an error if the tokenizer has none).
    pub add_eos: bool,
    /// Side the pads go on.
    pub padding: Padding,
    /// Longest allowed row (specials included).
    pub max_len: Option<usize>,
    /// When a row is longer than `max_len`: `true` keeps its first `max_len` tokens (so an added
    /// `eos` may be cut), `false` returns an error.
    pub truncation: bool,
    /// Pad every row to `max_len` instead of to the longest row (fixed-shape batches); needs
    /// `max_len`.
    pub pad_to_max_len: bool,
}

/// A padded batch of token rows: `ids`, `attention_mask` are `rows x width`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Batch {
    /// Token ids, all rows the same length; pads hold the tokenizer's pad id.
    pub ids: Vec<Vec<u32>>,
    /// `1` on real tokens, `0` on pads.
    pub attention_mask: Vec<Vec<u8>>,
    /// Number of real tokens of each row (the sum of its mask).
    pub lengths: Vec<usize>,
    /// Side the pads are on.
    pub padding: Padding,
}

impl Batch {
    /// Pads (and, if asked, truncates) already tokenized rows following `opts` (`add_bos` and
    /// `add_eos` are ignored here: the rows are taken as they are). `pad_id` is only needed when a
    /// row is shorter than the batch width.
    pub fn from_sequences(
        mut rows: Vec<Vec<u32>>,
        pad_id: Option<u32>,
        opts: &BatchOptions,
    ) -> Result<Batch> {
        if opts.pad_to_max_len && opts.max_len.is_none() {
            return Err(Error::invalid_argument(
                "BatchOptions::pad_to_max_len needs max_len to be set",
            ));
        }
        if let Some(max_len) = opts.max_len {
            for (i, row) in rows.iter_mut().enumerate() {
                if row.len() > max_len {
                    if !opts.truncation {
                        return Err(Error::invalid_argument(format!(
                            "row {i} has {} tokens, more than max_len = {max_len}, and truncation is off",
                            row.len()
                        )));
                    }
                    row.truncate(max_len);
                }
            }
        }
        let longest = rows.iter().map(Vec::len).max().unwrap_or(0);
        let width = match (opts.pad_to_max_len, opts.max_len) {
            (true, Some(max_len)) => max_len,
            _ => longest,
        };
        let lengths: Vec<usize> = rows.iter().map(Vec::len).collect();
        let needs_pad = lengths.iter().any(|&l| l < width);
        let pad = match (needs_pad, pad_id) {
            (false, _) => 0,
            (true, Some(p)) => p,
            (true, None) => {
                return Err(Error::invalid_argument(
                    "the batch needs padding but the tokenizer has no pad token",
                ));
            }
        };
        let mut ids = Vec::with_capacity(rows.len());
        let mut attention_mask = Vec::with_capacity(rows.len());
        for row in rows {
            let n_pad = width - row.len();
            let mut padded = Vec::with_capacity(width);
            let mut mask = Vec::with_capacity(width);
            if opts.padding == Padding::Left {
                padded.resize(n_pad, pad);
                mask.resize(n_pad, 0);
            }
            mask.resize(mask.len() + row.len(), 1);
            padded.extend(row);
            if opts.padding == Padding::Right {
                padded.resize(width, pad);
                mask.resize(width, 0);
            }
            ids.push(padded);
            attention_mask.push(mask);
        }
        Ok(Batch {
            ids,
            attention_mask,
            lengths,
            padding: opts.padding,
        })
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// True when the batch has no rows.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Length of every row (0 for an empty batch).
    pub fn width(&self) -> usize {
        self.ids.first().map_or(0, Vec::len)
    }

    /// The real tokens of row `i` (pads removed), or `None` past the last row.
    pub fn row_tokens(&self, i: usize) -> Option<&[u32]> {
        let row = self.ids.get(i)?;
        let n = self.lengths.get(i).copied()?.min(row.len());
        Some(match self.padding {
            Padding::Left => &row[row.len() - n..],
            Padding::Right => &row[..n],
        })
    }
}

/// Turns text into token ids and back.
///
/// Conventions shared by every implementation:
/// - ids are dense: every id in `0..vocab_size()` is a token.
/// - [`encode`](Tokenizer::encode) adds no special tokens, and text that happens to spell a special
///   token's name is encoded as ordinary text (except in [`HfTokenizer`](super::HfTokenizer), which
///   follows its `tokenizer.json` and recognises added tokens in the text as Python does).
/// - [`encode_prompt`](Tokenizer::encode_prompt) is how a prompt for a language model is
///   encoded: by default the bos token (if the tokenizer has one) then `encode(text)`, the
///   convention the project's own checkpoints are trained with; a Hugging Face model folder's
///   tokenizer adds what transformers adds (see [`HfTokenizer`](super::HfTokenizer)).
/// - [`stop_ids`](Tokenizer::stop_ids) are the ids that end generation: by default the eos
///   token; a model folder may name several. It allocates: read it once, not per step.
/// - [`decode`](Tokenizer::decode) skips the special tokens (bos, eos, pad and any other special),
///   so `decode(encode_with_specials(t, true, true)) == decode(encode(t))`; an unknown-token id is
///   rendered by the implementation (see each one). An id `>= vocab_size()` is an error.
/// - For batched decoding, encode prompts with [`Padding::Left`] so that every row's next token
///   goes in the same column; train with either side, masking the pads.
///
/// ```
/// use tokengym_envs::text::{BatchOptions, ByteTokenizer, Padding, Tokenizer};
///
/// let tok = ByteTokenizer::new(); // ids 0..=255 are bytes, then <bos>, <eos>, <pad>
/// let ids = tok.encode("hé")?;
/// assert_eq!(ids, vec![104, 0xC3, 0xA9]);
/// assert_eq!(tok.decode(&ids)?, "hé");
///
/// let opts = BatchOptions { add_bos: true, padding: Padding::Left, ..Default::default() };
/// let batch = tok.encode_batch(&["hi", "a"], &opts)?;
/// let (bos, pad) = (256, 258);
/// assert_eq!(batch.ids, vec![vec![bos, 104, 105], vec![pad, bos, 97]]);
/// assert_eq!(batch.attention_mask, vec![vec![1, 1, 1], vec![0, 1, 1]]);
/// assert_eq!(batch.lengths, vec![3, 2]);
///
/// // Trait objects work too.
/// let dyn_tok: Box<dyn Tokenizer> = Box::new(tok);
/// assert_eq!(dyn_tok.vocab_size(), 259);
/// # Ok::<(), tokengym::Error>(())
/// ```
pub trait Tokenizer: Send + Sync {
    /// Number of ids (specials included); every id in `0..vocab_size()` is a token.
    fn vocab_size(&self) -> usize;

    /// The ids of `text`, without any special token.
    fn encode(&self, text: &str) -> Result<Vec<u32>>;

    /// The text of `ids`, special tokens skipped; an error if an id is `>= vocab_size()`.
    fn decode(&self, ids: &[u32]) -> Result<String>;

    /// The ids of the special tokens.
    fn special_tokens(&self) -> SpecialTokens;

    /// The id of the token spelled `token` (a special's name, or a vocabulary entry as
    /// [`id_to_token`](Tokenizer::id_to_token) spells it).
    fn token_to_id(&self, token: &str) -> Option<u32>;

    /// The spelling of token `id`, or `None` if `id >= vocab_size()`.
    fn id_to_token(&self, id: u32) -> Option<String>;

    /// [`encode`](Tokenizer::encode), with `bos` prepended and/or `eos` appended; an error if a
    /// requested special token does not exist.
    fn encode_with_specials(&self, text: &str, add_bos: bool, add_eos: bool) -> Result<Vec<u32>> {
        let specials = self.special_tokens();
        let bos = if add_bos {
            Some(specials.bos.ok_or_else(|| missing("bos", "add_bos"))?)
        } else {
            None
        };
        let eos = if add_eos {
            Some(specials.eos.ok_or_else(|| missing("eos", "add_eos"))?)
        } else {
            None
        };
        let body = self.encode(text)?;
        let mut ids = Vec::with_capacity(body.len() + 2);
        ids.extend(bos);
        ids.extend(body);
        ids.extend(eos);
        Ok(ids)
    }

    /// The ids of `text` as a prompt for a language model, special tokens included.
    ///
    /// The default is the project's convention: the bos token if the tokenizer has one, then
    /// [`encode`](Tokenizer::encode) (the same as `encode_with_specials(text, bos.is_some(),
    /// false)`). [`HfTokenizer::from_model_dir`](super::HfTokenizer::from_model_dir) tokenizers
    /// instead add what transformers' `tokenizer(text)` adds.
    fn encode_prompt(&self, text: &str) -> Result<Vec<u32>> {
        self.encode_with_specials(text, self.special_tokens().bos.is_some(), false)
    }

    /// The ids that end generation, without duplicates. The default is the eos token (none if
    /// the tokenizer has no eos); a model folder's `generation_config.json` may name several.
    fn stop_ids(&self) -> Vec<u32> {
        self.special_tokens().eos.into_iter().collect()
    }

    /// The chat template that turns messages into a prompt, if the tokenizer has one (a Hugging
    /// Face model folder's; none by default). Render with
    /// [`ChatTemplate::render`](super::ChatTemplate::render) and encode the text with
    /// [`encode`](Tokenizer::encode): the template writes the special tokens itself.
    fn chat_template(&self) -> Option<&super::ChatTemplate> {
        None
    }

    /// Encodes every text (with the specials `opts` asks for) into one padded [`Batch`].
    ///
    /// Rows are padded to the longest row (or to `max_len` with `pad_to_max_len`) on the side
    /// `opts.padding` names; padding needs a pad token. A row longer than `max_len` is truncated
    /// when `opts.truncation` is on and is an error otherwise.
    fn encode_batch(&self, texts: &[&str], opts: &BatchOptions) -> Result<Batch> {
        let rows = texts
            .iter()
            .map(|t| self.encode_with_specials(t, opts.add_bos, opts.add_eos))
            .collect::<Result<Vec<_>>>()?;
        Batch::from_sequences(rows, self.special_tokens().pad, opts)
    }

    /// The observation space of sequences of this tokenizer's ids, at most `max_len` long.
    fn token_space(&self, max_len: usize) -> Result<TokenSeq> {
        let vocab = u32::try_from(self.vocab_size()).map_err(|_| {
            Error::invalid_argument(format!(
                "vocabulary of {} tokens does not fit u32 ids",
                self.vocab_size()
            ))
        })?;
        TokenSeq::new(vocab, max_len)
    }
}

/// The characters of `text` that `tok` cannot represent: those a tokenizer with an `<unk>`
/// token encodes to `<unk>` alone (each listed once, in order of appearance). Empty for
/// tokenizers without `<unk>` (byte-level ones represent everything). Binaries use it to refuse
/// text that would silently lose characters.
///
/// ```
/// use tokengym_envs::text::{CharTokenizer, DEFAULT_SPECIALS, unknown_chars};
/// let tok = CharTokenizer::from_corpus("the movie", &DEFAULT_SPECIALS)?;
/// assert_eq!(unknown_chars(&tok, "the mouse!")?, vec!['u', 's', '!']);
/// assert!(unknown_chars(&tok, "movie")?.is_empty());
/// # Ok::<(), tokengym::Error>(())
/// ```
pub fn unknown_chars<T: Tokenizer + ?Sized>(tok: &T, text: &str) -> Result<Vec<char>> {
    let Some(unk) = tok.special_tokens().unk else {
        return Ok(Vec::new());
    };
    let mut unknown: Vec<char> = Vec::new();
    let mut buf = [0u8; 4];
    for c in text.chars() {
        if !unknown.contains(&c) && tok.encode(c.encode_utf8(&mut buf))? == [unk] {
            unknown.push(c);
        }
    }
    Ok(unknown)
}

/// Forwards every method, so `Box<dyn Tokenizer>` and `Arc<dyn Tokenizer>` work where a
/// `T: Tokenizer` is expected.
macro_rules! forward_tokenizer {
    ($ptr:ident) => {
        impl<T: Tokenizer + ?Sized> Tokenizer for $ptr<T> {
            fn vocab_size(&self) -> usize {
                (**self).vocab_size()
            }
            fn encode(&self, text: &str) -> Result<Vec<u32>> {
                (**self).encode(text)
            }
            fn decode(&self, ids: &[u32]) -> Result<String> {
                (**self).decode(ids)
            }
            fn special_tokens(&self) -> SpecialTokens {
                (**self).special_tokens()
            }
            fn token_to_id(&self, token: &str) -> Option<u32> {
                (**self).token_to_id(token)
            }
            fn id_to_token(&self, id: u32) -> Option<String> {
                (**self).id_to_token(id)
            }
            fn encode_with_specials(
                &self,
                text: &str,
                add_bos: bool,
                add_eos: bool,
            ) -> Result<Vec<u32>> {
                (**self).encode_with_specials(text, add_bos, add_eos)
            }
            fn encode_prompt(&self, text: &str) -> Result<Vec<u32>> {
                (**self).encode_prompt(text)
            }
            fn stop_ids(&self) -> Vec<u32> {
                (**self).stop_ids()
            }
            fn chat_template(&self) -> Option<&super::ChatTemplate> {
                (**self).chat_template()
            }
            fn encode_batch(&self, texts: &[&str], opts: &BatchOptions) -> Result<Batch> {
                (**self).encode_batch(texts, opts)
            }
        }
    };
}
use std::sync::Arc;
forward_tokenizer!(Box);
forward_tokenizer!(Arc);

fn missing(role: &str, option: &str) -> Error {
    Error::invalid_argument(format!(
        "{option} was asked for but the tokenizer has no {role} token"
    ))
}

/// The error for an id outside the vocabulary.
pub(crate) fn id_out_of_range(id: u32, vocab_size: usize) -> Error {
    Error::invalid_argument(format!(
        "token id {id} is out of range for a vocabulary of {vocab_size} tokens"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(padding: Padding) -> BatchOptions {
        BatchOptions {
            padding,
            ..Default::default()
        }
    }

    #[test]
    fn from_names_assigns_roles_first_wins() {
        let s = SpecialTokens::from_names([(3, "<eos>"), (4, "<sep>"), (5, "<bos>"), (6, "<eos>")]);
        assert_eq!(
            s,
            SpecialTokens {
                bos: Some(5),
                eos: Some(3),
                pad: None,
                unk: None
            }
        );
        assert_eq!(s.ids().collect::<Vec<_>>(), vec![5, 3]);
    }

    #[test]
    fn left_and_right_padding() {
        let rows = vec![vec![1, 2, 3], vec![4]];
        let left = Batch::from_sequences(rows.clone(), Some(0), &opts(Padding::Left)).unwrap();
        assert_eq!(left.ids, vec![vec![1, 2, 3], vec![0, 0, 4]]);
        assert_eq!(left.attention_mask, vec![vec![1, 1, 1], vec![0, 0, 1]]);
        assert_eq!(left.row_tokens(1), Some(&[4][..]));
        let right = Batch::from_sequences(rows, Some(9), &opts(Padding::Right)).unwrap();
        assert_eq!(right.ids, vec![vec![1, 2, 3], vec![4, 9, 9]]);
        assert_eq!(right.attention_mask, vec![vec![1, 1, 1], vec![1, 0, 0]]);
        assert_eq!(right.lengths, vec![3, 1]);
        assert_eq!(right.row_tokens(1), Some(&[4][..]));
        assert_eq!(right.row_tokens(2), None);
        assert_eq!((right.len(), right.width()), (2, 3));
    }

    #[test]
    fn padding_without_pad_id_is_an_error_only_when_needed() {
        let err = Batch::from_sequences(vec![vec![1, 2], vec![3]], None, &opts(Padding::Left))
            .unwrap_err();
        assert!(err.to_string().contains("no pad token"), "{err}");
        let same = Batch::from_sequences(vec![vec![1], vec![3]], None, &opts(Padding::Left));
        assert_eq!(same.unwrap().ids, vec![vec![1], vec![3]]);
    }

    #[test]
    fn truncation_and_max_len() {
        let long = vec![vec![1, 2, 3, 4], vec![5]];
        let mut o = BatchOptions {
            max_len: Some(2),
            ..Default::default()
        };
        let err = Batch::from_sequences(long.clone(), Some(0), &o).unwrap_err();
        assert!(err.to_string().contains("truncation is off"), "{err}");
        o.truncation = true;
        let b = Batch::from_sequences(long.clone(), Some(0), &o).unwrap();
        assert_eq!(b.ids, vec![vec![1, 2], vec![0, 5]]);
        assert_eq!(b.lengths, vec![2, 1]);
        o.max_len = Some(6);
        o.pad_to_max_len = true;
        let b = Batch::from_sequences(long, Some(0), &o).unwrap();
        assert_eq!(b.width(), 6);
        assert_eq!(b.ids[1], vec![0, 0, 0, 0, 0, 5]);
        o.max_len = None;
        assert!(Batch::from_sequences(vec![], Some(0), &o).is_err());
    }

    #[test]
    fn empty_batch() {
        let b = Batch::from_sequences(vec![], None, &BatchOptions::default()).unwrap();
        assert!(b.is_empty());
        assert_eq!(b.width(), 0);
    }
}
