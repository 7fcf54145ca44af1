//! Your own reward, and a language model fine-tuned on it with RL from Rust.
//!
//! `Vowels` is a [`RewardFn`]: it pays the fraction of a completion's letters that are vowels.
//! The policy is a tiny GPT over lower-case letters, fresh from random initialisation; the
//! fine-tuning loop is the one `rl-lm` runs, [`FineTuner`], here with REINFORCE and a
//! moving-average baseline. A model pre-trained with `pretrain-lm` is used the same way, loaded
//! with `tokengym_lm::pretrain::load_checkpoint` (see the README).
//!
//! ```text
//! cargo run --release -p tokengym-experiments --example custom_reward_rl
//! ```

use std::sync::Arc;

use tch::{Device, nn::VarStore};
use tokengym::{Agent, Budget};
use tokengym_envs::text::{CharTokenizer, PromptSet, RewardContext, RewardFn, Tokenizer};
use tokengym_lm::decoding::SamplingConfig;
use tokengym_lm::rl::{
    Algorithm, Baseline, FineTuneConfig, FineTuner, OptimConfig, ReinforceConfig, Rollout,
    RolloutConfig,
};
use tokengym_lm::{Decoder, DecoderConfig};

/// The fraction of the completion's letters that are vowels (0 for no letters).
struct Vowels;

impl RewardFn for Vowels {
    fn score(&self, ctx: &RewardContext<'_>) -> tokengym::Result<f64> {
        let letters = ctx.completion.chars().filter(char::is_ascii_alphabetic);
        let (vowels, total) = letters.fold((0, 0), |(v, n), c| {
            (v + usize::from("aeiou".contains(c)), n + 1)
        });
        Ok(if total == 0 {
            0.0
        } else {
            vowels as f64 / total as f64
        })
    }
}

fn main() -> std::result::Result<(), Box<dyn std::error::Error>> {
    // Libtorch's global RNG initialises the weights: seed it for a reproducible run.
    tch::manual_seed(0);
    let tokenizer = Arc::new(CharTokenizer::from_corpus(
        "abcdefghijklmnopqrstuvwxyz ",
        &["<bos>", "<eos>", "<pad>"],
    )?);
    let mut gpt_config = DecoderConfig::tiny(tokenizer.vocab_size() as i64);
    (gpt_config.d_model, gpt_config.n_layers, gpt_config.n_heads) = (32, 2, 2);
    gpt_config.context_len = 32;
    let vs = VarStore::new(Device::Cpu);
    let policy = Decoder::new(&vs.root(), gpt_config)?;

    // Prompts, the reward, and how completions are sampled.
    let prompts = PromptSet::from_texts(["the", "a cat", "my dog", "we"])?;
    let rollout_config = RolloutConfig {
        max_new_tokens: 8,
        sampling: SamplingConfig::new(1.0)?,
        add_special_tokens: true,
        stop_at_eos: true,
    };
    let rollout = Rollout::new(tokenizer, prompts, Arc::new(Vowels), rollout_config)?;

    let config = FineTuneConfig {
        algorithm: Algorithm::Reinforce(ReinforceConfig {
            optim: OptimConfig {
                lr: 3e-3,
                ..OptimConfig::default()
            },
            baseline: Baseline::MovingAverage { decay: 0.8 },
        }),
        batch_size: 32,
        seed: 0,
    };
    let mut tuner = FineTuner::new(vs, policy, None, rollout, config)?;
    // Record the mean reward of every update (the callback sees each update's metrics).
    let mut rewards = Vec::new();
    let mut record = RecordReward(&mut rewards);
    tuner.learn(Budget::Updates(40), &mut record)?;
    let (first, last) = (mean(&rewards[..5]), mean(&rewards[rewards.len() - 5..]));
    println!(
        "vowel reward {first:.2} -> {last:.2}; \"a cat\" -> {:?}",
        tuner.act("a cat", true)?.text
    );
    if last < first + 0.2 {
        return Err(format!("the reward did not rise: {first} -> {last}").into());
    }
    Ok(())
}

/// A callback keeping each update's mean reward.
struct RecordReward<'a>(&'a mut Vec<f64>);

impl tokengym::Callback for RecordReward<'_> {
    fn on_update(&mut self, metrics: &[(&str, f64)]) -> std::ops::ControlFlow<()> {
        if let Some(&(_, r)) = metrics.iter().find(|(name, _)| *name == "mean_reward") {
            self.0.push(r);
        }
        std::ops::ControlFlow::Continue(())
    }
}

fn mean(xs: &[f64]) -> f64 {
    xs.iter().sum::<f64>() / xs.len() as f64
}

// `cargo test` runs the example (see `[[example]]` in Cargo.toml).
#[test]
fn the_example_runs() {
    main().unwrap();
}
