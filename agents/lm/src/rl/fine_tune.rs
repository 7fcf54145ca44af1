//! [`FineTuner`]: the RL fine-tuning loop of a language model, as an [`Agent`] whose
//! observations are prompts and whose actions are [`Completion`]s.
//!
//! One update: keep a copy of the weights, sample a batch of completions with the KV cache
//! ([`Rollout::collect`], or [`Rollout::collect_groups`] for the group baseline), measure it
//! against the frozen starting model ([`batch_stats`]: KL, entropy, the reference's perplexity,
//! length), and run the learner's step on it. A step that fails (a non-finite loss or gradient,
//! which the optimizer refuses before applying it, possibly after earlier minibatches of a PPO
//! update did change the weights) puts the weights from before the update back and returns the
//! error, so the policy in memory, and what [`Agent::save`] writes, is always the last good one.
//!
//! Budgets count [`BudgetUnit::Updates`], [`BudgetUnit::Episodes`] (completions) or
//! [`BudgetUnit::Steps`] (generated tokens, the `<eos>` included), in whole batches. Callbacks
//! see every completion as a finished episode (return = its reward, length = its tokens) and
//! every update with the metrics `step`, `mean_reward`, `kl`, `entropy`, `ref_perplexity`,
//! `mean_response_len` and `loss`, all measured on the batch before the update. The learners'
//! own schedules are constant, so `learn_until`'s budget only fixes the unit.

use std::path::{Path, PathBuf};
use std::time::Instant;

use tch::Kind;
use tch::nn::VarStore;
use tokengym::seeding::{EnvRng, rng_from_seed};
use tokengym::{Agent, Budget, BudgetUnit, Callback, EpisodeStats, LearnSummary, Progress};

use crate::error::{Error, Result};
use crate::model::decoder::Decoder;
use crate::model::hf_export::write_hf_files;
use crate::model::weights::{load_decoder, save_language_model};
use crate::models::is_hf_folder;
use crate::pretrain::checkpoint::{STATE_FILE, TOKENIZER_FILE};
use crate::rl::batch_stats::{BatchStats, batch_stats};
use crate::rl::group::{GroupConfig, GroupPolicyGradient};
use crate::rl::ppo::{Ppo, PpoConfig};
use crate::rl::reference::FrozenDecoder;
use crate::rl::reinforce::{Reinforce, ReinforceConfig};
use crate::rl::rollout::{Completion, Rollout, RolloutBatch};
use crate::write_folder::write_folder_atomically;

/// The learning rule of a [`FineTuner`] and its settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Algorithm {
    /// [`Reinforce`]: the sequence log-probability weighted by reward minus a baseline.
    Reinforce(ReinforceConfig),
    /// [`GroupPolicyGradient`]: `group_size` completions per prompt, the group mean (or
    /// leave-one-out mean) as the baseline, an optional KL term to the starting model.
    Group(GroupConfig),
    /// [`Ppo`]: value head, per-token KL penalty to the starting model, clipped losses.
    Ppo(PpoConfig),
}

impl Algorithm {
    /// `"reinforce"`, `"group"` or `"ppo"`.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Reinforce(_) => "reinforce",
            Self::Group(_) => "group",
            Self::Ppo(_) => "ppo",
        }
    }
}

/// Settings of a [`FineTuner`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FineTuneConfig {
    /// The learning rule.
    pub algorithm: Algorithm,
    /// Completions per update (`>= 1`; with [`Algorithm::Group`] a multiple of the group size).
    pub batch_size: usize,
    /// Seeds the prompt draws and the sampler of the training batches (and, apart from them,
    /// of [`Agent::act`]).
    pub seed: u64,
}

/// The learner of the chosen algorithm.
#[derive(Debug)]
enum Learner {
    Reinforce(Reinforce),
    Group(GroupPolicyGradient),
    Ppo(Box<Ppo>),
}

/// What one update of a [`FineTuner`] measured on its batch, before the update.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct UpdateReport {
    /// The update's number (1 for the first update of the tuner's life).
    pub step: u64,
    /// Mean reward of the batch.
    pub mean_reward: f64,
    /// KL to the starting model, entropy, the starting model's perplexity, response length.
    pub stats: BatchStats,
    /// The learner's loss (PPO: policy plus value loss).
    pub loss: f64,
}

/// Keeps the stream of [`Agent::act`] apart from the training stream.
const ACT_SALT: u64 = 0x7c15_9e37_79b9_4a7f;

/// The file of a saved tuner's [`Progress`] (beside the checkpoint's weights), so that budgets
/// stay totals across [`Agent::save`] and [`Agent::restore`].
pub const FINE_TUNE_PROGRESS_FILE: &str = "fine_tune_progress.json";

