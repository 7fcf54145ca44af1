//! The `bandit` binary end to end: outputs, determinism across thread counts, argument errors.

use std::path::{Path, PathBuf};
use std::process::Command;

fn bandit(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_bandit"))
        .args(args)
        .output()
        .expect("the bandit binary runs")
}

fn out_dir(tag: &str) -> PathBuf {
    std::env::temp_dir().join(format!("tg-bandit-cli-{tag}-{}", std::process::id()))
}

fn is_png(path: &Path) -> bool {
    std::fs::read(path).is_ok_and(|b| b.starts_with(b"\x89PNG\r\n\x1a\n") && b.len() > 10_000)
}

#[test]
fn writes_plots_metrics_and_summary_identically_for_any_thread_count() {
    let one = out_dir("one");
    let two = out_dir("two");
    for (dir, threads) in [(&one, "1"), (&two, "2")] {
        let out = bandit(&[
            "--runs",
            "60",
            "--steps",
            "40",
            "--seed",
            "5",
            "--agents",
            "greedy,eps:0.1,ucb:2",
            "--threads",
            threads,
            "--out",
            dir.to_str().unwrap(),
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(String::from_utf8_lossy(&out.stdout).contains("UCB c=2"));
    }
    for png in ["average_reward.png", "optimal_action.png", "single_run.png"] {
        assert!(is_png(&one.join(png)), "{png}");
    }
    let csv = std::fs::read_to_string(one.join("metrics.csv")).unwrap();
    assert_eq!(csv.lines().count(), 1 + 40 * 3);
    assert!(csv.starts_with("step,agent,average_reward,optimal_fraction\n1,\"greedy ε=0\","));
    assert_eq!(
        csv,
        std::fs::read_to_string(two.join("metrics.csv")).unwrap()
    );
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(one.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["testbed"]["runs"], 60);
    assert_eq!(summary["agents"].as_array().unwrap().len(), 3);
    assert_eq!(summary["agents"][1]["config"]["kind"], "epsilon_greedy");
    let f = summary["agents"][2]["final_optimal_fraction"]
        .as_f64()
        .unwrap();
    assert!((0.0..=1.0).contains(&f));
    std::fs::remove_dir_all(&one).unwrap();
    std::fs::remove_dir_all(&two).unwrap();
}

#[test]
fn bad_arguments_print_one_error_line_and_fail() {
    let dir = out_dir("bad");
    let out_arg = dir.to_str().unwrap();
    for args in [
        vec!["--runs", "0", "--out", out_arg],
        vec!["--agents", "eps:2", "--out", out_arg],
        vec!["--agents", "nonsense", "--out", out_arg],
        vec!["--runs", "many", "--out", out_arg],
        vec!["--k", "0", "--runs", "2", "--out", out_arg],
        vec!["--reward-std", "-1", "--runs", "2", "--out", out_arg],
    ] {
        let out = bandit(&args);
        assert!(!out.status.success(), "{args:?} should fail");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(stderr.trim().lines().count(), 1, "{args:?}: {stderr}");
        assert!(stderr.starts_with("error: "), "{args:?}: {stderr}");
    }
    assert!(!dir.exists(), "nothing is written on bad arguments");
}
