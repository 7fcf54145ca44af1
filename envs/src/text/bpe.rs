//! [`HfTokenizer`]: a Hugging Face `tokenizer.json` (e.g. GPT-2's byte-level BPE) behind the
//! [`Tokenizer`] trait.

use super::chat_template::ChatTemplate;
use super::tokenizer::{SpecialTokens, Tokenizer, id_out_of_range};
use super::with_path;
use std::path::Path;
use tokengym::{Error, Result};

/// Names that give an added special token a role, most specific first. GPT-2's single
/// `<|endoftext|>` is handled apart: it fills whichever of bos, eos, pad is still unset.
const BOS_NAMES: [&str; 4] = ["<bos>", "<s>", "<|startoftext|>", "<|begin_of_text|>"];
const EOS_NAMES: [&str; 3] = ["<eos>", "</s>", "<|end_of_text|>"];
const PAD_NAMES: [&str; 3] = ["<pad>", "[PAD]", "<|pad|>"];
const UNK_NAMES: [&str; 2] = ["<unk>", "[UNK]"];
const ENDOFTEXT: &str = "<|endoftext|>";

/// A tokenizer loaded from a Hugging Face `tokenizer.json` file, run by the `tokenizers` crate
/// (the same code as the Python `tokenizers` package, so ids match it exactly).
///
/// - [`encode`](Tokenizer::encode) adds no special tokens and ignores any padding or truncation
///   the file configures; added tokens that appear in the text (e.g. `<|endoftext|>`) are
///   recognised as such, as in Python.
/// - [`decode`](Tokenizer::decode) skips the tokens the file marks special and the ids of
///   [`special_tokens`](Tokenizer::special_tokens). With a byte-level decoder (GPT-2) any text
///   round-trips, and ids that end inside a multi-byte character decode to U+FFFD.
/// - Special tokens are found from the file: added special tokens named `<bos>`/`<s>`,
///   `<eos>`/`</s>`, `<pad>`/`[PAD]`, `<unk>`/`[UNK]` take that role, the file's padding
///   configuration names the pad token, and GPT-2's `<|endoftext|>` serves as bos, eos and pad
///   where those are still unset. [`with_special_tokens`](HfTokenizer::with_special_tokens)
///   overrides them.
/// - [`encode_prompt`](Tokenizer::encode_prompt) follows [`PromptSpecials`]: the project's
///   convention (bos, if any, then the text) for a tokenizer made by
///   [`from_file`](HfTokenizer::from_file) / [`from_bytes`](HfTokenizer::from_bytes), what
///   transformers' `tokenizer(text)` does for one loaded by
///   [`from_model_dir`](HfTokenizer::from_model_dir), which also reads the special tokens, the
///   generation stop ids and the chat template of the folder.
#[derive(Clone, Debug)]
pub struct HfTokenizer {
    inner: tokenizers::Tokenizer,
    vocab_size: usize,
    roles: SpecialTokens,
    /// How `encode_prompt` adds special tokens.
    pub(super) prompt: PromptSpecials,
    /// The ids that end generation when they differ from `[eos]` (a folder's
    /// `generation_config.json`); `None`: the eos token.
    pub(super) stop_ids: Option<Vec<u32>>,
    /// The chat template, or why there is none.
    pub(super) chat: std::result::Result<ChatTemplate, String>,
}

/// Which special tokens [`Tokenizer::encode_prompt`] of an [`HfTokenizer`] adds around
/// `encode(text)`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PromptSpecials {
    /// The project's convention for its own checkpoints: the bos token if the tokenizer has one,
    /// nothing at the end (what [`from_file`](HfTokenizer::from_file) and
    /// [`from_bytes`](HfTokenizer::from_bytes) give).
    #[default]
    BosIfPresent,
    /// What the `tokenizer.json` post-processor adds (the `tokenizers` crate's
    /// `encode(text, add_special_tokens = true)`): transformers' `tokenizer(text)` for a model
    /// folder whose `tokenizer_config.json` sets neither `add_bos_token` nor `add_eos_token`.
    PostProcessor,
    /// The bos token iff `bos`, the eos token iff `eos`: transformers' Llama/Gemma tokenizers
    /// rebuild their post-processor this way from `add_bos_token` / `add_eos_token`.
    Explicit {
        /// Prepend the bos token.
        bos: bool,
        /// Append the eos token.
        eos: bool,
    },
}

