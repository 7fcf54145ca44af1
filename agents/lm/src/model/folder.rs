//! Reading the weights of a model folder: `model.safetensors`, or the shards that
//! `model.safetensors.index.json` lists, memory-mapped and copied tensor by tensor into the
//! model's variables (converted to their dtype and device on the way), so loading needs the
//! model's size in memory plus one tensor, not twice the model.
//!
//! Loading is strict: every variable of the model must be in the files with its exact shape, and
//! every tensor in the files must belong to the model, except buffers Hugging Face checkpoints
//! may carry (`*.attn.bias`, `*.attn.masked_bias`, `*.attention.bias`, `*.rotary_emb.inv_freq`)
//! and a `lm_head.weight` that duplicates tied embeddings. GPT-2 names without the
//! `transformer.` prefix (checkpoints of a bare `GPT2Model`) get it added, except our RL heads
//! (`reward_head.*`, `value_head.*`). Nothing is modified unless every check passes.

use std::collections::{BTreeMap, HashMap};
use std::fs::{self, File};
use std::path::{Path, PathBuf};

use memmap2::Mmap;
use safetensors::SafeTensors;
use safetensors::tensor::Dtype;
use tch::nn::VarStore;
use tch::{Device, Kind, Tensor};

use crate::error::{Error, Result};
use crate::model::config::WeightLayout;

/// Name of the single weights file of a model folder.
pub const WEIGHTS_FILE: &str = "model.safetensors";
/// Name of the index of a sharded model folder.
pub const INDEX_FILE: &str = "model.safetensors.index.json";

/// Prefixes of the heads our RL code puts next to the decoder in one variable store (the reward
/// model's scalar head, PPO's value head); their names are kept as they are.
const HEAD_PREFIXES: [&str; 2] = ["reward_head.", "value_head."];

/// Whether the variable `name` belongs to one of our RL heads (`reward_head.*`, `value_head.*`)
/// rather than to the language model.
pub(crate) fn is_rl_head(name: &str) -> bool {
    HEAD_PREFIXES.iter().any(|p| name.starts_with(p))
}

/// Buffers of Hugging Face checkpoints that are not parameters.
const SKIPPED_SUFFIXES: [&str; 5] = [
    ".attn.bias",
    ".attn.masked_bias",
    ".attention.bias",
    ".attention.masked_bias",
    ".rotary_emb.inv_freq",
];

fn io_err(path: &Path, e: std::io::Error) -> Error {
    Error::Core(tokengym::Error::io(path, e))
}

/// The weight files of `dir`: `model.safetensors`, else the shards of
/// `model.safetensors.index.json` (each listed once, in order of first mention).
pub fn weight_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let single = dir.join(WEIGHTS_FILE);
    if single.is_file() {
        return Ok(vec![single]);
    }
    let index = dir.join(INDEX_FILE);
    if !index.is_file() {
        return Err(Error::InvalidArgument(format!(
            "model folder {} has neither {WEIGHTS_FILE} nor {INDEX_FILE}",
            dir.display()
        )));
    }
    let text = fs::read_to_string(&index).map_err(|e| io_err(&index, e))?;
    let bad = |msg: String| Error::InvalidArgument(format!("{}: {msg}", index.display()));
    let value: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| bad(format!("not valid JSON: {e}")))?;
    let map = value
        .get("weight_map")
        .and_then(|m| m.as_object())
        .ok_or_else(|| bad("no weight_map object".to_owned()))?;
    let mut files: Vec<PathBuf> = Vec::new();
    for (name, file) in map {
        let file = file
            .as_str()
            .ok_or_else(|| bad(format!("the file of {name} is not a string")))?;
        if file.contains('/') || file.contains('\\') || file.starts_with('.') {
            return Err(bad(format!("shard name {file:?} is not a plain file name")));
        }
        let path = dir.join(file);
        if !files.contains(&path) {
            if !path.is_file() {
                return Err(bad(format!("shard {file} does not exist")));
            }
            files.push(path);
        }
    }
    if files.is_empty() {
        return Err(bad("the weight_map is empty".to_owned()));
    }
    Ok(files)
}

