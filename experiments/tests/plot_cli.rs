//! The `plot` binary: a PNG from synthetic run directories; bad input gives one error line.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use tokengym_experiments::metrics::MetricsLog;
use tokengym_experiments::run_config::{Algo, RunConfig};

fn root(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tg-plot-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn fake_run(dir: &Path, algo: Algo, final_return: f64) {
    let cfg = match algo {
        Algo::Ppo => RunConfig::new(algo, "CartPole-v1", 2000),
        Algo::Reinforce => RunConfig::from_toml_str(
            "env = \"CartPole-v1\"\nalgo = \"reinforce\"\ntotal_episodes = 40\n",
        )
        .unwrap(),
    };
    cfg.write(&dir.join("config.toml")).unwrap();
    let mut log = MetricsLog::new();
    for i in 1..=40u64 {
        log.push_episode(i * 50, 0.0, final_return * i as f64 / 40.0, 50);
    }
    log.push_eval(2000, 1.0, final_return, 0.0);
    log.flush(&dir.join("metrics.csv")).unwrap();
}

fn plot(args: &[&std::ffi::OsStr]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_plot"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn draws_groups_of_runs_and_reports_bad_input_in_one_line() {
    let root = root("main");
    let runs = [
        (root.join("ppo-s0"), Algo::Ppo, 500.0),
        (root.join("ppo-s1"), Algo::Ppo, 400.0),
        (root.join("reinforce-s0"), Algo::Reinforce, 200.0),
    ];
    for (dir, algo, ret) in &runs {
        fake_run(dir, *algo, *ret);
    }
    let out = root.join("curves.png");
    let mut args: Vec<&std::ffi::OsStr> = runs.iter().map(|r| r.0.as_os_str()).collect();
    args.extend([
        "-o".as_ref(),
        out.as_os_str(),
        "--window".as_ref(),
        "5".as_ref(),
    ]);
    let done = plot(&args);
    assert!(
        done.status.success(),
        "{}",
        String::from_utf8_lossy(&done.stderr)
    );
    let bytes = std::fs::read(&out).unwrap();
    assert!(bytes.starts_with(b"\x89PNG") && bytes.len() > 10_000);

    // A missing run directory.
    let missing = root.join("nope");
    let done = plot(&[missing.as_os_str(), "-o".as_ref(), out.as_os_str()]);
    let err = String::from_utf8_lossy(&done.stderr);
    assert!(!done.status.success());
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("error: run directory") && err.contains("nope"),
        "{err}"
    );

    // A malformed metrics.csv names the file and the line.
    std::fs::write(
        runs[0].0.join("metrics.csv"),
        format!(
            "{}\nepisode,1,x,,,,,,,,,,,,,,\n",
            tokengym_experiments::metrics::HEADER
        ),
    )
    .unwrap();
    let done = plot(&[runs[0].0.as_os_str(), "-o".as_ref(), out.as_os_str()]);
    let err = String::from_utf8_lossy(&done.stderr);
    assert!(!done.status.success());
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("metrics.csv") && err.contains("line 2"),
        "{err}"
    );
    std::fs::remove_dir_all(&root).unwrap();
}
