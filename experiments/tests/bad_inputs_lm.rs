//! The bad-input corpus of the language-model binaries (`pretrain-lm`, `generate`, `rl-lm`),
//! on a tiny 2-step checkpoint: each case exits with code 1 and one readable `error:` line
//! naming the problem, and leaves on disk what was there.

use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::OnceLock;

mod support;
use support::{one_error_line, run, snapshot, text};

fn tmp(tag: &str) -> PathBuf {
    support::fresh_dir("tg-bad-inputs-lm", tag)
}

fn corpus() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../envs/data/corpus/valid.txt")
        .to_str()
        .unwrap()
        .to_owned()
}

fn pretrain(args: &[&str]) -> Output {
    let corpus = corpus();
    let mut all = vec!["--train", &corpus, "--valid", &corpus];
    all.extend(["--device", "cpu", "--threads", "1", "--quiet"]);
    all.extend(args);
    run(env!("CARGO_BIN_EXE_pretrain-lm"), &all)
}

/// The run folder of a 2-step pre-training of a tiny model (once per test binary).
fn pretrained() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| support::pretrain_tiny(env!("CARGO_BIN_EXE_pretrain-lm"), &tmp("lm")))
}

fn generate(args: &[&str]) -> Output {
    let ckpt = pretrained().join("checkpoint");
    let mut all = vec!["--checkpoint", ckpt.to_str().unwrap(), "--threads", "1"];
    all.extend(args);
    run(env!("CARGO_BIN_EXE_generate"), &all)
}

fn rl_lm(args: &[&str]) -> Output {
    let ckpt = pretrained().join("checkpoint");
    let mut all = vec![
        "--checkpoint",
        ckpt.to_str().unwrap(),
        "--threads",
        "1",
        "--quiet",
    ];
    all.extend(args);
    run(env!("CARGO_BIN_EXE_rl-lm"), &all)
}

