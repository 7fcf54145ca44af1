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

/// Exit code 1 and exactly one non-empty line on stderr, starting with `error:` and containing
/// every one of `needles`; `what` names the case in the failure message.
pub fn one_error_line(o: &Output, what: &str, needles: &[&str]) {
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{what}: {}", text(o));
    let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(
        lines.len(),
        1,
        "{what}: expected one error line, got {err:?}"
    );
    assert!(lines[0].starts_with("error: "), "{what}: {err}");
    for needle in needles {
        assert!(
            lines[0].contains(needle),
            "{what}: {needle:?} not in {err:?}"
        );
    }
}

/// Every file under `dir` (recursively) with its bytes, for checking that nothing changed.
pub fn snapshot(dir: &std::path::Path) -> std::collections::BTreeMap<PathBuf, Vec<u8>> {
    let mut files = std::collections::BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                files.insert(path.clone(), std::fs::read(&path).unwrap_or_default());
            }
        }
    }
    files
}

/// Pre-trains a tiny model (d32, one layer, context 32) for 2 steps on the shipped validation
/// corpus into the run folder `dir`, with the binary at `pretrain_lm`; returns `dir`.
pub fn pretrain_tiny(pretrain_lm: &str, dir: &std::path::Path) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let corpus =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../envs/data/corpus/valid.txt");
    let corpus = corpus.to_str().unwrap();
    let config = dir.join("settings.json");
    std::fs::write(
        &config,
        r#"{"model": {"d_model": 32, "n_layers": 1, "n_heads": 2},
            "trainer": {"eval_every": 2, "lr": 0.003}}"#,
    )
    .unwrap();
    let o = run(
        pretrain_lm,
        &[
            "--config",
            config.to_str().unwrap(),
            "--train",
            corpus,
            "--valid",
            corpus,
            "--out",
            dir.to_str().unwrap(),
            "--steps",
            "2",
            "--context",
            "32",
            "--batch-size",
            "4",
            "--device",
            "cpu",
            "--threads",
            "1",
            "--quiet",
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    dir.to_path_buf()
}

/// `eval` (the binary at `eval_bin`) of the run or checkpoint at `checkpoint`: one episode on
/// the CPU.
pub fn eval_once(eval_bin: &str, checkpoint: &std::path::Path) -> Output {
    run(
        eval_bin,
        &[
            "--checkpoint",
            checkpoint.to_str().unwrap(),
            "--episodes",
            "1",
            "--device",
            "cpu",
        ],
    )
}
