//! Parity with Hugging Face `transformers` 5.24 on tiny random models of every supported family
//! (`tests/fixtures/hf/*`, made by `tests/fixtures/gen_hf_models.py`): GPT-2, GPT-Neo (a local
//! window shorter than the sequence), Llama (sharded, llama3 RoPE scaling, grouped-query
//! attention, untied), Llama-2 (multi-query, linear RoPE scaling), Qwen2 (q/k/v biases) and
//! Qwen3 (q/k norms, a free head_dim, YaRN).
//!
//! Checked per family: logits within 1e-4 at every real position for a full forward pass
//! (unpadded, left-padded with a mask, the whole context), for the KV cache fed one token at a
//! time, greedy continuations token for token through [`generate`], a save/reload round trip
//! with identical logits, a bf16 load, and the errors for a missing or misshaped tensor.

use std::path::{Path, PathBuf};

mod support;

use serde_json::Value;
use support::{int_matrix, optional_mask};
use tch::{Device, Kind, Tensor};
use tokengym::seeding::rng_from_seed;
use tokengym_lm::decoding::{
    BeamSearchConfig, GenerateConfig, StopTokens, beam_search, generate, token_log_probs,
};
use tokengym_lm::model::{
    CausalLm, Decoder, KvCache, ModelFamily, load_decoder, save_decoder, save_hf_folder,
};

const FAMILIES: [(&str, ModelFamily); 8] = [
    ("gpt2", ModelFamily::Gpt2),
    ("gpt-neo", ModelFamily::GptNeo),
    ("llama", ModelFamily::Llama),
    ("llama2", ModelFamily::Llama),
    ("qwen2", ModelFamily::Qwen2),
    ("qwen3", ModelFamily::Qwen3),
    ("mistral", ModelFamily::Mistral),
    ("qwen2-swa", ModelFamily::Qwen2),
];

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/hf")
}

