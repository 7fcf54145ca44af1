//! The `pretrain-lm` and `generate` binaries end to end: a tiny pre-training run writes its
//! outputs and a checkpoint that `generate` completes, scores and ranks with; bad arguments give
//! one error line and a failing exit code.

use std::path::{Path, PathBuf};
use std::process::Output;

use tokengym_envs::text::{CharTokenizer, DEFAULT_SPECIALS};

mod support;
use support::run;

fn pretrain(args: &[&str]) -> Output {
    run(env!("CARGO_BIN_EXE_pretrain-lm"), args)
}

fn generate(args: &[&str]) -> Output {
    let mut all = args.to_vec();
    all.extend(["--threads", "1"]);
    run(env!("CARGO_BIN_EXE_generate"), &all)
}

fn corpus(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../envs/data/corpus")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

fn out_dir(tag: &str) -> PathBuf {
    support::fresh_dir("tg-lm-cli", tag)
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn assert_ok(o: &Output) {
    assert!(
        o.status.success(),
        "stdout: {}\nstderr: {}",
        stdout(o),
        String::from_utf8_lossy(&o.stderr)
    );
}

fn tiny_args<'a>(
    train: &'a str,
    valid: &'a str,
    out: &'a str,
    steps: &'a str,
    config: &'a str,
) -> Vec<&'a str> {
    vec![
        "--config",
        config,
        "--train",
        train,
        "--valid",
        valid,
        "--out",
        out,
        "--steps",
        steps,
        "--context",
        "24",
        "--batch-size",
        "4",
        "--device",
        "cpu",
        "--threads",
        "1",
        "--quiet",
    ]
}

