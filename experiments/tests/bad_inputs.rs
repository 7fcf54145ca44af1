//! The bad-input corpus of the classic binaries (`train`, `eval`, `bandit`, `gridworld`,
//! `rollout`): every case exits with code 1 and one readable `error:` line naming the problem,
//! and leaves on disk what was there. Budgets are tiny, so the whole file runs in seconds.
//! (`bad_inputs_lm.rs` holds the language-model binaries' cases.)

use std::path::{Path, PathBuf};
use std::process::Output;

mod support;
use support::{one_error_line, run, snapshot, text};

fn tmp(tag: &str) -> PathBuf {
    support::fresh_dir("tg-bad-inputs", tag)
}

fn train(args: &[&str], out: &Path) -> Output {
    let mut all: Vec<&str> = args.to_vec();
    all.extend(["--quiet", "--no-plot", "--device", "cpu", "--out"]);
    all.push(out.to_str().unwrap());
    run(env!("CARGO_BIN_EXE_train"), &all)
}

fn ok(o: &Output, what: &str) {
    assert!(o.status.success(), "{what}: {}", text(o));
}

fn summary_steps(dir: &Path) -> u64 {
    let text = std::fs::read_to_string(dir.join("summary.json")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v["total_steps"].as_u64().unwrap()
}

/// `bytes` with the first `from` replaced by `to` (same length).
fn edited(bytes: &[u8], from: &str, to: &str) -> Vec<u8> {
    assert_eq!(from.len(), to.len());
    let at = bytes
        .windows(from.len())
        .position(|w| w == from.as_bytes())
        .unwrap_or_else(|| panic!("{from} not found"));
    let mut out = bytes.to_vec();
    out[at..at + to.len()].copy_from_slice(to.as_bytes());
    out
}

/// A finished 512-step PPO run on CartPole (the preset: rollouts of 8 x 32 steps).
fn finished_run(tag: &str) -> PathBuf {
    let dir = tmp(tag);
    ok(
        &train(&["--env", "CartPole-v1", "--steps", "512"], &dir),
        "first run",
    );
    assert_eq!(summary_steps(&dir), 512);
    dir
}

#[test]
fn train_never_replaces_a_run_and_resume_means_what_it_says() {
    let dir = finished_run("resume");
    let before = snapshot(&dir);
    let cases: Vec<(Vec<&str>, Vec<&str>)> = vec![
        (
            vec!["--steps", "512"],
            vec!["already holds a run", "--resume"],
        ),
        (
            vec!["--resume", "--env", "Acrobot-v1"],
            vec!["--env Acrobot-v1", "CartPole-v1"],
        ),
        (vec!["--resume", "--seed", "9"], vec!["--seed 9"]),
        (
            vec!["--resume", "--algo", "reinforce"],
            vec!["--algo reinforce"],
        ),
        (vec!["--resume", "--config", "x.toml"], vec!["--config"]),
    ];
    for (args, needles) in &cases {
        one_error_line(&train(args, &dir), &format!("{args:?}"), needles);
        assert_eq!(snapshot(&dir), before, "{args:?} changed the run folder");
    }
    // A finished run resumed with no larger budget has nothing to do, and changes nothing.
    for budget in [&[][..], &["--steps", "256"][..]] {
        let mut args = vec!["--resume"];
        args.extend(budget);
        let o = train(&args, &dir);
        ok(&o, "resume of a finished run");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            err.contains("already trained 512 steps") && err.contains("nothing to do"),
            "{err}"
        );
        assert_eq!(snapshot(&dir), before, "{args:?} changed the run folder");
    }
    // Flags that repeat the run's own values are fine, and --steps extends the budget (a
    // total, as in the config file). Temporary files of a killed write are cleaned up.
    let stale = [
        dir.join("metrics.csv.4294967295.tmp"),
        dir.join("checkpoint/model.safetensors.4294967295.tmp"),
    ];
    for f in &stale {
        std::fs::write(f, b"half a file").unwrap();
    }
    let o = train(
        &[
            "--resume",
            "--env",
            "CartPole-v1",
            "--seed",
            "0",
            "--steps",
            "1024",
        ],
        &dir,
    );
    ok(&o, "resume to 1024 steps");
    assert_eq!(summary_steps(&dir), 1024);
    for f in &stale {
        assert!(!f.exists(), "{} was left behind", f.display());
    }
    let config = std::fs::read_to_string(dir.join("config.toml")).unwrap();
    assert!(config.contains("total_steps = 1024"), "{config}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_run_whose_checkpoint_or_config_changed_is_not_resumed() {
    let dir = finished_run("tampered");
    let ckpt = dir.join("checkpoint/model.safetensors");
    let good = std::fs::read(&ckpt).unwrap();
    // Editing the header's steps or environment is caught by the checksum.
    for (from, to) in [
        (r#"\"steps\":512"#, r#"\"steps\":999"#),
        (
            r#"\"env_id\":\"CartPole-v1\""#,
            r#"\"env_id\":\"CartPole-v0\""#,
        ),
    ] {
        std::fs::write(&ckpt, edited(&good, from, to)).unwrap();
        let before = snapshot(&dir);
        let o = support::eval_once(env!("CARGO_BIN_EXE_eval"), &dir);
        one_error_line(
            &o,
            "eval of an edited checkpoint",
            &["checksum mismatch", "metadata"],
        );
        let o = train(&["--resume", "--steps", "1024"], &dir);
        one_error_line(&o, "resume of an edited checkpoint", &["checksum mismatch"]);
        assert_eq!(snapshot(&dir), before);
    }
    std::fs::write(&ckpt, &good).unwrap();
    // A config for another environment than the checkpoint's.
    let config_path = dir.join("config.toml");
    let config = std::fs::read_to_string(&config_path).unwrap();
    std::fs::write(
        &config_path,
        config.replace("env = \"CartPole-v1\"", "env = \"Acrobot-v1\""),
    )
    .unwrap();
    let before = snapshot(&dir);
    let o = train(&["--resume", "--steps", "1024"], &dir);
    one_error_line(&o, "config of another env", &["Acrobot-v1", "CartPole-v1"]);
    assert_eq!(snapshot(&dir), before);
    // A changed hyperparameter.
    std::fs::write(
        &config_path,
        config.replace("n_epochs = 20", "n_epochs = 3"),
    )
    .unwrap();
    let o = train(&["--resume", "--steps", "1024"], &dir);
    one_error_line(&o, "changed hyperparameter", &["n_epochs"]);
    std::fs::write(&config_path, &config).unwrap();
    // A deleted checkpoint is not a run to start again from step 0.
    std::fs::remove_dir_all(dir.join("checkpoint")).unwrap();
    let before = snapshot(&dir);
    let o = train(&["--resume", "--steps", "1024"], &dir);
    one_error_line(
        &o,
        "resume without checkpoint",
        &["nothing to resume", "model.safetensors"],
    );
    let o = train(&["--steps", "512"], &dir);
    one_error_line(
        &o,
        "new run over metrics",
        &["already holds a run", "metrics.csv", "--overwrite"],
    );
    assert_eq!(snapshot(&dir), before, "metrics.csv and config.toml stay");
    // --overwrite replaces the run.
    ok(
        &train(&["--steps", "256", "--overwrite"], &dir),
        "overwrite",
    );
    assert_eq!(summary_steps(&dir), 256);
    // --resume on a folder that is no run at all.
    let empty = tmp("empty");
    let o = train(&["--resume"], &empty);
    one_error_line(
        &o,
        "resume of nothing",
        &["nothing to resume", "config.toml"],
    );
    assert!(!empty.exists());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn train_refuses_budgets_and_settings_that_cannot_work() {
    let dir = tmp("train-values");
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("run");
    let config = |name: &str, extra: &str| -> String {
        let path = dir.join(name);
        std::fs::write(
            &path,
            format!("env = \"CartPole-v1\"\nalgo = \"ppo\"\ntotal_steps = 1000\n{extra}"),
        )
        .unwrap();
        path.to_str().unwrap().to_owned()
    };
    let cases: Vec<(Vec<String>, Vec<&str>)> = vec![
        (
            vec!["--steps".into(), "1".into()],
            vec!["smaller than one PPO rollout", "256"],
        ),
        (
            vec!["--env".into(), "CartPol-v1".into()],
            vec!["CartPole-v1"],
        ),
        (
            vec![
                "--config".into(),
                config("eps.toml", "[ppo.net]\nadam_eps = inf\n"),
            ],
            vec!["adam_eps"],
        ),
        (
            vec![
                "--config".into(),
                config("clip.toml", "[ppo]\nclip_obs = 1e-30\n"),
            ],
            vec!["clip_obs"],
        ),
        (
            vec![
                "--config".into(),
                config("envs.toml", "[ppo]\nnum_envs = 100000\n"),
            ],
            vec!["smaller than one PPO rollout"],
        ),
        // Malformed configs that already failed cleanly stay that way.
        (
            vec!["--config".into(), config("key.toml", "[ppo]\nn_step = 3\n")],
            vec!["n_step"],
        ),
        (
            vec!["--config".into(), config("syntax.toml", "[ppo\n")],
            vec!["line"],
        ),
        (vec!["--algo".into(), "sac".into()], vec!["sac"]),
    ];
    for (args, needles) in &cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        one_error_line(&train(&args, &out), &format!("{args:?}"), needles);
        assert!(!out.exists(), "{args:?} left a run folder");
    }
    // A minibatch that does not divide the rollout trains, with Stable-Baselines3's warning.
    let path = config(
        "batch.toml",
        "[ppo]\nnum_envs = 2\nn_steps = 64\nbatch_size = 100\n",
    );
    let o = train(&["--config", &path, "--steps", "200"], &out);
    ok(&o, "non-dividing minibatch");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("warning: batch_size 100 does not divide"),
        "{err}"
    );
    assert!(err.contains("the run takes 256 steps, not 200"), "{err}");
    assert_eq!(summary_steps(&out), 256);
    // A device that cannot start leaves no half-made run folder.
    let cuda = dir.join("cuda");
    let o = run(
        env!("CARGO_BIN_EXE_train"),
        &[
            "--steps",
            "256",
            "--quiet",
            "--device",
            "cuda",
            "--out",
            cuda.to_str().unwrap(),
        ],
    );
    if !o.status.success() {
        one_error_line(&o, "--device cuda", &["cuda"]);
        assert!(!cuda.exists(), "a failed start left {}", cuda.display());
    }
    // eval names the path it cannot write.
    let o = run(
        env!("CARGO_BIN_EXE_eval"),
        &[
            "--checkpoint",
            out.to_str().unwrap(),
            "--episodes",
            "1",
            "--device",
            "cpu",
            "--out",
            "/proc/tokengym-x",
        ],
    );
    one_error_line(&o, "eval --out /proc", &["/proc/tokengym-x"]);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn report_binaries_refuse_nonsense_and_keep_earlier_runs() {
    let dir = tmp("reports");
    let out = dir.join("out");
    let out_s = out.to_str().unwrap();
    let bandit = |extra: &[&str]| {
        let mut args = vec![
            "--runs",
            "2",
            "--steps",
            "5",
            "--threads",
            "1",
            "--out",
            out_s,
        ];
        args.extend(extra);
        run(env!("CARGO_BIN_EXE_bandit"), &args)
    };
    one_error_line(
        &bandit(&["--k", "100000000000"]),
        "bandit --k",
        &["k", "memory"],
    );
    one_error_line(
        &run(
            env!("CARGO_BIN_EXE_bandit"),
            &[
                "--runs",
                "1",
                "--steps",
                "100000000000",
                "--threads",
                "1",
                "--out",
                out_s,
            ],
        ),
        "bandit --steps",
        &["steps", "memory"],
    );
    one_error_line(
        &bandit(&["--k", "0"]),
        "bandit --k 0",
        &["k must be at least 1"],
    );
    one_error_line(
        &run(
            env!("CARGO_BIN_EXE_bandit"),
            &[
                "--runs",
                "100000000000",
                "--steps",
                "1",
                "--threads",
                "1",
                "--out",
                out_s,
            ],
        ),
        "bandit --runs",
        &["runs", "memory"],
    );
    assert!(!out.exists());
    ok(&bandit(&[]), "bandit");
    let before = snapshot(&out);
    one_error_line(
        &bandit(&[]),
        "bandit again",
        &["already holds a run", "--overwrite"],
    );
    assert_eq!(snapshot(&out), before);
    ok(&bandit(&["--overwrite"]), "bandit --overwrite");

    let out = dir.join("gridworld");
    let out_s = out.to_str().unwrap();
    let grid = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend(["--out", out_s]);
        run(env!("CARGO_BIN_EXE_gridworld"), &all)
    };
    one_error_line(
        &grid(&["--smooth", "0"]),
        "gridworld --smooth 0",
        &["--smooth"],
    );
    one_error_line(
        &grid(&["--eval-episodes", "0"]),
        "gridworld --eval-episodes",
        &["--eval-episodes"],
    );
    one_error_line(
        &grid(&["--episodes", "0"]),
        "gridworld --episodes",
        &["episode"],
    );
    one_error_line(
        &grid(&["--epsilon", "7", "--episodes", "2", "--seeds", "1"]),
        "gridworld --epsilon",
        &["7"],
    );
    let many = [
        "--resamples",
        "100000000000",
        "--episodes",
        "2",
        "--seeds",
        "1",
    ];
    one_error_line(
        &grid(&many),
        "gridworld --resamples",
        &["resamples", "memory"],
    );
    assert!(!out.exists());
    ok(&grid(&["--planning"]), "gridworld --planning");
    let before = snapshot(&out);
    one_error_line(
        &grid(&["--planning"]),
        "gridworld --planning again",
        &["planning.txt", "--overwrite"],
    );
    assert_eq!(snapshot(&out), before);

    let out = dir.join("rollout");
    let out_s = out.to_str().unwrap();
    let rollout = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend(["--no-gif", "--episodes", "1", "--out", out_s]);
        run(env!("CARGO_BIN_EXE_rollout"), &all)
    };
    let many = rollout(&["--seeds", "100000000000"]);
    one_error_line(&many, "rollout --seeds", &["--seeds", "memory"]);
    assert!(!out.exists());
    ok(&rollout(&[]), "rollout");
    let before = snapshot(&out);
    one_error_line(
        &rollout(&[]),
        "rollout again",
        &["summary.json", "--overwrite"],
    );
    one_error_line(
        &rollout(&["--env", "CartPol-v1", "--overwrite"]),
        "rollout --env",
        &["CartPole-v1"],
    );
    assert_eq!(snapshot(&out), before);
    ok(&rollout(&["--overwrite"]), "rollout --overwrite");
    std::fs::remove_dir_all(&dir).unwrap();
}