/// What [`FINE_TUNE_PROGRESS_FILE`] holds.
#[derive(serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct SavedProgress {
    algorithm: String,
    progress: Progress,
}

/// RL fine-tuning of a [`Decoder`] on a [`Rollout`] (prompts and a reward), with a frozen copy of
/// the starting weights as the KL reference (see the [module docs](self)).
///
/// ```
/// use std::sync::Arc;
/// use tch::{Device, nn::VarStore};
/// use tokengym::{Agent, Budget};
/// use tokengym_envs::text::{CharTokenizer, LexiconReward, PromptSet, Tokenizer};
/// use tokengym_lm::decoding::SamplingConfig;
/// use tokengym_lm::rl::{Algorithm, FineTuneConfig, FineTuner, ReinforceConfig, Rollout, RolloutConfig};
/// use tokengym_lm::{Decoder, DecoderConfig};
///
/// let tok = Arc::new(CharTokenizer::from_corpus("abcdefghijklmnopqrstuvwxyz ,.", &["<bos>", "<eos>", "<pad>"])?);
/// let mut cfg = DecoderConfig::tiny(tok.vocab_size() as i64);
/// (cfg.d_model, cfg.n_layers, cfg.n_heads, cfg.context_len) = (32, 2, 2, 32);
/// let vs = VarStore::new(Device::Cpu);
/// let policy = Decoder::new(&vs.root(), cfg)?;
/// let rollout = Rollout::new(
///     tok,
///     PromptSet::from_texts(["the movie was", "i think it is"])?,
///     Arc::new(LexiconReward::default()),
///     RolloutConfig { max_new_tokens: 8, sampling: SamplingConfig::new(0.9)?, ..RolloutConfig::default() },
/// )?;
/// let config = FineTuneConfig {
///     algorithm: Algorithm::Reinforce(ReinforceConfig::default()),
///     batch_size: 4,
///     seed: 0,
/// };
/// let mut tuner = FineTuner::new(vs, policy, None, rollout, config)?;
/// let summary = tuner.learn(Budget::Updates(2), &mut ())?;
/// assert_eq!((summary.progress.updates, summary.progress.episodes), (2, 8));
/// let completion = tuner.act("the movie was", true)?;
/// assert!(completion.token_ids.len() <= 8);
/// # Ok::<(), tokengym_lm::Error>(())
/// ```
pub struct FineTuner {
    vs: VarStore,
    model: Decoder,
    reference: FrozenDecoder,
    last_good: FrozenDecoder,
    source: Option<PathBuf>,
    rollout: Rollout,
    learner: Learner,
    cfg: FineTuneConfig,
    rng: EnvRng,
    act_rng: EnvRng,
    progress: Progress,
}

impl std::fmt::Debug for FineTuner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FineTuner")
            .field("algorithm", &self.cfg.algorithm.name())
            .field("batch_size", &self.cfg.batch_size)
            .field("progress", &self.progress)
            .finish_non_exhaustive()
    }
}

impl FineTuner {
    /// A tuner of `model` (whose weights are in `vs`) on `rollout`. The reference is a frozen
    /// copy of the weights as they are now; PPO and a learned REINFORCE baseline add their
    /// value head to `vs` (initialised from libtorch's global RNG: `tch::manual_seed` first for
    /// a reproducible run). `source` is the checkpoint folder the model came from: [`save`]
    /// copies its tokenizer and trainer state beside the tuned weights.
    ///
    /// [`save`]: Agent::save
    pub fn new(
        vs: VarStore,
        model: Decoder,
        source: Option<PathBuf>,
        rollout: Rollout,
        cfg: FineTuneConfig,
    ) -> Result<Self> {
        if cfg.batch_size == 0 {
            return Err(Error::InvalidArgument(
                "fine-tuning batch_size must be at least 1".to_owned(),
            ));
        }
        let gpt_cfg = model.config().clone();
        let reference = FrozenDecoder::copy_of(&vs, &gpt_cfg)?;
        let learner = match cfg.algorithm {
            Algorithm::Reinforce(c) => Learner::Reinforce(Reinforce::new(&vs, &model, c)?),
            Algorithm::Group(c) => {
                if c.group_size < 2 || !cfg.batch_size.is_multiple_of(c.group_size) {
                    return Err(Error::InvalidArgument(format!(
                        "the group baseline needs a group size >= 2 dividing the batch size \
                         (got group size {} and batch size {})",
                        c.group_size, cfg.batch_size
                    )));
                }
                Learner::Group(GroupPolicyGradient::new(&vs, c)?)
            }
            Algorithm::Ppo(c) => Learner::Ppo(Box::new(Ppo::new(&vs, &model, c)?)),
        };
        let last_good = FrozenDecoder::copy_of(&vs, &gpt_cfg)?;
        Ok(Self {
            vs,
            model,
            reference,
            last_good,
            source,
            rollout,
            learner,
            rng: rng_from_seed(Some(cfg.seed)),
            act_rng: rng_from_seed(Some(cfg.seed ^ ACT_SALT)),
            cfg,
            progress: Progress::default(),
        })
    }

