//! Sequence classifiers from Hugging Face folders against transformers 5.24 on tiny random
//! models (`tests/fixtures/gen_hf_classifiers.py`): the same token ids (special tokens,
//! truncation), the same logits for a padded batch, and the reward built on them.

use std::path::{Path, PathBuf};

use serde_json::Value;
use tch::{Device, Tensor};
use tokengym_envs::text::{HfTokenizer, RewardContext, RewardFn};
use tokengym_lm::classifier::{
    ClassifierInput, ClassifierReward, ClassifierScore, EncoderFamily, SequenceClassifier,
};

const FIXTURES: [(&str, EncoderFamily); 3] = [
    ("bert", EncoderFamily::Bert),
    ("distilbert", EncoderFamily::DistilBert),
    ("roberta", EncoderFamily::Roberta),
];

fn folder(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/hf-classifiers")
        .join(name)
}

fn expected(name: &str) -> Value {
    let path = folder(name).with_extension("expected.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn texts(exp: &Value) -> Vec<String> {
    serde_json::from_value(exp["texts"].clone()).unwrap()
}

#[test]
fn token_ids_and_logits_match_transformers() {
    for (name, family) in FIXTURES {
        let exp = expected(name);
        let dir = folder(name);
        let tok = HfTokenizer::from_model_dir(&dir).unwrap();
        let max_len = exp["max_length"].as_u64().unwrap() as usize;
        let want_ids: Vec<Vec<u32>> = serde_json::from_value(exp["input_ids"].clone()).unwrap();
        let texts = texts(&exp);
        for (text, want) in texts.iter().zip(&want_ids) {
            let got = tok.encode_prompt_truncated(text, max_len).unwrap();
            assert_eq!(&got, want, "{name}: {text:?}");
        }
        let (_vs, model) = SequenceClassifier::load(&dir, Device::Cpu).unwrap();
        assert_eq!(model.config().family, family);
        // The padded batch transformers scored (right padding with the pad id).
        let pad = model.config().pad_token_id;
        let width = want_ids.iter().map(Vec::len).max().unwrap();
        let (mut ids, mut mask) = (Vec::new(), Vec::new());
        for r in &want_ids {
            ids.extend(r.iter().map(|&i| i64::from(i)));
            ids.extend(std::iter::repeat_n(pad, width - r.len()));
            mask.extend(std::iter::repeat_n(1i64, r.len()));
            mask.extend(std::iter::repeat_n(0i64, width - r.len()));
        }
        let shape = [want_ids.len() as i64, width as i64];
        let ids = Tensor::from_slice(&ids).view(shape);
        let mask = Tensor::from_slice(&mask).view(shape);
        let got = tch::no_grad(|| model.logits(&ids, Some(&mask))).unwrap();
        let want: Vec<Vec<f32>> = serde_json::from_value(exp["logits"].clone()).unwrap();
        let want = Tensor::from_slice(&want.concat()).view([shape[0], -1]);
        let diff = (&got - &want).abs().max().double_value(&[]);
        assert!(diff < 1e-4, "{name}: logits differ by {diff}");
    }
}

#[test]
fn the_reward_is_the_labels_probability_or_logit() {
    for (name, _) in FIXTURES {
        let exp = expected(name);
        let texts = texts(&exp);
        let labels: Value = exp["id2label"].clone();
        let last = labels.as_object().unwrap().len() - 1;
        let label = labels[last.to_string()].as_str().unwrap();
        let dir = folder(name);
        let reward = ClassifierReward::load(&dir, Some(label), Device::Cpu).unwrap();
        assert_eq!(reward.label(), last);
        let default = ClassifierReward::load(&dir, None, Device::Cpu).unwrap();
        assert_eq!(
            default.label(),
            last,
            "{name}: the default label is the last"
        );
        // The reward truncates to the model's length, the fixture to a shorter one: the texts
        // the fixture did not truncate.
        let max_len = exp["max_length"].as_u64().unwrap() as usize;
        let ids: Vec<Vec<u32>> = serde_json::from_value(exp["input_ids"].clone()).unwrap();
        let uncut: Vec<usize> = (0..texts.len())
            .filter(|&i| ids[i].len() < max_len)
            .collect();
        assert!(uncut.len() >= 4, "{name}");
        let refs: Vec<&str> = uncut.iter().map(|&i| texts[i].as_str()).collect();
        let want: Vec<Vec<f64>> = serde_json::from_value(exp["logits"].clone()).unwrap();
        let want: Vec<&Vec<f64>> = uncut.iter().map(|&i| &want[i]).collect();
        let probs = reward.score_texts(&refs).unwrap();
        for (p, row) in probs.iter().zip(&want) {
            let z: f64 = row.iter().map(|x| x.exp()).sum();
            assert!((p - row[last].exp() / z).abs() < 1e-4, "{name}: {p}");
        }
        let logit = ClassifierReward::load(&dir, Some(label), Device::Cpu)
            .unwrap()
            .with_score(ClassifierScore::Logit);
        let logits = logit.score_texts(&refs).unwrap();
        for (l, row) in logits.iter().zip(&want) {
            assert!((l - row[last]).abs() < 1e-4, "{name}: {l}");
        }
        // As a RewardFn: the completion alone, or prompt + completion.
        let ctx = |prompt: &'static str, completion: &'static str| RewardContext {
            prompt,
            completion,
            prompt_ids: &[],
            completion_ids: &[],
            finished: true,
            target: None,
        };
        // By default prompt + completion (as TRL's sentiment example), or the completion alone.
        let joined = reward
            .score_batch(&[ctx("I loved", " this movie.")])
            .unwrap();
        let full = reward.score_texts(&["I loved this movie."]).unwrap()[0];
        assert!((joined[0] - full).abs() < 1e-9);
        let alone = reward.with_input(ClassifierInput::Completion);
        let completion_only = alone.score(&ctx("I loved", " this movie.")).unwrap();
        assert!((completion_only - alone.score_texts(&[" this movie."]).unwrap()[0]).abs() < 1e-9);
    }
}

#[test]
fn bad_folders_and_labels_are_errors() {
    let err = ClassifierReward::load(&folder("bert"), Some("happy"), Device::Cpu)
        .unwrap_err()
        .to_string();
    assert!(err.contains("NEGATIVE, POSITIVE"), "{err}");
    let decoder = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/hf/gpt2");
    let err = SequenceClassifier::load(&decoder, Device::Cpu)
        .unwrap_err()
        .to_string();
    assert!(err.contains("bert, distilbert, roberta"), "{err}");
    // A tensor missing from the weights.
    let dir = std::env::temp_dir().join(format!("tg-classifier-missing-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let src = folder("distilbert");
    std::fs::copy(src.join("config.json"), dir.join("config.json")).unwrap();
    let tensors = Tensor::read_safetensors(src.join("model.safetensors")).unwrap();
    let kept: Vec<(String, Tensor)> = tensors
        .into_iter()
        .filter(|(n, _)| n != "pre_classifier.weight")
        .collect();
    Tensor::write_safetensors(&kept, dir.join("model.safetensors")).unwrap();
    let err = SequenceClassifier::load(&dir, Device::Cpu)
        .unwrap_err()
        .to_string();
    assert!(err.contains("pre_classifier.weight"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
    // Inputs longer than the model or outside its vocabulary.
    let (_vs, model) = SequenceClassifier::load(&folder("roberta"), Device::Cpu).unwrap();
    let long = Tensor::ones(
        [1, model.config().max_len() + 1],
        (tch::Kind::Int64, Device::Cpu),
    );
    assert!(model.logits(&long, None).is_err());
    let big = Tensor::from_slice(&[0i64, model.config().vocab_size]).view([1, 2]);
    let err = model.logits(&big, None).unwrap_err().to_string();
    assert!(err.contains("vocabulary"), "{err}");
    let empty = Tensor::zeros([0, 3], (tch::Kind::Int64, Device::Cpu));
    assert!(model.logits(&empty, None).is_err());
    let floats = Tensor::zeros([1, 3], (tch::Kind::Float, Device::Cpu));
    assert!(model.logits(&floats, None).is_err());
}
