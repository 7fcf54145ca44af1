//! [`RougeReward`]: the ROUGE F1 of a completion against its prompt's reference summary.

use super::{RewardContext, RewardFn};
use crate::text::rouge::{RougeMetric, RougeScorer};
use tokengym::Result;

/// The ROUGE F1 (`fmeasure`) of the completion against the prompt's reference, in `[0, 1]`,
/// computed as `rouge_score` does ([`RougeScorer`]).
///
/// The reference is the prompt's target ([`Prompt::target`](crate::text::Prompt::target); a
/// summarisation set read by [`PromptSet::from_jsonl`](crate::text::PromptSet::from_jsonl) puts
/// each line's `reference` there). A prompt without one is an error
/// ([`tokengym::Error::InvalidArgument`] naming the prompt), never a silent 0.
///
/// ```
/// use tokengym_envs::text::{RewardContext, RewardFn, RougeReward};
/// use tokengym_envs::text::rouge::RougeMetric;
///
/// let reward = RougeReward::new(RougeMetric::ROUGE1, true)?;
/// let ctx = RewardContext::new("Summarise: ...", " The cats sat.").with_target("the cat sat");
/// assert_eq!(reward.score(&ctx)?, 1.0); // stemming: "cats" -> "cat"
/// assert!(reward.score(&RewardContext::new("no reference", "x")).is_err());
/// # Ok::<(), tokengym::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RougeReward {
    metric: RougeMetric,
    scorer: RougeScorer,
}

impl RougeReward {
    /// A reward on `metric`, stemming tokens or not; `RougeMetric::N(0)` is an error.
    pub fn new(metric: RougeMetric, stemming: bool) -> Result<Self> {
        Ok(RougeReward {
            metric: metric.validated()?,
            scorer: RougeScorer::new(stemming),
        })
    }

    /// The measure this reward pays.
    pub fn metric(&self) -> RougeMetric {
        self.metric
    }

    /// Whether tokens are stemmed.
    pub fn stemming(&self) -> bool {
        self.scorer.stemming
    }
}

impl RewardFn for RougeReward {
    fn score(&self, ctx: &RewardContext<'_>) -> Result<f64> {
        let reference = ctx.require_target(&format!("RougeReward ({})", self.metric))?;
        Ok(self
            .scorer
            .score(self.metric, reference, ctx.completion)
            .fmeasure)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matching_unrelated_and_missing_reference() {
        for metric in [
            RougeMetric::ROUGE1,
            RougeMetric::ROUGE2,
            RougeMetric::L,
            RougeMetric::Lsum,
        ] {
            let r = RougeReward::new(metric, false).unwrap();
            let reference = "the council approved the new budget on monday";
            let same = RewardContext::new("doc", " The council approved the new budget on Monday.")
                .with_target(reference);
            assert_eq!(r.score(&same).unwrap(), 1.0, "{metric}");
            let other = RewardContext::new("doc", "rain fell over hills").with_target(reference);
            assert_eq!(r.score(&other).unwrap(), 0.0, "{metric}");
            let empty = RewardContext::new("doc", "").with_target(reference);
            assert_eq!(r.score(&empty).unwrap(), 0.0, "{metric}");
            let err = r.score(&RewardContext::new("a prompt", "x")).unwrap_err();
            assert!(matches!(err, tokengym::Error::InvalidArgument(_)));
            let msg = err.to_string();
            assert!(
                msg.contains("RougeReward") && msg.contains("a prompt"),
                "{msg}"
            );
        }
        let partial = RougeReward::new(RougeMetric::ROUGE1, false).unwrap();
        let ctx = RewardContext::new("p", "a b").with_target("a c");
        assert_eq!(partial.score(&ctx).unwrap(), 0.5);
        assert!(RougeReward::new(RougeMetric::N(0), true).is_err());
        let stem = RougeReward::new(RougeMetric::L, true).unwrap();
        assert!(stem.stemming() && stem.metric() == RougeMetric::L);
    }
}
