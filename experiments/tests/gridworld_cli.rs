//! The `gridworld` binary end to end, at CI size.

use std::process::Command;

#[test]
fn gridworld_writes_its_outputs_and_q_learning_hugs_the_cliff() {
    let out = std::env::temp_dir().join(format!("tg-gridworld-cli-{}", std::process::id()));
    let status = Command::new(env!("CARGO_BIN_EXE_gridworld"))
        .args([
            "--episodes",
            "300",
            "--seeds",
            "2",
            "--eval-episodes",
            "3",
            "--resamples",
            "50",
        ])
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    for file in [
        "rewards.png",
        "report.png",
        "report.md",
        "metrics.csv",
        "paths.txt",
        "summary.json",
    ] {
        assert!(out.join(file).exists(), "{file} missing");
    }
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["optimal_return"], -13.0);
    let methods = summary["methods"].as_array().unwrap();
    let q = methods
        .iter()
        .find(|m| m["method"] == "q-learning")
        .unwrap();
    assert_eq!(q["greedy_paths_on_cliff_edge"], 2);
    assert_eq!(q["greedy_eval"]["median"], -13.0);
    let csv = std::fs::read_to_string(out.join("metrics.csv")).unwrap();
    assert_eq!(csv.lines().count(), 1 + 3 * 300);
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(report.contains("| random |") && report.contains("| optimum (planner) |"));

    let planning = Command::new(env!("CARGO_BIN_EXE_gridworld"))
        .arg("--planning")
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&planning.stdout);
    assert!(text.contains("  0.812   0.868   0.918   1.000"), "{text}");
    assert!(text.contains("V*(start) = 0.59049"), "{text}");
    std::fs::remove_dir_all(&out).unwrap();
}
