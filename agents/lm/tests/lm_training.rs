//! Language-model pre-training: the loss falls on the shipped corpus and beats the unigram
//! baseline, checkpoints round-trip and resume, bad checkpoints give clear errors, a NaN stops
//! training and keeps the last good checkpoint.

use std::path::{Path, PathBuf};

use tch::Tensor;
use tokengym_envs::text::{ByteTokenizer, CharTokenizer, DEFAULT_SPECIALS, Tokenizer};
use tokengym_lm::model::{CausalLm, DecoderConfig};
use tokengym_lm::pretrain::{
    CheckpointTarget, FitEvent, Layout, TextDataset, TokenizerSource, Trainer, TrainerConfig,
    load_checkpoint, unigram_perplexity,
};
use tokengym_lm::pretrain::{STATE_FILE, TOKENIZER_FILE, read_state};

fn corpus(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../envs/data/corpus")
        .join(name);
    std::fs::read_to_string(path).unwrap()
}

fn temp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tg-lm-training-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn small_model(vocab: usize, context: i64) -> DecoderConfig {
    DecoderConfig {
        d_model: 64,
        n_layers: 2,
        n_heads: 4,
        context_len: context,
        ..DecoderConfig::tiny(vocab as i64)
    }
}

fn trainer_cfg(steps: u64, context: usize, batch: usize) -> TrainerConfig {
    TrainerConfig {
        batch_size: batch,
        context,
        steps,
        lr: 3e-3,
        warmup_steps: 5,
        eval_every: 0,
        eval_batches: 10,
        device: "cpu".to_owned(),
        ..TrainerConfig::default()
    }
}

#[test]
fn loss_falls_on_the_corpus_and_beats_the_unigram_baseline() {
    // One libtorch thread: several times faster for this small model on a shared 2-core box.
    tch::set_num_threads(1);
    let train_text = corpus("train.txt");
    let tok = CharTokenizer::from_corpus(&train_text, &DEFAULT_SPECIALS).unwrap();
    let train = TextDataset::from_text(&train_text, &tok, 32, Layout::Pack).unwrap();
    let valid = TextDataset::from_text(&corpus("valid.txt"), &tok, 32, Layout::Pack).unwrap();
    let unigram = unigram_perplexity(&train, &valid, tok.vocab_size()).unwrap();
    let mut trainer =
        Trainer::new(small_model(tok.vocab_size(), 32), trainer_cfg(40, 32, 8)).unwrap();
    let mut losses = Vec::new();
    let report = trainer
        .fit(&train, &valid, None, &mut |e| {
            if let FitEvent::Step(s) = e {
                losses.push(s.loss);
            }
            Ok(())
        })
        .unwrap();
    assert_eq!(losses.len(), 40);
    assert_eq!(report.final_step, 40);
    let first: f64 = losses[..10].iter().sum::<f64>() / 10.0;
    let last: f64 = losses[30..].iter().sum::<f64>() / 10.0;
    eprintln!(
        "loss {first} -> {last}, ppl {} vs unigram {unigram}",
        report.final_eval.perplexity
    );
    assert!(last < first - 0.3, "loss did not fall: {first} -> {last}");
    assert_eq!(report.final_eval.tokens, valid.target_tokens());
    assert!(
        report.final_eval.perplexity < unigram,
        "validation perplexity {} does not beat the unigram baseline {unigram}",
        report.final_eval.perplexity
    );
    assert!(report.tokens_per_second > 0.0);
}

fn tiny_run(dir: &Path, steps: u64) -> (Trainer, TextDataset, TextDataset, CheckpointTarget) {
    let tok = ByteTokenizer::new();
    let text = corpus("valid.txt");
    let train = TextDataset::from_text(&text[..4000], &tok, 16, Layout::Pack).unwrap();
    let valid = TextDataset::from_text(&text[4000..6000], &tok, 16, Layout::Pack).unwrap();
    let model = DecoderConfig {
        d_model: 16,
        n_layers: 1,
        n_heads: 2,
        ..small_model(tok.vocab_size(), 16)
    };
    let cfg = TrainerConfig {
        eval_every: 2,
        eval_batches: 2,
        ..trainer_cfg(steps, 16, 4)
    };
    let trainer = Trainer::new(model, cfg).unwrap();
    let target = CheckpointTarget {
        dir: dir.join("checkpoint"),
        tokenizer: TokenizerSource::Byte,
    };
    (trainer, train, valid, target)
}