#[test]
fn pretrain_writes_its_run_folder_and_generate_uses_the_checkpoint() {
    let dir = out_dir("run");
    let out = dir.to_str().unwrap();
    // The validation text doubles as a small training text to keep the run short.
    let (train, valid) = (corpus("valid.txt"), corpus("valid.txt"));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("settings.json");
    std::fs::write(
        &config,
        r#"{"model": {"d_model": 32, "n_layers": 1, "n_heads": 2},
            "trainer": {"eval_every": 4, "lr": 0.003}}"#,
    )
    .unwrap();
    let o = pretrain(&tiny_args(
        &train,
        &valid,
        out,
        "6",
        config.to_str().unwrap(),
    ));
    assert_ok(&o);
    assert!(stdout(&o).contains("unigram baseline"), "{}", stdout(&o));
    for f in [
        "config.json",
        "tokenizer.json",
        "metrics.csv",
        "loss.png",
        "summary.json",
        "checkpoint/model.safetensors",
        "checkpoint/config.json",
        "checkpoint/tokenizer.json",
        "checkpoint/trainer_state.json",
    ] {
        assert!(dir.join(f).is_file(), "{f} missing");
    }
    let png = std::fs::read(dir.join("loss.png")).unwrap();
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["steps"], 6);
    let run_config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("config.json")).unwrap()).unwrap();
    assert_eq!(run_config["model"]["d_model"], 32);
    assert_eq!(run_config["trainer"]["lr"], 0.003);
    assert_eq!(run_config["trainer"]["context"], 24);
    for key in [
        "final_val_loss",
        "final_val_ppl",
        "unigram_ppl",
        "tokens_per_second",
        "wall_seconds",
    ] {
        assert!(summary[key].as_f64().is_some_and(f64::is_finite), "{key}");
    }
    let csv = std::fs::read_to_string(dir.join("metrics.csv")).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "step,train_loss,val_loss,val_ppl,lr,tokens_per_second"
    );
    assert_eq!(lines.len(), 3, "{csv}"); // steps 4 and 6
    assert!(lines[1].starts_with("4,") && lines[2].starts_with("6,"));

    // Resume to 8 steps: the step count continues and metrics gain one row.
    let o = pretrain(&[
        "--out",
        out,
        "--resume",
        "--steps",
        "8",
        "--threads",
        "1",
        "--quiet",
    ]);
    assert_ok(&o);
    let csv = std::fs::read_to_string(dir.join("metrics.csv")).unwrap();
    assert_eq!(csv.lines().count(), 4, "{csv}");
    assert!(csv.lines().last().unwrap().starts_with("8,"));

    let ckpt = dir.join("checkpoint");
    let ckpt = ckpt.to_str().unwrap();
    let o = generate(&[
        "--checkpoint",
        ckpt,
        "--prompt",
        "the movie was",
        "12+7=",
        "--max-new-tokens",
        "5",
        "--show-logprobs",
    ]);
    assert_ok(&o);
    let text = stdout(&o);
    assert_eq!(text.matches("completion: ").count(), 2, "{text}");
    assert!(text.contains("prompt: \"12+7=\""), "{text}");
    let o = generate(&[
        "--checkpoint",
        ckpt,
        "--prompt",
        "the movie was",
        "--strategy",
        "sample",
        "--temperature",
        "0.8",
        "--top-k",
        "5",
        "--seed",
        "3",
        "--max-new-tokens",
        "4",
    ]);
    assert_ok(&o);
    let again = generate(&[
        "--checkpoint",
        ckpt,
        "--prompt",
        "the movie was",
        "--strategy",
        "sample",
        "--temperature",
        "0.8",
        "--top-k",
        "5",
        "--seed",
        "3",
        "--max-new-tokens",
        "4",
    ]);
    assert_eq!(stdout(&o), stdout(&again), "sampling is seeded");
    let o = generate(&[
        "--checkpoint",
        ckpt,
        "--prompt",
        "12+7=",
        "--strategy",
        "beam",
        "--num-beams",
        "3",
        "--max-new-tokens",
        "3",
    ]);
    assert_ok(&o);
    assert_eq!(stdout(&o).matches("beam ").count(), 3, "{}", stdout(&o));
    let o = generate(&[
        "--checkpoint",
        ckpt,
        "--score",
        "the movie was great.",
        "--show-logprobs",
    ]);
    assert_ok(&o);
    assert!(stdout(&o).contains("perplexity"), "{}", stdout(&o));
    let o = generate(&[
        "--checkpoint",
        ckpt,
        "--prompt",
        "12+7=",
        "--choices",
        "19,20,21",
    ]);
    assert_ok(&o);
    assert!(stdout(&o).contains("answer: "), "{}", stdout(&o));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bad_arguments_give_one_error_line_and_fail() {
    let dir = out_dir("bad");
    let out = dir.to_str().unwrap();
    let (train, valid) = (corpus("valid.txt"), corpus("valid.txt"));
    let missing = dir.join("missing.txt");
    let missing = missing.to_str().unwrap();
    let configs = out_dir("bad-configs");
    std::fs::create_dir_all(&configs).unwrap();
    let bad_config = configs.join("vocab.json");
    std::fs::write(&bad_config, r#"{"model": {"vocab_size": 5}}"#).unwrap();
    let bad_config = bad_config.to_string_lossy().into_owned();
    let typo_config = configs.join("typo.json");
    std::fs::write(&typo_config, r#"{"trainer": {"batchsize": 5}}"#).unwrap();
    let typo_config = typo_config.to_string_lossy().into_owned();
    let cases: Vec<Vec<&str>> = vec![
        vec!["--steps", "many", "--out", out],
        vec!["--train", missing, "--valid", &valid, "--out", out],
        vec![
            "--tokenizer",
            "nonsense",
            "--train",
            &train,
            "--valid",
            &valid,
            "--out",
            out,
        ],
        vec![
            "--train", &train, "--valid", &valid, "--out", out, "--lr", "-1",
        ],
        vec![
            "--train", &train, "--valid", &valid, "--out", out, "--device", "tpu",
        ],
        vec![
            "--train",
            &train,
            "--valid",
            &valid,
            "--out",
            out,
            "--n-heads",
            "3",
        ],
        vec!["--out", out, "--resume"],
        vec![
            "--train",
            &train,
            "--valid",
            &valid,
            "--out",
            out,
            "--threads",
            "0",
        ],
        vec![
            "--train",
            &train,
            "--valid",
            &valid,
            "--out",
            out,
            "--config",
            &bad_config,
        ],
        vec![
            "--train",
            &train,
            "--valid",
            &valid,
            "--out",
            out,
            "--config",
            &typo_config,
        ],
    ];
    for args in cases {
        let o = pretrain(&args);
        assert!(!o.status.success(), "{args:?} should fail");
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(stderr.trim().lines().count(), 1, "{args:?}: {stderr}");
        assert!(stderr.starts_with("error"), "{args:?}: {stderr}");
    }
    for args in [
        vec!["--checkpoint", out, "--prompt", "hi"],
        vec![
            "--checkpoint",
            out,
            "--strategy",
            "psychic",
            "--prompt",
            "hi",
        ],
        vec!["--checkpoint", out],
    ] {
        let o = generate(&args);
        assert!(!o.status.success(), "{args:?} should fail");
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(stderr.trim().lines().count(), 1, "{args:?}: {stderr}");
    }
    assert!(!dir.join("checkpoint").exists());
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(&configs);
}

/// A Hugging Face GPT-2 folder (the agents' tiny fixture, vocabulary 100) with a tokenizer.json
/// beside it: one that fits generates, one with more ids than the model is refused.
#[test]
fn generate_reads_hugging_face_folders_and_checks_the_vocabulary() {
    let fixture =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../agents/lm/tests/fixtures/tiny-gpt2");
    let dir = out_dir("hf");
    std::fs::create_dir_all(&dir).unwrap();
    for f in ["config.json", "model.safetensors"] {
        std::fs::copy(fixture.join(f), dir.join(f)).unwrap();
    }
    let tok = CharTokenizer::from_corpus(
        "abcdefghijklmnopqrstuvwxyz 0123456789+-=.",
        &DEFAULT_SPECIALS,
    )
    .unwrap();
    tok.save(dir.join("tokenizer.json")).unwrap();
    let ckpt = dir.to_str().unwrap();
    let o = generate(&[
        "--checkpoint",
        ckpt,
        "--prompt",
        "12+7=",
        "--max-new-tokens",
        "4",
    ]);
    assert_ok(&o);
    assert!(stdout(&o).contains("completion: "), "{}", stdout(&o));

    let bpe = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../envs/tests/fixtures/text/tiny_bpe/tokenizer.json");
    std::fs::copy(bpe, dir.join("tokenizer.json")).unwrap();
    let o = generate(&["--checkpoint", ckpt, "--prompt", "12+7="]);
    assert!(!o.status.success());
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("vocabulary mismatch"), "{stderr}");
    std::fs::remove_dir_all(&dir).unwrap();
}

fn hf_fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../agents/lm/tests/fixtures/hf")
        .join(name)
}

