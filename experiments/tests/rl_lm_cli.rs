//! The `rl-lm` binary end to end: a tiny `pretrain-lm` checkpoint is fine-tuned for a few steps
//! with each algorithm; the run folder holds the metrics, plots, summary, samples and a
//! checkpoint `generate` can load; bad arguments give one `error:` line and exit code 1.

use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::OnceLock;

mod support;
use support::{run, text};

fn rl_lm(args: &[&str]) -> Output {
    run(env!("CARGO_BIN_EXE_rl-lm"), args)
}

fn tmp(tag: &str) -> PathBuf {
    support::fresh_dir("tg-rl-lm-cli", tag)
}

/// `generate` loads the checkpoint in `dir` and completes a prompt.
fn assert_generates(dir: &Path) {
    let o = run(
        env!("CARGO_BIN_EXE_generate"),
        &[
            "--checkpoint",
            dir.to_str().unwrap(),
            "--prompt",
            "the movie was",
            "--max-new-tokens",
            "3",
            "--threads",
            "1",
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
}

/// A 2-step pre-training run of a tiny model (once per test binary).
fn checkpoint() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        support::pretrain_tiny(env!("CARGO_BIN_EXE_pretrain-lm"), &tmp("pretrain"))
            .join("checkpoint")
    })
}

fn fine_tune(algo: &str, task: &str) -> PathBuf {
    fine_tune_with(algo, task, &format!("{algo}-{task}"), &[])
}

/// Runs a 2-step fine-tuning into a fresh folder named by `tag` and checks its outputs; returns
/// the folder.
fn fine_tune_with(algo: &str, task: &str, tag: &str, extra: &[&str]) -> PathBuf {
    let out = tmp(tag);
    let ckpt = checkpoint().to_str().unwrap();
    let mut args = vec![
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
        "--rm-groups",
        "8",
        "--rm-templates",
        "8",
        "--max-new-tokens",
        "6",
        "--out",
        out.to_str().unwrap(),
        "--threads",
        "1",
        "--quiet",
    ];
    args.extend_from_slice(extra);
    let o = rl_lm(&args);
    assert!(o.status.success(), "{}", text(&o));
    for f in [
        "metrics.csv",
        "reward.png",
        "kl.png",
        "entropy.png",
        "length.png",
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
        "step,mean_reward,kl,entropy,ref_perplexity,mean_response_len,loss,wall_seconds"
    );
    assert_eq!(lines.len(), 3, "{csv}");
    assert!(lines[2].starts_with("2,"));
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    for key in [
        "mean_reward_start",
        "mean_reward_end",
        "kl_end",
        "entropy_start",
        "entropy_end",
        "ref_perplexity_start",
        "ref_perplexity_end",
        "wall_seconds",
    ] {
        assert!(
            summary[key].as_f64().is_some_and(f64::is_finite),
            "{algo}: {key}"
        );
    }
    assert_eq!(summary["algo"], algo);
    assert_eq!(summary["task"], task);
    let trained_rm = task == "preference" && !extra.contains(&"--reward-model");
    let acc = summary["reward_model"]["template_accuracy"].as_f64();
    assert_eq!(acc.is_some(), trained_rm, "{summary}");
    assert_eq!(
        out.join("reward_model/reward_model.json").is_file(),
        trained_rm
    );
    let lexicon = summary["lexicon_reward_end"].as_f64();
    assert_eq!(lexicon.is_some(), task == "preference", "{summary}");
    let samples = std::fs::read_to_string(out.join("samples.txt")).unwrap();
    assert!(
        samples.contains("before") && samples.contains("after"),
        "{samples}"
    );
    // The tuned checkpoint loads and generates.
    assert_generates(&out.join("checkpoint"));
    out
}

/// metrics.csv without its wall-clock column.
fn metrics_without_time(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("metrics.csv"))
        .unwrap()
        .lines()
        .map(|l| l.rsplit_once(',').unwrap().0.to_owned() + "\n")
        .collect()
}

