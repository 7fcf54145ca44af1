//! The batched text-generation environment used for training: draw prompts, sample
//! completions with the model's KV cache, decode them and score them with a [`RewardFn`].
//!
//! One call of [`Rollout::collect`] is one batch of `B` one-shot episodes (the batched form of
//! [`TextGenEnv`](tokengym_envs::text::TextGenEnv)): prompts are drawn uniformly with the
//! caller's seeded [`EnvRng`], encoded (optionally with the tokenizer's special tokens), left-padded, and completed by
//! [`generate`] with sampling; the same RNG then drives the sampler, so a seed fixes the whole
//! batch. Each completion is decoded (without its `<eos>`) and scored once with a
//! [`RewardContext`] holding the prompt, the completion, their ids, whether it ended with
//! `<eos>`, and the prompt's target.
//!
//! The sampling configuration is part of the [`RolloutConfig`] and must be the one the loss
//! recomputes log-probabilities with (see [`crate::rl::logprobs`]); the learners in this
//! module take it from the rollout for that reason.

use std::sync::Arc;

use tch::{Kind, Tensor};
use tokengym::seeding::EnvRng;
use tokengym_envs::text::{PromptSet, RewardContext, RewardFn, Tokenizer};

use crate::decoding::generate::{GenerateConfig, Strategy, generate};
use crate::decoding::logits_processing::SamplingConfig;
use crate::decoding::scoring::left_pad;
use crate::decoding::stop_tokens::StopTokens;
use crate::error::{Error, Result};
use crate::model::causal_lm::CausalLm;

/// Settings of a [`Rollout`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RolloutConfig {
    /// Most tokens generated per completion (`>= 1`).
    pub max_new_tokens: i64,
    /// The sampling pipeline (temperature, top-k, top-p, repetition penalty); the loss must use
    /// the same one.
    pub sampling: SamplingConfig,
    /// Whether prompts are encoded with the tokenizer's special tokens
    /// ([`Tokenizer::encode_prompt`]: `<bos>` first for our tokenizers when they have one, what
    /// `transformers` adds for a Hugging Face model folder's tokenizer), as `tokenizer(text,
    /// add_special_tokens=...)`; otherwise with plain [`Tokenizer::encode`].
    pub add_special_tokens: bool,
    /// Whether a completion ends at the tokenizer's stop tokens ([`Tokenizer::stop_ids`]: its
    /// `<eos>`, or a model folder's list); otherwise every completion has `max_new_tokens`
    /// tokens and the stop tokens are ordinary tokens.
    pub stop_at_eos: bool,
}

impl Default for RolloutConfig {
    fn default() -> Self {
        Self {
            max_new_tokens: 16,
            sampling: SamplingConfig::default(),
            add_special_tokens: false,
            stop_at_eos: true,
        }
    }
}

/// One batch of scored completions. Row `i` of every tensor is completion `i`.
#[derive(Debug)]
pub struct RolloutBatch {
    /// Prompt tokens, int64 `[B, T]`, left-padded with the pad id.
    pub query_ids: Tensor,
    /// Prompt attention mask, int64 `[B, T]` (1 = real token).
    pub query_mask: Tensor,
    /// Generated tokens, int64 `[B, N]` (the pad id after a row's `<eos>`).
    pub response: Tensor,
    /// 1.0 for real generated tokens (the `<eos>` included), 0.0 after; float `[B, N]`.
    pub response_mask: Tensor,
    /// Log-probability of each generated token under the processed sampling distribution that
    /// drew it, float `[B, N]`, 0 where the mask is 0.
    pub old_log_probs: Tensor,
    /// The rewards, float `[B]` (the same numbers as [`reward_values`](Self::reward_values)).
    pub rewards: Tensor,
    /// The rewards as host numbers.
    pub reward_values: Vec<f64>,
    /// Index of each row's prompt in the [`PromptSet`].
    pub prompt_indices: Vec<usize>,
    /// Each row's prompt text.
    pub prompts: Vec<String>,
    /// Each row's decoded completion (without `<eos>`).
    pub completions: Vec<String>,
    /// Whether each completion ended with `<eos>`.
    pub finished: Vec<bool>,
    /// The sampling configuration that generated the batch.
    pub sampling: SamplingConfig,
}

impl RolloutBatch {
    /// Number of completions `B`.
    pub fn len(&self) -> usize {
        self.reward_values.len()
    }

    /// Whether the batch holds no completion (never the case for a collected batch).
    pub fn is_empty(&self) -> bool {
        self.reward_values.is_empty()
    }