/// Memory-mapped safetensors files.
pub struct MappedWeights {
    maps: Vec<(PathBuf, Mmap)>,
}

impl std::fmt::Debug for MappedWeights {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MappedWeights")
            .field(
                "files",
                &self.maps.iter().map(|(p, _)| p).collect::<Vec<_>>(),
            )
            .finish()
    }
}

/// Where one tensor lies.
struct Entry {
    file: usize,
    name: String,
}

impl MappedWeights {
    /// Maps `files` (read-only).
    pub fn open(files: &[PathBuf]) -> Result<Self> {
        let mut maps = Vec::with_capacity(files.len());
        for path in files {
            if !path.is_file() {
                return Err(Error::InvalidArgument(format!(
                    "weights file {} does not exist",
                    path.display()
                )));
            }
            let file = File::open(path).map_err(|e| io_err(path, e))?;
            // SAFETY: the map is read-only and lives as long as `self`; a file truncated by
            // another process while it is mapped is outside what any loader can guard against.
            let map = unsafe { Mmap::map(&file) }.map_err(|e| io_err(path, e))?;
            maps.push((path.clone(), map));
        }
        let weights = Self { maps };
        for i in 0..weights.maps.len() {
            weights.parse(i)?;
        }
        Ok(weights)
    }

    fn parse(&self, i: usize) -> Result<SafeTensors<'_>> {
        let (path, map) = &self.maps[i];
        SafeTensors::deserialize(map).map_err(|e| {
            Error::InvalidArgument(format!(
                "{} is not a readable safetensors file: {e:?}",
                path.display()
            ))
        })
    }

    /// The files, for messages.
    fn describe(&self) -> String {
        match self.maps.as_slice() {
            [(p, _)] => p.display().to_string(),
            maps => format!(
                "{} shards in {}",
                maps.len(),
                maps[0].0.parent().unwrap_or(Path::new(".")).display()
            ),
        }
    }

    /// The dtype of the first floating-point tensor (the checkpoint's storage dtype).
    pub fn stored_kind(&self) -> Result<Kind> {
        for i in 0..self.maps.len() {
            for (_, view) in self.parse(i)?.tensors() {
                if let Some(kind) = float_kind(view.dtype()) {
                    return Ok(kind);
                }
            }
        }
        Err(Error::InvalidArgument(format!(
            "{} holds no floating-point tensor",
            self.describe()
        )))
    }

    /// Copies the tensors into the variables of a decoder's `vs` by name (see the module docs
    /// for the rules). `layout`: how the model names its variables; `tied`: whether its LM head
    /// is the embedding.
    pub fn load_into(&self, vs: &VarStore, layout: WeightLayout, tied: bool) -> Result<()> {
        self.load_renamed(vs, |name| normalise_name(name, layout, tied))
    }

    /// Copies the tensors into the variables of `vs`, tensor `name` into variable
    /// `rename(name)` (`None`: a tensor to skip). Every variable must be filled, with its exact
    /// shape, and every tensor not skipped must fill one; nothing is modified otherwise.
    pub fn load_renamed(
        &self,
        vs: &VarStore,
        rename: impl Fn(&str) -> Option<String>,
    ) -> Result<()> {
        let parsed = (0..self.maps.len())
            .map(|i| self.parse(i))
            .collect::<Result<Vec<_>>>()?;
        let mut by_name: HashMap<String, Entry> = HashMap::new();
        for (file, st) in parsed.iter().enumerate() {
            for name in st.names() {
                if let Some(ours) = rename(name)
                    && by_name
                        .insert(
                            ours.clone(),
                            Entry {
                                file,
                                name: name.clone(),
                            },
                        )
                        .is_some()
                {
                    return Err(Error::InvalidArgument(format!(
                        "{}: tensor {ours} appears twice",
                        self.describe()
                    )));
                }
            }
        }
        let vars: BTreeMap<String, Tensor> = vs.variables().into_iter().collect();
        let missing: Vec<&str> = vars
            .keys()
            .filter(|n| !by_name.contains_key(*n))
            .map(String::as_str)
            .collect();
        if !missing.is_empty() {
            return Err(Error::InvalidArgument(format!(
                "{} lacks {} tensor(s) of the model: {}",
                self.describe(),
                missing.len(),
                missing.join(", ")
            )));
        }
        let mut unexpected: Vec<&str> = by_name
            .keys()
            .filter(|n| !vars.contains_key(*n))
            .map(String::as_str)
            .collect();
        if !unexpected.is_empty() {
            unexpected.sort_unstable();
            return Err(Error::InvalidArgument(format!(
                "{} has {} tensor(s) the model does not have (different architecture?): {}",
                self.describe(),
                unexpected.len(),
                unexpected.join(", ")
            )));
        }
        let mut views = Vec::with_capacity(vars.len());
        for (name, var) in &vars {
            let entry = &by_name[name];
            let view = parsed[entry.file].tensor(&entry.name).map_err(|e| {
                Error::InvalidArgument(format!("{}: {}: {e:?}", self.describe(), entry.name))
            })?;
            let shape: Vec<i64> = view.shape().iter().map(|&d| d as i64).collect();
            if shape != var.size() {
                return Err(Error::Shape(format!(
                    "{}: tensor {name} has shape {shape:?}, the model expects {:?}",
                    self.describe(),
                    var.size()
                )));
            }
            let kind = float_kind(view.dtype()).ok_or_else(|| {
                Error::InvalidArgument(format!(
                    "{}: tensor {name} has dtype {:?}, not a floating-point type",
                    self.describe(),
                    view.dtype()
                ))
            })?;
            views.push((var, entry.file, view, shape, kind));
        }
        tch::no_grad(|| -> Result<()> {
            for (var, file, view, shape, kind) in views {
                copy_stored(var, view.data(), &shape, kind)?;
                self.release(file, view.data());
            }
            Ok(())
        })
    }

    /// Tells the kernel that the pages of `bytes` (a slice of map `file`) are no longer needed,
    /// so that the mapped file does not add its size to the process's resident memory while the
    /// rest of the model loads. Advice only: a failure changes nothing but memory use.
    fn release(&self, file: usize, bytes: &[u8]) {
        #[cfg(unix)]
        {
            let map = &self.maps[file].1;
            let offset = bytes.as_ptr() as usize - map.as_ptr() as usize;
            // SAFETY: `Mmap::map` maps the file read-only and shared (MAP_SHARED), so dropping
            // its pages loses nothing: a later read of any byte of the map (the next tensor may
            // share the last page) faults the page in again from the file.
            let _ = unsafe {
                map.unchecked_advise_range(memmap2::UncheckedAdvice::DontNeed, offset, bytes.len())
            };
        }
        #[cfg(not(unix))]
        let _ = (file, bytes);
    }
}