    /// The policy being tuned.
    pub fn model(&self) -> &Decoder {
        &self.model
    }

    /// The policy's variables (with the value head of PPO or a learned baseline).
    pub fn var_store(&self) -> &VarStore {
        &self.vs
    }

    /// The frozen starting model (the KL reference).
    pub fn reference(&self) -> &Decoder {
        self.reference.model()
    }

    /// The prompts and reward the policy trains on.
    pub fn rollout(&self) -> &Rollout {
        &self.rollout
    }

    /// The settings.
    pub fn config(&self) -> &FineTuneConfig {
        &self.cfg
    }

    /// The current KL coefficient of PPO (`None` for the other algorithms).
    pub fn kl_beta(&self) -> Option<f64> {
        match &self.learner {
            Learner::Ppo(p) => Some(p.beta()),
            _ => None,
        }
    }

    /// One update (see the [module docs](self)); on failure the weights from before it are
    /// back in place.
    fn update(&mut self) -> Result<(RolloutBatch, UpdateReport)> {
        self.last_good.sync_from(&self.vs)?;
        let batch = tch::no_grad(|| match &self.learner {
            Learner::Group(g) => {
                let k = g.config().group_size;
                self.rollout
                    .collect_groups(&self.model, self.cfg.batch_size / k, k, &mut self.rng)
            }
            _ => self
                .rollout
                .collect(&self.model, self.cfg.batch_size, &mut self.rng),
        })?;
        let stats = batch_stats(&self.model, self.reference.model(), &batch)?;
        let loss = match &mut self.learner {
            Learner::Reinforce(l) => l.step(&self.model, &batch).map(|s| s.loss),
            Learner::Group(l) => l
                .step(&self.model, Some(self.reference.model()), &batch)
                .map(|s| s.loss),
            Learner::Ppo(l) => l
                .step(&self.model, self.reference.model(), &batch, &mut self.rng)
                .map(|s| s.policy_loss + s.value_loss),
        };
        let loss = match loss {
            Ok(loss) => loss,
            Err(e) => {
                self.last_good.copy_into(&self.vs)?;
                return Err(e);
            }
        };
        self.progress.updates += 1;
        let report = UpdateReport {
            step: self.progress.updates,
            mean_reward: batch.mean_reward(),
            stats,
            loss,
        };
        Ok((batch, report))
    }
}

/// Token counts `[B]` of a batch's responses (the `<eos>` included).
fn response_lengths(batch: &RolloutBatch) -> Result<Vec<f64>> {
    let lens = batch
        .response_mask
        .f_sum_dim_intlist([1i64].as_slice(), false, Kind::Double)?
        .f_to_device(tch::Device::Cpu)?;
    Ok(Vec::<f64>::try_from(&lens)?)
}

impl Agent for FineTuner {
    type Obs = str;
    type Action = Completion;
    type Error = Error;

    fn learn_until(
        &mut self,
        stop: Budget,
        budget: Budget,
        callback: &mut dyn Callback,
    ) -> Result<LearnSummary> {
        Budget::check(
            stop,
            budget,
            "the fine-tuner",
            &[BudgetUnit::Updates, BudgetUnit::Episodes, BudgetUnit::Steps],
        )?;
        let start = Instant::now();
        while !stop.reached(&self.progress) {
            let t0 = Instant::now();
            let (batch, report) = self.update()?;
            let lengths = response_lengths(&batch)?;
            self.progress.episodes += batch.len() as u64;
            self.progress.steps += lengths.iter().sum::<f64>() as u64;
            let time = t0.elapsed().as_secs_f64();
            let mut stopped = false;
            for (&reward, &len) in batch.reward_values.iter().zip(&lengths) {
                let episode = EpisodeStats {
                    ret: reward,
                    len: len as u64,
                    time,
                };
                stopped |= callback.on_episode_end(&episode).is_break();
            }
            let s = &report.stats;
            let metrics = [
                ("step", report.step as f64),
                ("mean_reward", report.mean_reward),
                ("kl", s.kl),
                ("entropy", s.entropy),
                ("ref_perplexity", s.reference_perplexity),
                ("mean_response_len", s.mean_response_len),
                ("loss", report.loss),
            ];
            stopped |= callback.on_update(&metrics).is_break();
            if stopped {
                return Ok(LearnSummary::since(start, self.progress, true));
            }
        }
        Ok(LearnSummary::since(start, self.progress, false))
    }

    fn progress(&self) -> Progress {
        self.progress
    }

