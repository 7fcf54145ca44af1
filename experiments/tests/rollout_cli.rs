//! The `rollout` binary: summary, GIF and evaluation report; bad input gives one error line.

use std::process::Command;

mod support;

fn out_dir(name: &str) -> std::path::PathBuf {
    support::fresh_dir("tg-rollout", name)
}

/// Runs `rollout` with `args` and `--out out`, requiring success.
fn rollout_ok(args: &[&str], out: &std::path::Path) {
    let status = Command::new(env!("CARGO_BIN_EXE_rollout"))
        .args(args)
        .arg("--out")
        .arg(out)
        .output()
        .unwrap();
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
}

#[test]
fn writes_summary_and_report() {
    let out = out_dir("report");
    rollout_ok(
        &[
            "--env",
            "CartPole-v1",
            "--episodes",
            "2",
            "--seeds",
            "2",
            "--no-gif",
        ],
        &out,
    );
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["mean_return"], 500.0);
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(report.contains("| heuristic | 2 x 2 | 500.00"), "{report}");
    assert!(report.contains("| random |"), "{report}");
    assert!(
        std::fs::read(out.join("report.png"))
            .unwrap()
            .starts_with(b"\x89PNG")
    );
    std::fs::remove_dir_all(&out).unwrap();
}

#[test]
fn records_the_first_episode_as_a_gif() {
    let out = out_dir("gif");
    rollout_ok(
        &[
            "--env",
            "CartPole-v1",
            "--policy",
            "random",
            "--episodes",
            "1",
        ],
        &out,
    );
    let gif = std::fs::read(out.join("cartpole-v1-episode-0.gif")).unwrap();
    assert!(gif.starts_with(b"GIF89a"));
    std::fs::remove_dir_all(&out).unwrap();
}

#[test]
fn bad_input_is_one_clear_error_line() {
    for (args, needle) in [
        (vec!["--env", "CartPole-v9"], "CartPole-v1"),
        (
            vec!["--env", "Bandit-v0", "--policy", "heuristic"],
            "no heuristic policy",
        ),
        (vec!["--episodes", "0"], "--episodes"),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_rollout"))
            .args(&args)
            .arg("--out")
            .arg(out_dir("bad"))
            .output()
            .unwrap();
        assert!(!out.status.success(), "{args:?} succeeded");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(
            stderr.starts_with("error: ") && stderr.contains(needle),
            "{stderr}"
        );
    }
}