fn expected(name: &str) -> Value {
    let path = fixtures().join(format!("{name}.expected.json"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn expected_logits(name: &str, case: &str) -> Tensor {
    let path = fixtures().join(format!("{name}.expected.safetensors"));
    let tensors = Tensor::read_safetensors(path).unwrap();
    let (_, t) = tensors.into_iter().find(|(n, _)| n == case).unwrap();
    t
}

fn load(name: &str) -> Decoder {
    let (_vs, model) = load_decoder(&fixtures().join(name), Device::Cpu, None).unwrap();
    model
}

/// The largest |difference| at real (unmasked) positions.
fn max_diff(got: &Tensor, want: &Tensor, mask: Option<&Tensor>) -> f64 {
    assert_eq!(got.size(), want.size());
    let real = match mask {
        Some(m) => m.ne(0).unsqueeze(-1).expand_as(got),
        None => got.ones_like().to_kind(Kind::Bool),
    };
    (got.to_kind(Kind::Float) - want)
        .abs()
        .masked_select(&real)
        .max()
        .double_value(&[])
}

#[test]
fn every_family_loads_with_its_options() {
    for (name, family) in FAMILIES {
        let model = load(name);
        let cfg = model.config();
        let exp = expected(name);
        assert_eq!(cfg.family, family, "{name}");
        assert_eq!(
            cfg.vocab_size,
            exp["vocab_size"].as_i64().unwrap(),
            "{name}"
        );
        assert_eq!(
            cfg.context_len,
            exp["context_len"].as_i64().unwrap(),
            "{name}"
        );
    }
    // The non-default options the fixtures were made with.
    let llama = load("llama");
    assert!(llama.config().kv_heads() < llama.config().n_heads);
    assert!(!llama.config().tie_embeddings);
    assert!(matches!(
        llama.config().rope_scaling,
        Some(tokengym_lm::model::RopeScaling::Llama3 { .. })
    ));
    let qwen3 = load("qwen3");
    let c = qwen3.config();
    assert!(c.qk_norm && c.head_dim() * c.n_heads != c.d_model);
    assert!(load("qwen2").config().has_qkv_bias());
    let neo = load("gpt-neo");
    assert!(neo.config().is_local(1) && neo.config().window_size.unwrap() < 12);
    // Sliding windows shorter than the 12-token cases: in every layer (Mistral), from layer 1
    // on (Qwen2's max_window_layers).
    let mistral = load("mistral");
    let c = mistral.config();
    assert!(c.is_local(0) && c.is_local(1) && c.window_size == Some(4));
    let swa = load("qwen2-swa");
    let c = swa.config();
    assert!(!c.is_local(0) && c.is_local(1) && c.window_size == Some(4));
}

/// Runs `check(family, model, case name, tokens, mask, transformers' logits)` on every logits case
/// of every family.
fn for_each_case(check: impl Fn(&str, &Decoder, &str, &Tensor, Option<&Tensor>, &Tensor)) {
    for (name, _) in FAMILIES {
        let model = load(name);
        let exp = expected(name);
        for case in exp["cases"].as_array().unwrap() {
            let case_name = case["name"].as_str().unwrap();
            let tokens = int_matrix(&case["tokens"]);
            let mask = optional_mask(&case["attention_mask"]);
            let want = expected_logits(name, case_name);
            check(name, &model, case_name, &tokens, mask.as_ref(), &want);
        }
    }
}

#[test]
fn logits_match_transformers() {
    for_each_case(|name, model, case_name, tokens, mask, want| {
        let got = tch::no_grad(|| model.logits(tokens, mask)).unwrap();
        let diff = max_diff(&got, want, mask);
        assert!(
            diff < 1e-4,
            "{name}/{case_name}: max |logit difference| {diff}"
        );
    });
}

#[test]
fn kv_cache_one_token_at_a_time_matches_transformers() {
    for_each_case(|name, model, case_name, tokens, mask, want| {
        let (b, t) = (tokens.size()[0], tokens.size()[1]);
        let mut cache = model.empty_cache(b).unwrap();
        // A two-token prefill, then one token per step.
        let mut steps = Vec::new();
        let mut start = 0;
        while start < t {
            let n = if start == 0 { 2.min(t) } else { 1 };
            let m = mask.map(|m| m.narrow(1, 0, start + n));
            let logits = model
                .logits_cached(&tokens.narrow(1, start, n), m.as_ref(), &mut cache)
                .unwrap();
            steps.push(logits);
            start += n;
        }
        assert_eq!(cache.len(), t);
        let got = Tensor::cat(&steps, 1);
        let diff = max_diff(&got, want, mask);
        assert!(
            diff < 1e-4,
            "{name}/{case_name} (cached): max |logit difference| {diff}"
        );
    });
}

#[test]
fn greedy_generation_matches_transformers() {
    for (name, _) in FAMILIES {
        let model = load(name);
        let exp = expected(name);
        for case in exp["generations"].as_array().unwrap() {
            let case_name = case["name"].as_str().unwrap();
            let tokens = int_matrix(&case["tokens"]);
            let mask = optional_mask(&case["attention_mask"]);
            let want: Vec<Vec<i64>> = serde_json::from_value(case["new_tokens"].clone()).unwrap();
            for use_cache in [true, false] {
                let cfg = GenerateConfig {
                    use_cache,
                    ..GenerateConfig::greedy(want[0].len() as i64)
                };
                let out = tch::no_grad(|| {
                    generate(
                        &model,
                        &tokens,
                        mask.as_ref(),
                        &cfg,
                        &mut rng_from_seed(Some(0)),
                    )
                })
                .unwrap();
                let got: Vec<Vec<i64>> = Vec::try_from(&out.tokens).unwrap();
                assert_eq!(got, want, "{name}/{case_name} (cache {use_cache})");
            }
        }
    }
}

/// Scoring: every real token's log-probability equals `log_softmax` of transformers' logits
/// (left-padded batch included), on every family.
#[test]
fn token_log_probs_match_transformers() {
    for_each_case(|name, model, case, tokens, mask, want| {
        let scores = tch::no_grad(|| token_log_probs(model, tokens, mask)).unwrap();
        let t = tokens.size()[1];
        let next = tokens.narrow(1, 1, t - 1).unsqueeze(-1);
        let expected = want
            .narrow(1, 0, t - 1)
            .log_softmax(-1, Kind::Float)
            .gather(-1, &next, false)
            .squeeze_dim(-1);
        let real = scores.mask.to_kind(Kind::Float);
        let diff = ((&scores.log_probs - &expected) * &real)
            .abs()
            .max()
            .double_value(&[]);
        assert!(diff < 1e-4, "{name}/{case}: log-probs differ by {diff}");
    });
}

/// Beam search runs on every family, gives the same hypotheses with and without the KV cache,
/// and with one beam it is greedy decoding (transformers' greedy tokens).
#[test]
fn beam_search_runs_on_every_family() {
    for (name, _) in FAMILIES {
        let model = load(name);
        let exp = expected(name);
        let case = &exp["generations"][0];
        let tokens = int_matrix(&case["tokens"]);
        let want: Vec<Vec<i64>> = serde_json::from_value(case["new_tokens"].clone()).unwrap();
        let n = want[0].len() as i64;
        let one = BeamSearchConfig {
            eos_token_ids: StopTokens::none(),
            ..BeamSearchConfig::new(1, n)
        };
        let greedy = tch::no_grad(|| beam_search(&model, &tokens, None, &one)).unwrap();
        assert_eq!(greedy[0][0].tokens, want[0], "{name}: one beam is greedy");
        let mut results = Vec::new();
        for use_cache in [true, false] {
            let cfg = BeamSearchConfig {
                use_cache,
                eos_token_ids: StopTokens::none(),
                ..BeamSearchConfig::new(3, 6)
            };
            let mut hyps = tch::no_grad(|| beam_search(&model, &tokens, None, &cfg)).unwrap();
            assert_eq!(hyps[0].len(), 3, "{name}");
            results.push(hyps.remove(0));
        }
        for (a, b) in results[0].iter().zip(&results[1]) {
            assert_eq!(a.tokens, b.tokens, "{name}: cache and no cache differ");
            assert!((a.sum_log_prob - b.sum_log_prob).abs() < 1e-4, "{name}");
        }
    }
}

fn temp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tokengym-hf-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[test]
fn saved_models_reload_with_identical_logits() {
    let tokens = Tensor::from_slice(&[5i64, 17, 3, 99, 0, 42, 7, 8]).reshape([1, 8]);
    for (name, _) in FAMILIES {
        let (vs, model) = load_decoder(&fixtures().join(name), Device::Cpu, None).unwrap();
        let dir = temp_dir(name);
        save_decoder(&dir, &vs, model.config()).unwrap();
        let (_vs2, again) = load_decoder(&dir, Device::Cpu, None).unwrap();
        assert_eq!(again.config(), model.config(), "{name}");
        let a = tch::no_grad(|| model.logits(&tokens, None)).unwrap();
        let b = tch::no_grad(|| again.logits(&tokens, None)).unwrap();
        assert!(a.equal(&b), "{name}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

#[test]
fn exported_hugging_face_folders_reload_with_identical_logits() {
    let tokens = Tensor::from_slice(&[5i64, 17, 3, 99, 0, 42, 7, 8]).reshape([1, 8]);
    for (name, _) in FAMILIES {
        let src = fixtures().join(name);
        let (vs, model) = load_decoder(&src, Device::Cpu, None).unwrap();
        // TOKENGYM_KEEP_EXPORTS=DIR keeps the exported folders in DIR, for
        // tests/fixtures/check_hf_export.py to load them with transformers.
        let keep = std::env::var_os("TOKENGYM_KEEP_EXPORTS").map(PathBuf::from);
        let dir = match &keep {
            Some(k) => k.join(name),
            None => temp_dir(&format!("export-{name}")),
        };
        save_hf_folder(&dir, &vs, model.config(), Some(&src)).unwrap();
        for file in [
            "config.json",
            "model.safetensors",
            "tokenizer.json",
            "tokenizer_config.json",
        ] {
            assert!(dir.join(file).is_file(), "{name}: {file}");
        }
        let config: Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("config.json")).unwrap())
                .unwrap();
        let original: Value =
            serde_json::from_str(&std::fs::read_to_string(src.join("config.json")).unwrap())
                .unwrap();
        for key in ["model_type", "eos_token_id", "tie_word_embeddings"] {
            assert_eq!(config[key], original[key], "{name}: {key}");
        }
        let (_vs2, again) = load_decoder(&dir, Device::Cpu, None).unwrap();
        assert_eq!(again.config(), model.config(), "{name}");
        let a = tch::no_grad(|| model.logits(&tokens, None)).unwrap();
        let b = tch::no_grad(|| again.logits(&tokens, None)).unwrap();
        assert!(a.equal(&b), "{name}");
        if keep.is_none() {
            std::fs::remove_dir_all(&dir).unwrap();
        }
    }
    // Our own RoPE decoder has no Hugging Face counterpart.
    let vs = tch::nn::VarStore::new(Device::Cpu);
    let cfg = tokengym_lm::model::DecoderConfig::tiny(20);
    let _model = Decoder::new(&vs.root(), cfg.clone()).unwrap();
    let err = save_hf_folder(&temp_dir("export-rope"), &vs, &cfg, None).unwrap_err();
    assert!(err.to_string().contains("Hugging Face"), "{err}");
    // A source folder whose config cannot be read would lose its token ids: an error, and
    // nothing is written.
    let (vs, model) = load_decoder(&fixtures().join("llama"), Device::Cpu, None).unwrap();
    let no_config = temp_dir("export-no-config-src");
    std::fs::create_dir_all(&no_config).unwrap();
    let dir = temp_dir("export-no-config");
    let err = save_hf_folder(&dir, &vs, model.config(), Some(&no_config)).unwrap_err();
    assert!(err.to_string().contains("config.json"), "{err}");
    assert!(!dir.exists());
    std::fs::remove_dir_all(&no_config).unwrap();
}

#[test]
fn bf16_load_runs_close_to_f32() {
    let tokens = Tensor::from_slice(&[5i64, 17, 3, 99, 0, 42, 7, 8]).reshape([1, 8]);
    for (name, _) in FAMILIES {
        let (vs, model) =
            load_decoder(&fixtures().join(name), Device::Cpu, Some(Kind::BFloat16)).unwrap();
        assert!(
            vs.variables().values().all(|t| t.kind() == Kind::BFloat16),
            "{name}"
        );
        let low = tch::no_grad(|| model.logits(&tokens, None)).unwrap();
        assert_eq!(low.kind(), Kind::BFloat16, "{name}");
        let full = tch::no_grad(|| load(name).logits(&tokens, None)).unwrap();
        let diff = max_diff(&low, &full, None);
        let scale = full.abs().max().double_value(&[]);
        assert!(
            diff < 0.05 * scale.max(1.0),
            "{name}: bf16 differs by {diff} (scale {scale})"
        );
        // Training in bf16 gives a finite loss (computed in f32).
        let targets = tokens.roll([-1], [1]);
        let loss = model.loss(&tokens, &targets, None, false).unwrap();
        assert!(loss.double_value(&[]).is_finite(), "{name}");
    }
    let err = load_decoder(&fixtures().join("gpt2"), Device::Cpu, Some(Kind::Int64))
        .unwrap_err()
        .to_string();
    assert!(err.contains("bf16"), "{err}");
}

/// On a machine with a GPU, every family loads in bf16 on CUDA, gives logits close to the f32
/// CPU ones, generates with the KV cache and takes one AdamW training step with a finite loss.
/// Skipped with a message where CUDA is not usable (`TOKENGYM_REQUIRE_CUDA=1` makes that a
/// failure).
#[test]
fn every_family_runs_in_bf16_on_cuda() {
    if !tch::Cuda::is_available() {
        let required = std::env::var_os("TOKENGYM_REQUIRE_CUDA").is_some_and(|v| v != "0");
        assert!(
            !required,
            "TOKENGYM_REQUIRE_CUDA is set but CUDA is not usable"
        );
        eprintln!("every_family_runs_in_bf16_on_cuda: skipped, CUDA is not usable here");
        return;
    }
    use tch::nn::OptimizerConfig;
    let gpu = Device::Cuda(0);
    let cpu_tokens = Tensor::from_slice(&[5i64, 17, 3, 99, 0, 42, 7, 8]).reshape([1, 8]);
    let tokens = cpu_tokens.to_device(gpu);
    for (name, _) in FAMILIES {
        let (vs, model) = load_decoder(&fixtures().join(name), gpu, Some(Kind::BFloat16)).unwrap();
        let low = tch::no_grad(|| model.logits(&tokens, None))
            .unwrap()
            .to_device(Device::Cpu);
        assert_eq!(low.kind(), Kind::BFloat16, "{name}");
        let full = tch::no_grad(|| load(name).logits(&cpu_tokens, None)).unwrap();
        let diff = max_diff(&low, &full, None);
        let scale = full.abs().max().double_value(&[]);
        assert!(
            diff < 0.05 * scale.max(1.0),
            "{name}: bf16 on CUDA differs by {diff} (scale {scale})"
        );
        let out = tch::no_grad(|| {
            generate(
                &model,
                &tokens,
                None,
                &GenerateConfig::greedy(8),
                &mut rng_from_seed(Some(0)),
            )
        })
        .unwrap();
        assert_eq!(out.tokens.size(), [1, 8], "{name}");
        let mut opt = tch::nn::AdamW::default().build(&vs, 1e-3).unwrap();
        let before = vs.trainable_variables()[0].to_device(Device::Cpu);
        let loss = model
            .loss(&tokens, &tokens.roll([-1], [1]), None, false)
            .unwrap();
        assert!(loss.double_value(&[]).is_finite(), "{name}");
        opt.backward_step(&loss);
        let after = vs.trainable_variables()[0].to_device(Device::Cpu);
        assert!(!before.equal(&after), "{name}: the step changed nothing");
    }
}

/// A copy of fixture folder `name` whose weights pass through `edit`.
fn edited_copy(name: &str, edit: impl FnOnce(&mut Vec<(String, Tensor)>)) -> PathBuf {
    let src = fixtures().join(name);
    let dir = temp_dir(&format!("edit-{name}"));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(src.join("config.json"), dir.join("config.json")).unwrap();
    let mut tensors = Tensor::read_safetensors(src.join("model.safetensors")).unwrap();
    edit(&mut tensors);
    Tensor::write_safetensors(&tensors, dir.join("model.safetensors")).unwrap();
    dir
}

#[test]
fn missing_unexpected_and_misshaped_tensors_are_errors() {
    let load_err = |dir: &Path| {
        load_decoder(dir, Device::Cpu, None)
            .unwrap_err()
            .to_string()
    };
    let dir = edited_copy("qwen3", |ts| {
        ts.retain(|(n, _)| n != "model.layers.1.self_attn.k_norm.weight")
    });
    let err = load_err(&dir);
    assert!(
        err.contains("model.layers.1.self_attn.k_norm.weight") && err.contains("lacks"),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).unwrap();

    let dir = edited_copy("qwen2", |ts| {
        ts.push((
            "model.layers.0.self_attn.o_proj.bias".into(),
            Tensor::zeros([32], (Kind::Float, Device::Cpu)),
        ));
    });
    let err = load_err(&dir);
    assert!(
        err.contains("o_proj.bias") && err.contains("does not have"),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).unwrap();

    let dir = edited_copy("gpt-neo", |ts| {
        for (n, t) in ts.iter_mut() {
            if n == "transformer.h.0.attn.attention.q_proj.weight" {
                *t = t.narrow(0, 0, 1);
            }
        }
    });
    let err = load_err(&dir);
    assert!(
        err.contains("q_proj.weight") && err.contains("shape"),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).unwrap();

    // A shard of the sharded Llama missing.
    let dir = temp_dir("llama-shard");
    std::fs::create_dir_all(&dir).unwrap();
    for f in [
        "config.json",
        "model.safetensors.index.json",
        "model-00001-of-00003.safetensors",
    ] {
        std::fs::copy(fixtures().join("llama").join(f), dir.join(f)).unwrap();
    }
    let err = load_err(&dir);
    assert!(
        err.contains("does not exist") && err.contains("-of-00003.safetensors"),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn unsupported_model_types_and_options_are_errors() {
    let dir = temp_dir("unsupported");
    std::fs::create_dir_all(&dir).unwrap();
    let config = std::fs::read_to_string(fixtures().join("qwen2/config.json")).unwrap();
    for (from, to, needle) in [
        (
            "\"qwen2\"",
            "\"mamba\"",
            "gpt2, gpt_neo, llama, mistral, qwen2, qwen3",
        ),
        (
            "\"full_attention\"",
            "\"chunked_attention\"",
            "chunked_attention",
        ),
        ("\"silu\"", "\"relu\"", "hidden_act"),
    ] {
        assert!(config.contains(from), "{from} not in the fixture config");
        std::fs::write(dir.join("config.json"), config.replace(from, to)).unwrap();
        std::fs::copy(
            fixtures().join("qwen2/model.safetensors"),
            dir.join("model.safetensors"),
        )
        .unwrap();
        let err = load_decoder(&dir, Device::Cpu, None)
            .unwrap_err()
            .to_string();
        assert!(err.contains(needle), "{to}: {err}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