/// `generate --model DIR` on the tiny folders of every family gives transformers' greedy
/// completions of text prompts (tokenised as transformers does, stopping at the folder's stop
/// tokens), and `--chat` renders the folder's chat template.
#[test]
fn generate_completes_hugging_face_folders_as_transformers_does() {
    for name in [
        "gpt2",
        "gpt-neo",
        "llama",
        "llama2",
        "qwen2",
        "qwen3",
        "mistral",
        "qwen2-swa",
    ] {
        let path = hf_fixture(&format!("{name}.expected.json"));
        let exp: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let model = hf_fixture(name);
        for case in exp["text_generations"].as_array().unwrap() {
            let prompt = case["prompt"].as_str().unwrap();
            let want = case["completion"].as_str().unwrap();
            let o = generate(&[
                "--model",
                model.to_str().unwrap(),
                "--prompt",
                prompt,
                "--max-new-tokens",
                "12",
            ]);
            assert_ok(&o);
            let line = format!("completion: {want:?}");
            assert!(
                stdout(&o).contains(&line),
                "{name} {prompt:?}: want {line}\n{}",
                stdout(&o)
            );
        }
    }
    let qwen = hf_fixture("qwen2");
    let o = generate(&[
        "--model",
        qwen.to_str().unwrap(),
        "--chat",
        "--prompt",
        "Hi",
        "--dtype",
        "bf16",
        "--max-new-tokens",
        "3",
    ]);
    assert_ok(&o);
    let gpt2 = hf_fixture("gpt2");
    let o = generate(&[
        "--model",
        gpt2.to_str().unwrap(),
        "--chat",
        "--prompt",
        "Hi",
    ]);
    assert!(!o.status.success());
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("chat template"), "{stderr}");
}

