//! Language-model checkpoints: a folder with the model (`model.safetensors` + `config.json`, as
//! [`save_decoder`] writes them), the tokenizer (`tokenizer.json`, unless it is the byte
//! tokenizer, which needs no file) and `trainer_state.json` ([`TrainerState`]).
//!
//! **Atomicity.** [`save_checkpoint`] writes the whole folder under a temporary name next to
//! the target, then swaps it in with two renames (old folder aside, new folder in place) and
//! deletes the old one. A crash while writing leaves the previous checkpoint untouched.
//!
//! **Optimizer state is not saved**: tch 0.26 cannot serialise an `nn::Optimizer`'s AdamW
//! moments. A resumed run keeps the weights, the step count (hence the learning-rate schedule
//! and the data order) and restarts the moment estimates from zero; the warm-up is not redone.
//!
//! [`load_checkpoint`] also reads Hugging Face model folders of the supported families
//! (`config.json`, safetensors weights, the tokenizer files). A model that came from one
//! ([`TokenizerSource::HfFolder`]) is checkpointed as one, with `trainer_state.json` beside it,
//! so `transformers` loads every checkpoint of the run and the run can resume from it.

use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tch::nn::VarStore;
use tch::{Device, Kind};
use tokengym_envs::text::{ByteTokenizer, HfTokenizer, Tokenizer, load_tokenizer};

use crate::error::{Error, Result};
use crate::model::config::DecoderConfig;
use crate::model::decoder::Decoder;
use crate::model::folder::weight_files;
use crate::model::hf_export::write_hf_files;
use crate::model::weights::{CONFIG_FILE, load_decoder, save_decoder};
use crate::models::is_hf_folder;
use crate::pretrain::config::TrainerConfig;
use crate::write_folder::write_folder_atomically;

/// Name of the trainer state file in a checkpoint folder.
pub const STATE_FILE: &str = "trainer_state.json";
/// Name of the tokenizer file in a checkpoint folder.
pub const TOKENIZER_FILE: &str = "tokenizer.json";
/// The `format` tag of [`TrainerState`] files.
pub const STATE_FORMAT: &str = "tokengym-lm-trainer-state";

/// Which tokenizer a checkpoint uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenizerKind {
    /// [`ByteTokenizer::new`] (no file).
    Byte,
    /// The `tokenizer.json` in the folder (a character or Hugging Face tokenizer).
    File,
    /// The tokenizer files of a Hugging Face model folder (`tokenizer.json`,
    /// `tokenizer_config.json`, chat template, `generation_config.json`); the checkpoint is
    /// itself a Hugging Face model folder.
    HfFolder,
}

/// Where the tokenizer to store in a checkpoint comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenizerSource {
    /// The byte tokenizer: nothing to copy.
    Byte,
    /// A tokenizer file, copied into the checkpoint as `tokenizer.json`.
    File(PathBuf),
    /// A Hugging Face model folder: the checkpoint is written as a Hugging Face folder
    /// ([`write_hf_files`]) with this folder's tokenizer and generation files and token ids.
    HfFolder(PathBuf),
}

impl TokenizerSource {
    /// The [`TokenizerKind`] a checkpoint written with this source records.
    pub fn kind(&self) -> TokenizerKind {
        match self {
            Self::Byte => TokenizerKind::Byte,
            Self::File(_) => TokenizerKind::File,
            Self::HfFolder(_) => TokenizerKind::HfFolder,
        }
    }

    /// Where the tokenizer of the model folder `dir` comes from: the folder itself for a
    /// Hugging Face folder, its `tokenizer.json` or the byte tokenizer for one of ours.
    pub fn of_folder(dir: &Path) -> Result<Self> {
        let tok_path = dir.join(TOKENIZER_FILE);
        if is_hf_folder(dir) && !is_our_tokenizer_file(&tok_path) {
            return Ok(Self::HfFolder(dir.to_path_buf()));
        }
        if tok_path.is_file() {
            return Ok(Self::File(tok_path));
        }
        match read_state(dir)? {
            Some(s) if s.tokenizer == TokenizerKind::Byte => Ok(Self::Byte),
            _ => Err(Error::checkpoint(dir, format!("missing {TOKENIZER_FILE}"))),
        }
    }
}

