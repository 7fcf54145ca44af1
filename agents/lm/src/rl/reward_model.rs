//! A Bradley–Terry reward model: a scalar head on a language model, trained on preference
//! pairs and usable as the reward of a [`Rollout`](crate::rl::Rollout).
//!
//! The score of a text is `r(x) = w · h_last + b`, where `h_last` is the final hidden state
//! ([`Decoder::hidden_states`], the LM head's input) of the text's last real token. Texts are
//! `<bos>` (when the tokenizer has one) followed by the ids of `prompt + completion`, left-padded
//! in a batch so the last real token is always the last position; a text longer than the
//! model's context keeps its last `context_len` tokens.
//!
//! Training on `(prompt, chosen, rejected)` triples minimises the Bradley–Terry loss
//! `-log σ(r(prompt + chosen) - r(prompt + rejected))` averaged over a minibatch, with AdamW
//! ([`LmOptimizer`]) over every variable of the store (the language model and the head).
//!
//! Preference data comes from [`preference_data`](crate::rl::preference_data). A trained
//! model is saved with [`RewardModel::save`] and read back with [`RewardModel::load`].
//!
//! [`RewardModel`] implements [`RewardFn`]. It is **not** thread-parallel: the model sits behind
//! a [`Mutex`] (`RewardFn` must be `Send + Sync`), so concurrent scorers take turns.

use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};

use rand::RngExt;
use tch::nn::{Init, VarStore};
use tch::{Device, Kind, Tensor};
use tokengym::seeding::EnvRng;
use tokengym_envs::text::{RewardContext, RewardFn, Tokenizer, load_tokenizer};

use crate::decoding::scoring::left_pad;
use crate::error::{Error, Result};
use crate::model::config::DecoderConfig;
use crate::model::decoder::Decoder;
use crate::model::weights::{CONFIG_FILE, load_weights, save_decoder};
use crate::rl::optimizer::{LmOptimizer, OptimConfig};
use crate::rl::preference_data::PreferencePair;

/// Name of the file that marks a folder as a saved reward model.
pub const MARKER_FILE: &str = "reward_model.json";
const MARKER_FORMAT: &str = "tokengym-reward-model";

/// Settings of [`RewardModel::train`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RewardTrainConfig {
    /// Optimizer steps (`>= 1`).
    pub steps: usize,
    /// Pairs per step (`>= 1`), drawn uniformly with replacement.
    pub batch_size: usize,
    /// The optimizer.
    pub optim: OptimConfig,
}

impl Default for RewardTrainConfig {
    fn default() -> Self {
        Self {
            steps: 200,
            batch_size: 16,
            optim: OptimConfig {
                lr: 1e-3,
                ..OptimConfig::default()
            },
        }
    }
}

/// What [`RewardModel::train`] did.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RewardTrainStats {
    /// Mean Bradley–Terry loss of the first step.
    pub first_loss: f64,
    /// Mean Bradley–Terry loss of the last step.
    pub last_loss: f64,
    /// Steps taken.
    pub steps: usize,
}

struct Inner {
    vs: VarStore,
    gpt: Decoder,
    weight: Tensor,
    bias: Tensor,
}

/// A language model with a scalar head, scoring texts (see the module docs).
pub struct RewardModel {
    inner: Mutex<Inner>,
    tokenizer: Arc<dyn Tokenizer>,
    bos: Option<i64>,
    pad: i64,
    context_len: i64,
    sigmoid: bool,
}

impl std::fmt::Debug for RewardModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RewardModel")
            .field("context_len", &self.context_len)
            .field("bos", &self.bos)
            .field("pad", &self.pad)
            .finish_non_exhaustive()
    }
}

