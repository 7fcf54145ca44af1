//! [`TextGenEnv`]: token-by-token text generation as an RL environment.
//!
//! One episode completes one prompt: the observation is the prompt's tokens followed by the
//! tokens generated so far, an action is the next token, and the episode ends when the policy
//! emits the end-of-sequence token (`terminated`) or reaches `max_new_tokens` (`truncated`).
//! The [`RewardFn`] scores the completion on the last step (plus its per-token shaping, if any).

use super::prompts::{Prompt, PromptSet};
use super::reward::RewardFn;
use super::text_gen_config::TextGenConfig;
use super::tokenizer::Tokenizer;
use std::sync::Arc;
use tokengym::render::{Frame, RenderMode};
use tokengym::seeding::{EnvRng, rng_from_seed};
use tokengym::space::{Discrete, Space, TokenSeq};
use tokengym::{Env, Error, Info, InfoValue, Result, Step, Transition};

#[path = "text_gen_scoring.rs"]
mod scoring;
use scoring::check_reward;

/// Where the environment is in its episode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    NeedsReset,
    Running,
    Ended,
}

/// Text generation, one token per step: complete a prompt token by token and be scored by a
/// [`RewardFn`] when the completion ends.
///
/// # Description
/// One episode completes one prompt of a [`PromptSet`]: the observation is the prompt's tokens
/// followed by the tokens generated so far, an action is the next token, and the episode ends
/// when the policy emits the end-of-sequence token or has generated `max_new_tokens` tokens.
/// Token ids are the [`Tokenizer`]'s. Steps allocate only the returned observation
/// (`step_flat` not even that) unless the reward shapes per token, in which case the
/// completion is decoded every step. The example below runs a random policy on arithmetic
/// prompts.
///
/// # Action Space
/// `Discrete(vocab_size)`: the id of the next token, any id of the vocabulary (special tokens
/// included). At most `max_new_tokens` tokens are generated per episode, the end-of-sequence
/// token included; that token ([`TextGenConfig::eos_token`], by default the tokenizer's
/// `<eos>`; [`eos_token`](TextGenEnv::eos_token)) ends the episode. The actions can be
/// restricted by an allowed-token mask ([`TextGenEnv::with_allowed_tokens`],
/// [`TextGenEnv::with_action_mask`]): a token outside it is an [`Error::InvalidAction`], as is
/// an id outside the vocabulary. The mask is available from [`TextGenEnv::action_mask`] and,
/// as 0/1 numbers, in the reset info under `"action_mask"`. The mask does not add the
/// end-of-sequence token for you: without it, episodes only end by truncation.
///
/// # Observation Space
/// `Vec<u32>` in `TokenSeq(vocab_size, max_prompt_len + max_new_tokens)`: the prompt's tokens
/// then the generated ones, unpadded, so its length is the prompt's (`p`) plus the number of
/// tokens generated (`g`). The end-of-sequence token, once emitted, is part of it. Flattened
/// (`reset_flat`, `step_flat`, vector environments) it is `max_prompt_len + max_new_tokens`
/// `f32` values, the ids padded with `-1.0`.
///
/// | Num | Observation | Min | Max |
/// |---|---|---|---|
/// | `0..p` | prompt token ids (a `<bos>` first with `add_bos`) | 0 | `vocab_size - 1` |
/// | `p..p + g` | generated token ids (with the end-of-sequence token) | 0 | `vocab_size - 1` |
/// | `p + g..max_len` | padding, in the flattened form only | -1 | -1 |
///
/// # Rewards
/// 0 on every step but the last, and on the last the [`RewardFn`]'s
/// [`score`](RewardFn::score) of the completion (its text decoded without the end-of-sequence
/// token, its ids, whether it is `finished` and the prompt's target). A reward that shapes per
/// token ([`RewardFn::shapes_per_token`]) adds its [`per_token`](RewardFn::per_token) reward on
/// every step, the last one included. A non-finite reward is an [`Error::NonFinite`]; a reward
/// error leaves the episode as it was before the step. The registered ids score with
/// [`LexiconReward`](crate::text::LexiconReward) (`TextGen-Sentiment-v0`: the fraction of the
/// completion's sentiment words that are positive, in `[0, 1]`, 0.5 when it has none) and
/// [`ArithmeticReward`](crate::text::ArithmeticReward) (`TextGen-Arithmetic-v0`: 1 when the
/// completion's leading integer is the answer, else 0); neither has a reward threshold.
///
/// # Starting State
/// The prompt's tokens (after a `<bos>` with `add_bos`). The prompt is drawn uniformly from the
/// [`PromptSet`] with the environment's RNG, so `reset(Some(seed))` always starts with the same
/// prompt; `reset(None)` continues the RNG's stream (seeded from OS entropy if no seed was ever
/// given). [`reset_with_prompt`](TextGenEnv::reset_with_prompt) starts with a given prompt,
/// for evaluation sweeps, without touching the RNG. A prompt longer than `max_prompt_len` is
/// an error at reset. Info: `prompt` and `prompt_index`.
///
/// # Episode End
/// - Termination: the policy emits the end-of-sequence token.
/// - Truncation: `max_new_tokens` tokens were generated without it (by this type; the registry
///   adds no time limit).
/// - Info on the last step: `completion` (decoded text), `finished` (ended by the
///   end-of-sequence token), `score` and `prompt_index`.
/// - Stepping after the end is an [`Error::EpisodeEnded`], before the first reset an
///   [`Error::ResetNeeded`].
///
/// # Arguments
/// [`TextGenEnv::new`] takes the tokenizer, the [`PromptSet`], the [`RewardFn`] and a
/// [`TextGenConfig`]: `max_new_tokens` (default 32), `max_prompt_len` (default: the longest
/// prompt of the set), `add_bos` (default `false`), `eos_token` (default: the tokenizer's
/// `<eos>`) and `vocab_size` (the policy's vocabulary, checked against the tokenizer's). The
/// registry ids use the [`ByteTokenizer`](crate::text::ByteTokenizer) and take the keyword
/// arguments `max_new_tokens`, `prompt_seed` (the seed of the prompt set, default 0),
/// `num_prompts` (1000) and `add_bos` (`false`), and
/// - `TextGen-Sentiment-v0`: review openings ([`PromptSet::sentiment`]), `max_new_tokens`
///   default 24, `prompt_words` (3);
/// - `TextGen-Arithmetic-v0`: `a+b=` / `a-b=` prompts ([`PromptSet::arithmetic`]),
///   `max_new_tokens` default 4, `max_operand` (99).
///
/// Renders as text (`ansi`): the prompt, the completion so far and the token count.
///
/// # Version History
/// - v0: initial version (tokengym 0.1), registered as `TextGen-Sentiment-v0` and
///   `TextGen-Arithmetic-v0`.
///
/// ```
/// use std::sync::Arc;
/// use tokengym::{Env, EnvRng};
/// use tokengym::space::Space;
/// use tokengym_envs::text::{ArithmeticReward, ByteTokenizer, PromptSet, TextGenConfig, TextGenEnv};
/// use rand::SeedableRng;
///
/// let cfg = TextGenConfig { max_new_tokens: 4, ..TextGenConfig::default() };
/// let mut env = TextGenEnv::new(
///     Arc::new(ByteTokenizer::new()),
///     PromptSet::arithmetic(0, 50, 99)?,
///     Arc::new(ArithmeticReward),
///     cfg,
/// )?;
/// let (obs, info) = env.reset(Some(7))?;
/// assert!(env.observation_space().contains(&obs));
/// let mut rng = EnvRng::seed_from_u64(0);
/// let mut steps = 0;
/// loop {
///     let token = env.action_space().sample(&mut rng);
///     let step = env.step(&token)?;
///     steps += 1;
///     if step.done() {
///         assert!(step.reward == 0.0 || step.reward == 1.0);
///         assert!(step.info.get("completion").is_some());
///         break;
///     }
///     assert_eq!(step.reward, 0.0); // sparse: only the last step is scored
/// }
/// assert!(steps <= 4);
/// # Ok::<(), tokengym::Error>(())
/// ```
#[derive(Clone)]
pub struct TextGenEnv {
    tokenizer: Arc<dyn Tokenizer>,
    prompts: Arc<PromptSet>,
    reward: Arc<dyn RewardFn>,
    cfg: TextGenConfig,
    max_prompt_len: usize,
    eos: u32,
    bos: Option<u32>,
    obs_space: TokenSeq,
    act_space: Discrete,
    mask: Option<Vec<bool>>,
    rng: EnvRng,
    /// Prompt tokens, then generated tokens.
    tokens: Vec<u32>,
    prompt_len: usize,
    prompt_index: usize,
    phase: Phase,
    /// The decoded completion so far (kept only when the reward shapes per token).
    text: String,
}