#[test]
fn checkpoint_round_trip_and_resume_continue_the_step_count() {
    let dir = temp_dir("resume");
    let (mut trainer, train, valid, target) = tiny_run(&dir, 3);
    let mut evals = Vec::new();
    trainer
        .fit(&train, &valid, Some(&target), &mut |e| {
            if let FitEvent::Eval { step, .. } = e {
                evals.push(*step);
            }
            Ok(())
        })
        .unwrap();
    assert_eq!(evals, vec![2, 3]);
    let state = read_state(&target.dir).unwrap().unwrap();
    assert_eq!(state.step, 3);
    assert!(!state.optimizer_state_saved);
    assert!(state.val_loss.is_some());

    let loaded = load_checkpoint(&target.dir, tch::Device::Cpu).unwrap();
    assert_eq!(loaded.tokenizer.vocab_size(), 259);
    let x = Tensor::from_slice(&[256i64, 104, 105, 32, 116]).reshape([1, 5]);
    let a = tch::no_grad(|| trainer.model().logits(&x, None)).unwrap();
    let b = tch::no_grad(|| loaded.model.logits(&x, None)).unwrap();
    assert!(a.equal(&b), "loaded logits differ");

    let cfg = TrainerConfig {
        steps: 5,
        ..trainer.config().clone()
    };
    let (mut resumed, tok) = Trainer::resume(&target.dir, cfg).unwrap();
    assert_eq!(tok.vocab_size(), 259);
    assert_eq!(resumed.step(), 3);
    let mut steps = Vec::new();
    let report = resumed
        .fit(&train, &valid, Some(&target), &mut |e| {
            if let FitEvent::Step(s) = e {
                steps.push(s.step);
            }
            Ok(())
        })
        .unwrap();
    assert_eq!(steps, vec![3, 4]);
    assert_eq!((report.steps_run, report.final_step), (2, 5));
    assert_eq!(read_state(&target.dir).unwrap().unwrap().step, 5);
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n != "checkpoint")
        .collect();
    assert!(
        leftovers.is_empty(),
        "temporary folders left: {leftovers:?}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_nan_stops_training_and_keeps_the_last_good_checkpoint() {
    let dir = temp_dir("nan");
    let (mut trainer, train, valid, target) = tiny_run(&dir, 2);
    trainer
        .fit(&train, &valid, Some(&target), &mut |_| Ok(()))
        .unwrap();
    let good = read_state(&target.dir).unwrap().unwrap();
    let cfg = TrainerConfig {
        steps: 6,
        ..trainer.config().clone()
    };
    let (mut resumed, _) = Trainer::resume(&target.dir, cfg).unwrap();
    tch::no_grad(|| {
        let vars = resumed.var_store().variables();
        let _ = vars["transformer.wte.weight"]
            .shallow_clone()
            .fill_(f64::NAN);
    });
    let err = resumed
        .fit(&train, &valid, Some(&target), &mut |_| Ok(()))
        .unwrap_err();
    assert!(err.to_string().contains("non-finite"), "{err}");
    assert_eq!(resumed.step(), 2, "no step is taken on a NaN loss");
    let kept = read_state(&target.dir).unwrap().unwrap();
    assert_eq!(kept, good);
    let loaded = load_checkpoint(&target.dir, tch::Device::Cpu).unwrap();
    let wte = &loaded.vs.variables()["transformer.wte.weight"];
    assert_eq!(wte.isnan().any().int64_value(&[]), 0);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bad_checkpoints_give_clear_errors() {
    let dir = temp_dir("bad");
    let (mut trainer, train, valid, target) = tiny_run(&dir, 1);
    trainer
        .fit(&train, &valid, Some(&target), &mut |_| Ok(()))
        .unwrap();
    let ckpt = &target.dir;
    let err_of = |d: &Path| {
        load_checkpoint(d, tch::Device::Cpu)
            .unwrap_err()
            .to_string()
    };

    let err = err_of(&dir.join("nowhere"));
    assert!(err.contains("no such checkpoint folder"), "{err}");

    let copy = |tag: &str| {
        let d = dir.join(tag);
        std::fs::create_dir_all(&d).unwrap();
        for e in std::fs::read_dir(ckpt).unwrap() {
            let e = e.unwrap();
            std::fs::copy(e.path(), d.join(e.file_name())).unwrap();
        }
        d
    };

    let d = copy("missing");
    std::fs::remove_file(d.join("model.safetensors")).unwrap();
    let err = err_of(&d);
    assert!(err.contains("neither model.safetensors"), "{err}");

    let d = copy("corrupt-weights");
    std::fs::write(d.join("model.safetensors"), b"definitely not safetensors").unwrap();
    let err = err_of(&d);
    assert!(
        err.contains("checkpoint") && err.contains("safetensors"),
        "{err}"
    );

    let d = copy("corrupt-state");
    std::fs::write(d.join(STATE_FILE), b"{\"step\": ").unwrap();
    let err = err_of(&d);
    assert!(err.contains("corrupted trainer state"), "{err}");

    // The byte tokenizer needs no file; a character tokenizer with more ids than the model's
    // 259 does not fit.
    let d = copy("vocab");
    let big: String = (0..300u32)
        .filter_map(|i| char::from_u32(0x4E00 + i))
        .collect();
    let tok = CharTokenizer::from_corpus(&big, &DEFAULT_SPECIALS).unwrap();
    tok.save(d.join(TOKENIZER_FILE)).unwrap();
    let err = err_of(&d);
    assert!(err.contains("vocabulary mismatch"), "{err}");
    assert!(err.contains("304") && err.contains("259"), "{err}");

    let d = copy("no-tokenizer");
    let state = std::fs::read_to_string(d.join(STATE_FILE)).unwrap();
    std::fs::write(d.join(STATE_FILE), state.replace("\"byte\"", "\"file\"")).unwrap();
    let err = err_of(&d);
    assert!(err.contains("missing tokenizer.json"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn weight_decay_skips_biases_layer_norms_and_embeddings() {
    let cfg = DecoderConfig {
        tie_embeddings: false,
        position: tokengym_lm::model::PositionEncoding::Learned,
        ..small_model(50, 8)
    };
    let t = Trainer::new(cfg, trainer_cfg(1, 8, 2)).unwrap();
    let names = t.decayed_variables();
    // Per block: c_attn, attn c_proj, c_fc, mlp c_proj; plus the untied LM head.
    assert_eq!(names.len(), 2 * 4 + 1, "{names:?}");
    assert!(names.contains(&"lm_head.weight".to_owned()));
    assert!(names.contains(&"transformer.h.1.mlp.c_fc.weight".to_owned()));
    assert!(
        names
            .iter()
            .all(|n| !n.contains("bias") && !n.contains("ln_"))
    );
    assert!(
        names
            .iter()
            .all(|n| !n.contains("wte") && !n.contains("wpe"))
    );
}

#[test]
fn mismatched_settings_are_errors() {
    let tok = ByteTokenizer::new();
    // The training context must fit the model's.
    let err = Trainer::new(small_model(259, 8), trainer_cfg(1, 16, 2)).unwrap_err();
    assert!(err.to_string().contains("context"), "{err}");
    // Data with ids beyond the model's vocabulary.
    let text = corpus("valid.txt");
    let data = TextDataset::from_text(&text[..2000], &tok, 8, Layout::Pack).unwrap();
    let mut t = Trainer::new(small_model(100, 8), trainer_cfg(1, 8, 2)).unwrap();
    let err = t.fit(&data, &data, None, &mut |_| Ok(())).unwrap_err();
    assert!(err.to_string().contains("vocabulary"), "{err}");
    let bad = TrainerConfig {
        batch_size: 0,
        ..trainer_cfg(1, 8, 2)
    };
    assert!(Trainer::new(small_model(259, 8), bad).is_err());
    let bad = TrainerConfig {
        device: "tpu".to_owned(),
        ..trainer_cfg(1, 8, 2)
    };
    assert!(Trainer::new(small_model(259, 8), bad).is_err());
}