/// Copies the stored bytes of one tensor (`shape`, `kind`) into `var`, converting dtype and
/// device on the way. Aligned data is read in place (no intermediate copy of the tensor).
fn copy_stored(var: &Tensor, data: &[u8], shape: &[i64], kind: Kind) -> Result<()> {
    let mut dst = var.shallow_clone();
    if (data.as_ptr() as usize).is_multiple_of(kind.elt_size_in_bytes()) {
        // SAFETY: `data` is a live slice of the map holding exactly `shape`'s elements of
        // `kind` (safetensors checks each tensor's byte length against its shape and dtype), it
        // is aligned for `kind`, and the blob tensor only is read from and is dropped before
        // this function returns, while `data` is still borrowed.
        let src = unsafe { Tensor::f_from_blob(data.as_ptr(), shape, &[], kind, Device::Cpu)? };
        dst.f_copy_(&src)?;
    } else {
        dst.f_copy_(&Tensor::f_from_data_size(data, shape, kind)?)?;
    }
    Ok(())
}

/// The libtorch kind of a floating-point safetensors dtype.
fn float_kind(dtype: Dtype) -> Option<Kind> {
    match dtype {
        Dtype::F32 => Some(Kind::Float),
        Dtype::F16 => Some(Kind::Half),
        Dtype::BF16 => Some(Kind::BFloat16),
        Dtype::F64 => Some(Kind::Double),
        _ => None,
    }
}

