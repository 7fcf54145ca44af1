//! Reinforcement learning for language models: sampled completions scored by a reward, and
//! policy-gradient updates of the model that wrote them.
//!
//! - [`fine_tune`]: the training loop as a library ([`FineTuner`], an
//!   [`Agent`](tokengym::Agent)): batches, statistics against the frozen start, the learner's
//!   update, the last good weights kept when one fails; `rl-lm` calls it.
//! - [`rollout`]: the batched text-generation environment used for training ([`Rollout`] →
//!   [`RolloutBatch`]: prompts, sampled responses, their log-probabilities, masks, rewards).
//! - [`logprobs`]: per-token log-probabilities of the responses recomputed with autograd under
//!   the **same** sampling transforms (temperature, filters) that generated them.
//! - [`batch_stats`](mod@batch_stats): KL to the reference, entropy, the reference's perplexity and the
//!   response length of a batch (what a run logs per step).
//! - [`kl`]: per-token KL estimators against a reference model.
//! - [`reference`](mod@reference): a frozen copy of a [`Decoder`](crate::Decoder) (the KL reference).
//! - [`optimizer`]: AdamW with global gradient-norm clipping and a finite-loss check.
//! - [`reinforce`]: REINFORCE with an optional moving-average baseline.
//! - [`group`]: group baselines (GRPO / RLOO): `k` completions per prompt, advantage = reward
//!   minus the group (or leave-one-out) mean, optionally divided by the group std, with an
//!   optional KL penalty to a frozen reference.
//! - [`kl_controller`]: fixed or adaptive (Ziegler et al.) KL coefficient.
//! - [`value_head`]: a scalar value head on the GPT's final hidden states.
//! - [`preference_data`]: preference pairs, from templates or from a policy's own completions
//!   judged by a reward function.
//! - [`reward_model`]: a Bradley–Terry reward model (scalar head on the LM) trained on
//!   preference pairs; it implements [`RewardFn`](tokengym_envs::text::RewardFn).
//! - [`ppo`]: PPO with per-token KL penalty, GAE over tokens, clipped policy and value losses.
//!
//! ```
//! use std::sync::Arc;
//! use tch::{Device, nn::VarStore};
//! use tokengym::seeding::rng_from_seed;
//! use tokengym_lm::model::{Decoder, DecoderConfig};
//! use tokengym_lm::decoding::SamplingConfig;
//! use tokengym_lm::rl::{Reinforce, ReinforceConfig, Rollout, RolloutConfig};
//! use tokengym_envs::text::{CharTokenizer, LexiconReward, PromptSet, Tokenizer};
//!
//! let tok = Arc::new(CharTokenizer::from_corpus("abcdefghijklmnopqrstuvwxyz ,.", &["<bos>", "<eos>", "<pad>"])?);
//! let mut cfg = DecoderConfig::tiny(tok.vocab_size() as i64);
//! (cfg.d_model, cfg.n_layers, cfg.n_heads, cfg.context_len) = (32, 2, 2, 32);
//! let vs = VarStore::new(Device::Cpu);
//! let policy = Decoder::new(&vs.root(), cfg)?;
//! let rollout = Rollout::new(
//!     tok,
//!     PromptSet::from_texts(["the movie was", "i think it is"])?,
//!     Arc::new(LexiconReward::default()),
//!     RolloutConfig { max_new_tokens: 8, sampling: SamplingConfig::new(0.9)?, ..RolloutConfig::default() },
//! )?;
//! let mut learner = Reinforce::new(&vs, &policy, ReinforceConfig::default())?;
//! let mut rng = rng_from_seed(Some(0));
//! for _ in 0..2 {
//!     let batch = rollout.collect(&policy, 4, &mut rng)?;
//!     let stats = learner.step(&policy, &batch)?;
//!     assert!(stats.loss.is_finite());
//! }
//! # Ok::<(), tokengym_lm::error::Error>(())
//! ```

pub mod batch_stats;
pub mod fine_tune;
pub mod group;
pub mod kl;
pub mod kl_controller;
pub mod logprobs;
pub mod optimizer;
pub mod ppo;
pub mod preference_data;
pub mod reference;
pub mod reinforce;
pub mod reward_model;
pub mod rollout;
pub mod value_head;

pub use batch_stats::{BatchStats, batch_stats};
pub use fine_tune::{Algorithm, FINE_TUNE_PROGRESS_FILE, FineTuneConfig, FineTuner, UpdateReport};
pub use group::{GroupBaseline, GroupConfig, GroupPolicyGradient, GroupStats, group_advantages};
pub use kl::{KlEstimator, kl_per_token};
pub use kl_controller::KlController;
pub use logprobs::{response_log_probs, response_log_probs_and_entropy};
pub use optimizer::{LmOptimizer, OptimConfig};
pub use ppo::{Ppo, PpoConfig, PpoStats};
pub use preference_data::{
    PreferencePair, preferences_from_groups, synthetic_sentiment_preferences,
};
pub use reference::FrozenDecoder;
pub use reinforce::{Baseline, Reinforce, ReinforceConfig, ReinforceStats};
pub use reward_model::{RewardModel, RewardTrainConfig, RewardTrainStats};
pub use rollout::{Completion, Rollout, RolloutBatch, RolloutConfig};
pub use value_head::ValueHead;
