//! Helpers shared by the command-line tests: running a binary, showing its output, and a fresh
//! scratch folder per test. (`tests/support/` is not a test target itself: Cargo only builds
//! the `.rs` files directly in `tests/`.)

#![allow(dead_code)] // each test file uses its own subset

use std::path::PathBuf;
use std::process::{Command, Output};

/// Runs the binary at `bin` with `args` and returns its output.
pub fn run(bin: &str, args: &[&str]) -> Output {
    Command::new(bin)
        .args(args)
        .output()
        .expect("the binary runs")
}

/// The binary's stdout and stderr, for assertion messages.
pub fn text(o: &Output) -> String {
    format!(
        "stdout: {}\nstderr: {}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// An empty scratch folder path `<tmp>/<prefix>-<tag>-<pid>` (removed if it exists, not created).
pub fn fresh_dir(prefix: &str, tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("{prefix}-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}
