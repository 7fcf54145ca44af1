//! The kill tests of `train` and `pretrain-lm`: a run killed with SIGKILL at pseudo-random
//! moments and resumed each time ends with the metrics of one uninterrupted run's shape (every
//! update or validation once, in order, no gaps), a loadable checkpoint and no temporary files.

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
    let ckpt = dir.join("checkpoint/model.safetensors");
    let kills = kill_repeatedly(
        0x9e37_79b9_7f4a_7c15,
        &dir.join("metrics.csv"),
        || train_cmd(&dir, &["--resume"]),
        // Killed before its first checkpoint: nothing to resume, so start again.
        || train_cmd(&dir, &["--config", config_arg, "--overwrite"]),
        || ckpt.is_file(),
    );
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

fn pretrain_cmd(out: &Path, first: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_pretrain-lm"));
    cmd.args(first)
        .args(["--quiet", "--device", "cpu", "--threads", "1", "--out"])
        .arg(out);
    cmd
}

/// Runs the binary 10 times at most, each time with `resume()` (or `restart()` while
/// `can_resume()` is false), and kills it with SIGKILL a pseudo-random moment (a fixed xorshift
/// sequence from `seed`, so a failure can be replayed) after it first writes `watched`: mid-chunk,
/// mid-write or between the writes of a chunk. Stops when a run finishes; returns the kills.
fn kill_repeatedly(
    seed: u64,
    watched: &Path,
    mut resume: impl FnMut() -> Command,
    mut restart: impl FnMut() -> Command,
    can_resume: impl Fn() -> bool,
) -> usize {
    let mut state = seed;
    let mut delay = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        Duration::from_millis(state % 150)
    };
    let modified = || std::fs::metadata(watched).and_then(|m| m.modified()).ok();
    let mut kills = 0;
    for _ in 0..10 {
        let mut cmd = if can_resume() { resume() } else { restart() };
        let before = modified();
        let mut child = cmd
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("the binary starts");
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
                assert!(status.success(), "the run failed after {kills} kills");
                break;
            }
            None => {
                child.kill().unwrap();
                child.wait().unwrap();
                kills += 1;
            }
        }
    }
    kills
}

#[test]
fn a_pretraining_run_killed_at_random_moments_resumes_without_gaps_or_duplicates() {
    let dir = support::fresh_dir("tg-kill-resume", "pretrain");
    let settings = dir.with_extension("json");
    std::fs::write(
        &settings,
        r#"{"model": {"d_model": 32, "n_layers": 1, "n_heads": 2},
            "trainer": {"eval_every": 5, "eval_batches": 2, "lr": 0.003}}"#,
    )
    .unwrap();
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../envs/data/corpus/valid.txt");
    let (settings_arg, corpus_arg) = (settings.to_str().unwrap(), corpus.to_str().unwrap());
    let fresh = [
        "--config",
        settings_arg,
        "--train",
        corpus_arg,
        "--valid",
        corpus_arg,
        "--steps",
        "120",
        "--context",
        "24",
        "--batch-size",
        "4",
        "--overwrite",
    ];
    let ckpt = dir.join("checkpoint");
    let kills = kill_repeatedly(
        0x2545_f491_4f6c_dd1d,
        &dir.join("metrics.csv"),
        || pretrain_cmd(&dir, &["--resume"]),
        || pretrain_cmd(&dir, &fresh),
        || ckpt.join("trainer_state.json").is_file(),
    );
    let last = if ckpt.join("trainer_state.json").is_file() {
        pretrain_cmd(&dir, &["--resume"]).output()
    } else {
        pretrain_cmd(&dir, &fresh).output()
    };
    let o = last.unwrap();
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        kills > 0,
        "the run was never interrupted; the test proves nothing"
    );
    eprintln!("{kills} kills");
    // One validation row every 5 steps, in order, none missing, none twice.
    let csv = std::fs::read_to_string(dir.join("metrics.csv")).unwrap();
    let steps: Vec<u64> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap().parse().unwrap())
        .collect();
    assert_eq!(
        steps,
        (1..=24).map(|i| i * 5).collect::<Vec<u64>>(),
        "after {kills} kills"
    );
    let state: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(ckpt.join("trainer_state.json")).unwrap())
            .unwrap();
    assert_eq!(state["step"], 120);
    assert!(temporaries(&dir).is_empty(), "{:?}", temporaries(&dir));
    let o = support::run(
        env!("CARGO_BIN_EXE_generate"),
        &[
            "--checkpoint",
            ckpt.to_str().unwrap(),
            "--prompt",
            "the",
            "--max-new-tokens",
            "4",
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    std::fs::remove_dir_all(&dir).unwrap();
    std::fs::remove_file(&settings).unwrap();
}
