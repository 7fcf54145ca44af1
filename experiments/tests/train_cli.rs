//! The `train` and `eval` binaries end to end: the run folder, resuming, evaluation from a
//! checkpoint, and one-line errors with a non-zero exit code for bad input.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn train() -> Command {
    Command::new(env!("CARGO_BIN_EXE_train"))
}

fn eval() -> Command {
    Command::new(env!("CARGO_BIN_EXE_eval"))
}

fn tmp(name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("tokengym-train-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn run(cmd: &mut Command) -> Output {
    cmd.output().expect("the binary runs")
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Exit code 1 and exactly one line on stderr, starting with `error:` and containing `needle`.
fn one_error_line(out: &Output, needle: &str) {
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "expected one error line, got {err:?}");
    assert!(lines[0].starts_with("error:"), "{err}");
    assert!(lines[0].contains(needle), "{needle:?} not in {err:?}");
}

fn summary(dir: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(dir.join("summary.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

#[test]
fn train_writes_a_run_folder_resumes_and_evaluates() {
    let dir = tmp("run");
    let out = run(train()
        .args(["--env", "CartPole-v1", "--algo", "ppo", "--steps", "2048"])
        .args(["--seed", "3", "--device", "cpu", "--quiet", "--out"])
        .arg(&dir));
    let stdout = ok(&out);
    assert!(stdout.contains("CartPole-v1 / ppo seed 3"), "{stdout}");
    for name in ["config.toml", "metrics.csv", "summary.json", "reward.png"] {
        assert!(dir.join(name).is_file(), "{name} missing");
    }
    assert!(dir.join("checkpoint/model.safetensors").is_file());
    let s = summary(&dir);
    for key in [
        "env",
        "algo",
        "seed",
        "total_steps",
        "wall_seconds",
        "eval_mean_return",
        "eval_std_return",
        "eval_episodes",
    ] {
        assert!(s.get(key).is_some(), "summary.json lacks {key}: {s}");
    }
    assert_eq!(s["env"], "CartPole-v1");
    assert_eq!(s["total_steps"], 2048);
    assert_eq!(s["eval_episodes"], 20);
    let config = std::fs::read_to_string(dir.join("config.toml")).unwrap();
    assert!(
        config.contains("n_epochs = 20"),
        "the preset is spelled out: {config}"
    );

    // Training again into the same folder is refused; --resume continues to a larger budget.
    let again = run(train()
        .args(["--steps", "2048", "--quiet", "--device", "cpu", "--out"])
        .arg(&dir));
    one_error_line(&again, "--resume");
    let out = run(train()
        .args([
            "--steps", "4096", "--quiet", "--device", "cpu", "--resume", "--out",
        ])
        .arg(&dir));
    // --resume reads the run's config.toml; --steps raises its budget (a total).
    ok(&out);
    assert_eq!(summary(&dir)["total_steps"], 4096);
    let csv = std::fs::read_to_string(dir.join("metrics.csv")).unwrap();
    assert!(csv.lines().any(|l| l.starts_with("update,")));
    assert!(csv.lines().any(|l| l.starts_with("episode,")));

    let out = run(eval()
        .args(["--episodes", "3", "--device", "cpu", "--checkpoint"])
        .arg(&dir));
    let stdout = ok(&out);
    assert!(stdout.contains("over 3 deterministic episodes"), "{stdout}");
    assert!(dir.join("eval.json").is_file());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bad_input_gives_one_error_line() {
    let dir = tmp("bad");
    one_error_line(
        &run(train()
            .args(["--algo", "sac", "--quiet", "--out"])
            .arg(&dir)),
        "sac",
    );
    one_error_line(
        &run(train()
            .args(["--env", "CartPol-v1", "--quiet", "--out"])
            .arg(&dir)),
        "CartPol-v1",
    );
    one_error_line(
        &run(train()
            .args(["--device", "tpu", "--quiet", "--out"])
            .arg(&dir)),
        "tpu",
    );
    one_error_line(
        &run(train()
            .args(["--algo", "ppo", "--episodes", "10", "--quiet", "--out"])
            .arg(&dir)),
        "environment steps",
    );
    let cfg = dir.join("bad.toml");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        &cfg,
        "env = \"CartPole-v1\"\nalgo = \"ppo\"\ntotal_steps = 10\n[ppo]\nn_step = 3\n",
    )
    .unwrap();
    one_error_line(
        &run(train()
            .arg("--config")
            .arg(&cfg)
            .args(["--quiet", "--out"])
            .arg(&dir)),
        "n_step",
    );
    let ckpt = dir.join("checkpoint");
    std::fs::create_dir_all(&ckpt).unwrap();
    std::fs::write(ckpt.join("model.safetensors"), b"not a checkpoint").unwrap();
    one_error_line(
        &run(eval()
            .arg("--checkpoint")
            .arg(&dir)
            .args(["--device", "cpu"])),
        "model.safetensors",
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