/// The training state saved beside the model (`trainer_state.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainerState {
    /// Always [`STATE_FORMAT`].
    pub format: String,
    /// Number of optimizer steps taken.
    pub step: u64,
    /// Which tokenizer goes with the model.
    pub tokenizer: TokenizerKind,
    /// The training settings of the run.
    pub config: TrainerConfig,
    /// Last training loss (mean over the steps since the previous checkpoint), if any.
    pub train_loss: Option<f64>,
    /// Last validation loss, if any.
    pub val_loss: Option<f64>,
    /// Always `false`: the AdamW moments are not saved (see the module docs).
    pub optimizer_state_saved: bool,
}

impl TrainerState {
    /// A state at `step` for a run with `config` and the tokenizer of `source`.
    pub fn new(step: u64, source: &TokenizerSource, config: TrainerConfig) -> Self {
        Self {
            format: STATE_FORMAT.to_owned(),
            step,
            tokenizer: source.kind(),
            config,
            train_loss: None,
            val_loss: None,
            optimizer_state_saved: false,
        }
    }
}

/// A loaded checkpoint: the model on its device, the tokenizer and, for our own checkpoints,
/// the trainer state.
pub struct LoadedCheckpoint {
    /// The variables (for training further or saving).
    pub vs: VarStore,
    /// The model.
    pub model: Decoder,
    /// The tokenizer (its vocabulary fits the model's).
    pub tokenizer: Box<dyn Tokenizer>,
    /// `None` for a Hugging Face folder.
    pub state: Option<TrainerState>,
}

impl std::fmt::Debug for LoadedCheckpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadedCheckpoint")
            .field("config", self.model.config())
            .field("tokenizer_vocab", &self.tokenizer.vocab_size())
            .field("state", &self.state)
            .finish()
    }
}

/// Writes a checkpoint folder `dir` atomically (see the module docs): the variables of `vs`
/// with `cfg`, `state` and the tokenizer of `tokenizer`.
pub fn save_checkpoint(
    dir: &Path,
    vs: &VarStore,
    cfg: &DecoderConfig,
    state: &TrainerState,
    tokenizer: &TokenizerSource,
) -> Result<()> {
    if state.tokenizer != tokenizer.kind() {
        return Err(Error::InvalidArgument(format!(
            "trainer state says tokenizer {:?} but the source is {tokenizer:?}",
            state.tokenizer
        )));
    }
    write_folder_atomically(dir, |tmp| {
        match tokenizer {
            TokenizerSource::HfFolder(src) => {
                fs::create_dir_all(tmp).map_err(|e| Error::checkpoint(tmp, e.to_string()))?;
                write_hf_files(tmp, vs, cfg, Some(src))?;
            }
            _ => save_decoder(tmp, vs, cfg)?,
        }
        let text = serde_json::to_string_pretty(state)
            .map_err(|e| Error::checkpoint(dir, format!("cannot serialise the state: {e}")))?;
        fs::write(tmp.join(STATE_FILE), text + "\n")
            .map_err(|e| Error::checkpoint(tmp, format!("cannot write {STATE_FILE}: {e}")))?;
        if let TokenizerSource::File(src) = tokenizer {
            fs::copy(src, tmp.join(TOKENIZER_FILE)).map_err(|e| {
                Error::checkpoint(dir, format!("cannot copy tokenizer {}: {e}", src.display()))
            })?;
        }
        Ok(())
    })
}

/// Reads the trainer state of a checkpoint folder, `None` when the folder has none (a Hugging
/// Face folder).
pub fn read_state(dir: &Path) -> Result<Option<TrainerState>> {
    let path = dir.join(STATE_FILE);
    if !path.exists() {
        return Ok(None);
    }
    let text = fs::read_to_string(&path)
        .map_err(|e| Error::checkpoint(&path, format!("cannot read: {e}")))?;
    let state: TrainerState = serde_json::from_str(&text)
        .map_err(|e| Error::checkpoint(&path, format!("corrupted trainer state: {e}")))?;
    if state.format != STATE_FORMAT {
        return Err(Error::checkpoint(
            &path,
            format!("format is {:?}, expected {STATE_FORMAT:?}", state.format),
        ));
    }
    Ok(Some(state))
}