impl TextGenEnv {
    /// An environment generating with `tokenizer`'s ids, prompted from `prompts`, scored by
    /// `reward`.
    ///
    /// Errors: `max_new_tokens == 0`; a tokenizer whose vocabulary differs from
    /// `cfg.vocab_size`, is empty or does not fit `u32`; no end-of-sequence token (neither in
    /// `cfg` nor in the tokenizer) or one outside the vocabulary; `add_bos` without a `<bos>`;
    /// a prompt the tokenizer cannot encode (when `max_prompt_len` is measured).
    pub fn new(
        tokenizer: Arc<dyn Tokenizer>,
        prompts: impl Into<Arc<PromptSet>>,
        reward: Arc<dyn RewardFn>,
        cfg: TextGenConfig,
    ) -> Result<Self> {
        let prompts = prompts.into();
        if cfg.max_new_tokens == 0 {
            return Err(Error::invalid_argument(
                "TextGenEnv: max_new_tokens must be positive",
            ));
        }
        let vocab = tokenizer.vocab_size();
        if let Some(expected) = cfg.vocab_size
            && expected != vocab
        {
            return Err(Error::invalid_argument(format!(
                "TextGenEnv: the tokenizer has {vocab} tokens but the policy expects a \
                 vocabulary of {expected} (vocab_size); use the tokenizer the model was trained with"
            )));
        }
        let specials = tokenizer.special_tokens();
        let eos = cfg.eos_token.or(specials.eos).ok_or_else(|| {
            Error::invalid_argument(
                "TextGenEnv: the tokenizer has no <eos> token; set TextGenConfig::eos_token",
            )
        })?;
        if eos as usize >= vocab {
            return Err(Error::invalid_argument(format!(
                "TextGenEnv: the end-of-sequence id {eos} is outside the vocabulary of {vocab} tokens"
            )));
        }
        let bos = if cfg.add_bos {
            Some(specials.bos.ok_or_else(|| {
                Error::invalid_argument("TextGenEnv: add_bos is set but the tokenizer has no <bos>")
            })?)
        } else {
            None
        };
        let max_prompt_len = match cfg.max_prompt_len {
            Some(n) => n,
            None => {
                let mut longest = 0;
                for p in prompts.iter() {
                    longest = longest.max(tokenizer.encode(&p.text)?.len());
                }
                longest + usize::from(bos.is_some())
            }
        };
        let max_len = max_prompt_len
            .checked_add(cfg.max_new_tokens)
            .ok_or_else(|| {
                Error::invalid_argument("TextGenEnv: max_prompt_len + max_new_tokens overflows")
            })?;
        let obs_space = tokenizer.token_space(max_len)?;
        let act_space = Discrete::new(vocab as u64)?;
        Ok(TextGenEnv {
            tokens: Vec::with_capacity(max_len),
            tokenizer,
            prompts,
            reward,
            cfg,
            max_prompt_len,
            eos,
            bos,
            obs_space,
            act_space,
            mask: None,
            rng: rng_from_seed(None),
            prompt_len: 0,
            prompt_index: 0,
            phase: Phase::NeedsReset,
            text: String::new(),
        })
    }

