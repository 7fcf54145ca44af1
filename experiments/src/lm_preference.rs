//! The preference pipeline of `rl-lm --task preference`: preference pairs, then a Bradley–Terry
//! reward model trained on them, then (in the binary) PPO against that model.
//!
//! The pairs are made the way RLHF makes them, with a programmatic annotator in place of people:
//! the starting policy writes `group_size` completions for each of `groups` sentiment prompts,
//! the lexicon score ([`LexiconReward`]) judges them, and each group's best completion is
//! preferred over its worst ([`preferences_from_groups`]); seeded template pairs
//! ([`synthetic_sentiment_preferences`]) are added. The reward model starts from the policy's
//! checkpoint. Its accuracy is measured on pairs it never saw: fresh groups from other prompts
//! (`held_out_accuracy`) and fresh template pairs (`template_accuracy`).

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use tch::Device;
use tokengym::seeding::rng_from_seed;
use tokengym_envs::text::{LexiconReward, PromptSet, Tokenizer};
use tokengym_lm::decoding::SamplingConfig;
use tokengym_lm::model::Decoder;
use tokengym_lm::pretrain::load_checkpoint;
use tokengym_lm::rl::{
    PreferencePair, RewardModel, RewardTrainConfig, Rollout, RolloutConfig,
    preferences_from_groups, synthetic_sentiment_preferences,
};

/// Sizes and seeds of the pipeline.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PreferenceSetup {
    /// Reward-model training steps (minibatches of the default size).
    pub rm_steps: usize,
    /// Prompts whose completions are compared for the training pairs.
    pub groups: usize,
    /// Completions per prompt (>= 2); the best and the worst of each make a pair.
    pub group_size: usize,
    /// Template pairs added to the training pairs.
    pub templates: usize,
    /// Seed of prompts, sampling and minibatches.
    pub seed: u64,
    /// Most new tokens per sampled completion.
    pub max_new_tokens: i64,
    /// Sampling temperature of the completions.
    pub temperature: f64,
}

/// A trained reward model and how well it ranks unseen pairs.
#[derive(Debug)]
pub struct TrainedRewardModel {
    /// The model.
    pub model: RewardModel,
    /// Accuracy on pairs from fresh groups of the policy's completions; `None` when every
    /// fresh group tied (a policy that never writes a lexicon word).
    pub held_out_accuracy: Option<f64>,
    /// Accuracy on fresh template pairs.
    pub template_accuracy: f64,
    /// Training pairs (sampled + template).
    pub train_pairs: usize,
    /// Held-out sampled pairs.
    pub held_out_pairs: usize,
}

/// Pairs from `groups` groups of completions of `policy` on seeded sentiment prompts, judged by
/// the lexicon score (ties give no pair).
pub fn sampled_preferences(
    policy: &Decoder,
    tokenizer: Arc<dyn Tokenizer>,
    setup: &PreferenceSetup,
    prompt_seed: u64,
    groups: usize,
) -> Result<Vec<PreferencePair>> {
    if setup.group_size < 2 || groups == 0 {
        bail!(
            "sampled preferences need --rm-groups >= 1 and a group size >= 2 (got {groups} and {})",
            setup.group_size
        );
    }
    let rollout = Rollout::new(
        tokenizer.clone(),
        PromptSet::sentiment(prompt_seed, groups.max(8), 3)?,
        Arc::new(LexiconReward::default()),
        RolloutConfig {
            max_new_tokens: setup.max_new_tokens,
            sampling: SamplingConfig::new(setup.temperature)?,
            add_special_tokens: true,
            stop_at_eos: !tokenizer.stop_ids().is_empty(),
        },
    )?;
    let mut rng = rng_from_seed(Some(prompt_seed));
    let mut pairs = Vec::new();
    let mut left = groups;
    while left > 0 {
        let n = left.min(16);
        let batch = tch::no_grad(|| rollout.collect_groups(policy, n, setup.group_size, &mut rng))?;
        pairs.extend(preferences_from_groups(&batch, setup.group_size, 0.0)?);
        left -= n;
    }
    Ok(pairs)
}

/// Builds the pairs, trains a reward model from the checkpoint in `checkpoint` (whose policy
/// `policy` writes the sampled completions) and measures it (see the module docs).
pub fn train_reward_model(
    checkpoint: &Path,
    policy: &Decoder,
    tokenizer: Arc<dyn Tokenizer>,
    setup: &PreferenceSetup,
    device: Device,
) -> Result<TrainedRewardModel> {
    if setup.rm_steps == 0 {
        bail!("--rm-steps must be at least 1");
    }
    let seed = setup.seed;
    let mut train =
        sampled_preferences(policy, tokenizer.clone(), setup, seed + 4000, setup.groups)?;
    if setup.templates > 0 {
        train.extend(synthetic_sentiment_preferences(
            seed + 2000,
            setup.templates,
        )?);
    }
    let held_out = sampled_preferences(
        policy,
        tokenizer,
        setup,
        seed + 5000,
        (setup.groups / 4).max(16),
    )?;
    if train.is_empty() {
        bail!(
            "no preference pair to train on: every group of the policy's completions tied and \
             --rm-templates is 0"
        );
    }
    let templates = synthetic_sentiment_preferences(seed + 3000, 128)?;
    let ckpt = load_checkpoint(checkpoint, device)
        .with_context(|| format!("cannot load {}", checkpoint.display()))?;
    let model = RewardModel::new(ckpt.vs, ckpt.model, Arc::from(ckpt.tokenizer))?;
    let cfg = RewardTrainConfig {
        steps: setup.rm_steps,
        ..RewardTrainConfig::default()
    };
    model.train(&train, &cfg, &mut rng_from_seed(Some(seed + 2000)))?;
    Ok(TrainedRewardModel {
        held_out_accuracy: if held_out.is_empty() {
            None
        } else {
            Some(model.preference_accuracy(&held_out)?)
        },
        template_accuracy: model.preference_accuracy(&templates)?,
        train_pairs: train.len(),
        held_out_pairs: held_out.len(),
        model,
    })
}
