//! The Bradley–Terry reward model learns the synthetic sentiment preferences: after a short
//! training of a tiny model its held-out preference accuracy is well above chance, and it
//! scores a rollout as a `RewardFn`. It saves and loads, and preference pairs can come from a
//! policy's own groups of completions.

mod support;

use std::sync::Arc;

use tch::Device;
use tch::nn::VarStore;
use tokengym::seeding::rng_from_seed;
use tokengym_envs::text::{CharTokenizer, RewardContext, RewardFn, Tokenizer};
use tokengym_lm::model::{Decoder, DecoderConfig};
use tokengym_lm::rl::PreferencePair;
use tokengym_lm::rl::{RewardModel, RewardTrainConfig, synthetic_sentiment_preferences};

fn tokenizer() -> CharTokenizer {
    CharTokenizer::from_corpus(
        "abcdefghijklmnopqrstuvwxyz0123456789 ,.!+-=",
        &["<bos>", "<eos>", "<pad>"],
    )
    .unwrap()
}

fn tiny_reward_model(seed: i64) -> RewardModel {
    tch::manual_seed(seed);
    let tok = tokenizer();
    let mut cfg = DecoderConfig::tiny(tok.vocab_size() as i64);
    (cfg.d_model, cfg.n_layers, cfg.n_heads, cfg.context_len) = (32, 1, 2, 64);
    let vs = VarStore::new(Device::Cpu);
    let gpt = Decoder::new(&vs.root(), cfg).unwrap();
    RewardModel::new(vs, gpt, Arc::new(tok)).unwrap()
}

#[test]
fn reward_model_learns_held_out_preferences() {
    let _torch = support::torch_rng_lock();
    tch::set_num_threads(1);
    let rm = tiny_reward_model(0);
    let train = synthetic_sentiment_preferences(1, 256).unwrap();
    let held_out = synthetic_sentiment_preferences(99, 100).unwrap();
    let before = rm.preference_accuracy(&held_out).unwrap();
    let cfg = RewardTrainConfig {
        steps: 60,
        batch_size: 16,
        ..RewardTrainConfig::default()
    };
    let stats = rm.train(&train, &cfg, &mut rng_from_seed(Some(0))).unwrap();
    assert!(
        stats.last_loss.is_finite() && stats.last_loss < stats.first_loss,
        "{stats:?}"
    );
    let after = rm.preference_accuracy(&held_out).unwrap();
    assert!(after >= 0.85, "held-out accuracy {before} -> {after}");

    // As a RewardFn: on held-out prompts, chosen completions score higher than rejected ones
    // on average (single pairs can still be ranked wrongly by a 60-step model).
    let mean_score = |pick: &dyn Fn(&PreferencePair) -> &str| -> f64 {
        let scores: Vec<f64> = held_out[..20]
            .iter()
            .map(|p| rm.score(&RewardContext::new(&p.prompt, pick(p))).unwrap())
            .collect();
        scores.iter().sum::<f64>() / scores.len() as f64
    };
    let good = mean_score(&|p| &p.chosen);
    let bad = mean_score(&|p| &p.rejected);
    assert!(good > bad, "{good} vs {bad}");

    // Batched scoring (one padded forward pass) gives the one-by-one scores.
    let ctxs: Vec<RewardContext<'_>> = held_out[..20]
        .iter()
        .map(|p| RewardContext::new(&p.prompt, &p.chosen))
        .collect();
    let batched = rm.score_batch(&ctxs).unwrap();
    for (c, b) in ctxs.iter().zip(&batched) {
        let one = rm.score(c).unwrap();
        assert!((one - b).abs() < 1e-4, "{one} vs {b}");
    }
    // The sigmoid reward is the Bradley–Terry probability of each score.
    let rm = rm.with_sigmoid_reward(true);
    for (c, raw) in ctxs.iter().zip(&batched) {
        let p = rm.score(c).unwrap();
        assert!(
            (p - 1.0 / (1.0 + (-raw).exp())).abs() < 1e-4,
            "{p} vs {raw}"
        );
        assert!(p > 0.0 && p < 1.0);
    }
}

#[test]
fn reward_model_rejects_bad_input() {
    let _torch = support::torch_rng_lock();
    let rm = tiny_reward_model(1);
    assert!(rm.preference_accuracy(&[]).is_err());
    assert!(rm.score_texts(&[]).is_err());
    let cfg = RewardTrainConfig {
        steps: 0,
        ..RewardTrainConfig::default()
    };
    let pairs = synthetic_sentiment_preferences(1, 4).unwrap();
    assert!(rm.train(&pairs, &cfg, &mut rng_from_seed(Some(0))).is_err());
    // Longer than the context: the last tokens are kept, the score is finite.
    let long = "a".repeat(500);
    assert!(rm.score_texts(&[long]).unwrap()[0].is_finite());
}