    /// Completes `prompt` with the current policy: greedy when `deterministic`, otherwise
    /// sampled with the rollout's pipeline from a stream of its own (acting does not change
    /// training).
    fn act(&mut self, prompt: &str, deterministic: bool) -> Result<Completion> {
        self.rollout
            .complete(&self.model, prompt, deterministic, &mut self.act_rng)
    }

    /// Writes the tuned model as a checkpoint folder at `path`, atomically: the decoder weights
    /// (not the value head) with the starting checkpoint's tokenizer and trainer state (a
    /// Hugging Face folder when the model came from one, with its tokenizer, chat template and
    /// generation files, see [`write_hf_files`]), so
    /// `generate` and [`load_checkpoint`](crate::pretrain::load_checkpoint) read it, and the
    /// tuner's progress ([`FINE_TUNE_PROGRESS_FILE`]). The learner's state (value head, optimizer
    /// moments, KL coefficient) is not saved.
    fn save(&self, path: &Path) -> Result<()> {
        let cfg = self.model.config();
        let saved = SavedProgress {
            algorithm: self.cfg.algorithm.name().to_owned(),
            progress: self.progress,
        };
        let hf_source = self.source.as_deref().filter(|s| is_hf_folder(s));
        write_folder_atomically(path, |tmp| {
            if let Some(source) = hf_source {
                // A Hugging Face model stays one: config, weights (the RL heads left out) and
                // the source's tokenizer and generation files.
                std::fs::create_dir_all(tmp).map_err(|e| Error::checkpoint(tmp, e.to_string()))?;
                write_hf_files(tmp, &self.vs, cfg, Some(source))?;
            } else {
                save_language_model(tmp, &self.vs, cfg)?;
                copy_source_files(self.source.as_deref(), tmp)?;
            }
            let json = serde_json::to_string_pretty(&saved)
                .map_err(|e| Error::checkpoint(path, format!("cannot encode the progress: {e}")))?;
            std::fs::write(tmp.join(FINE_TUNE_PROGRESS_FILE), json).map_err(|e| {
                Error::checkpoint(path, format!("cannot write {FINE_TUNE_PROGRESS_FILE}: {e}"))
            })
        })
    }

    /// Loads the GPT weights of a checkpoint folder written by [`save`](Agent::save) (or any
    /// checkpoint of the same architecture) into the policy, and the progress saved with them;
    /// a folder without [`FINE_TUNE_PROGRESS_FILE`] (a pre-trained checkpoint) leaves the progress as
    /// it is. The reference and the learner's state stay as they are. Nothing changes when
    /// the folder does not fit (another architecture, a progress file of another algorithm or
    /// unreadable).
    fn restore(&mut self, path: &Path) -> Result<()> {
        let (saved_vs, saved) = load_decoder(path, self.vs.device(), None)?;
        if saved.config() != self.model.config() {
            return Err(Error::checkpoint(
                path,
                "the saved model's configuration differs from the tuned model's",
            ));
        }
        let progress = read_progress(path, self.cfg.algorithm.name())?;
        let frozen = FrozenDecoder::copy_of(&saved_vs, saved.config())?;
        frozen.copy_into(&self.vs)?;
        if let Some(progress) = progress {
            self.progress = progress;
        }
        Ok(())
    }
}

/// The progress saved in the checkpoint folder `dir` (`None` without [`FINE_TUNE_PROGRESS_FILE`]); an
/// error when it is unreadable or was saved by another algorithm than `algorithm`.
fn read_progress(dir: &Path, algorithm: &str) -> Result<Option<Progress>> {
    let file = dir.join(FINE_TUNE_PROGRESS_FILE);
    if !file.exists() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(&file).map_err(|e| {
        Error::checkpoint(dir, format!("cannot read {FINE_TUNE_PROGRESS_FILE}: {e}"))
    })?;
    let saved: SavedProgress = serde_json::from_str(&text)
        .map_err(|e| Error::checkpoint(dir, format!("malformed {FINE_TUNE_PROGRESS_FILE}: {e}")))?;
    if saved.algorithm != algorithm {
        return Err(Error::checkpoint(
            dir,
            format!(
                "the progress was saved by a {} tuner, this one runs {algorithm}",
                saved.algorithm
            ),
        ));
    }
    Ok(Some(saved.progress))
}

/// Copies the tokenizer and trainer state of the checkpoint folder `source` (where it has
/// them) into `dir`.
fn copy_source_files(source: Option<&Path>, dir: &Path) -> Result<()> {
    let Some(source) = source else {
        return Ok(());
    };
    for file in [TOKENIZER_FILE, STATE_FILE] {
        let src = source.join(file);
        if src.is_file() {
            std::fs::copy(&src, dir.join(file)).map_err(|e| {
                Error::checkpoint(dir, format!("cannot copy {}: {e}", src.display()))
            })?;
        }
    }
    Ok(())
}
