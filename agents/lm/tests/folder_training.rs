//! Teacher-forcing training that starts from a model folder: a Hugging Face folder of each
//! family continues training with its own tokenizer, every checkpoint is a Hugging Face folder
//! (config, weights, tokenizer and generation files) beside the trainer state, and the run
//! resumes from it.

use std::path::{Path, PathBuf};

use serde_json::Value;
use tch::{Device, Kind};
use tokengym_envs::text::{HfTokenizer, Tokenizer};
use tokengym_lm::model::{CausalLm, load_decoder};
use tokengym_lm::pretrain::{
    CheckpointTarget, Layout, STATE_FILE, TextDataset, TokenizerKind, TokenizerSource, Trainer,
    TrainerConfig, read_state,
};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/hf")
        .join(name)
}

fn temp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tg-folder-training-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn config_json(dir: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("config.json")).unwrap()).unwrap()
}

const TEXT: &str =
    "The quick brown fox jumps over the lazy dog.\nHello world! This is a tiny corpus.\n";

#[test]
fn hugging_face_folders_continue_training_and_are_checkpointed_as_such() {
    for name in ["gpt2", "llama", "qwen3", "mistral"] {
        let src = fixture(name);
        let cfg = TrainerConfig {
            batch_size: 4,
            context: 16,
            steps: 6,
            lr: 3e-3,
            warmup_steps: 0,
            eval_every: 3,
            eval_batches: 2,
            device: "cpu".to_owned(),
            ..TrainerConfig::default()
        };
        let (mut trainer, tok, source) =
            Trainer::from_pretrained(&src, cfg.clone(), Some(Kind::Float)).unwrap();
        assert_eq!(source, TokenizerSource::HfFolder(src.clone()), "{name}");
        let text = TEXT.repeat(20);
        let data = TextDataset::from_text(&text, tok.as_ref(), 16, Layout::Pack).unwrap();
        let before = trainer.evaluate(&data, None).unwrap().loss;
        let out = temp_dir(name);
        let target = CheckpointTarget {
            dir: out.join("checkpoint"),
            tokenizer: source,
        };
        trainer
            .fit(&data, &data, Some(&target), &mut |_| Ok(()))
            .unwrap();
        let after = trainer.evaluate(&data, None).unwrap().loss;
        assert!(after < before, "{name}: loss {before} -> {after}");

        // The checkpoint is a Hugging Face folder of the same family, with the source's
        // tokenizer files and token ids, and the trainer state.
        let ckpt = &target.dir;
        let (saved, original) = (config_json(ckpt), config_json(&src));
        for key in ["model_type", "eos_token_id", "tie_word_embeddings"] {
            assert_eq!(saved[key], original[key], "{name}: {key}");
        }
        for file in [
            "tokenizer.json",
            "tokenizer_config.json",
            "generation_config.json",
        ] {
            assert_eq!(
                std::fs::read(ckpt.join(file)).unwrap(),
                std::fs::read(src.join(file)).unwrap(),
                "{name}: {file}"
            );
        }
        let state = read_state(ckpt).unwrap().unwrap();
        assert_eq!((state.step, state.tokenizer), (6, TokenizerKind::HfFolder));
        assert!(ckpt.join(STATE_FILE).is_file());
        let reread = HfTokenizer::from_model_dir(ckpt).unwrap();
        assert_eq!(
            reread.encode(TEXT).unwrap(),
            tok.encode(TEXT).unwrap(),
            "{name}"
        );
        let (_vs, model) = load_decoder(ckpt, Device::Cpu, None).unwrap();
        let ids = data.batch(&[0]).unwrap().inputs.narrow(1, 0, 8);
        let a = tch::no_grad(|| model.logits(&ids, None)).unwrap();
        let b = tch::no_grad(|| trainer.model().logits(&ids, None)).unwrap();
        assert!(a.equal(&b), "{name}: the checkpoint's logits differ");

        // The run resumes from its checkpoint and keeps saving Hugging Face folders.
        let more = TrainerConfig { steps: 8, ..cfg };
        let (mut resumed, _) = Trainer::resume(ckpt, more).unwrap();
        assert_eq!(resumed.step(), 6, "{name}");
        let again = CheckpointTarget {
            dir: ckpt.clone(),
            tokenizer: TokenizerSource::of_folder(ckpt).unwrap(),
        };
        resumed
            .fit(&data, &data, Some(&again), &mut |_| Ok(()))
            .unwrap();
        assert_eq!(read_state(ckpt).unwrap().unwrap().step, 8, "{name}");
        assert_eq!(config_json(ckpt)["model_type"], original["model_type"]);
        std::fs::remove_dir_all(&out).unwrap();
    }
}

#[test]
fn our_own_checkpoints_keep_their_tokenizer_source() {
    // A folder without a Hugging Face config and without a tokenizer or state is an error that
    // names what is missing.
    let dir = temp_dir("no-tokenizer");
    std::fs::write(dir.join("config.json"), "{}").unwrap();
    let err = TokenizerSource::of_folder(&dir).unwrap_err().to_string();
    assert!(err.contains("tokenizer.json"), "{err}");
    std::fs::write(dir.join("tokenizer.json"), "{\"format\": \"char\"}").unwrap();
    assert_eq!(
        TokenizerSource::of_folder(&dir).unwrap(),
        TokenizerSource::File(dir.join("tokenizer.json"))
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_transformers_trainer_state_is_not_ours() {
    // A transformers Trainer checkpoint has its own trainer_state.json: the folder still loads,
    // without a state of ours.
    let dir = temp_dir("hf-trainer-state");
    for entry in std::fs::read_dir(fixture("gpt2")).unwrap() {
        let p = entry.unwrap().path();
        std::fs::copy(&p, dir.join(p.file_name().unwrap())).unwrap();
    }
    std::fs::write(
        dir.join(STATE_FILE),
        r#"{"global_step": 500, "epoch": 1.0, "log_history": []}"#,
    )
    .unwrap();
    let loaded = tokengym_lm::pretrain::load_checkpoint(&dir, Device::Cpu).unwrap();
    assert!(loaded.state.is_none());
    assert_eq!(
        TokenizerSource::of_folder(&dir).unwrap(),
        TokenizerSource::HfFolder(dir.clone())
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
