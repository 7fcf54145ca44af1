//! How a [`TextGenEnv`] episode is scored: the context its [`RewardFn`](super::RewardFn) sees,
//! the per-token shaping of the last token, the final score with its info, and the check that
//! a reward is finite.

use super::TextGenEnv;
use crate::text::reward::RewardContext;
use tokengym::{Error, Info, InfoValue, Result};

impl TextGenEnv {
    /// The completion's ids, without the end-of-sequence token.
    pub(super) fn completion_ids(&self, finished: bool) -> &[u32] {
        let end = self.tokens.len() - usize::from(finished);
        &self.tokens[self.prompt_len..end]
    }

    /// The context for the reward function.
    pub(super) fn context<'a>(&'a self, finished: bool, completion: &'a str) -> RewardContext<'a> {
        let prompt = self.prompts.get(self.prompt_index);
        RewardContext {
            prompt: prompt.map_or("", |p| &p.text),
            completion,
            prompt_ids: &self.tokens[..self.prompt_len],
            completion_ids: self.completion_ids(finished),
            finished,
            target: prompt.and_then(|p| p.target.as_deref()),
        }
    }

    /// The per-token shaping of the last token, and the decoded completion with it.
    pub(super) fn shaping(&self, finished: bool) -> Result<(f64, String)> {
        let text = self.tokenizer.decode(self.completion_ids(finished))?;
        let new_text = text.strip_prefix(self.text.as_str()).unwrap_or(&text);
        let r = self
            .reward
            .per_token(&self.context(finished, &text), new_text)?;
        Ok((r, text))
    }

    /// The score of the completion `text` and the final info.
    pub(super) fn final_score(&self, finished: bool, text: &str) -> Result<(f64, Info)> {
        let score = self.reward.score(&self.context(finished, text))?;
        let info = Info::new()
            .with("completion", InfoValue::Text(text.to_string()))
            .with("finished", InfoValue::Bool(finished))
            .with("score", InfoValue::Float(score))
            .with("prompt_index", InfoValue::Int(self.prompt_index as i64));
        Ok((score, info))
    }
}

/// An error unless `reward` is finite.
pub(super) fn check_reward(reward: f64, prompt_index: usize) -> Result<()> {
    if reward.is_finite() {
        Ok(())
    } else {
        Err(Error::NonFinite {
            what: "reward".into(),
            detail: format!("the reward function returned {reward} for prompt {prompt_index}"),
        })
    }
}