    /// Restricts the actions to `allowed` token ids (each must be in the vocabulary; at least
    /// one). The end-of-sequence token is not added for you: leave it out and episodes only end
    /// by truncation.
    pub fn with_allowed_tokens(self, allowed: impl IntoIterator<Item = u32>) -> Result<Self> {
        let mut mask = vec![false; self.vocab_size()];
        for id in allowed {
            let slot = mask.get_mut(id as usize).ok_or_else(|| {
                Error::invalid_argument(format!(
                    "TextGenEnv: allowed token {id} is outside the vocabulary of {} tokens",
                    self.vocab_size()
                ))
            })?;
            *slot = true;
        }
        self.with_action_mask(mask)
    }

    /// Restricts the actions to the ids whose `mask` entry is `true` (`mask.len()` must be the
    /// vocabulary size, and at least one entry must be `true`).
    pub fn with_action_mask(mut self, mask: Vec<bool>) -> Result<Self> {
        if mask.len() != self.vocab_size() {
            return Err(Error::shape(
                "TextGenEnv action mask",
                self.vocab_size(),
                mask.len(),
            ));
        }
        if !mask.contains(&true) {
            return Err(Error::invalid_argument(
                "TextGenEnv: the action mask allows no token",
            ));
        }
        self.mask = Some(mask);
        Ok(self)
    }

