//! Writing a decoder back as a Hugging Face model folder that
//! `transformers.AutoModelForCausalLM.from_pretrained` loads: `config.json` in the family's
//! format ([`crate::models::config_to_hf`]), `model.safetensors` with the family's tensor
//! names and `{"format": "pt"}` metadata (streamed from the parameters, no second copy of the
//! model in memory), and the tokenizer and generation files of the folder the model came from.
//!
//! The whole folder is written under a temporary name and swapped in, so a failure leaves any
//! previous folder as it was.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::path::Path;

use safetensors::tensor::{Dtype, View};
use serde_json::Value;
use tch::nn::VarStore;
use tch::{Device, Kind, Tensor};

use crate::error::{Error, Result};
use crate::model::config::DecoderConfig;
use crate::model::folder::{WEIGHTS_FILE, is_rl_head};
use crate::model::weights::CONFIG_FILE;
use crate::models::config_to_hf;
use crate::write_folder::write_folder_atomically;

/// The files of a Hugging Face folder besides the config and the weights, copied from the
/// source folder when it has them.
pub const HF_SIDE_FILES: [&str; 5] = [
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "chat_template.jinja",
    "generation_config.json",
];

/// The `config.json` fields copied from the source folder's config.
const CARRIED_CONFIG_FIELDS: [&str; 3] = ["bos_token_id", "eos_token_id", "pad_token_id"];

/// A CPU tensor seen as safetensors data (borrowed, not copied).
struct CpuTensor {
    tensor: Tensor,
    dtype: Dtype,
    shape: Vec<usize>,
    bytes: usize,
}

impl View for &CpuTensor {
    fn dtype(&self) -> Dtype {
        self.dtype
    }

    fn shape(&self) -> &[usize] {
        &self.shape
    }

    fn data(&self) -> Cow<'_, [u8]> {
        if self.bytes == 0 {
            return Cow::Borrowed(&[]);
        }
        // SAFETY: the tensor is contiguous, on the CPU and owned by `self` (kept alive, not
        // written to while the file is written), and `bytes` is its element count times the
        // element size.
        Cow::Borrowed(unsafe {
            std::slice::from_raw_parts(self.tensor.data_ptr() as *const u8, self.bytes)
        })
    }

    fn data_len(&self) -> usize {
        self.bytes
    }
}

fn dtype_of(kind: Kind) -> Result<(Dtype, &'static str)> {
    match kind {
        Kind::Float => Ok((Dtype::F32, "float32")),
        Kind::Half => Ok((Dtype::F16, "float16")),
        Kind::BFloat16 => Ok((Dtype::BF16, "bfloat16")),
        other => Err(Error::InvalidArgument(format!(
            "cannot export parameters of kind {other:?} (f32, f16 or bf16 only)"
        ))),
    }
}

/// Saves the decoder variables of `vs` (configured by `cfg`) as the Hugging Face folder `dir`,
/// atomically; `source`: the folder the model was loaded from, whose tokenizer and generation
/// files are copied and whose bos/eos/pad ids are kept in the config (`None`: config and
/// weights only). Variables of our RL heads (`value_head.*`, `reward_head.*`) are left out.
pub fn save_hf_folder(
    dir: &Path,
    vs: &VarStore,
    cfg: &DecoderConfig,
    source: Option<&Path>,
) -> Result<()> {
    write_folder_atomically(dir, |tmp| {
        fs::create_dir_all(tmp).map_err(|e| Error::checkpoint(tmp, e.to_string()))?;
        write_hf_files(tmp, vs, cfg, source)
    })
}

/// Writes the files of [`save_hf_folder`] into the existing folder `dir` (not atomically: for
/// callers that assemble a folder under a temporary name themselves).
pub fn write_hf_files(
    dir: &Path,
    vs: &VarStore,
    cfg: &DecoderConfig,
    source: Option<&Path>,
) -> Result<()> {
    cfg.validate()?;
    let vars: BTreeMap<String, Tensor> = vs
        .variables()
        .into_iter()
        .filter(|(n, _)| !is_rl_head(n))
        .collect();
    let first = vars
        .values()
        .next()
        .ok_or_else(|| Error::InvalidArgument("the variable store is empty".to_owned()))?;
    let (_, dtype_name) = dtype_of(first.kind())?;
    let mut config = config_to_hf(cfg, dtype_name)?;
    if let Some(src) = source {
        let path = src.join(CONFIG_FILE);
        let unreadable =
            |why: String| Error::checkpoint(&path, format!("cannot carry its token ids: {why}"));
        let text = fs::read_to_string(&path).map_err(|e| unreadable(e.to_string()))?;
        let Value::Object(old) =
            serde_json::from_str::<Value>(&text).map_err(|e| unreadable(e.to_string()))?
        else {
            return Err(unreadable("not a JSON object".to_owned()));
        };
        if let Value::Object(new) = &mut config {
            for key in CARRIED_CONFIG_FIELDS {
                if let Some(v) = old.get(key) {
                    new.insert(key.to_owned(), v.clone());
                }
            }
        }
    }
    let mut tensors = Vec::with_capacity(vars.len());
    for (name, var) in vars {
        let tensor = var.f_detach()?.f_to_device(Device::Cpu)?.f_contiguous()?;
        let (dtype, _) = dtype_of(tensor.kind())?;
        let shape: Vec<usize> = tensor.size().iter().map(|&d| d as usize).collect();
        let bytes = tensor.numel() * tensor.kind().elt_size_in_bytes();
        tensors.push((
            name,
            CpuTensor {
                tensor,
                dtype,
                shape,
                bytes,
            },
        ));
    }
    let metadata: HashMap<String, String> = [("format".to_owned(), "pt".to_owned())]
        .into_iter()
        .collect();
    safetensors::serialize_to_file(
        tensors.iter().map(|(n, t)| (n.as_str(), t)),
        &Some(metadata),
        &dir.join(WEIGHTS_FILE),
    )
    .map_err(|e| Error::checkpoint(dir, format!("cannot write the weights: {e:?}")))?;
    let text = serde_json::to_string_pretty(&config)
        .map_err(|e| Error::InvalidArgument(format!("cannot encode the config: {e}")))?;
    fs::write(dir.join(CONFIG_FILE), text + "\n")
        .map_err(|e| Error::checkpoint(dir, e.to_string()))?;
    if let Some(src) = source {
        for file in HF_SIDE_FILES {
            let from = src.join(file);
            if from.is_file() {
                fs::copy(&from, dir.join(file)).map_err(|e| {
                    Error::checkpoint(dir, format!("cannot copy {}: {e}", from.display()))
                })?;
            }
        }
    }
    Ok(())
}
