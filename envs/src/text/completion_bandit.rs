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

/// A one-step view of a [`TextGenEnv`].
///
/// - Observation: as in the [`TextGenEnv`] (`TokenSeq`): the prompt's tokens after `reset`, the
///   prompt and the completion after the step.
/// - Action: the completion's token ids, `TokenSeq(vocab, max_new_tokens)`. The first
///   end-of-sequence token ends the completion (`finished`); tokens after it are ignored, so
///   padded rows of a batch can be passed as they are. Every token up to it must be allowed by
///   the environment's allowed-token mask, if it has one.
/// - Reward: the sum of what the token-level environment pays for these tokens: the reward's
///   score of the completion (finished or not), plus its per-token shaping.
/// - `terminated` is always `true`: the bandit episode is one step long. The info is the
///   token-level environment's final info (`completion`, `finished`, `score`, `prompt_index`).
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