    /// The allowed-token mask (`true` = allowed), if actions are restricted.
    pub fn action_mask(&self) -> Option<&[bool]> {
        self.mask.as_deref()
    }

    /// Whether `token` is a valid action (in the vocabulary and allowed by the mask).
    pub fn is_allowed(&self, token: u32) -> bool {
        match &self.mask {
            Some(m) => m.get(token as usize).copied().unwrap_or(false),
            None => (token as usize) < self.vocab_size(),
        }
    }

    /// The tokenizer.
    pub fn tokenizer(&self) -> &Arc<dyn Tokenizer> {
        &self.tokenizer
    }

    /// The prompt set.
    pub fn prompts(&self) -> &Arc<PromptSet> {
        &self.prompts
    }

    /// The reward function.
    pub fn reward_fn(&self) -> &Arc<dyn RewardFn> {
        &self.reward
    }

    /// The settings.
    pub fn config(&self) -> &TextGenConfig {
        &self.cfg
    }

    /// Vocabulary size (the number of actions).
    pub fn vocab_size(&self) -> usize {
        self.act_space.n() as usize
    }

    /// The end-of-sequence id.
    pub fn eos_token(&self) -> u32 {
        self.eos
    }

    /// Longest prompt in tokens.
    pub fn max_prompt_len(&self) -> usize {
        self.max_prompt_len
    }

    /// Index of the current prompt in the prompt set.
    pub fn prompt_index(&self) -> usize {
        self.prompt_index
    }

    /// The current prompt (the last one drawn; the first prompt before any reset).
    pub fn prompt(&self) -> Option<&Prompt> {
        self.prompts.get(self.prompt_index)
    }

    /// The current sequence: prompt tokens, then generated tokens.
    pub fn tokens(&self) -> &[u32] {
        &self.tokens
    }

    /// The current prompt's tokens.
    pub fn prompt_tokens(&self) -> &[u32] {
        &self.tokens[..self.prompt_len]
    }

    /// The tokens generated so far (the end-of-sequence token included if emitted).
    pub fn generated_tokens(&self) -> &[u32] {
        &self.tokens[self.prompt_len..]
    }

    /// Starts an episode with prompt `index` of the set (for evaluation sweeps); does not touch
    /// the RNG.
    pub fn reset_with_prompt(&mut self, index: usize) -> Result<(Vec<u32>, Info)> {
        let info = self.start(index)?;
        Ok((self.tokens.clone(), info))
    }