impl HfTokenizer {
    /// [`Tokenizer::encode_prompt`] of `text`, cut to at most `max_len` ids as transformers'
    /// `tokenizer(text, truncation=True, max_length=max_len)` cuts it: the text's own tokens
    /// are truncated on the right, the special tokens around them are kept. An error when
    /// `max_len` cannot hold the special tokens.
    pub fn encode_prompt_truncated(&self, text: &str, max_len: usize) -> Result<Vec<u32>> {
        let (bos, eos) = match self.prompt {
            PromptSpecials::BosIfPresent => (self.roles.bos.is_some(), false),
            PromptSpecials::Explicit { bos, eos } => (bos, eos),
            PromptSpecials::PostProcessor => {
                use tokenizers::PostProcessor;
                let added = self
                    .inner
                    .get_post_processor()
                    .map_or(0, |p| p.added_tokens(false));
                let room = max_len.checked_sub(added).ok_or_else(|| {
                    Error::invalid_argument(format!(
                        "a maximum length of {max_len} cannot hold the {added} special tokens"
                    ))
                })?;
                let fail = |e| Error::invalid_argument(format!("tokenizer failed to encode: {e}"));
                let mut encoding = self.inner.encode(text, false).map_err(fail)?;
                encoding.truncate(room, 0, tokenizers::TruncationDirection::Right);
                let encoding = self
                    .inner
                    .post_process(encoding, None, true)
                    .map_err(fail)?;
                return Ok(encoding.get_ids().to_vec());
            }
        };
        let specials = usize::from(bos) + usize::from(eos);
        let room = max_len.checked_sub(specials).ok_or_else(|| {
            Error::invalid_argument(format!(
                "a maximum length of {max_len} cannot hold the {specials} special tokens"
            ))
        })?;
        let mut ids = self.encode_with_specials(text, bos, eos)?;
        if ids.len() > max_len {
            let last = eos.then(|| ids[ids.len() - 1]);
            ids.truncate(usize::from(bos) + room);
            ids.extend(last);
        }
        Ok(ids)
    }

    /// Loads `tokenizer.json` from `path`.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        Self::from_bytes(&bytes).map_err(|e| with_path(path, e))
    }

    /// Loads a tokenizer from the contents of a `tokenizer.json` file.
    pub fn from_bytes(json: &[u8]) -> Result<Self> {
        let inner = tokenizers::Tokenizer::from_bytes(json)
            .map_err(|e| Error::invalid_argument(format!("invalid tokenizer.json: {e}")))?;
        Self::from_inner(inner)
    }

    /// Wraps an already built `tokenizers::Tokenizer` (its padding and truncation settings are
    /// read for the pad token, then switched off).
    pub fn from_inner(mut inner: tokenizers::Tokenizer) -> Result<Self> {
        let vocab_size = dense_vocab_size(&inner)?;
        let roles = discover_specials(&inner, vocab_size);
        inner.with_padding(None);
        inner
            .with_truncation(None)
            .map_err(|e| Error::invalid_argument(format!("cannot disable truncation: {e}")))?;
        Ok(HfTokenizer {
            inner,
            vocab_size,
            roles,
            prompt: PromptSpecials::BosIfPresent,
            stop_ids: None,
            chat: Err(
                "the tokenizer has no chat template (it was not loaded from a model folder: \
                       see HfTokenizer::from_model_dir and HfTokenizer::with_chat_template)"
                    .to_owned(),
            ),
        })
    }

    /// Replaces the special tokens found in the file; every id must be in the vocabulary.
    pub fn with_special_tokens(mut self, specials: SpecialTokens) -> Result<Self> {
        if let Some(id) = specials.ids().find(|&id| id as usize >= self.vocab_size) {
            return Err(id_out_of_range(id, self.vocab_size));
        }
        self.roles = specials;
        Ok(self)
    }

    /// Uses `template` for [`render_chat`](HfTokenizer::render_chat) and
    /// [`apply_chat_template`](HfTokenizer::apply_chat_template), replacing any other.
    pub fn with_chat_template(mut self, template: ChatTemplate) -> Self {
        self.chat = Ok(template);
        self
    }

    /// The special tokens [`encode_prompt`](Tokenizer::encode_prompt) adds.
    pub fn prompt_specials(&self) -> PromptSpecials {
        self.prompt
    }

    /// The wrapped `tokenizers::Tokenizer`.
    pub fn inner(&self) -> &tokenizers::Tokenizer {
        &self.inner
    }
}

