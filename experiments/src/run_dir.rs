//! Run directories: where an experiment writes its outputs, atomically, and the checks that
//! keep one run from destroying another ([`OutDir`]).

use std::path::{Component, Path, PathBuf};

use anyhow::{Context, Result, bail};

pub use tokengym::atomic_write::{remove_stale_temporaries, write_atomic};

/// Serializes `value` as pretty JSON and writes it atomically to `path`.
pub fn write_json<T: serde::Serialize>(path: &Path, value: &T) -> std::io::Result<()> {
    let mut text = serde_json::to_string_pretty(value).map_err(std::io::Error::other)?;
    text.push('\n');
    write_atomic(path, text.as_bytes())
}

/// The output folder of a binary: which entries a run writes there (its outputs) and which
/// paths it reads (its inputs), so that a new run neither replaces an earlier one without
/// `--overwrite` nor ever writes over a model it is reading.
///
/// ```
/// use tokengym_experiments::run_dir::OutDir;
/// let dir = std::env::temp_dir().join(format!("tg-outdir-doc-{}", std::process::id()));
/// let out = OutDir::new(&dir, &["metrics.csv", "checkpoint"]).reads(&dir.join("checkpoint"), "--checkpoint");
/// assert!(out.check(false).unwrap_err().to_string().contains("--checkpoint"));
/// let out = OutDir::new(&dir, &["metrics.csv"]);
/// out.check(false)?; // nothing there yet
/// std::fs::create_dir_all(&dir)?;
/// std::fs::write(dir.join("metrics.csv"), "x")?;
/// assert!(out.check(false).unwrap_err().to_string().contains("--overwrite"));
/// out.check(true)?;
/// out.clear()?; // what --overwrite replaces is removed just before the new run writes
/// assert!(!dir.join("metrics.csv").exists());
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), anyhow::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct OutDir {
    path: PathBuf,
    outputs: Vec<String>,
    inputs: Vec<(PathBuf, String)>,
}

impl OutDir {
    /// The folder `path`, where a run writes the files or folders named `outputs`.
    pub fn new(path: &Path, outputs: &[&str]) -> Self {
        Self {
            path: path.to_path_buf(),
            outputs: outputs.iter().map(|s| (*s).to_owned()).collect(),
            inputs: Vec::new(),
        }
    }

    /// Records that the run reads `input` (given with the flag `flag`): the folder must not
    /// lie inside it (or be it), and none of the outputs may be it or contain it.
    pub fn reads(mut self, input: &Path, flag: &str) -> Self {
        self.inputs.push((input.to_path_buf(), flag.to_owned()));
        self
    }

    /// The folder.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The outputs of an earlier run that are in the folder now.
    pub fn existing_outputs(&self) -> Vec<&str> {
        self.outputs
            .iter()
            .filter(|name| self.path.join(name.as_str()).symlink_metadata().is_ok())
            .map(String::as_str)
            .collect()
    }

    /// An error when the folder overlaps an input (always), is a file, or holds outputs of an
    /// earlier run and `overwrite` is false. Changes nothing on disk.
    pub fn check(&self, overwrite: bool) -> Result<()> {
        let out = absolute(&self.path)?;
        for (input, flag) in &self.inputs {
            let inp = absolute(input)?;
            let replaced = self.outputs.iter().any(|o| inp.starts_with(out.join(o)));
            if replaced || out.starts_with(&inp) {
                bail!(
                    "--out {} would write over {flag} {} that this run reads; choose another --out",
                    self.path.display(),
                    input.display()
                );
            }
        }
        if self.path.exists() && !self.path.is_dir() {
            bail!("--out {} is a file, not a folder", self.path.display());
        }
        let existing = self.existing_outputs();
        if !existing.is_empty() && !overwrite {
            bail!(
                "{} already holds a run ({}); pass --overwrite to replace it, or choose another --out",
                self.path.display(),
                existing.join(", ")
            );
        }
        Ok(())
    }