    /// Starts an episode with prompt `index`.
    fn start(&mut self, index: usize) -> Result<Info> {
        // A failed reset leaves no episode running.
        self.phase = Phase::NeedsReset;
        let prompt = self.prompts.get(index).ok_or_else(|| {
            Error::invalid_argument(format!(
                "TextGenEnv: prompt index {index} is out of range (the set has {})",
                self.prompts.len()
            ))
        })?;
        let ids = self.tokenizer.encode(&prompt.text)?;
        let len = ids.len() + usize::from(self.bos.is_some());
        if len > self.max_prompt_len {
            return Err(Error::invalid_argument(format!(
                "TextGenEnv: prompt {index} ({:?}) is {len} tokens long, more than \
                 max_prompt_len = {}; raise max_prompt_len or shorten the prompt",
                prompt.text, self.max_prompt_len
            )));
        }
        self.tokens.clear();
        self.tokens.extend(self.bos);
        self.tokens.extend_from_slice(&ids);
        self.prompt_len = len;
        self.prompt_index = index;
        self.phase = Phase::Running;
        self.text.clear();
        let mut info = Info::new()
            .with("prompt", InfoValue::Text(prompt.text.clone()))
            .with("prompt_index", InfoValue::Int(index as i64));
        if let Some(mask) = &self.mask {
            let floats = mask.iter().map(|&m| f64::from(u8::from(m))).collect();
            info.insert("action_mask", InfoValue::Floats(floats));
        }
        Ok(info)
    }

    /// Draws a prompt and starts an episode.
    fn reset_inner(&mut self, seed: Option<u64>) -> Result<Info> {
        if let Some(s) = seed {
            self.rng = rng_from_seed(Some(s));
        }
        let (index, _) = self.prompts.sample(&mut self.rng);
        self.start(index)
    }

    /// An error unless an episode is running.
    pub(crate) fn ensure_running(&self) -> Result<()> {
        match self.phase {
            Phase::NeedsReset => Err(Error::ResetNeeded),
            Phase::Ended => Err(Error::EpisodeEnded),
            Phase::Running => Ok(()),
        }
    }

    /// Writes the flattened observation (the current tokens) into `out`.
    pub(crate) fn flatten_obs(&self, out: &mut [f32]) -> Result<()> {
        self.obs_space.flatten_into(&self.tokens, out)
    }

    /// Checks that `token` may be played now.
    pub(crate) fn check_token(&self, token: i64) -> Result<u32> {
        self.ensure_running()?;
        self.act_space.check_action(&token)?;
        let id = token as u32;
        if !self.is_allowed(id) {
            return Err(Error::InvalidAction {
                action: token.to_string(),
                space: format!("{} restricted by the allowed-token mask", self.act_space),
            });
        }
        Ok(id)
    }

    /// Plays one token: the step without its observation.
    pub(crate) fn advance(&mut self, token: i64) -> Result<Transition> {
        let id = self.check_token(token)?;
        self.tokens.push(id);
        match self.transition(id) {
            Ok(t) => Ok(t),
            Err(e) => {
                // The reward failed: leave the episode as it was before the step.
                self.tokens.pop();
                Err(e)
            }
        }
    }

    /// Rewards and flags after `id` was pushed; changes nothing else on error.
    fn transition(&mut self, id: u32) -> Result<Transition> {
        let generated = self.tokens.len() - self.prompt_len;
        let terminated = id == self.eos;
        let truncated = !terminated && generated >= self.cfg.max_new_tokens;
        let mut reward = 0.0;
        let mut shaped_text = None;
        if self.reward.shapes_per_token() {
            let (r, text) = self.shaping(terminated)?;
            reward += r;
            shaped_text = Some(text);
        }
        let mut info = Info::new();
        if terminated || truncated {
            let text = match shaped_text.take() {
                Some(t) => t,
                None => self.tokenizer.decode(self.completion_ids(terminated))?,
            };
            let (score, end_info) = self.final_score(terminated, &text)?;
            reward += score;
            info = end_info;
            shaped_text = Some(text);
        }
        check_reward(reward, self.prompt_index)?;
        if let Some(text) = shaped_text {
            self.text = text;
        }
        if terminated || truncated {
            self.phase = Phase::Ended;
        }
        Ok(Transition {
            reward,
            terminated,
            truncated,
            info,
        })
    }

