//! The Bradley–Terry reward model learns the synthetic sentiment preferences: after a short
//! training of a tiny model its held-out preference accuracy is well above chance, and it
//! scores a rollout as a `RewardFn`.

use std::sync::Arc;

use tch::Device;
use tch::nn::VarStore;
use tokengym::seeding::rng_from_seed;
use tokengym_agents::lm::{Gpt, GptConfig};
use tokengym_agents::lm_rl::PreferencePair;
use tokengym_agents::lm_rl::{RewardModel, RewardTrainConfig, synthetic_sentiment_preferences};
use tokengym_envs::text::{CharTokenizer, RewardContext, RewardFn, Tokenizer};

fn tiny_reward_model(seed: i64) -> RewardModel {
    tch::manual_seed(seed);
    let tok = CharTokenizer::from_corpus(
        "abcdefghijklmnopqrstuvwxyz0123456789 ,.!+-=",
        &["<bos>", "<eos>", "<pad>"],
    )
    .unwrap();
    let mut cfg = GptConfig::tiny(tok.vocab_size() as i64);
    (cfg.d_model, cfg.n_layers, cfg.n_heads, cfg.context_len) = (32, 1, 2, 64);
    let vs = VarStore::new(Device::Cpu);
    let gpt = Gpt::new(&vs.root(), cfg).unwrap();
    RewardModel::new(vs, gpt, Arc::new(tok)).unwrap()
}

#[test]
fn reward_model_learns_held_out_preferences() {
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
}

#[test]
fn reward_model_rejects_bad_input() {
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