impl RewardModel {
    /// A reward model on `gpt` (whose variables are in `vs`); the head (weight normal with
    /// std `0.1 / sqrt(d_model)`, bias 0) is created under `vs.root() / "reward_head"`. The
    /// tokenizer must not have more ids than the model's vocabulary.
    pub fn new(vs: VarStore, gpt: Decoder, tokenizer: Arc<dyn Tokenizer>) -> Result<Self> {
        let cfg = gpt.config().clone();
        if tokenizer.vocab_size() as i64 > cfg.vocab_size {
            return Err(Error::InvalidArgument(format!(
                "the tokenizer has {} ids but the model's vocabulary only {}",
                tokenizer.vocab_size(),
                cfg.vocab_size
            )));
        }
        let root = vs.root() / "reward_head";
        let stdev = 0.1 / (cfg.d_model as f64).sqrt();
        let weight = root.f_var(
            "weight",
            &[1, cfg.d_model],
            Init::Randn { mean: 0.0, stdev },
        )?;
        let bias = root.f_var("bias", &[1], Init::Const(0.0))?;
        let specials = tokenizer.special_tokens();
        Ok(Self {
            bos: specials.bos.map(i64::from),
            pad: specials.pad.or(specials.eos).map_or(0, i64::from),
            context_len: cfg.context_len,
            tokenizer,
            sigmoid: false,
            inner: Mutex::new(Inner {
                vs,
                gpt,
                weight,
                bias,
            }),
        })
    }