    /// Removes the outputs of an earlier run (what `--overwrite` replaces), then creates the
    /// folder. Call it after everything that can fail before the run starts writing, so that
    /// a bad start leaves the earlier run whole.
    pub fn clear(&self) -> Result<()> {
        for name in self.existing_outputs() {
            let path = self.path.join(name);
            let removed = if path.is_dir() && !path.is_symlink() {
                std::fs::remove_dir_all(&path)
            } else {
                std::fs::remove_file(&path)
            };
            removed.with_context(|| format!("cannot remove {}", path.display()))?;
        }
        self.create()
    }

    /// Creates the folder (and its parents), naming it in the error.
    pub fn create(&self) -> Result<()> {
        std::fs::create_dir_all(&self.path)
            .with_context(|| format!("cannot create {}", self.path.display()))
    }
}

/// `path` made absolute with `..` and `.` resolved and symbolic links followed as far as the
/// path exists (the rest is appended as written), for comparing paths that may not exist yet.
fn absolute(path: &Path) -> Result<PathBuf> {
    let joined = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()
            .context("cannot read the current folder")?
            .join(path)
    };
    let mut existing = joined.clone();
    let mut rest = Vec::new();
    loop {
        if let Ok(real) = existing.canonicalize() {
            existing = real;
            break;
        }
        match (existing.file_name(), existing.parent()) {
            (Some(name), Some(parent)) => {
                rest.push(name.to_os_string());
                existing = parent.to_path_buf();
            }
            _ => break,
        }
    }
    for part in rest.into_iter().rev() {
        existing.push(part);
    }
    let mut clean = PathBuf::new();
    for c in existing.components() {
        match c {
            Component::ParentDir => {
                clean.pop();
            }
            Component::CurDir => {}
            other => clean.push(other),
        }
    }
    Ok(clean)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(tag: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("tg-run-dir-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn atomic_write_replaces_and_leaves_no_temp_file() {
        let dir = scratch("atomic");
        let path = dir.join("nested/summary.json");
        write_json(&path, &serde_json::json!({"a": 1})).unwrap();
        write_json(&path, &serde_json::json!({"a": 2})).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("\"a\": 2"));
        let leftovers: Vec<_> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty());
        assert!(write_atomic(Path::new("/"), b"x").is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn out_dir_refuses_inputs_earlier_runs_and_files() {
        let dir = scratch("outdir");
        let model = dir.join("lm/checkpoint");
        std::fs::create_dir_all(&model).unwrap();
        std::fs::write(model.join("model.safetensors"), b"weights").unwrap();
        let outputs = ["checkpoint", "metrics.csv"];
        // The folder whose `checkpoint` output is the model, the model itself, a folder inside
        // it, and the same folder spelled with `..`, are refused even with overwrite.
        for out in [
            dir.join("lm"),
            model.clone(),
            model.join("sub"),
            dir.join("lm/../lm"),
        ] {
            let e = OutDir::new(&out, &outputs)
                .reads(&model, "--checkpoint")
                .check(true)
                .unwrap_err()
                .to_string();
            assert!(
                e.contains("--checkpoint") && e.contains("choose another"),
                "{e}"
            );
        }
        // An input beside the outputs is not in the way.
        let corpus = dir.join("lm/train.txt");
        std::fs::write(&corpus, b"text").unwrap();
        OutDir::new(&dir.join("lm"), &["metrics.csv"])
            .reads(&corpus, "--train")
            .check(false)
            .unwrap();
        // A sibling is fine; an earlier run there needs overwrite, and clear removes it.
        let other = dir.join("rl");
        let out = OutDir::new(&other, &outputs).reads(&model, "--checkpoint");
        out.check(false).unwrap();
        std::fs::create_dir_all(other.join("checkpoint")).unwrap();
        std::fs::write(other.join("notes.txt"), b"mine").unwrap();
        let e = out.check(false).unwrap_err().to_string();
        assert!(e.contains("checkpoint") && e.contains("--overwrite"), "{e}");
        out.check(true).unwrap();
        out.clear().unwrap();
        assert!(!other.join("checkpoint").exists());
        assert!(
            other.join("notes.txt").exists(),
            "only the run's outputs go"
        );
        assert!(model.join("model.safetensors").exists());
        // A file where the folder should be.
        let file = dir.join("file");
        std::fs::write(&file, b"x").unwrap();
        let e = OutDir::new(&file, &outputs).check(true).unwrap_err();
        assert!(e.to_string().contains("not a folder"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