/// Loads a checkpoint folder (ours, or a Hugging Face model folder of a supported family) onto
/// `device`, in the dtype its weights are stored in.
///
/// Errors (all naming the folder): a missing folder, model config or weights file, a
/// corrupted file, no usable tokenizer, or a tokenizer with more ids than the model's
/// vocabulary (the model could not score them). A tokenizer with fewer ids than the model is
/// fine (vocabularies are often padded).
pub fn load_checkpoint(dir: &Path, device: Device) -> Result<LoadedCheckpoint> {
    load_checkpoint_as(dir, device, None)
}

/// [`load_checkpoint`] with the parameters in `dtype` (f32, f16 or bf16; `None`: as stored).
///
/// A Hugging Face folder (its `config.json` has a `model_type`) gets its tokenizer from
/// [`HfTokenizer::from_model_dir`] (special tokens, stop ids and chat template as
/// `transformers` reads them); our own folders from `tokenizer.json` or the trainer state.
pub fn load_checkpoint_as(
    dir: &Path,
    device: Device,
    dtype: Option<Kind>,
) -> Result<LoadedCheckpoint> {
    if !dir.is_dir() {
        return Err(Error::checkpoint(dir, "no such checkpoint folder"));
    }
    let config = dir.join(CONFIG_FILE);
    if !config.is_file() {
        return Err(Error::checkpoint(dir, format!("missing {CONFIG_FILE}")));
    }
    weight_files(dir).map_err(|e| Error::checkpoint(dir, e))?;
    let tok_path = dir.join(TOKENIZER_FILE);
    if is_hf_folder(dir) && !is_our_tokenizer_file(&tok_path) {
        let tokenizer = HfTokenizer::from_model_dir(dir)
            .map_err(|e| Error::checkpoint(dir, format!("unusable tokenizer: {e}")))?;
        // A folder our trainer wrote from a Hugging Face model keeps its trainer state; the
        // `trainer_state.json` of a transformers Trainer checkpoint is not ours and is ignored.
        let state = if is_our_state_file(&dir.join(STATE_FILE)) {
            read_state(dir)?
        } else {
            None
        };
        return finish(dir, device, dtype, Box::new(tokenizer), state);
    }
    let state = read_state(dir)?;
    let tokenizer: Box<dyn Tokenizer> = if tok_path.is_file() {
        load_tokenizer(&tok_path)
            .map_err(|e| Error::checkpoint(dir, format!("unusable tokenizer: {e}")))?
    } else if state
        .as_ref()
        .is_some_and(|s| s.tokenizer == TokenizerKind::Byte)
    {
        Box::new(ByteTokenizer::new())
    } else {
        return Err(Error::checkpoint(dir, format!("missing {TOKENIZER_FILE}")));
    };
    finish(dir, device, dtype, tokenizer, state)
}

/// Whether `path` is a trainer state written by us (its `format` is [`STATE_FORMAT`]), not
/// the `trainer_state.json` a transformers `Trainer` writes into its checkpoints.
fn is_our_state_file(path: &Path) -> bool {
    fs::read(path)
        .ok()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .is_some_and(|v| v.get("format").and_then(|f| f.as_str()) == Some(STATE_FORMAT))
}

/// Whether `path` is a tokenizer file in one of our own formats (it has a `format` field, which
/// Hugging Face `tokenizer.json` files do not).
fn is_our_tokenizer_file(path: &Path) -> bool {
    fs::read(path)
        .ok()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .is_some_and(|v| v.get("format").is_some())
}

/// Loads the model of `dir` and checks `tokenizer` fits it.
fn finish(
    dir: &Path,
    device: Device,
    dtype: Option<Kind>,
    tokenizer: Box<dyn Tokenizer>,
    state: Option<TrainerState>,
) -> Result<LoadedCheckpoint> {
    let (vs, model) = load_decoder(dir, device, dtype).map_err(|e| Error::checkpoint(dir, e))?;
    let model_vocab = model.config().vocab_size;
    if tokenizer.vocab_size() as i64 > model_vocab {
        return Err(Error::checkpoint(
            dir,
            format!(
                "vocabulary mismatch: the tokenizer has {} ids but the model only {model_vocab}",
                tokenizer.vocab_size()
            ),
        ));
    }
    Ok(LoadedCheckpoint {
        vs,
        model,
        tokenizer,
        state,
    })
}
