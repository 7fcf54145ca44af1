//! [`CompletionBandit`]: text generation seen as a contextual bandit — one step is a whole
//! completion.
//!
//! Policy-gradient methods for language models (REINFORCE, PPO on completions) usually treat a
//! prompt as the context and a full completion as a single action with a single reward. This
//! view gives that shape on top of a [`TextGenEnv`]: `reset` draws a prompt, `step` takes every
//! token of the completion at once, and the episode always ends after that one step.

use super::reward::RewardFn;
use super::text_gen_env::TextGenEnv;
use super::tokenizer::Tokenizer;
use tokengym::render::{Frame, RenderMode};
use tokengym::space::{Space, TokenSeq};
use tokengym::{Env, Error, Info, Result, Step, Transition};

/// A one-step view of a [`TextGenEnv`]: the prompt is the context, a whole completion is one
/// action, and its score is one reward (a contextual bandit).
///
/// # Description
/// The shape that policy-gradient methods for language models (REINFORCE, PPO on completions)
/// usually give text generation, on top of a token-level [`TextGenEnv`]: `reset` draws a
/// prompt, `step` plays every token of the completion at once, and the episode always ends
/// after that one step. The token-level environment's tokenizer, prompts, reward, allowed-token
/// mask and end-of-sequence token apply unchanged.
///
/// # Action Space
/// The completion's token ids, a `Vec<u32>` in `TokenSeq(vocab_size, max_new_tokens)`: at most
/// `max_new_tokens` ids, each below `vocab_size` (an empty completion is valid). The first
/// end-of-sequence token ([`TextGenEnv::eos_token`]) ends the completion (`finished`); tokens
/// after it are ignored, so padded rows of a batch can be passed as they are (the padding must
/// still be ids of the vocabulary and fit the length). Every token up to the end-of-sequence
/// token, that one included, must be allowed by the environment's allowed-token mask, if it
/// has one. Anything else is an [`Error::InvalidAction`], and the whole completion is checked
/// before any token is played. [`step_text`](CompletionBandit::step_text) plays a text: its
/// tokens and the end-of-sequence token (an error if that is more than `max_new_tokens`).
///
/// # Observation Space
/// As in the [`TextGenEnv`]: a `Vec<u32>` in `TokenSeq(vocab_size, max_prompt_len +
/// max_new_tokens)`, unpadded; flattened (`reset_flat`, `step_flat`) the ids are padded with
/// `-1.0` to that length. After `reset` it is the prompt's tokens (`p` of them); after the step,
/// the prompt and the `g` tokens played (up to the first end-of-sequence token).
///
/// | Num | Observation | Min | Max |
/// |---|---|---|---|
/// | `0..p` | prompt token ids (a `<bos>` first with `add_bos`) | 0 | `vocab_size - 1` |
/// | `p..p + g` | completion token ids played, after the step | 0 | `vocab_size - 1` |
/// | `p + g..max_len` | padding, in the flattened form only | -1 | -1 |
///
/// # Rewards
/// The sum of what the token-level environment pays for these tokens: the reward's
/// [`score`](RewardFn::score) of the completion (finished or not), plus its per-token shaping,
/// if it shapes. A completion without an end-of-sequence token is scored as unfinished. The
/// range is the [`RewardFn`]'s (e.g. `{0, 1}` for
/// [`ArithmeticReward`](crate::text::ArithmeticReward), `[0, 1]` for
/// [`LexiconReward`](crate::text::LexiconReward)). If the reward fails, the step is an error
/// and the episode is back at its prompt, ready for another completion.
///
/// # Starting State
/// As in the [`TextGenEnv`]: `reset` draws a prompt uniformly with the environment's RNG
/// (`reset(Some(seed))` always the same prompt, `reset(None)` the RNG's next draw) and observes
/// its tokens; the info has `prompt` and `prompt_index`.
///
/// # Episode End
/// - Termination: always, after the one step (`terminated` is `true`, also when the
///   completion reached `max_new_tokens` without an end-of-sequence token).
/// - Truncation: never (`truncated` is `false`).
/// - The info is the token-level environment's final info (`completion`, `finished`, `score`,
///   `prompt_index`). A second step without a reset is an [`Error::EpisodeEnded`], a step
///   before the first reset an [`Error::ResetNeeded`].
///
/// # Arguments
/// [`CompletionBandit::new`] takes a [`TextGenEnv`], so the settings are that environment's
/// [`TextGenConfig`](crate::text::TextGenConfig) (`max_new_tokens` is the completion's length
/// limit) and constructor arguments. There is no registry id. [`inner`](CompletionBandit::inner)
/// and [`into_inner`](CompletionBandit::into_inner) give the token-level environment back.
/// Renders as the [`TextGenEnv`] does.
///
/// # Version History
/// - v0: initial version (tokengym 0.1); not registered.
///
/// ```
/// use std::sync::Arc;
/// use tokengym::Env;
/// use tokengym_envs::text::{ArithmeticReward, ByteTokenizer, CompletionBandit, PromptSet,
///     TextGenConfig, TextGenEnv};
///
/// let env = TextGenEnv::new(
///     Arc::new(ByteTokenizer::new()),
///     PromptSet::from_pairs([("12+7=", "19")])?,
///     Arc::new(ArithmeticReward),
///     TextGenConfig { max_new_tokens: 4, ..TextGenConfig::default() },
/// )?;
/// let mut bandit = CompletionBandit::new(env)?;
/// bandit.reset(Some(0))?;
/// let step = bandit.step_text("19")?;
/// assert_eq!(step.reward, 1.0);
/// assert!(step.terminated);
/// # Ok::<(), tokengym::Error>(())
/// ```
#[derive(Debug)]
pub struct CompletionBandit {
    env: TextGenEnv,
    act_space: TokenSeq,
}

