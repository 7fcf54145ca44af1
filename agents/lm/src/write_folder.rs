//! Writing a whole folder atomically (checkpoints, fine-tuned models, exported Hugging Face
//! folders): the folder is written under a temporary name next to its target, then swapped in
//! with two renames, so a crash or an error never leaves a half-written folder under the final
//! name and never loses the previous one.

use std::fs;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// The path `.NAME.TAG-PID` next to `dir` (hidden, unique to this process).
fn sibling(dir: &Path, tag: &str) -> Result<PathBuf> {
    let name = dir
        .file_name()
        .ok_or_else(|| Error::checkpoint(dir, "the checkpoint path has no folder name"))?;
    Ok(dir.with_file_name(format!(
        ".{}.{tag}-{}",
        name.to_string_lossy(),
        std::process::id()
    )))
}

/// Writes a folder under a temporary name next to `dir` with `write`, then swaps it in with
/// two renames (old folder aside, new folder in place) and deletes the old one; on any
/// failure the previous folder stays.
pub fn write_folder_atomically(dir: &Path, write: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
    let tmp = sibling(dir, "tmp")?;
    let old = sibling(dir, "old")?;
    let _ = fs::remove_dir_all(&tmp);
    if let Err(e) = write(&tmp) {
        let _ = fs::remove_dir_all(&tmp);
        return Err(e);
    }
    let had_old = dir.exists();
    if had_old {
        let _ = fs::remove_dir_all(&old);
        fs::rename(dir, &old)
            .map_err(|e| Error::checkpoint(dir, format!("cannot move the old checkpoint: {e}")))?;
    }
    if let Err(e) = fs::rename(&tmp, dir) {
        if had_old {
            let _ = fs::rename(&old, dir);
        }
        let _ = fs::remove_dir_all(&tmp);
        return Err(Error::checkpoint(
            dir,
            format!("cannot move the checkpoint in: {e}"),
        ));
    }
    if had_old {
        let _ = fs::remove_dir_all(&old);
    }
    Ok(())
}
