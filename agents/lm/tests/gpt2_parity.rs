//! Parity of our GPT with Hugging Face `transformers`' GPT-2 on a tiny random checkpoint
//! (`tests/fixtures/tiny-gpt2`, made by `tests/fixtures/gen_tiny_gpt2.py`): logits within
//! 1e-4 (unpadded, left-padded with an attention mask, full context) and the same greedy
//! continuations, decoded here with our KV cache.

use std::path::{Path, PathBuf};

mod support;

use serde_json::Value;
use support::{int_matrix, optional_mask};
use tch::{Device, Kind, Tensor};
use tokengym_lm::model::{CausalLm, Decoder, KvCache, load_decoder, save_decoder};

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn expected() -> Value {
    let text = std::fs::read_to_string(fixture_dir().join("tiny-gpt2-expected.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn model() -> Decoder {
    // The model's tensors share storage with the store's; dropping the store is fine.
    let (_vs, model) = load_decoder(&fixture_dir().join("tiny-gpt2"), Device::Cpu, None).unwrap();
    model
}

#[test]
fn logits_match_transformers() {
    let model = model();
    let exp = expected();
    for case in exp["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let tokens = int_matrix(&case["tokens"]);
        let mask = optional_mask(&case["attention_mask"]);
        let shape: Vec<i64> = serde_json::from_value(case["logits_shape"].clone()).unwrap();
        let want: Vec<f32> = serde_json::from_value(case["logits"].clone()).unwrap();
        let want = Tensor::from_slice(&want).reshape(&shape);
        let got = tch::no_grad(|| model.logits(&tokens, mask.as_ref())).unwrap();
        assert_eq!(got.size(), shape, "{name}");
        // Compare real positions only: logits at padding positions are meaningless.
        let real = match &mask {
            Some(m) => m.ne(0).unsqueeze(-1).expand_as(&got),
            None => got.ones_like().to_kind(Kind::Bool),
        };
        let diff = (got - want)
            .abs()
            .masked_select(&real)
            .max()
            .double_value(&[]);
        assert!(diff < 1e-4, "{name}: max |logit difference| {diff}");
    }
}

/// Greedy decoding with our KV cache: one prefill over the (padded) prompts, then one token per
/// step, extending the attention mask with ones.
fn greedy(model: &Decoder, prompt: &Tensor, mask: Option<&Tensor>, steps: usize) -> Vec<Vec<i64>> {
    let b = prompt.size()[0];
    let mut cache = model.empty_cache(b).unwrap();
    let mut mask = mask.map(|m| m.shallow_clone());
    let mut logits = model
        .logits_cached(prompt, mask.as_ref(), &mut cache)
        .unwrap();
    let mut out = vec![Vec::new(); b as usize];
    for _ in 0..steps {
        let next = logits.select(1, -1).argmax(-1, false); // [B]
        for (row, tok) in Vec::<i64>::try_from(&next).unwrap().into_iter().enumerate() {
            out[row].push(tok);
        }
        mask = mask.map(|m| Tensor::cat(&[m, Tensor::ones([b, 1], (Kind::Int64, Device::Cpu))], 1));
        logits = model
            .logits_cached(&next.unsqueeze(1), mask.as_ref(), &mut cache)
            .unwrap();
    }
    assert_eq!(cache.len(), prompt.size()[1] + steps as i64);
    out
}

#[test]
fn greedy_generation_matches_transformers() {
    let model = model();
    let exp = expected();
    for case in exp["generations"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let tokens = int_matrix(&case["tokens"]);
        let mask = optional_mask(&case["attention_mask"]);
        let want: Vec<Vec<i64>> = serde_json::from_value(case["new_tokens"].clone()).unwrap();
        let got = greedy(&model, &tokens, mask.as_ref(), want[0].len());
        assert_eq!(got, want, "{name}");
    }
}

#[test]
fn saved_checkpoint_reloads_with_identical_logits() {
    let src = fixture_dir().join("tiny-gpt2");
    let (vs, model) = load_decoder(&src, Device::Cpu, None).unwrap();
    let dir = std::env::temp_dir().join(format!("tokengym-gpt2-parity-{}", std::process::id()));
    save_decoder(&dir, &vs, model.config()).unwrap();
    let (_vs2, again) = load_decoder(&dir, Device::Cpu, None).unwrap();
    assert_eq!(again.config(), model.config());
    let tokens = Tensor::from_slice(&[5i64, 17, 3, 99, 0, 42]).reshape([1, 6]);
    let a = tch::no_grad(|| model.logits(&tokens, None)).unwrap();
    let b = tch::no_grad(|| again.logits(&tokens, None)).unwrap();
    assert!(a.equal(&b));
    std::fs::remove_dir_all(&dir).unwrap();
}
