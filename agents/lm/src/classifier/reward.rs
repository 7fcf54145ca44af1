//! [`ClassifierReward`]: the score a sequence classifier gives a completion, as a [`RewardFn`]
//! — the probability of a named label (TRL's sentiment example: a DistilBERT IMDb classifier's
//! `POSITIVE`) or its logit.

use std::path::Path;
use std::sync::Mutex;

use tch::nn::VarStore;
use tch::{Device, Kind, Tensor};
use tokengym_envs::text::{HfTokenizer, RewardContext, RewardFn, Tokenizer};

use crate::classifier::encoder::SequenceClassifier;
use crate::error::{Error, Result};

/// What the classifier reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ClassifierInput {
    /// The completion alone.
    Completion,
    /// The prompt followed by the completion (TRL's sentiment example scores query + response).
    #[default]
    PromptAndCompletion,
}

/// Which number of the classifier is the reward.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ClassifierScore {
    /// The softmax probability of the label, in `[0, 1]`.
    #[default]
    Probability,
    /// The label's raw logit.
    Logit,
}

/// Texts scored per forward pass.
const BATCH: usize = 32;

struct Loaded {
    _vs: VarStore,
    model: SequenceClassifier,
    tokenizer: HfTokenizer,
}

/// A Hugging Face sequence classifier (BERT, DistilBERT, RoBERTa) with its own tokenizer as a
/// reward: texts are tokenised as transformers tokenises them (special tokens, truncation to
/// the model's length) and scored in batches.
///
/// ```no_run
/// use tokengym_lm::classifier::{ClassifierInput, ClassifierReward};
///
/// let reward = ClassifierReward::load("distilbert-imdb".as_ref(), Some("POSITIVE"), tch::Device::Cpu)?
///     .with_input(ClassifierInput::Completion);
/// let scores = reward.score_texts(&["What a wonderful film!"])?;
/// assert!((0.0..=1.0).contains(&scores[0]));
/// # Ok::<(), tokengym_lm::Error>(())
/// ```
pub struct ClassifierReward {
    loaded: Mutex<Loaded>,
    label: usize,
    input: ClassifierInput,
    score: ClassifierScore,
}

impl std::fmt::Debug for ClassifierReward {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClassifierReward")
            .field("label", &self.label)
            .field("input", &self.input)
            .field("score", &self.score)
            .finish_non_exhaustive()
    }
}

impl ClassifierReward {
    /// Loads the classifier of folder `dir` (its `config.json`, weights and `tokenizer.json`)
    /// onto `device`; `label` is an `id2label` name or an index (`None`: the last label, the
    /// positive one of the usual sentiment classifiers). Scores the probability of `label` for
    /// prompt + completion unless told otherwise.
    pub fn load(dir: &Path, label: Option<&str>, device: Device) -> Result<Self> {
        let (vs, model) = SequenceClassifier::load(dir, device)?;
        let label = match label {
            Some(name) => model.config().label_index(name)?,
            None => model.config().labels.len() - 1,
        };
        let tokenizer = HfTokenizer::from_model_dir(dir)
            .map_err(|e| Error::InvalidArgument(format!("{}: {e}", dir.display())))?;
        if tokenizer.vocab_size() as i64 > model.config().vocab_size {
            return Err(Error::InvalidArgument(format!(
                "{}: the tokenizer has {} ids but the classifier only {}",
                dir.display(),
                tokenizer.vocab_size(),
                model.config().vocab_size
            )));
        }
        Ok(Self {
            loaded: Mutex::new(Loaded {
                _vs: vs,
                model,
                tokenizer,
            }),
            label,
            input: ClassifierInput::default(),
            score: ClassifierScore::default(),
        })
    }

    /// Reads `input` instead.
    pub fn with_input(mut self, input: ClassifierInput) -> Self {
        self.input = input;
        self
    }

    /// Returns `score` instead.
    pub fn with_score(mut self, score: ClassifierScore) -> Self {
        self.score = score;
        self
    }

    /// The label's index.
    pub fn label(&self) -> usize {
        self.label
    }

    /// The classifier's logits `[N, labels]` of `texts`, each tokenised with its special
    /// tokens and truncated to the classifier's length, in batches.
    pub fn logits(&self, texts: &[&str]) -> Result<Tensor> {
        let loaded = self
            .loaded
            .lock()
            .map_err(|_| Error::InvalidArgument("the classifier's lock is poisoned".into()))?;
        let max_len = loaded.model.config().max_len() as usize;
        let pad = loaded.model.config().pad_token_id;
        let mut out = Vec::new();
        for chunk in texts.chunks(BATCH) {
            let rows = chunk
                .iter()
                .map(|t| loaded.tokenizer.encode_prompt_truncated(t, max_len))
                .collect::<tokengym::Result<Vec<_>>>()
                .map_err(|e| Error::InvalidArgument(format!("classifier tokenizer: {e}")))?;
            let width = rows.iter().map(Vec::len).max().unwrap_or(1).max(1);
            let mut ids = Vec::with_capacity(rows.len() * width);
            let mut mask = Vec::with_capacity(rows.len() * width);
            for r in &rows {
                ids.extend(r.iter().map(|&i| i64::from(i)));
                ids.extend(std::iter::repeat_n(pad, width - r.len()));
                mask.extend(std::iter::repeat_n(1i64, r.len()));
                mask.extend(std::iter::repeat_n(0i64, width - r.len()));
            }
            let shape = [rows.len() as i64, width as i64];
            let ids = Tensor::from_slice(&ids).f_view(shape)?;
            let mask = Tensor::from_slice(&mask).f_view(shape)?;
            out.push(tch::no_grad(|| loaded.model.logits(&ids, Some(&mask)))?);
        }
        if out.is_empty() {
            let n = loaded.model.config().labels.len() as i64;
            return Ok(Tensor::f_zeros([0, n], (Kind::Float, Device::Cpu))?);
        }
        Ok(Tensor::f_cat(&out, 0)?.f_to_device(Device::Cpu)?)
    }

    /// The rewards of `texts`: the label's probability or logit.
    pub fn score_texts(&self, texts: &[&str]) -> Result<Vec<f64>> {
        let logits = self.logits(texts)?;
        let column = match self.score {
            ClassifierScore::Probability => logits.f_softmax(-1, Kind::Float)?,
            ClassifierScore::Logit => logits.f_to_kind(Kind::Float)?,
        }
        .f_select(1, self.label as i64)?
        .f_to_kind(Kind::Double)?;
        Ok(Vec::<f64>::try_from(&column)?)
    }

    fn text(&self, ctx: &RewardContext<'_>) -> String {
        match self.input {
            ClassifierInput::Completion => ctx.completion.to_owned(),
            ClassifierInput::PromptAndCompletion => format!("{}{}", ctx.prompt, ctx.completion),
        }
    }
}

impl RewardFn for ClassifierReward {
    fn score(&self, ctx: &RewardContext<'_>) -> tokengym::Result<f64> {
        self.score_batch(std::slice::from_ref(ctx)).map(|v| v[0])
    }

    /// All completions in batches of 32 texts.
    fn score_batch(&self, ctxs: &[RewardContext<'_>]) -> tokengym::Result<Vec<f64>> {
        let texts: Vec<String> = ctxs.iter().map(|c| self.text(c)).collect();
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        self.score_texts(&refs)
            .map_err(|e| tokengym::Error::InvalidState(format!("classifier reward: {e}")))
    }
}