    fn lock(&self) -> Result<MutexGuard<'_, Inner>> {
        self.inner.lock().map_err(|_| {
            Error::InvalidArgument("the reward model's lock is poisoned (a scorer panicked)".into())
        })
    }

    fn encode(&self, text: &str) -> Result<Vec<i64>> {
        let mut ids: Vec<i64> = self.bos.into_iter().collect();
        ids.extend(self.tokenizer.encode(text)?.into_iter().map(i64::from));
        if ids.is_empty() {
            return Err(Error::InvalidArgument(
                "the reward model cannot score an empty text (no <bos> to start it)".to_owned(),
            ));
        }
        let keep = self.context_len as usize;
        if ids.len() > keep {
            ids.drain(..ids.len() - keep);
        }
        Ok(ids)
    }

    /// Scores `[N]` of `texts` with autograd on (`train` turns dropout on).
    fn forward(&self, inner: &Inner, texts: &[String], train: bool) -> Result<Tensor> {
        if texts.is_empty() {
            return Err(Error::InvalidArgument(
                "the reward model needs at least one text".to_owned(),
            ));
        }
        let encoded = texts
            .iter()
            .map(|t| self.encode(t))
            .collect::<Result<Vec<_>>>()?;
        let rows: Vec<&[i64]> = encoded.iter().map(Vec::as_slice).collect();
        let (ids, mask) = left_pad(&rows, self.pad)?;
        let device = inner.vs.device();
        let (ids, mask) = (ids.f_to_device(device)?, mask.f_to_device(device)?);
        let (hidden, _) = inner.gpt.hidden_states(&ids, Some(&mask), train)?;
        let last = hidden.f_select(1, -1)?;
        Ok(last
            .f_linear(&inner.weight, Some(&inner.bias))?
            .f_squeeze_dim(-1)?)
    }

    /// Makes the [`RewardFn`] reward `sigmoid(score)` instead of the raw score: the
    /// Bradley–Terry probability that the completion beats one scored 0. The reward then lies in
    /// `(0, 1)` and saturates, so a policy gains little by pushing a completion the model already
    /// likes further off its training distribution (where its scores are least reliable). The
    /// scores of [`score_texts`](Self::score_texts) are unchanged.
    pub fn with_sigmoid_reward(mut self, on: bool) -> Self {
        self.sigmoid = on;
        self
    }

    /// The tokenizer that turns texts into the model's ids.
    pub fn tokenizer(&self) -> &Arc<dyn Tokenizer> {
        &self.tokenizer
    }

    /// The scores of `texts` (no autograd).
    pub fn score_texts(&self, texts: &[String]) -> Result<Vec<f64>> {
        let inner = self.lock()?;
        let scores = tch::no_grad(|| self.forward(&inner, texts, false))?;
        let v = Vec::<f64>::try_from(
            &scores
                .f_to_device(tch::Device::Cpu)?
                .f_to_kind(Kind::Double)?,
        )?;
        if let Some(x) = v.iter().find(|x| !x.is_finite()) {
            return Err(Error::NonFinite(format!("reward model score {x}")));
        }
        Ok(v)
    }

    /// The score of `prompt + completion`.
    pub fn score_one(&self, prompt: &str, completion: &str) -> Result<f64> {
        let v = self.score_texts(&[format!("{prompt}{completion}")])?;
        Ok(v[0])
    }

    /// Fraction of `pairs` whose chosen text scores strictly higher than the rejected one.
    pub fn preference_accuracy(&self, pairs: &[PreferencePair]) -> Result<f64> {
        if pairs.is_empty() {
            return Err(Error::InvalidArgument(
                "preference accuracy of no pair".to_owned(),
            ));
        }
        let mut right = 0usize;
        for chunk in pairs.chunks(64) {
            let (chosen, rejected) = texts_of(chunk);
            let (c, r) = (self.score_texts(&chosen)?, self.score_texts(&rejected)?);
            right += c.iter().zip(&r).filter(|(c, r)| c > r).count();
        }
        Ok(right as f64 / pairs.len() as f64)
    }

    /// Trains on `pairs` with the Bradley–Terry loss (see the module docs); `rng` draws the
    /// minibatches. A non-finite loss or gradient stops with an error before the weights
    /// change.
    pub fn train(
        &self,
        pairs: &[PreferencePair],
        cfg: &RewardTrainConfig,
        rng: &mut EnvRng,
    ) -> Result<RewardTrainStats> {
        if pairs.is_empty() || cfg.steps == 0 || cfg.batch_size == 0 {
            return Err(Error::InvalidArgument(format!(
                "reward model training needs pairs, steps and batch_size >= 1 (got {} pairs, \
                 {} steps, batch {})",
                pairs.len(),
                cfg.steps,
                cfg.batch_size
            )));
        }
        let inner = self.lock()?;
        let mut opt = LmOptimizer::new(&inner.vs, cfg.optim)?;
        let mut first_loss = f64::NAN;
        let mut last_loss = f64::NAN;
        for step in 0..cfg.steps {
            let batch: Vec<PreferencePair> = (0..cfg.batch_size)
                .map(|_| pairs[rng.random_range(0..pairs.len())].clone())
                .collect();
            let (chosen, rejected) = texts_of(&batch);
            let all: Vec<String> = chosen.into_iter().chain(rejected).collect();
            let scores = self.forward(&inner, &all, true)?;
            let b = cfg.batch_size as i64;
            let margin = scores
                .f_narrow(0, 0, b)?
                .f_sub(&scores.f_narrow(0, b, b)?)?;
            let loss = margin.f_log_sigmoid()?.f_mean(Kind::Float)?.f_neg()?;
            let value = loss.f_double_value(&[])?;
            opt.step(&loss)?;
            if step == 0 {
                first_loss = value;
            }
            last_loss = value;
        }
        Ok(RewardTrainStats {
            first_loss,
            last_loss,
            steps: cfg.steps,
        })
    }

    /// Saves the model (language model and head, `model.safetensors`) and its [`DecoderConfig`]
    /// (`config.json`) into `dir`, each file written to a temporary name and renamed into place,
    /// plus a `reward_model.json` marker. The tokenizer is not written: put the tokenizer file
    /// the model was built with next to them as `tokenizer.json` (as `rl-lm` does) to make the
    /// folder loadable by [`RewardModel::load`].
    pub fn save(&self, dir: &Path) -> Result<()> {
        let inner = self.lock()?;
        save_decoder(dir, &inner.vs, inner.gpt.config())?;
        let marker = serde_json::json!({
            "format": MARKER_FORMAT,
            "version": 1,
            "head": "reward_head",
        });
        let text = serde_json::to_string_pretty(&marker)
            .map_err(|e| Error::InvalidArgument(format!("cannot serialise the marker: {e}")))?;
        let path = dir.join(MARKER_FILE);
        tokengym::atomic_write::write_atomic(&path, (text + "\n").as_bytes())
            .map_err(|e| Error::Core(tokengym::Error::io(&path, e)))?;
        Ok(())
    }

    /// Loads a reward model saved by [`RewardModel::save`] from `dir` onto `device`, with the
    /// tokenizer of `dir/tokenizer.json`. A folder without the marker (for example a plain
    /// language-model checkpoint), a missing head, a missing tokenizer or a tokenizer larger
    /// than the model's vocabulary are errors.
    pub fn load(dir: &Path, device: Device) -> Result<Self> {
        let marker = dir.join(MARKER_FILE);
        let text = std::fs::read_to_string(&marker).map_err(|e| {
            Error::InvalidArgument(format!(
                "{} is not a reward model folder (cannot read {}: {e})",
                dir.display(),
                MARKER_FILE
            ))
        })?;
        let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
            Error::InvalidArgument(format!("{} is not valid JSON: {e}", marker.display()))
        })?;
        if value.get("format").and_then(|v| v.as_str()) != Some(MARKER_FORMAT) {
            return Err(Error::InvalidArgument(format!(
                "{} is not a tokengym reward model marker",
                marker.display()
            )));
        }
        let tok_path = dir.join("tokenizer.json");
        let tokenizer = load_tokenizer(&tok_path).map_err(|e| {
            Error::InvalidArgument(format!(
                "reward model {}: unusable tokenizer: {e}",
                dir.display()
            ))
        })?;
        let cfg_path = dir.join(CONFIG_FILE);
        let cfg_text = std::fs::read_to_string(&cfg_path).map_err(|e| {
            Error::InvalidArgument(format!("cannot read {}: {e}", cfg_path.display()))
        })?;
        let cfg: DecoderConfig = serde_json::from_str(&cfg_text).map_err(|e| {
            Error::InvalidArgument(format!(
                "{} is not a valid DecoderConfig: {e}",
                cfg_path.display()
            ))
        })?;
        let vs = VarStore::new(device);
        let gpt = Decoder::new_for_loading(&vs.root(), cfg)?;
        let model = Self::new(vs, gpt, Arc::from(tokenizer))?;
        {
            let inner = model.lock()?;
            load_weights(&inner.vs, dir, inner.gpt.config())?;
        }
        Ok(model)
    }

    /// The reward of a score (see [`RewardModel::with_sigmoid_reward`]).
    fn reward_of(&self, score: f64) -> f64 {
        if self.sigmoid {
            1.0 / (1.0 + (-score).exp())
        } else {
            score
        }
    }
}

