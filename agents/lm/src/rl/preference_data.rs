//! Preference data for reward models: `(prompt, chosen, rejected)` triples.
//!
//! - [`synthetic_sentiment_preferences`]: seeded template pairs from the project's corpus, a
//!   sentiment prompt ([`PromptSet::sentiment`]) completed by two positive words (chosen) or two
//!   negative words (rejected), word lists [`POSITIVE_WORDS`] / [`NEGATIVE_WORDS`].
//! - [`preferences_from_groups`]: the classic RLHF recipe with a programmatic annotator. A
//!   policy writes several completions per prompt ([`Rollout::collect_groups`]) whose rollout
//!   reward is the annotator's judgement (for example the lexicon score); in each group the
//!   best-scored completion is preferred over the worst, and groups whose scores tie give no
//!   pair. The reward model then learns from text the policy actually writes, not only from
//!   templates, which is what keeps a later PPO run from finding completions the reward model
//!   has never seen.
//!
//! [`Rollout::collect_groups`]: crate::rl::Rollout::collect_groups

use rand::RngExt;
use tokengym::seeding::{EnvRng, rng_from_seed};
use tokengym_envs::text::PromptSet;
use tokengym_envs::text::corpus::{NEGATIVE_WORDS, POSITIVE_WORDS};

use crate::error::{Error, Result};
use crate::rl::rollout::RolloutBatch;

/// One preference: `prompt + chosen` is preferred over `prompt + rejected`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreferencePair {
    /// The shared prompt.
    pub prompt: String,
    /// The preferred completion (appended to the prompt as is).
    pub chosen: String,
    /// The other completion.
    pub rejected: String,
}

/// `count` seeded preference pairs: a sentiment prompt (its first three words) completed by
/// `" <pos> and <pos>."` (chosen) or `" <neg> and <neg>."` (rejected), words drawn from the
/// corpus lexicon. The same arguments give the same pairs.
pub fn synthetic_sentiment_preferences(seed: u64, count: usize) -> Result<Vec<PreferencePair>> {
    if count == 0 {
        return Err(Error::InvalidArgument(
            "synthetic preferences need count >= 1".to_owned(),
        ));
    }
    let prompts = PromptSet::sentiment(seed, count.max(8), 3)?;
    let mut rng = rng_from_seed(Some(seed));
    let pick = |words: &[&'static str], rng: &mut EnvRng| words[rng.random_range(0..words.len())];
    let mut out = Vec::with_capacity(count);
    for _ in 0..count {
        let (_, p) = prompts.sample(&mut rng);
        let (p1, p2) = (
            pick(&POSITIVE_WORDS, &mut rng),
            pick(&POSITIVE_WORDS, &mut rng),
        );
        let (n1, n2) = (
            pick(&NEGATIVE_WORDS, &mut rng),
            pick(&NEGATIVE_WORDS, &mut rng),
        );
        out.push(PreferencePair {
            prompt: p.text.clone(),
            chosen: format!(" {p1} and {p2}."),
            rejected: format!(" {n1} and {n2}."),
        });
    }
    Ok(out)
}

/// Preference pairs from a batch of groups of `group_size` consecutive completions of the same
/// prompt (as [`Rollout::collect_groups`](crate::rl::Rollout::collect_groups) returns them):
/// per group, the completion with the highest reward is chosen over the one with the lowest
/// (the first of equals); a group whose highest and lowest rewards differ by no more than
/// `min_margin` gives no pair.
pub fn preferences_from_groups(
    batch: &RolloutBatch,
    group_size: usize,
    min_margin: f64,
) -> Result<Vec<PreferencePair>> {
    if group_size < 2 || !batch.len().is_multiple_of(group_size) {
        return Err(Error::InvalidArgument(format!(
            "preference pairs need groups of >= 2 completions dividing the batch (group size \
             {group_size}, batch {})",
            batch.len()
        )));
    }
    if !(min_margin.is_finite() && min_margin >= 0.0) {
        return Err(Error::InvalidArgument(format!(
            "min_margin must be finite and >= 0, got {min_margin}"
        )));
    }
    let mut pairs = Vec::new();
    for g in 0..batch.len() / group_size {
        let idx: Vec<usize> = (g * group_size..(g + 1) * group_size).collect();
        if idx
            .iter()
            .any(|&i| batch.prompt_indices[i] != batch.prompt_indices[idx[0]])
        {
            return Err(Error::InvalidArgument(format!(
                "group {g} mixes prompts: the batch is not made of groups of {group_size}"
            )));
        }
        let r = |i: usize| batch.reward_values[i];
        let best = idx
            .iter()
            .copied()
            .fold(idx[0], |a, i| if r(i) > r(a) { i } else { a });
        let worst = idx
            .iter()
            .copied()
            .fold(idx[0], |a, i| if r(i) < r(a) { i } else { a });
        if r(best) - r(worst) > min_margin {
            pairs.push(PreferencePair {
                prompt: batch.prompts[best].clone(),
                chosen: batch.completions[best].clone(),
                rejected: batch.completions[worst].clone(),
            });
        }
    }
    Ok(pairs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synthetic_pairs_are_seeded_and_use_the_lexicon() {
        let a = synthetic_sentiment_preferences(3, 20).unwrap();
        assert_eq!(a, synthetic_sentiment_preferences(3, 20).unwrap());
        assert_ne!(a, synthetic_sentiment_preferences(4, 20).unwrap());
        for p in &a {
            let word = p.chosen.split_whitespace().next().unwrap();
            assert!(POSITIVE_WORDS.contains(&word), "{p:?}");
            let word = p.rejected.split_whitespace().next().unwrap();
            assert!(NEGATIVE_WORDS.contains(&word), "{p:?}");
        }
        assert!(synthetic_sentiment_preferences(3, 0).is_err());
    }
}
