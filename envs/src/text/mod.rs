//! Text: tokenizers and the project's synthetic training corpus.
//!
//! - [`Tokenizer`]: the trait every tokenizer implements (encode, decode, special tokens,
//!   padded batches with attention masks).
//! - [`ByteTokenizer`] (UTF-8 bytes), [`CharTokenizer`] (characters of a corpus),
//!   [`HfTokenizer`] (a Hugging Face `tokenizer.json`, e.g. GPT-2's byte-level BPE, or a whole
//!   model folder with [`HfTokenizer::from_model_dir`]: special tokens, stop ids, chat template).
//! - [`ChatTemplate`]: a Hugging Face chat template (Jinja2) rendering [`ChatMessage`]s as
//!   transformers does.
//! - [`corpus`]: a seeded generator of sentiment sentences, arithmetic lines and neutral filler,
//!   the text the project's small language models learn from.
//! - Text generation as RL: [`TextGenEnv`] (one token per step), [`CompletionBandit`] (one
//!   completion per step), prompted from a [`PromptSet`] and scored by a [`RewardFn`]
//!   ([`reward`] has the built-in rewards).
//! - [`rouge`]: ROUGE-N/L/Lsum as Google's `rouge_score` computes them (with NLTK's Porter
//!   stemmer), the metric behind [`RougeReward`].

mod bpe;
mod byte_level;
mod char_level;
mod chat_template;
mod completion_bandit;
pub mod corpus;
mod hf_folder;
pub mod prompts;
mod prompts_jsonl;
mod py_json;
pub mod reward;
pub mod rouge;
mod text_gen_config;
mod text_gen_env;
mod tokenizer;

pub use bpe::{HfTokenizer, PromptSpecials};
pub use byte_level::ByteTokenizer;
pub use char_level::{CharTokenizer, UNK};
pub use chat_template::{ChatMessage, ChatTemplate};
pub use completion_bandit::CompletionBandit;
pub use prompts::{Prompt, PromptSet};
pub use prompts_jsonl::{PROMPT_KEYS, REFERENCE_KEYS};
pub use reward::{
    ArithmeticReward, EditDistanceReward, ExactMatch, FnReward, LengthPenalty, LexiconReward,
    RegexReward, RewardContext, RewardFn, RougeReward, WeightedSum,
};
pub use text_gen_config::TextGenConfig;
pub use text_gen_env::TextGenEnv;
pub use tokenizer::{
    Batch, BatchOptions, DEFAULT_SPECIALS, Padding, SpecialTokens, Tokenizer, unknown_chars,
};

use std::io::Write;
use std::path::Path;
use tokengym::{Error, Result};

/// Loads a tokenizer file: a [`CharTokenizer`] saved by [`CharTokenizer::save`], or else a
/// Hugging Face `tokenizer.json` ([`HfTokenizer`]). (A [`ByteTokenizer`] needs no file.)
pub fn load_tokenizer(path: impl AsRef<Path>) -> Result<Box<dyn Tokenizer>> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let json: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| {
        Error::invalid_argument(format!(
            "{}: not a JSON tokenizer file: {e}",
            path.display()
        ))
    })?;
    if json.get("format").and_then(|f| f.as_str()) == Some(char_level::FORMAT) {
        let tok: CharTokenizer = serde_json::from_value(json).map_err(|e| {
            Error::invalid_argument(format!(
                "{}: invalid character tokenizer JSON: {e}",
                path.display()
            ))
        })?;
        Ok(Box::new(tok))
    } else {
        let tok = HfTokenizer::from_bytes(&bytes).map_err(|e| with_path(path, e))?;
        Ok(Box::new(tok))
    }
}

/// `e` with the file it came from: invalid-argument messages get `path: ` in front.
fn with_path(path: &Path, e: Error) -> Error {
    match e {
        Error::InvalidArgument(msg) => Error::InvalidArgument(format!("{}: {msg}", path.display())),
        other => other,
    }
}

/// Writes `bytes` to `path` atomically: into `<path>.tmp` in the same directory (created if
/// missing), flushed to disk, then renamed over `path`, so readers never see half a file.
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    }
    let mut tmp_name = path.as_os_str().to_owned();
    tmp_name.push(".tmp");
    let tmp = Path::new(&tmp_name);
    let write = || -> std::io::Result<()> {
        let mut f = std::fs::File::create(tmp)?;
        f.write_all(bytes)?;
        f.sync_all()
    };
    if let Err(e) = write() {
        // Best effort: do not leave a partial temporary file behind.
        let _ = std::fs::remove_file(tmp);
        return Err(Error::io(tmp, e));
    }
    std::fs::rename(tmp, path).map_err(|e| Error::io(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn load_tokenizer_detects_the_kind() {
        let dir = std::env::temp_dir().join(format!("tokengym-load-{}", std::process::id()));
        let char_path = dir.join("char.json");
        let tok = CharTokenizer::from_corpus("abc", &DEFAULT_SPECIALS).unwrap();
        tok.save(&char_path).unwrap();
        let loaded = load_tokenizer(&char_path).unwrap();
        assert_eq!(loaded.vocab_size(), tok.vocab_size());
        assert_eq!(loaded.encode("cab").unwrap(), tok.encode("cab").unwrap());

        let hf_path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/text/tiny_bpe/tokenizer.json");
        let hf = load_tokenizer(&hf_path).unwrap();
        assert_eq!(hf.vocab_size(), 512);
        assert_eq!(
            hf.decode(&hf.encode("12+7=19").unwrap()).unwrap(),
            "12+7=19"
        );

        let bad = dir.join("bad.json");
        std::fs::write(&bad, "not json").unwrap();
        let err = load_tokenizer(&bad).err().unwrap();
        assert!(err.to_string().contains("bad.json"), "{err}");
        std::fs::write(&bad, r#"{"format":"tokengym-char-tokenizer","version":1,"chars":["b","a"],"specials":["<unk>"]}"#).unwrap();
        let err = load_tokenizer(&bad).err().unwrap();
        assert!(err.to_string().contains("sorted"), "{err}");
        assert!(load_tokenizer(dir.join("missing.json")).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn boxed_and_arced_tokenizers_forward() {
        fn vocab<T: Tokenizer>(t: &T) -> usize {
            t.vocab_size()
        }
        let boxed: Box<dyn Tokenizer> = Box::new(ByteTokenizer::new());
        let arced: std::sync::Arc<dyn Tokenizer> = std::sync::Arc::new(ByteTokenizer::new());
        assert_eq!(vocab(&boxed), 259);
        assert_eq!(vocab(&arced), 259);
        assert_eq!(
            arced.encode_with_specials("a", true, true).unwrap(),
            vec![256, 97, 257]
        );
    }
}
