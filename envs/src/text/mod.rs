//! Text: tokenizers and the project's synthetic training corpus.
//!
//! - [`Tokenizer`]: the trait every tokenizer implements (encode, decode, special tokens,
//!   padded batches with attention masks).
//! - [`ByteTokenizer`] (UTF-8 bytes), [`CharTokenizer`] (characters of a corpus),
//!   [`HfTokenizer`] (a Hugging Face `tokenizer.json`, e.g. GPT-2's byte-level BPE).
//! - [`corpus`]: a seeded generator of sentiment sentences, arithmetic lines and neutral filler,
//!   the text the project's small language models learn from.

mod bpe;
mod byte_level;
mod char_level;
pub mod corpus;
mod tokenizer;

pub use bpe::HfTokenizer;
pub use byte_level::ByteTokenizer;
pub use char_level::{CharTokenizer, UNK};
pub use tokenizer::{Batch, BatchOptions, DEFAULT_SPECIALS, Padding, SpecialTokens, Tokenizer};

use std::io::Write;
use std::path::Path;
use tokengym::{Error, Result};

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
