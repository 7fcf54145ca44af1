//! The `rl-lm` binary end to end: a tiny `pretrain-lm` checkpoint is fine-tuned for a few steps
//! with each algorithm; the run folder holds the metrics, plots, summary, samples and a
//! checkpoint `generate` can load; bad arguments give one `error:` line and exit code 1.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

fn run(bin: &str, args: &[&str]) -> Output {
    Command::new(bin)
        .args(args)
        .output()
        .expect("the binary runs")
}

fn rl_lm(args: &[&str]) -> Output {
    run(env!("CARGO_BIN_EXE_rl-lm"), args)
}

fn text(o: &Output) -> String {
    format!(
        "stdout: {}\nstderr: {}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn tmp(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tg-rl-lm-cli-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// A 2-step pre-training run of a tiny model (once per test binary).
fn checkpoint() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tmp("pretrain");
        std::fs::create_dir_all(&dir).unwrap();
        let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../envs/data/corpus/valid.txt");
        let corpus = corpus.to_str().unwrap();
        let config = dir.join("settings.json");
        std::fs::write(
            &config,
            r#"{"model": {"d_model": 32, "n_layers": 1, "n_heads": 2},
                "trainer": {"eval_every": 2, "lr": 0.003}}"#,
        )
        .unwrap();
        let o = run(
            env!("CARGO_BIN_EXE_pretrain-lm"),
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
        dir.join("checkpoint")
    })
}

fn fine_tune(algo: &str, task: &str) {
    let out = tmp(&format!("{algo}-{task}"));
    let ckpt = checkpoint().to_str().unwrap();
    let o = rl_lm(&[
        "--checkpoint",
        ckpt,
        "--task",
        task,
        "--algo",
        algo,
        "--steps",
        "2",
        "--batch",
        "4",
        "--group-size",
        "2",
        "--rm-steps",
        "3",
        "--max-new-tokens",
        "6",
        "--out",
        out.to_str().unwrap(),
        "--threads",
        "1",
        "--quiet",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    for f in [
        "metrics.csv",
        "reward.png",
        "kl.png",
        "summary.json",
        "samples.txt",
        "checkpoint/model.safetensors",
        "checkpoint/config.json",
        "checkpoint/tokenizer.json",
    ] {
        assert!(out.join(f).is_file(), "{algo}: {f} missing");
    }
    let csv = std::fs::read_to_string(out.join("metrics.csv")).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "step,mean_reward,kl,mean_response_len,loss,wall_seconds"
    );
    assert_eq!(lines.len(), 3, "{csv}");
    assert!(lines[2].starts_with("2,"));
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    for key in [
        "mean_reward_start",
        "mean_reward_end",
        "kl_end",
        "wall_seconds",
    ] {
        assert!(
            summary[key].as_f64().is_some_and(f64::is_finite),
            "{algo}: {key}"
        );
    }
    assert_eq!(summary["algo"], algo);
    assert_eq!(summary["task"], task);
    let acc = summary["reward_model_accuracy"].as_f64();
    assert_eq!(acc.is_some(), task == "preference", "{summary}");
    let samples = std::fs::read_to_string(out.join("samples.txt")).unwrap();
    assert!(
        samples.contains("before") && samples.contains("after"),
        "{samples}"
    );
    // The tuned checkpoint loads and generates.
    let o = run(
        env!("CARGO_BIN_EXE_generate"),
        &[
            "--checkpoint",
            out.join("checkpoint").to_str().unwrap(),
            "--prompt",
            "the movie was",
            "--max-new-tokens",
            "3",
            "--threads",
            "1",
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn reinforce_run_writes_its_folder() {
    fine_tune("reinforce", "sentiment");
}

#[test]
fn ppo_run_writes_its_folder() {
    fine_tune("ppo", "sentiment");
}

#[test]
fn group_run_writes_its_folder() {
    fine_tune("group", "arithmetic");
}

#[test]
fn reward_model_task_trains_a_reward_model_first() {
    fine_tune("reinforce", "preference");
}

#[test]
fn exploding_update_stops_with_one_line_and_keeps_a_checkpoint() {
    let out = tmp("nan");
    let o = rl_lm(&[
        "--checkpoint",
        checkpoint().to_str().unwrap(),
        "--algo",
        "ppo",
        "--steps",
        "3",
        "--batch",
        "4",
        "--max-new-tokens",
        "6",
        "--lr",
        "1e30",
        "--out",
        out.to_str().unwrap(),
        "--threads",
        "1",
        "--quiet",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("error: ") && err.contains("non-finite"),
        "{err}"
    );
    assert!(out.join("checkpoint/model.safetensors").is_file());
    // The kept model is a good one: it still generates.
    let o = run(
        env!("CARGO_BIN_EXE_generate"),
        &[
            "--checkpoint",
            out.join("checkpoint").to_str().unwrap(),
            "--prompt",
            "the movie was",
            "--max-new-tokens",
            "3",
            "--threads",
            "1",
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn bad_arguments_give_one_error_line() {
    let ckpt = checkpoint().to_str().unwrap();
    let out = tmp("bad");
    let out = out.to_str().unwrap();
    let cases: Vec<Vec<&str>> = vec![
        vec!["--checkpoint", "/nonexistent/ckpt", "--out", out],
        vec!["--checkpoint", ckpt, "--algo", "dqn", "--out", out],
        vec!["--checkpoint", ckpt, "--steps", "0", "--out", out],
        vec![
            "--checkpoint",
            ckpt,
            "--algo",
            "group",
            "--batch",
            "5",
            "--group-size",
            "2",
            "--out",
            out,
        ],
        vec![
            "--checkpoint",
            ckpt,
            "--algo",
            "reinforce",
            "--target-kl",
            "1",
            "--out",
            out,
        ],
        vec!["--checkpoint", ckpt, "--temperature", "-1", "--out", out],
        vec![
            "--checkpoint",
            ckpt,
            "--max-new-tokens",
            "1000",
            "--out",
            out,
        ],
        vec!["--checkpoint", ckpt, "--threads", "0", "--out", out],
        vec![
            "--checkpoint",
            ckpt,
            "--task",
            "preference",
            "--rm-steps",
            "0",
            "--out",
            out,
        ],
    ];
    for args in cases {
        let o = rl_lm(&args);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {}", text(&o));
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.starts_with("error: "), "{args:?}: {err}");
    }
}