    /// Per-token log-probabilities `[B, N]` of the responses under `model`, with the batch's
    /// own sampling transforms ([`response_log_probs`](crate::rl::response_log_probs));
    /// keeps the autograd graph.
    pub fn log_probs<M: CausalLm>(&self, model: &M) -> Result<Tensor> {
        crate::rl::logprobs::response_log_probs(
            model,
            &self.query_ids,
            &self.query_mask,
            &self.response,
            &self.response_mask,
            &self.sampling,
        )
    }

    /// Mean reward of the batch.
    pub fn mean_reward(&self) -> f64 {
        if self.reward_values.is_empty() {
            return 0.0;
        }
        self.reward_values.iter().sum::<f64>() / self.reward_values.len() as f64
    }

    /// Prompt and response side by side: tokens int64 `[B, T + N]` and the attention mask int64
    /// `[B, T + N]` (prompt padding and the positions after `<eos>` are 0).
    pub fn full_sequence(&self) -> Result<(Tensor, Tensor)> {
        let tokens = Tensor::f_cat(&[&self.query_ids, &self.response], 1)?;
        let mask = Tensor::f_cat(
            &[
                &self.query_mask,
                &self.response_mask.f_to_kind(Kind::Int64)?,
            ],
            1,
        )?;
        Ok((tokens, mask))
    }
}

/// One completion of a prompt by [`Rollout::complete`] (what a fine-tuned language model
/// answers as an [`Agent`](tokengym::Agent)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completion {
    /// The decoded completion (without `<eos>`).
    pub text: String,
    /// The sampled token ids (without `<eos>`): the truth the text was decoded from.
    pub token_ids: Vec<u32>,
    /// Whether it ended with `<eos>` rather than at `max_new_tokens`.
    pub finished: bool,
}

/// Prompts, a tokenizer and a reward: the source of [`RolloutBatch`]es.
pub struct Rollout {
    tokenizer: Arc<dyn Tokenizer>,
    prompts: PromptSet,
    encoded: Vec<Vec<i64>>,
    reward: Arc<dyn RewardFn>,
    cfg: RolloutConfig,
    stop: StopTokens,
    pad: i64,
}

impl std::fmt::Debug for Rollout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rollout")
            .field("prompts", &self.prompts.len())
            .field("cfg", &self.cfg)
            .field("stop", &self.stop)
            .field("pad", &self.pad)
            .finish_non_exhaustive()
    }
}

impl Rollout {
    /// Encodes every prompt once and checks the settings: `max_new_tokens >= 1`, a valid
    /// sampling pipeline, stop tokens when `stop_at_eos`, and no prompt that encodes to
    /// nothing. The pad id is the tokenizer's `<pad>`, else its `<eos>`, else 0.
    pub fn new(
        tokenizer: Arc<dyn Tokenizer>,
        prompts: PromptSet,
        reward: Arc<dyn RewardFn>,
        cfg: RolloutConfig,
    ) -> Result<Self> {
        if cfg.max_new_tokens < 1 {
            return Err(Error::InvalidArgument(format!(
                "rollout max_new_tokens must be >= 1, got {}",
                cfg.max_new_tokens
            )));
        }
        cfg.sampling.validate()?;
        if prompts.is_empty() {
            return Err(Error::InvalidArgument(
                "rollout needs at least one prompt".to_owned(),
            ));
        }
        let specials = tokenizer.special_tokens();
        let stop_ids: Vec<i64> = tokenizer.stop_ids().into_iter().map(i64::from).collect();
        let stop = match (cfg.stop_at_eos, stop_ids.is_empty()) {
            (false, _) => StopTokens::none(),
            (true, false) => StopTokens::from_ids(&stop_ids)?,
            (true, true) => {
                return Err(Error::InvalidArgument(
                    "rollout: stop_at_eos is set but the tokenizer has no <eos> token".to_owned(),
                ));
            }
        };
        let pad = specials.pad.or(specials.eos).map_or(0, i64::from);
        let mut rollout = Self {
            tokenizer,
            prompts,
            encoded: Vec::new(),
            reward,
            cfg,
            stop,
            pad,
        };
        rollout.encoded = rollout
            .prompts
            .iter()
            .map(|p| rollout.encode_prompt(&p.text))
            .collect::<Result<_>>()?;
        Ok(rollout)
    }

    /// The ids of `text` as a prompt (with the tokenizer's special tokens when the rollout adds
    /// them); an error when that is no token at all.
    fn encode_prompt(&self, text: &str) -> Result<Vec<i64>> {
        let ids = if self.cfg.add_special_tokens {
            self.tokenizer.encode_prompt(text)?
        } else {
            self.tokenizer.encode(text)?
        };
        if ids.is_empty() {
            return Err(Error::InvalidArgument(format!(
                "rollout: the prompt {text:?} encodes to no token (a tokenizer with a <bos> and \
                 add_special_tokens would start it)"
            )));
        }
        Ok(ids.into_iter().map(i64::from).collect())
    }