impl CompletionBandit {
    /// The bandit view of `env` (an error only if the completion space cannot be built, which
    /// a valid `env` rules out).
    pub fn new(env: TextGenEnv) -> Result<Self> {
        let vocab = env.observation_space().vocab_size();
        let act_space = TokenSeq::new(vocab, env.config().max_new_tokens)?;
        Ok(CompletionBandit { env, act_space })
    }

    /// The token-level environment.
    pub fn inner(&self) -> &TextGenEnv {
        &self.env
    }

    /// Gives back the token-level environment.
    pub fn into_inner(self) -> TextGenEnv {
        self.env
    }

    /// The reward function.
    pub fn reward_fn(&self) -> &std::sync::Arc<dyn RewardFn> {
        self.env.reward_fn()
    }

    /// Steps with a text completion: its tokens followed by the end-of-sequence token (a text
    /// is a finished completion). An error if that is longer than `max_new_tokens`.
    pub fn step_text(&mut self, completion: &str) -> Result<Step<Vec<u32>>> {
        let mut ids = self.env.tokenizer().encode(completion)?;
        ids.push(self.env.eos_token());
        if ids.len() > self.act_space.max_len() {
            return Err(Error::invalid_argument(format!(
                "CompletionBandit: the completion {completion:?} is {} tokens long with <eos>, \
                 more than max_new_tokens = {}",
                ids.len(),
                self.act_space.max_len()
            )));
        }
        self.step(&ids)
    }

    /// Plays the completion; validates it whole first.
    fn play(&mut self, action: &[u32]) -> Result<Transition> {
        let eos = self.env.eos_token();
        let end = action
            .iter()
            .position(|&t| t == eos)
            .map_or(action.len(), |i| i + 1);
        let played = &action[..end];
        for &t in played {
            if !self.env.is_allowed(t) {
                return Err(Error::InvalidAction {
                    action: format!("{action:?}"),
                    space: format!(
                        "{} restricted by the allowed-token mask (token {t} is not allowed)",
                        self.act_space
                    ),
                });
            }
        }
        self.env.ensure_running()?;
        let mut reward = 0.0;
        for &t in played {
            match self.env.advance(i64::from(t)) {
                Ok(tr) => {
                    reward += tr.reward;
                    if tr.done() {
                        return Ok(Transition {
                            reward,
                            terminated: true,
                            truncated: false,
                            info: tr.info,
                        });
                    }
                }
                Err(e) => {
                    self.env.rewind();
                    return Err(e);
                }
            }
        }
        match self.env.cut() {
            Ok(tr) => Ok(Transition {
                reward: reward + tr.reward,
                terminated: true,
                truncated: false,
                info: tr.info,
            }),
            Err(e) => {
                self.env.rewind();
                Err(e)
            }
        }
    }
}

impl Env for CompletionBandit {
    type ObsSpace = TokenSeq;
    type ActSpace = TokenSeq;

    fn observation_space(&self) -> &TokenSeq {
        self.env.observation_space()
    }

    fn action_space(&self) -> &TokenSeq {
        &self.act_space
    }

    fn reset(&mut self, seed: Option<u64>) -> Result<(Vec<u32>, Info)> {
        self.env.reset(seed)
    }

    fn step(&mut self, action: &Vec<u32>) -> Result<Step<Vec<u32>>> {
        self.act_space.check_action(action)?;
        let t = self.play(action)?;
        Ok(Step {
            obs: self.env.tokens().to_vec(),
            reward: t.reward,
            terminated: t.terminated,
            truncated: t.truncated,
            info: t.info,
        })
    }

    fn reset_flat(&mut self, seed: Option<u64>, obs_out: &mut [f32]) -> Result<Info> {
        self.env.reset_flat(seed, obs_out)
    }

    fn step_flat(&mut self, action: &Vec<u32>, obs_out: &mut [f32]) -> Result<Transition> {
        self.act_space.check_action(action)?;
        let t = self.play(action)?;
        self.env.flatten_obs(obs_out)?;
        Ok(t)
    }

    fn render_modes(&self) -> &[RenderMode] {
        self.env.render_modes()
    }

    fn render(&self, mode: RenderMode) -> Result<Frame> {
        self.env.render(mode)
    }
}