#[test]
fn reinforce_runs_write_their_folder() {
    let out = fine_tune("reinforce", "sentiment");
    let _ = std::fs::remove_dir_all(&out);
    let out = fine_tune_with(
        "reinforce",
        "sentiment",
        "reinforce-learned",
        &["--baseline", "learned"],
    );
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn ppo_runs_write_their_folder_and_repeat_with_the_same_seed() {
    let a = fine_tune_with("ppo", "sentiment", "ppo-a", &["--seed", "5"]);
    let b = fine_tune_with("ppo", "sentiment", "ppo-b", &["--seed", "5"]);
    let c = fine_tune_with("ppo", "sentiment", "ppo-c", &["--seed", "6"]);
    assert_eq!(metrics_without_time(&a), metrics_without_time(&b));
    assert_ne!(metrics_without_time(&a), metrics_without_time(&c));
    assert_eq!(
        std::fs::read(a.join("samples.txt")).unwrap(),
        std::fs::read(b.join("samples.txt")).unwrap()
    );
    // The runs draw as one group of seeds.
    let png = tmp("ppo-curves").with_extension("png");
    let o = run(
        env!("CARGO_BIN_EXE_plot"),
        &[
            a.to_str().unwrap(),
            b.to_str().unwrap(),
            c.to_str().unwrap(),
            "-o",
            png.to_str().unwrap(),
            "--metric",
            "lm",
            "--window",
            "1",
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(std::fs::metadata(&png).unwrap().len() > 1000);
    let _ = std::fs::remove_file(&png);
    for d in [a, b, c] {
        let _ = std::fs::remove_dir_all(&d);
    }
}

#[test]
fn group_run_writes_its_folder() {
    let out = fine_tune("group", "arithmetic");
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn reward_model_task_trains_saves_and_reuses_a_reward_model() {
    let first = fine_tune("reinforce", "preference");
    let rm = first.join("reward_model");
    let again = fine_tune_with(
        "ppo",
        "preference",
        "preference-reuse",
        &["--reward-model", rm.to_str().unwrap()],
    );
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(again.join("summary.json")).unwrap())
            .unwrap();
    assert_eq!(summary["reward_model"]["loaded_from"], rm.to_str().unwrap());
    // A language-model checkpoint is not a reward model.
    let o = rl_lm(&[
        "--checkpoint",
        checkpoint().to_str().unwrap(),
        "--task",
        "preference",
        "--reward-model",
        checkpoint().to_str().unwrap(),
        "--out",
        tmp("not-rm").to_str().unwrap(),
        "--quiet",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("not a reward model"), "{err}");
    for d in [first, again] {
        let _ = std::fs::remove_dir_all(&d);
    }
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
    // The metrics of the updates before the failed one are written (a header and one row each).
    let failed: usize = err["error: step ".len()..]
        .split(' ')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no step number in {err}"));
    let csv = std::fs::read_to_string(out.join("metrics.csv")).unwrap();
    assert!(csv.starts_with("step,mean_reward,"), "{csv}");
    assert_eq!(csv.lines().count(), failed, "{csv}");
    // The kept model is a good one: it still generates.
    assert_generates(&out.join("checkpoint"));
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
        vec!["--checkpoint", ckpt, "--reward-model", ckpt, "--out", out],
        vec![
            "--checkpoint",
            ckpt,
            "--algo",
            "reinforce",
            "--ent-coef",
            "0.1",
            "--out",
            out,
        ],
        vec!["--checkpoint", ckpt, "--ent-coef", "-1", "--out", out],
        vec![
            "--checkpoint",
            ckpt,
            "--algo",
            "ppo",
            "--baseline",
            "learned",
            "--out",
            out,
        ],
        vec![
            "--checkpoint",
            ckpt,
            "--task",
            "preference",
            "--rm-groups",
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

/// `rl-lm --model DIR` on a Hugging Face folder (the tiny Qwen2 fixture): PPO with a value head
/// on top and a frozen reference trains, and the tuned model is written back as a Hugging Face
/// folder (its config, tokenizer files and chat template) that `generate` reads.
#[test]
fn ppo_fine_tunes_a_hugging_face_folder_and_saves_one() {
    let model = Path::new(env!("CARGO_MANIFEST_DIR")).join("../agents/lm/tests/fixtures/hf/qwen2");
    let out = tmp("hf-qwen2");
    let o = rl_lm(&[
        "--model",
        model.to_str().unwrap(),
        "--task",
        "arithmetic",
        "--algo",
        "ppo",
        "--steps",
        "2",
        "--batch",
        "4",
        "--max-new-tokens",
        "4",
        "--out",
        out.to_str().unwrap(),
        "--threads",
        "1",
        "--quiet",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let ckpt = out.join("checkpoint");
    for f in [
        "config.json",
        "model.safetensors",
        "tokenizer.json",
        "tokenizer_config.json",
        "chat_template.jinja",
        "generation_config.json",
    ] {
        assert!(ckpt.join(f).is_file(), "{f} missing");
    }
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(ckpt.join("config.json")).unwrap()).unwrap();
    assert_eq!(config["model_type"], "qwen2");
    // The safetensors header (an 8-byte little-endian length, then JSON) names every tensor:
    // the value head is not among them, the decoder's embedding is.
    let st = std::fs::read(ckpt.join("model.safetensors")).unwrap();
    let header_len = u64::from_le_bytes(st[..8].try_into().unwrap()) as usize;
    let header: serde_json::Value = serde_json::from_slice(&st[8..8 + header_len]).unwrap();
    let names: Vec<&String> = header.as_object().unwrap().keys().collect();
    assert!(
        names
            .iter()
            .any(|n| n.as_str() == "model.embed_tokens.weight"),
        "{names:?}"
    );
    assert!(!names.iter().any(|n| n.contains("value_head")), "{names:?}");
    assert_generates(&ckpt);
    let _ = std::fs::remove_dir_all(&out);
}

/// `--reward classifier:DIR[:LABEL]`: a Hugging Face sentiment classifier's probability of
/// POSITIVE is the reward (in [0, 1]); a missing folder, an unknown label and a task with its
/// own reward model are one-line errors.
#[test]
fn a_hugging_face_classifier_is_the_reward() {
    let classifier = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../agents/lm/tests/fixtures/hf-classifiers/distilbert");
    let spec = format!("classifier:{}:POSITIVE", classifier.display());
    let out = fine_tune_with("reinforce", "sentiment", "classifier", &["--reward", &spec]);
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    for key in ["mean_reward_start", "mean_reward_end"] {
        let r = summary[key].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&r), "{key} = {r} is not a probability");
    }
    let ckpt = checkpoint().to_str().unwrap();
    let missing = format!(
        "classifier:{}",
        tmp("no-such-classifier").join("x").display()
    );
    let unknown = format!("classifier:{}:HAPPY", classifier.display());
    for (args, needles) in [
        (
            vec!["--reward", missing.as_str()],
            vec!["no classifier folder"],
        ),
        (vec!["--reward", "lexicon"], vec!["classifier:DIR"]),
        (
            vec!["--reward", unknown.as_str()],
            vec!["HAPPY", "NEGATIVE, POSITIVE"],
        ),
        (
            vec!["--reward", spec.as_str(), "--task", "preference"],
            vec!["--task sentiment and arithmetic"],
        ),
    ] {
        let dest = tmp("classifier-bad");
        let mut all = vec![
            "--checkpoint",
            ckpt,
            "--out",
            dest.to_str().unwrap(),
            "--quiet",
        ];
        all.extend(args.iter().copied());
        let o = rl_lm(&all);
        support::one_error_line(&o, &format!("{args:?}"), &needles);
        assert!(!dest.join("checkpoint").exists(), "{args:?} wrote a run");
    }
}

/// `--dtype bf16` tunes (and saves) a Hugging Face folder stored in f32 as bf16.
#[test]
fn dtype_sets_the_kind_the_model_is_tuned_in() {
    let model = Path::new(env!("CARGO_MANIFEST_DIR")).join("../agents/lm/tests/fixtures/hf/llama");
    let out = tmp("hf-llama-bf16");
    let o = rl_lm(&[
        "--model",
        model.to_str().unwrap(),
        "--dtype",
        "bf16",
        "--task",
        "arithmetic",
        "--algo",
        "reinforce",
        "--steps",
        "1",
        "--batch",
        "2",
        "--max-new-tokens",
        "3",
        "--out",
        out.to_str().unwrap(),
        "--threads",
        "1",
        "--quiet",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("checkpoint/config.json")).unwrap())
            .unwrap();
    assert_eq!(config["dtype"], "bfloat16");
    let stored: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(model.join("config.json")).unwrap()).unwrap();
    assert_eq!(stored["dtype"], "float32");
    let _ = std::fs::remove_dir_all(&out);
}