#[test]
fn reward_model_saves_and_loads_with_the_same_scores() {
    let _torch = support::torch_rng_lock();
    let dir = std::env::temp_dir().join(format!("tokengym-rm-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let rm = tiny_reward_model(2);
    let texts = vec!["the film was good.".to_owned(), "awful and dull".to_owned()];
    let scores = rm.score_texts(&texts).unwrap();
    rm.save(&dir).unwrap();
    // Without the tokenizer file the folder is not loadable.
    let err = RewardModel::load(&dir, Device::Cpu)
        .unwrap_err()
        .to_string();
    assert!(err.contains("tokenizer"), "{err}");
    tokenizer().save(dir.join("tokenizer.json")).unwrap();
    let loaded = RewardModel::load(&dir, Device::Cpu).unwrap();
    assert_eq!(loaded.score_texts(&texts).unwrap(), scores);
    // A plain language-model folder (no marker) is refused.
    std::fs::remove_file(dir.join("reward_model.json")).unwrap();
    let err = RewardModel::load(&dir, Device::Cpu)
        .unwrap_err()
        .to_string();
    assert!(err.contains("not a reward model"), "{err}");
    // Weights without the head are refused with the missing names.
    let (vs, gpt) = {
        tch::manual_seed(3);
        let vs = VarStore::new(Device::Cpu);
        let mut cfg = DecoderConfig::tiny(tokenizer().vocab_size() as i64);
        (cfg.d_model, cfg.n_layers, cfg.n_heads, cfg.context_len) = (32, 1, 2, 64);
        let gpt = Decoder::new(&vs.root(), cfg).unwrap();
        (vs, gpt)
    };
    tokengym_lm::model::save_decoder(&dir, &vs, gpt.config()).unwrap();
    rm.save(&dir.join("sub")).unwrap();
    std::fs::copy(
        dir.join("sub/reward_model.json"),
        dir.join("reward_model.json"),
    )
    .unwrap();
    let err = RewardModel::load(&dir, Device::Cpu)
        .unwrap_err()
        .to_string();
    assert!(err.contains("reward_head"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn preference_pairs_from_groups_prefer_the_better_completion() {
    let _torch = support::torch_rng_lock();
    use tokengym_envs::text::{FnReward, PromptSet};
    use tokengym_lm::decoding::SamplingConfig;
    use tokengym_lm::rl::{Rollout, RolloutConfig, preferences_from_groups};
    tch::manual_seed(4);
    let tok: Arc<dyn Tokenizer> = Arc::new(tokenizer());
    let mut cfg = DecoderConfig::tiny(tok.vocab_size() as i64);
    (cfg.d_model, cfg.n_layers, cfg.n_heads, cfg.context_len) = (32, 1, 2, 64);
    let vs = VarStore::new(Device::Cpu);
    let gpt = Decoder::new(&vs.root(), cfg).unwrap();
    // The annotator: the number of 'e's in the completion.
    let judge = Arc::new(FnReward::new(|ctx| {
        ctx.completion.matches('e').count() as f64
    }));
    let rollout = Rollout::new(
        tok,
        PromptSet::from_texts(["the", "a good", "it was"]).unwrap(),
        judge,
        RolloutConfig {
            max_new_tokens: 12,
            sampling: SamplingConfig::new(1.0).unwrap(),
            ..RolloutConfig::default()
        },
    )
    .unwrap();
    let batch = rollout
        .collect_groups(&gpt, 12, 4, &mut rng_from_seed(Some(1)))
        .unwrap();
    let pairs = preferences_from_groups(&batch, 4, 0.0).unwrap();
    assert!(!pairs.is_empty() && pairs.len() <= 12);
    for (g, p) in pairs.iter().enumerate() {
        let e = |s: &str| s.matches('e').count();
        assert!(e(&p.chosen) > e(&p.rejected), "pair {g}: {p:?}");
        assert!(batch.prompts.contains(&p.prompt));
    }
    // A margin no group reaches leaves no pair; bad group sizes are errors.
    assert!(preferences_from_groups(&batch, 4, 1e9).unwrap().is_empty());
    assert!(preferences_from_groups(&batch, 1, 0.0).is_err());
    assert!(preferences_from_groups(&batch, 5, 0.0).is_err());
    assert!(preferences_from_groups(&batch, 4, f64::NAN).is_err());
    // Groups of 2 out of groups of 4 still share prompts; groups of 8 mix them.
    assert!(preferences_from_groups(&batch, 2, 0.0).is_ok());
    assert!(preferences_from_groups(&batch, 8, 0.0).is_err());
}