/// Maps a checkpoint tensor name to our variable name; `None` for tensors to skip.
pub(crate) fn normalise_name(name: &str, layout: WeightLayout, tied: bool) -> Option<String> {
    if SKIPPED_SUFFIXES.iter().any(|s| name.ends_with(s)) {
        return None;
    }
    if name == "lm_head.weight" {
        return (!tied).then(|| name.to_owned());
    }
    let kept = is_rl_head(name);
    match layout {
        WeightLayout::Gpt2 | WeightLayout::GptNeo if !kept && !name.starts_with("transformer.") => {
            Some(format!("transformer.{name}"))
        }
        _ => Some(name.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_normalised() {
        let gpt2 = WeightLayout::Gpt2;
        assert_eq!(
            normalise_name("h.0.ln_1.weight", gpt2, true).as_deref(),
            Some("transformer.h.0.ln_1.weight")
        );
        assert_eq!(
            normalise_name("transformer.wte.weight", gpt2, true).as_deref(),
            Some("transformer.wte.weight")
        );
        assert_eq!(
            normalise_name("transformer.h.1.attn.bias", gpt2, true),
            None
        );
        assert_eq!(normalise_name("h.1.attn.masked_bias", gpt2, false), None);
        assert_eq!(
            normalise_name(
                "transformer.h.1.attn.attention.bias",
                WeightLayout::GptNeo,
                true
            ),
            None
        );
        assert_eq!(
            normalise_name("transformer.h.1.attn.c_attn.bias", gpt2, true).as_deref(),
            Some("transformer.h.1.attn.c_attn.bias")
        );
        assert_eq!(normalise_name("lm_head.weight", gpt2, true), None);
        assert_eq!(
            normalise_name("lm_head.weight", gpt2, false).as_deref(),
            Some("lm_head.weight")
        );
        assert_eq!(
            normalise_name("value_head.weight", gpt2, true).as_deref(),
            Some("value_head.weight")
        );
        let llama = WeightLayout::Llama;
        assert_eq!(
            normalise_name("model.layers.0.self_attn.rotary_emb.inv_freq", llama, false),
            None
        );
        assert_eq!(
            normalise_name("model.norm.weight", llama, false).as_deref(),
            Some("model.norm.weight")
        );
    }

    #[test]
    fn index_errors_are_clear() {
        let dir = std::env::temp_dir().join(format!("tokengym-folder-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        let err = weight_files(&dir).unwrap_err().to_string();
        assert!(err.contains(INDEX_FILE), "{err}");
        let write = |text: &str| fs::write(dir.join(INDEX_FILE), text).unwrap();
        write("{");
        assert!(weight_files(&dir).unwrap_err().to_string().contains("JSON"));
        write(r#"{"weight_map": {"a": "model-1.safetensors"}}"#);
        assert!(
            weight_files(&dir)
                .unwrap_err()
                .to_string()
                .contains("does not exist")
        );
        write(r#"{"weight_map": {"a": "../x.safetensors"}}"#);
        assert!(
            weight_files(&dir)
                .unwrap_err()
                .to_string()
                .contains("plain file")
        );
        write(r#"{"weight_map": {}}"#);
        assert!(
            weight_files(&dir)
                .unwrap_err()
                .to_string()
                .contains("empty")
        );
        fs::write(
            dir.join("model-1.safetensors"),
            b"\x10\x00\x00\x00\x00\x00\x00\x00junk",
        )
        .unwrap();
        write(r#"{"weight_map": {"a": "model-1.safetensors", "b": "model-1.safetensors"}}"#);
        assert_eq!(weight_files(&dir).unwrap().len(), 1);
        let err = MappedWeights::open(&weight_files(&dir).unwrap())
            .unwrap_err()
            .to_string();
        assert!(err.contains("safetensors"), "{err}");
        fs::remove_dir_all(&dir).unwrap();
    }
}