#[test]
fn generate_refuses_flags_that_would_do_nothing() {
    let p = ["--prompt", "the movie was"];
    let cases: Vec<(Vec<&str>, Vec<&str>)> = vec![
        (
            vec!["--temperature", "0.5"],
            vec!["--temperature", "--strategy sample"],
        ),
        (vec!["--top-k", "3"], vec!["--top-k", "--strategy sample"]),
        (vec!["--top-p", "0.9"], vec!["--top-p", "--strategy sample"]),
        (
            vec!["--repetition-penalty", "0.5"],
            vec!["repetition penalty", "0.5"],
        ),
        (
            vec!["--strategy", "beam", "--repetition-penalty", "0.9"],
            vec!["repetition penalty", "0.9"],
        ),
        (
            vec!["--strategy", "beam", "--temperature", "2"],
            vec!["--temperature", "beam"],
        ),
        (vec!["--seed", "3"], vec!["--seed", "--strategy sample"]),
        (
            vec!["--num-beams", "3"],
            vec!["--num-beams", "--strategy beam"],
        ),
        (
            vec!["--strategy", "sample", "--length-penalty", "2"],
            vec!["--length-penalty", "--strategy beam"],
        ),
        (
            vec!["--max-new-tokens", "0"],
            vec!["--max-new-tokens", "at least 1"],
        ),
        (
            vec!["--strategy", "beam", "--num-beams", "0"],
            vec!["--num-beams"],
        ),
        (
            vec!["--strategy", "beam", "--num-beams", "100000"],
            vec!["--num-beams 100000", "vocabulary"],
        ),
        // Already clean errors that stay so.
        (vec!["--strategy", "psychic"], vec!["psychic"]),
        (
            vec!["--strategy", "sample", "--temperature", "0"],
            vec!["temperature"],
        ),
    ];
    for (args, needles) in cases {
        let mut all = p.to_vec();
        all.extend(&args);
        one_error_line(&generate(&all), &format!("{args:?}"), &needles);
    }
    // Characters the character tokenizer does not have are named, not scored as <unk>.
    let o = generate(&["--prompt", "the movie was \u{2603}"]);
    one_error_line(
        &o,
        "unknown prompt char",
        &["--prompt", "'\u{2603}'", "<unk>"],
    );
    let o = generate(&["--score", "the movie was \u{2603} and \u{e9}"]);
    one_error_line(
        &o,
        "unknown score chars",
        &["--score", "'\u{2603}'", "'\u{e9}'"],
    );
    let o = generate(&["--prompt", "12+7=", "--choices", "19,\u{2603}"]);
    one_error_line(&o, "unknown choice char", &["--choices"]);
    // The same flags in their own mode work.
    let o = generate(&[
        "--prompt",
        "the movie was",
        "--strategy",
        "sample",
        "--temperature",
        "0.5",
        "--seed",
        "1",
        "--max-new-tokens",
        "2",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    // The repetition penalty works in greedy decoding (the default), as in transformers: a
    // huge penalty makes every completion token one that is not in the prompt yet.
    let completion = |extra: &[&str]| {
        let mut args = vec!["--prompt", "aaaa", "--max-new-tokens", "3"];
        args.extend(extra);
        let o = generate(&args);
        assert!(o.status.success(), "{}", text(&o));
        let out = String::from_utf8_lossy(&o.stdout).into_owned();
        let line = out
            .lines()
            .find(|l| l.starts_with("completion: "))
            .unwrap()
            .to_owned();
        serde_json::from_str::<String>(line.trim_start_matches("completion: ")).unwrap()
    };
    let penalised = completion(&["--repetition-penalty", "1000000"]);
    let chars: Vec<char> = penalised.chars().collect();
    assert!(!chars.contains(&'a'), "{penalised:?}");
    let mut unique = chars.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), chars.len(), "a token repeated: {penalised:?}");
    // And in beam search: every beam's text is free of repeats too.
    let mut args = vec![
        "--prompt",
        "aaaa",
        "--max-new-tokens",
        "3",
        "--strategy",
        "beam",
    ];
    args.extend(["--num-beams", "2", "--repetition-penalty", "1000000"]);
    let o = generate(&args);
    assert!(o.status.success(), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    let beams: Vec<&str> = out
        .lines()
        .filter(|l| l.trim_start().starts_with("beam "))
        .collect();
    assert_eq!(beams.len(), 2, "{out}");
    for line in beams {
        let quoted = line.split_once(": ").unwrap().1;
        let text: String = serde_json::Deserializer::from_str(quoted)
            .into_iter::<String>()
            .next()
            .unwrap()
            .unwrap();
        assert!(!text.contains('a'), "{line}");
    }
}

#[test]
fn pretrain_refuses_empty_runs_unknown_characters_and_replacing_a_run() {
    let dir = tmp("pretrain-bad");
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("run");
    let out_s = out.to_str().unwrap();
    one_error_line(
        &pretrain(&["--steps", "0", "--out", out_s]),
        "--steps 0",
        &["--steps"],
    );
    let huge = ["--steps", "2", "--batch-size", "1000000000", "--out", out_s];
    one_error_line(
        &pretrain(&huge),
        "--batch-size 1e9",
        &["--batch-size", "GiB"],
    );
    let odd = dir.join("odd.txt");
    std::fs::write(&odd, "the movie was great\nna\u{ef}ve caf\u{e9}\n").unwrap();
    let corpus = corpus();
    let o = run(
        env!("CARGO_BIN_EXE_pretrain-lm"),
        &[
            "--train",
            &corpus,
            "--valid",
            odd.to_str().unwrap(),
            "--steps",
            "2",
            "--quiet",
            "--out",
            out_s,
        ],
    );
    one_error_line(
        &o,
        "unknown validation chars",
        &["validation", "'\u{ef}'", "'\u{e9}'"],
    );
    assert!(!out.exists(), "a refused run left {}", out.display());
    // A folder holding an earlier run's metrics (its checkpoint gone) is not overwritten.
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("metrics.csv"), "step,train_loss\n").unwrap();
    let before = snapshot(&out);
    one_error_line(
        &pretrain(&["--steps", "2", "--out", out_s]),
        "pretrain over metrics",
        &["metrics.csv", "--overwrite"],
    );
    one_error_line(
        &pretrain(&["--resume", "--out", out_s]),
        "resume of no run",
        &["run config"],
    );
    assert_eq!(snapshot(&out), before);
    // The corpus the run reads cannot be one of its outputs.
    let inside = out.join("metrics.csv");
    let o = run(
        env!("CARGO_BIN_EXE_pretrain-lm"),
        &[
            "--train",
            inside.to_str().unwrap(),
            "--valid",
            &corpus,
            "--steps",
            "2",
            "--overwrite",
            "--quiet",
            "--out",
            out_s,
        ],
    );
    one_error_line(
        &o,
        "corpus inside the outputs",
        &["--train", "choose another --out"],
    );
    assert_eq!(snapshot(&out), before);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn rl_lm_never_writes_over_its_model_or_an_earlier_run() {
    let lm = pretrained();
    let before = snapshot(lm);
    // Its own pretraining folder, the checkpoint folder, a folder inside it: always refused.
    for out in [
        lm.to_path_buf(),
        lm.join("checkpoint"),
        lm.join("checkpoint/sub"),
    ] {
        for extra in [&[][..], &["--overwrite"][..]] {
            let mut args = vec!["--steps", "1", "--out", out.to_str().unwrap()];
            args.extend(extra);
            one_error_line(
                &rl_lm(&args),
                &format!("--out {}", out.display()),
                &["--checkpoint", "choose another --out"],
            );
        }
    }
    assert_eq!(snapshot(lm), before, "the pretraining run changed");
    let dir = tmp("rl-out");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("metrics.csv"), "step\n").unwrap();
    std::fs::write(dir.join("notes.txt"), "mine").unwrap();
    let out_s = dir.to_str().unwrap();
    let kept = snapshot(&dir);
    one_error_line(
        &rl_lm(&["--steps", "1", "--out", out_s]),
        "earlier run",
        &["already holds a run", "metrics.csv", "--overwrite"],
    );
    one_error_line(
        &rl_lm(&[
            "--steps",
            "1",
            "--batch",
            "1000000000",
            "--out",
            out_s,
            "--overwrite",
        ]),
        "--batch 1e9",
        &["--batch", "GiB"],
    );
    let huge = ["--prompts", "100000000000", "--out", out_s, "--overwrite"];
    one_error_line(&rl_lm(&huge), "--prompts 1e11", &["--prompts", "memory"]);
    let huge = ["--task", "preference", "--rm-groups", "100000000000"];
    let mut args = huge.to_vec();
    args.extend(["--out", out_s, "--overwrite"]);
    one_error_line(
        &rl_lm(&args),
        "--rm-groups 1e11",
        &["--rm-groups", "memory"],
    );
    assert_eq!(snapshot(&dir), kept, "a refused run changed the folder");
    // With --overwrite the run replaces its own outputs and nothing else.
    let o = rl_lm(&[
        "--steps",
        "1",
        "--batch",
        "2",
        "--prompts",
        "4",
        "--max-new-tokens",
        "2",
        "--algo",
        "reinforce",
        "--out",
        out_s,
        "--overwrite",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(
        std::fs::read_to_string(dir.join("notes.txt")).unwrap(),
        "mine"
    );
    assert!(dir.join("checkpoint").is_dir());
    let metrics = std::fs::read_to_string(dir.join("metrics.csv")).unwrap();
    assert!(metrics.starts_with("step,mean_reward"), "{metrics}");
    std::fs::remove_dir_all(&dir).unwrap();
}