/// `pretrain-lm --model DIR` continues training a Hugging Face folder with its own tokenizer:
/// the checkpoint is a Hugging Face folder that `generate` reads, the run resumes, and `--out`
/// may not hold the model folder or contradict it (`--tokenizer`, a "model" config section).
#[test]
fn pretrain_continues_training_a_hugging_face_folder() {
    let dir = out_dir("hf-continue");
    let out = dir.join("run");
    let src = dir.join("qwen2");
    std::fs::create_dir_all(&src).unwrap();
    for entry in std::fs::read_dir(hf_fixture("qwen2")).unwrap() {
        let p = entry.unwrap().path();
        std::fs::copy(&p, src.join(p.file_name().unwrap())).unwrap();
    }
    let text = dir.join("text.txt");
    std::fs::write(
        &text,
        "The quick brown fox jumps over the lazy dog.\n".repeat(30),
    )
    .unwrap();
    let (src_s, text_s, out_s) = (
        src.to_str().unwrap(),
        text.to_str().unwrap(),
        out.to_str().unwrap(),
    );
    let common = [
        "--model",
        src_s,
        "--train",
        text_s,
        "--valid",
        text_s,
        "--context",
        "16",
        "--batch-size",
        "2",
        "--eval-every",
        "2",
        "--device",
        "cpu",
        "--threads",
        "1",
        "--quiet",
    ];
    let mut first = common.to_vec();
    first.extend(["--out", out_s, "--steps", "4"]);
    assert_ok(&pretrain(&first));
    let ckpt = out.join("checkpoint");
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(ckpt.join("config.json")).unwrap()).unwrap();
    assert_eq!(config["model_type"], "qwen2");
    assert!(ckpt.join("tokenizer_config.json").is_file());
    let run_config = std::fs::read_to_string(out.join("config.json")).unwrap();
    assert!(run_config.contains("\"hf_folder\""), "{run_config}");
    assert_ok(&generate(&[
        "--model",
        ckpt.to_str().unwrap(),
        "--prompt",
        "The quick",
        "--max-new-tokens",
        "4",
    ]));
    let resumed = pretrain(&["--out", out_s, "--resume", "--steps", "6", "--quiet"]);
    assert_ok(&resumed);
    assert!(stdout(&resumed).contains("step 6"), "{}", stdout(&resumed));

    // Contradictions and a run folder that holds the model are refused, one line each.
    let inside = out.join("checkpoint");
    let mut into_itself = common.to_vec();
    into_itself[1] = inside.to_str().unwrap();
    into_itself.extend(["--out", out_s, "--steps", "2", "--overwrite"]);
    let o = pretrain(&into_itself);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(err.contains("would write over --model"), "{err}");
    assert!(
        ckpt.join("model.safetensors").is_file(),
        "the checkpoint survived"
    );
    let mut with_tokenizer = common.to_vec();
    let other = dir.join("other");
    with_tokenizer.extend(["--out", other.to_str().unwrap(), "--tokenizer", "byte"]);
    let o = pretrain(&with_tokenizer);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("--tokenizer"));
    assert!(!other.exists());
    std::fs::remove_dir_all(&dir).unwrap();
}