    /// Checks that `model` can score the tokenizer's ids.
    fn check_vocab<M: CausalLm>(&self, model: &M) -> Result<()> {
        let tok_vocab = self.tokenizer.vocab_size() as i64;
        if tok_vocab > model.vocab_size() {
            return Err(Error::InvalidArgument(format!(
                "the tokenizer has {tok_vocab} tokens but the model's vocabulary only {}",
                model.vocab_size()
            )));
        }
        Ok(())
    }

    /// Checks that a prompt of `prompt_len` tokens plus `max_new_tokens` fits the context of
    /// `model`; the error names prompt `index` of the set, or "the prompt" for `None`.
    fn check_room<M: CausalLm>(
        &self,
        model: &M,
        prompt_len: usize,
        index: Option<usize>,
    ) -> Result<()> {
        let need = prompt_len as i64 + self.cfg.max_new_tokens;
        if need > model.context_len() {
            let what = index.map_or_else(|| "the prompt".to_owned(), |i| format!("prompt {i}"));
            return Err(Error::InvalidArgument(format!(
                "{what} has {prompt_len} tokens; with max_new_tokens {} that exceeds the model's context of {}",
                self.cfg.max_new_tokens,
                model.context_len()
            )));
        }
        Ok(())
    }

    /// The settings of [`generate`] for this rollout: its sampling pipeline, or greedy
    /// decoding when `deterministic`.
    fn generate_config(&self, deterministic: bool) -> GenerateConfig {
        GenerateConfig {
            max_new_tokens: self.cfg.max_new_tokens,
            strategy: if deterministic {
                Strategy::Greedy
            } else {
                Strategy::Sample(self.cfg.sampling)
            },
            eos_token_ids: self.stop,
            pad_token_id: self.pad,
            use_cache: true,
            repetition_penalty: 1.0,
        }
    }