    /// Ends a running episode that has not reached the end-of-sequence token or the length
    /// limit, as truncated, paying the score of the unfinished completion (no shaping: no
    /// token is played). Used by the bandit view for completions shorter than the limit
    /// without an end-of-sequence token.
    pub(crate) fn cut(&mut self) -> Result<Transition> {
        self.ensure_running()?;
        let text = self.tokenizer.decode(self.completion_ids(false))?;
        let (score, info) = self.final_score(false, &text)?;
        check_reward(score, self.prompt_index)?;
        self.text = text;
        self.phase = Phase::Ended;
        Ok(Transition {
            reward: score,
            terminated: false,
            truncated: true,
            info,
        })
    }

    /// Takes back every generated token: the episode restarts from its prompt.
    pub(crate) fn rewind(&mut self) {
        if self.phase != Phase::NeedsReset {
            self.tokens.truncate(self.prompt_len);
            self.text.clear();
            self.phase = Phase::Running;
        }
    }
}

impl Env for TextGenEnv {
    type ObsSpace = TokenSeq;
    type ActSpace = Discrete;

    fn observation_space(&self) -> &TokenSeq {
        &self.obs_space
    }

    fn action_space(&self) -> &Discrete {
        &self.act_space
    }

    fn reset(&mut self, seed: Option<u64>) -> Result<(Vec<u32>, Info)> {
        let info = self.reset_inner(seed)?;
        Ok((self.tokens.clone(), info))
    }

    fn step(&mut self, action: &i64) -> Result<Step<Vec<u32>>> {
        let t = self.advance(*action)?;
        Ok(Step {
            obs: self.tokens.clone(),
            reward: t.reward,
            terminated: t.terminated,
            truncated: t.truncated,
            info: t.info,
        })
    }

    fn reset_flat(&mut self, seed: Option<u64>, obs_out: &mut [f32]) -> Result<Info> {
        let info = self.reset_inner(seed)?;
        self.obs_space.flatten_into(&self.tokens, obs_out)?;
        Ok(info)
    }

    fn step_flat(&mut self, action: &i64, obs_out: &mut [f32]) -> Result<Transition> {
        let t = self.advance(*action)?;
        self.obs_space.flatten_into(&self.tokens, obs_out)?;
        Ok(t)
    }

    fn render_modes(&self) -> &[RenderMode] {
        &[RenderMode::Ansi]
    }

    /// `Ansi`: the prompt and the completion so far, quoted, and the token count.
    fn render(&self, mode: RenderMode) -> Result<Frame> {
        if mode != RenderMode::Ansi {
            return Err(tokengym::env::unsupported_render_mode(
                mode,
                self.render_modes(),
            ));
        }
        if self.phase == Phase::NeedsReset {
            return Err(Error::RenderNeedsReset);
        }
        let generated = self.generated_tokens();
        let finished = generated.last() == Some(&self.eos);
        let completion = self.tokenizer.decode(self.completion_ids(finished))?;
        let prompt = self.prompt().map_or("", |p| p.text.as_str());
        let status = if finished {
            "ended by <eos>"
        } else if self.phase == Phase::Ended {
            "cut at the length limit"
        } else {
            "generating"
        };
        Ok(Frame::Ansi(format!(
            "prompt:     {prompt:?}\ncompletion: {completion:?}\n[{}/{} tokens, {status}]\n",
            generated.len(),
            self.cfg.max_new_tokens
        )))
    }
}

impl std::fmt::Debug for TextGenEnv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TextGenEnv")
            .field("vocab_size", &self.vocab_size())
            .field("prompts", &self.prompts.len())
            .field("config", &self.cfg)
            .field("max_prompt_len", &self.max_prompt_len)
            .field("masked", &self.mask.is_some())
            .field("tokens", &self.tokens)
            .finish()
    }
}