/// The chosen and the rejected full texts of `pairs`.
fn texts_of(pairs: &[PreferencePair]) -> (Vec<String>, Vec<String>) {
    pairs
        .iter()
        .map(|p| {
            (
                format!("{}{}", p.prompt, p.chosen),
                format!("{}{}", p.prompt, p.rejected),
            )
        })
        .unzip()
}

impl RewardFn for RewardModel {
    /// The model's score of `prompt + completion`; takes the model's lock (no parallelism).
    fn score(&self, ctx: &RewardContext<'_>) -> tokengym::Result<f64> {
        let s = self
            .score_one(ctx.prompt, ctx.completion)
            .map_err(|e| tokengym::Error::InvalidState(format!("reward model: {e}")))?;
        Ok(self.reward_of(s))
    }

    /// The scores of all the completions, in forward passes of up to 64 texts.
    fn score_batch(&self, ctxs: &[RewardContext<'_>]) -> tokengym::Result<Vec<f64>> {
        let texts: Vec<String> = ctxs
            .iter()
            .map(|c| format!("{}{}", c.prompt, c.completion))
            .collect();
        let mut out = Vec::with_capacity(texts.len());
        for chunk in texts.chunks(64) {
            out.extend(
                self.score_texts(chunk)
                    .map_err(|e| tokengym::Error::InvalidState(format!("reward model: {e}")))?
                    .into_iter()
                    .map(|s| self.reward_of(s)),
            );
        }
        Ok(out)
    }
}
