//! The kill test of `train`: a run killed with SIGKILL at pseudo-random moments and resumed
//! each time ends with the metrics of one uninterrupted run's shape (every update once, in
//! order, no gaps), a loadable checkpoint and no temporary files.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

mod support;
use support::text;

/// Rollouts of 4 x 32 = 128 steps, checkpointed every 256 steps.
const CONFIG: &str = "env = \"CartPole-v1\"\nalgo = \"ppo\"\ntotal_steps = 12288\n\
    eval_episodes = 2\neval_every = 256\n[ppo]\nnum_envs = 4\nn_steps = 32\nbatch_size = 64\n\
    n_epochs = 4\n";
const ROLLOUT: u64 = 128;
const TOTAL: u64 = 12288;

fn train_cmd(out: &Path, first: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_train"));
    cmd.args(first)
        .args(["--quiet", "--no-plot", "--device", "cpu", "--out"])
        .arg(out);
    cmd
}

/// Every file under `dir` whose name ends in `.tmp`.
fn temporaries(dir: &Path) -> Vec<PathBuf> {
    support::snapshot(dir)
        .into_keys()
        .filter(|p| p.to_string_lossy().ends_with(".tmp"))
        .collect()
}

#[test]
fn a_run_killed_at_random_moments_resumes_without_gaps_or_duplicates() {
    let dir = support::fresh_dir("tg-kill-resume", "run");
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.with_extension("toml");
    std::fs::write(&config, CONFIG).unwrap();
    let config_arg = config.to_str().unwrap();
    // A fixed pseudo-random sequence of delays (xorshift), so a failure can be replayed.
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut delay = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        Duration::from_millis(state % 150)
    };
    let metrics = dir.join("metrics.csv");
    let modified = || std::fs::metadata(&metrics).and_then(|m| m.modified()).ok();
    let mut kills = 0;
    for _attempt in 0..10 {
        let has_checkpoint = dir.join("checkpoint/model.safetensors").is_file();
        let mut cmd = if has_checkpoint {
            train_cmd(&dir, &["--resume"])
        } else {
            // Killed before its first checkpoint: nothing to resume, so start again.
            train_cmd(&dir, &["--config", config_arg, "--overwrite"])
        };
        let before = modified();
        let mut child = cmd
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("train starts");
        // Once the run is training (it has written metrics since it started), kill it a
        // moment later: mid-chunk, mid-write or between the writes of a chunk.
        let mut kill_at: Option<Instant> = None;
        let finished = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break Some(status);
            }
            match kill_at {
                None if modified() != before => kill_at = Some(Instant::now() + delay()),
                Some(t) if Instant::now() >= t => break None,
                _ => {}
            }
            std::thread::sleep(Duration::from_millis(2));
        };
        match finished {
            Some(status) => {
                assert!(status.success(), "train failed after {kills} kills");
                break;
            }
            None => {
                child.kill().unwrap(); // SIGKILL on Unix
                child.wait().unwrap();
                kills += 1;
            }
        }
    }
    // However the kills fell, one last resume finishes the run (or finds it finished, and
    // leaves it as it is).
    let last = if dir.join("checkpoint/model.safetensors").is_file() {
        train_cmd(&dir, &["--resume"]).output()
    } else {
        train_cmd(&dir, &["--config", config_arg, "--overwrite"]).output()
    };
    let o = last.unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let finished = support::snapshot(&dir);
    let again = train_cmd(&dir, &["--resume"]).output().unwrap();
    assert!(again.status.success(), "{}", text(&again));
    assert_eq!(
        support::snapshot(&dir),
        finished,
        "resuming a finished run changed it"
    );
    assert!(
        kills > 0,
        "the run was never interrupted; the test proves nothing"
    );
    eprintln!("{kills} kills");

    let csv = std::fs::read_to_string(dir.join("metrics.csv")).unwrap();
    let rows: Vec<Vec<&str>> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect())
        .collect();
    let steps = |kind: &str| -> Vec<u64> {
        rows.iter()
            .filter(|r| r[0] == kind)
            .map(|r| r[1].parse().unwrap())
            .collect()
    };
    // One update row per rollout, in order, none missing, none twice.
    let updates = steps("update");
    let want: Vec<u64> = (1..=TOTAL / ROLLOUT).map(|i| i * ROLLOUT).collect();
    assert_eq!(updates, want, "after {kills} kills");
    // Episodes in order of their end step; periodic evaluations once per checkpoint.
    let episodes = steps("episode");
    assert!(episodes.windows(2).all(|w| w[0] <= w[1]), "{episodes:?}");
    let evals = steps("eval");
    let mut periodic: Vec<u64> = evals[..evals.len() - 1].to_vec();
    periodic.dedup();
    assert_eq!(
        periodic.len(),
        evals.len() - 1,
        "an evaluation twice: {evals:?}"
    );
    assert_eq!(
        periodic,
        (1..=TOTAL / 256).map(|i| i * 256).collect::<Vec<_>>(),
        "{evals:?}"
    );
    assert!(temporaries(&dir).is_empty(), "{:?}", temporaries(&dir));
    let o = support::eval_once(env!("CARGO_BIN_EXE_eval"), &dir);
    assert!(o.status.success(), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains(&format!("({TOTAL} training steps)")));
    std::fs::remove_dir_all(&dir).unwrap();
    std::fs::remove_file(&config).unwrap();
}