/// `max id + 1`, checking that every id below it is a token.
fn dense_vocab_size(inner: &tokenizers::Tokenizer) -> Result<usize> {
    let vocab = inner.get_vocab(true);
    let mut ids: Vec<u32> = vocab.into_values().collect();
    ids.sort_unstable();
    ids.dedup();
    let size = ids.last().map_or(0, |&m| m as usize + 1);
    if size == 0 {
        return Err(Error::invalid_argument(
            "tokenizer.json has an empty vocabulary",
        ));
    }
    if ids.len() != size {
        return Err(Error::invalid_argument(format!(
            "tokenizer.json ids are not dense: {} distinct ids but the largest is {}",
            ids.len(),
            size - 1
        )));
    }
    Ok(size)
}

fn discover_specials(inner: &tokenizers::Tokenizer, vocab_size: usize) -> SpecialTokens {
    let mut added: Vec<(u32, String)> = inner
        .get_added_tokens_decoder()
        .into_iter()
        .filter(|(_, t)| t.special)
        .map(|(id, t)| (id, t.content))
        .collect();
    added.sort_unstable();
    let find = |names: &[&str]| {
        names.iter().find_map(|n| {
            added
                .iter()
                .find(|(_, content)| content == n)
                .map(|&(id, _)| id)
        })
    };
    let mut roles = SpecialTokens {
        bos: find(&BOS_NAMES),
        eos: find(&EOS_NAMES),
        pad: find(&PAD_NAMES),
        unk: find(&UNK_NAMES),
    };
    if let Some(p) = inner.get_padding()
        && (p.pad_id as usize) < vocab_size
        && inner.id_to_token(p.pad_id).as_deref() == Some(p.pad_token.as_str())
    {
        roles.pad = Some(p.pad_id);
    }
    if let Some(eot) = find(&[ENDOFTEXT]) {
        for slot in [&mut roles.bos, &mut roles.eos, &mut roles.pad] {
            slot.get_or_insert(eot);
        }
    }
    roles
}

impl Tokenizer for HfTokenizer {
    fn vocab_size(&self) -> usize {
        self.vocab_size
    }

    fn encode(&self, text: &str) -> Result<Vec<u32>> {
        let encoding = self
            .inner
            .encode(text, false)
            .map_err(|e| Error::invalid_argument(format!("tokenizer failed to encode: {e}")))?;
        Ok(encoding.get_ids().to_vec())
    }

    fn encode_prompt(&self, text: &str) -> Result<Vec<u32>> {
        match self.prompt {
            PromptSpecials::BosIfPresent => {
                self.encode_with_specials(text, self.roles.bos.is_some(), false)
            }
            PromptSpecials::PostProcessor => {
                let encoding = self.inner.encode(text, true).map_err(|e| {
                    Error::invalid_argument(format!("tokenizer failed to encode: {e}"))
                })?;
                Ok(encoding.get_ids().to_vec())
            }
            PromptSpecials::Explicit { bos, eos } => self.encode_with_specials(text, bos, eos),
        }
    }

    fn stop_ids(&self) -> Vec<u32> {
        match &self.stop_ids {
            Some(ids) => ids.clone(),
            None => self.roles.eos.into_iter().collect(),
        }
    }

    fn chat_template(&self) -> Option<&super::ChatTemplate> {
        self.chat.as_ref().ok()
    }

    fn decode(&self, ids: &[u32]) -> Result<String> {
        if let Some(&id) = ids.iter().find(|&&id| id as usize >= self.vocab_size) {
            return Err(id_out_of_range(id, self.vocab_size));
        }
        let kept: Vec<u32> = ids
            .iter()
            .copied()
            .filter(|id| !self.roles.ids().any(|s| s == *id))
            .collect();
        self.inner
            .decode(&kept, true)
            .map_err(|e| Error::invalid_argument(format!("tokenizer failed to decode: {e}")))
    }

    fn special_tokens(&self) -> SpecialTokens {
        self.roles
    }

    fn token_to_id(&self, token: &str) -> Option<u32> {
        self.inner.token_to_id(token)
    }

    fn id_to_token(&self, id: u32) -> Option<String> {
        self.inner.id_to_token(id)
    }
}