    /// The real tokens of a generated row without its closing `<eos>`, and whether it had one.
    fn completion_ids<'a>(&self, real: &'a [i64]) -> (&'a [i64], bool) {
        let done = real.last().is_some_and(|&t| self.stop.contains(t));
        (if done { &real[..real.len() - 1] } else { real }, done)
    }

    /// Completes one prompt text (not necessarily of the prompt set) with `model`: sampled
    /// with the rollout's pipeline and `rng`, or greedy when `deterministic`; not scored.
    pub fn complete<M: CausalLm>(
        &self,
        model: &M,
        prompt: &str,
        deterministic: bool,
        rng: &mut EnvRng,
    ) -> Result<Completion> {
        let ids = self.encode_prompt(prompt)?;
        self.check_vocab(model)?;
        self.check_room(model, ids.len(), None)?;
        let (query_ids, query_mask) = left_pad(&[ids.as_slice()], self.pad)?;
        let g = tch::no_grad(|| {
            generate(
                model,
                &query_ids,
                Some(&query_mask),
                &self.generate_config(deterministic),
                rng,
            )
        })?;
        let flat = Vec::<i64>::try_from(&g.tokens.f_reshape([-1])?)?;
        let (body, finished) = self.completion_ids(&flat[..g.lengths[0] as usize]);
        let token_ids = to_u32(body)?;
        Ok(Completion {
            text: self.tokenizer.decode(&token_ids)?,
            token_ids,
            finished,
        })
    }

    /// The settings.
    pub fn config(&self) -> &RolloutConfig {
        &self.cfg
    }

    /// The prompt set.
    pub fn prompts(&self) -> &PromptSet {
        &self.prompts
    }

    /// The ids that end completions (none when completions do not stop at `<eos>`).
    pub fn eos_token_ids(&self) -> StopTokens {
        self.stop
    }

    /// The id written as padding (prompt left padding and after `<eos>`).
    pub fn pad_token_id(&self) -> i64 {
        self.pad
    }

    /// `batch_size` completions of prompts drawn uniformly with `rng` (which then drives the
    /// sampler).
    pub fn collect<M: CausalLm>(
        &self,
        model: &M,
        batch_size: usize,
        rng: &mut EnvRng,
    ) -> Result<RolloutBatch> {
        let indices: Vec<usize> = (0..batch_size)
            .map(|_| self.prompts.sample(rng).0)
            .collect();
        self.collect_for(model, &indices, rng)
    }

    /// `n_prompts` prompts drawn with `rng`, each completed `group_size` times; the rows of a
    /// group are consecutive (rows `g * group_size .. (g + 1) * group_size`), the layout
    /// [`crate::rl::group`] expects.
    pub fn collect_groups<M: CausalLm>(
        &self,
        model: &M,
        n_prompts: usize,
        group_size: usize,
        rng: &mut EnvRng,
    ) -> Result<RolloutBatch> {
        if group_size == 0 {
            return Err(Error::InvalidArgument(
                "rollout group_size must be >= 1".to_owned(),
            ));
        }
        let mut indices = Vec::with_capacity(n_prompts * group_size);
        for _ in 0..n_prompts {
            let i = self.prompts.sample(rng).0;
            indices.extend(std::iter::repeat_n(i, group_size));
        }
        self.collect_for(model, &indices, rng)
    }

    /// Completions of the prompts with the given indices (one row each, in order).
    pub fn collect_for<M: CausalLm>(
        &self,
        model: &M,
        prompt_indices: &[usize],
        rng: &mut EnvRng,
    ) -> Result<RolloutBatch> {
        if prompt_indices.is_empty() {
            return Err(Error::InvalidArgument(
                "rollout batch must hold at least one prompt".to_owned(),
            ));
        }
        self.check_vocab(model)?;
        let mut rows: Vec<&[i64]> = Vec::with_capacity(prompt_indices.len());
        for &i in prompt_indices {
            let ids = self.encoded.get(i).ok_or_else(|| {
                Error::InvalidArgument(format!(
                    "prompt index {i} out of range for {} prompts",
                    self.encoded.len()
                ))
            })?;
            self.check_room(model, ids.len(), Some(i))?;
            rows.push(ids);
        }
        let (query_ids, query_mask) = left_pad(&rows, self.pad)?;
        let gen_cfg = self.generate_config(false);
        let g = generate(model, &query_ids, Some(&query_mask), &gen_cfg, rng)?;
        let b = prompt_indices.len();
        let n = g.tokens.size()[1] as usize;
        let flat = Vec::<i64>::try_from(&g.tokens.f_reshape([-1])?)?;
        let mut prompts = Vec::with_capacity(b);
        let mut completions = Vec::with_capacity(b);
        let mut finished = Vec::with_capacity(b);
        let mut ids = Vec::with_capacity(b);
        for (row, &pi) in prompt_indices.iter().enumerate() {
            let len = g.lengths[row] as usize;
            let (body, done) = self.completion_ids(&flat[row * n..row * n + len]);
            let completion_ids = to_u32(body)?;
            completions.push(self.tokenizer.decode(&completion_ids)?);
            ids.push((to_u32(rows[row])?, completion_ids));
            let prompt = self
                .prompts
                .get(pi)
                .ok_or_else(|| Error::InvalidArgument(format!("prompt index {pi} out of range")))?;
            prompts.push(prompt);
            finished.push(done);
        }
        let ctxs: Vec<RewardContext<'_>> = (0..b)
            .map(|row| RewardContext {
                prompt: &prompts[row].text,
                completion: &completions[row],
                prompt_ids: &ids[row].0,
                completion_ids: &ids[row].1,
                finished: finished[row],
                target: prompts[row].target.as_deref(),
            })
            .collect();
        let rewards = self.reward.score_batch(&ctxs)?;
        if rewards.len() != b {
            return Err(Error::InvalidArgument(format!(
                "the reward function returned {} scores for {b} completions",
                rewards.len()
            )));
        }
        if let Some(row) = rewards.iter().position(|r| !r.is_finite()) {
            return Err(Error::NonFinite(format!(
                "reward {} for the completion {:?} of prompt {:?}",
                rewards[row], completions[row], prompts[row].text
            )));
        }
        drop(ctxs);
        let prompts: Vec<String> = prompts.iter().map(|p| p.text.clone()).collect();
        Ok(RolloutBatch {
            query_ids,
            query_mask,
            response: g.tokens,
            response_mask: g.mask,
            old_log_probs: g.log_probs,
            rewards: Tensor::from_slice(&rewards).f_to_kind(Kind::Float)?,
            reward_values: rewards,
            prompt_indices: prompt_indices.to_vec(),
            prompts,
            completions,
            finished,
            sampling: self.cfg.sampling,
        })
    }
}

fn to_u32(ids: &[i64]) -> Result<Vec<u32>> {
    ids.iter()
        .map(|&i| {
            u32::try_from(i)
                .map_err(|_| Error::InvalidArgument(format!("token id {i} does not fit in u32")))
        })
        .collect()
}
