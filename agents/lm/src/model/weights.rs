//! Loading and saving GPT weights as `model.safetensors` + `config.json` folders.
//!
//! - [`load_hf_gpt2`] reads a local Hugging Face GPT-2 folder (`config.json` in Hugging Face's
//!   format, `model.safetensors` with Hugging Face names; no hub access).
//! - [`save_gpt`] writes our own models: the same tensor names (so learned-position models are
//!   GPT-2 checkpoints as far as the weights go) and our [`DecoderConfig`] as `config.json`, each file
//!   written to a temporary name and renamed into place.
//! - [`load_gpt`] reads either kind of folder (it recognises the config format).
//!
//! Loading is strict: every variable of the model must be in the file with its exact shape, and
//! every tensor in the file must belong to the model, except Hugging Face's attention buffers
//! (`*.attn.bias`, `*.attn.masked_bias`) and a `lm_head.weight` that duplicates tied embeddings.
//! Names without the `transformer.` prefix (checkpoints of a bare `GPT2Model`, like the original
//! `gpt2`) get it added, except our RL heads (`reward_head.*`, `value_head.*`). Tensors are
//! converted to the variables' dtype and device.

use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::path::{Path, PathBuf};

use tch::nn::VarStore;
use tch::{Device, Tensor};

use crate::error::{Error, Result};
use crate::model::config::DecoderConfig;
use crate::model::decoder::Decoder;

/// Name of the weights file in a model folder.
pub const WEIGHTS_FILE: &str = "model.safetensors";
/// Name of the config file in a model folder.
pub const CONFIG_FILE: &str = "config.json";

fn io_err(path: &Path, e: std::io::Error) -> Error {
    Error::Core(tokengym::Error::io(path, e))
}

/// Prefixes of the heads our RL code puts next to the GPT in one variable store (the reward
/// model's scalar head, PPO's value head); their names are kept as they are.
const HEAD_PREFIXES: [&str; 2] = ["reward_head.", "value_head."];

/// Maps a checkpoint tensor name to our variable name; `None` for tensors to skip.
fn normalise_name(name: &str, tied: bool) -> Option<String> {
    if name.ends_with(".attn.bias") || name.ends_with(".attn.masked_bias") {
        return None;
    }
    if name == "lm_head.weight" {
        return (!tied).then(|| name.to_owned());
    }
    if name.starts_with("transformer.") || HEAD_PREFIXES.iter().any(|p| name.starts_with(p)) {
        Some(name.to_owned())
    } else {
        Some(format!("transformer.{name}"))
    }
}

/// Loads the tensors of a safetensors `file` into the variables of `vs` by name (see the module
/// docs for the rules). `tied`: whether the model ties its LM head to the embeddings. Nothing is
/// modified unless every check passes.
pub fn load_weights(vs: &VarStore, file: &Path, tied: bool) -> Result<()> {
    if !file.is_file() {
        return Err(Error::InvalidArgument(format!(
            "weights file {} does not exist",
            file.display()
        )));
    }
    let tensors = Tensor::read_safetensors(file).map_err(|e| {
        Error::InvalidArgument(format!(
            "{} is not a readable safetensors file: {e}",
            file.display()
        ))
    })?;
    let mut by_name: HashMap<String, Tensor> = HashMap::with_capacity(tensors.len());
    for (name, tensor) in tensors {
        if let Some(ours) = normalise_name(&name, tied) {
            by_name.insert(ours, tensor);
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
            file.display(),
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
            file.display(),
            unexpected.len(),
            unexpected.join(", ")
        )));
    }
    for (name, var) in &vars {
        let src = &by_name[name];
        if src.size() != var.size() {
            return Err(Error::Shape(format!(
                "{}: tensor {name} has shape {:?}, the model expects {:?}",
                file.display(),
                src.size(),
                var.size()
            )));
        }
    }
    tch::no_grad(|| -> Result<()> {
        for (name, var) in &vars {
            let src = by_name[name]
                .f_to_kind(var.kind())?
                .f_to_device(var.device())?;
            let mut dst = var.shallow_clone();
            dst.f_copy_(&src)?;
        }
        Ok(())
    })
}

fn read_config_text(dir: &Path) -> Result<String> {
    let path = dir.join(CONFIG_FILE);
    if !path.is_file() {
        return Err(Error::InvalidArgument(format!(
            "model folder {} has no {CONFIG_FILE}",
            dir.display()
        )));
    }
    fs::read_to_string(&path).map_err(|e| io_err(&path, e))
}

fn build_and_load(dir: &Path, cfg: DecoderConfig, device: Device) -> Result<(VarStore, Decoder)> {
    let vs = VarStore::new(device);
    let tied = cfg.tie_embeddings;
    let model = Decoder::new(&vs.root(), cfg)?;
    load_weights(&vs, &dir.join(WEIGHTS_FILE), tied)?;
    Ok((vs, model))
}

/// Loads a local Hugging Face GPT-2 folder (`config.json` in Hugging Face's format and
/// `model.safetensors`) onto `device`.
pub fn load_hf_gpt2(dir: &Path, device: Device) -> Result<(VarStore, Decoder)> {
    let cfg = DecoderConfig::from_hf_gpt2_config(&read_config_text(dir)?)?;
    build_and_load(dir, cfg, device)
}

/// Loads a model folder onto `device`: one written by [`save_gpt`] (our [`DecoderConfig`] as
/// `config.json`) or a Hugging Face GPT-2 folder (recognised by its `n_embd` field).
pub fn load_gpt(dir: &Path, device: Device) -> Result<(VarStore, Decoder)> {
    let text = read_config_text(dir)?;
    let is_hf = serde_json::from_str::<serde_json::Value>(&text)
        .ok()
        .is_some_and(|v| v.get("n_embd").is_some());
    let cfg = if is_hf {
        DecoderConfig::from_hf_gpt2_config(&text)?
    } else {
        serde_json::from_str::<DecoderConfig>(&text).map_err(|e| {
            Error::InvalidArgument(format!(
                "{} is not a valid DecoderConfig: {e}",
                dir.join(CONFIG_FILE).display()
            ))
        })?
    };
    build_and_load(dir, cfg, device)
}

fn temp_path(target: &Path) -> PathBuf {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    target.with_file_name(format!(".{name}.tmp-{}", std::process::id()))
}

fn rename_into_place(tmp: &Path, target: &Path) -> Result<()> {
    fs::rename(tmp, target).map_err(|e| {
        let _ = fs::remove_file(tmp);
        io_err(target, e)
    })
}

/// Saves the variables of `vs` as `dir/model.safetensors` and `cfg` as `dir/config.json`
/// (creating `dir` if needed). Each file is written under a temporary name and renamed into
/// place, so a crash never leaves a half-written file under the final name.
pub fn save_gpt(dir: &Path, vs: &VarStore, cfg: &DecoderConfig) -> Result<()> {
    cfg.validate()?;
    fs::create_dir_all(dir).map_err(|e| io_err(dir, e))?;
    let vars: BTreeMap<String, Tensor> = vs.variables().into_iter().collect();
    let named = vars
        .into_iter()
        .map(|(name, t)| {
            Ok((
                name,
                t.f_detach()?.f_to_device(Device::Cpu)?.f_contiguous()?,
            ))
        })
        .collect::<Result<Vec<_>>>()?;

    let weights = dir.join(WEIGHTS_FILE);
    let tmp = temp_path(&weights);
    if let Err(e) = Tensor::write_safetensors(&named, &tmp) {
        let _ = fs::remove_file(&tmp);
        return Err(e.into());
    }
    rename_into_place(&tmp, &weights)?;

    let config = dir.join(CONFIG_FILE);
    let tmp = temp_path(&config);
    let text = serde_json::to_string_pretty(cfg)
        .map_err(|e| Error::InvalidArgument(format!("cannot serialise the config: {e}")))?;
    fs::write(&tmp, text + "\n").map_err(|e| io_err(&tmp, e))?;
    rename_into_place(&tmp, &config)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::causal_lm::CausalLm;
    use crate::model::config::PositionEncoding;

    fn temp_dir(tag: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("tokengym-weights-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        dir
    }

    fn small(position: PositionEncoding, tied: bool) -> DecoderConfig {
        DecoderConfig {
            context_len: 16,
            d_model: 16,
            n_layers: 2,
            n_heads: 2,
            position,
            tie_embeddings: tied,
            ..DecoderConfig::tiny(30)
        }
    }

    fn saved(tag: &str, cfg: &DecoderConfig) -> (PathBuf, VarStore, Decoder) {
        let dir = temp_dir(tag);
        let vs = VarStore::new(Device::Cpu);
        let model = Decoder::new(&vs.root(), cfg.clone()).unwrap();
        save_gpt(&dir, &vs, cfg).unwrap();
        (dir, vs, model)
    }

    /// Rewrites the weights file of `dir` through `edit`.
    fn edit_weights(dir: &Path, edit: impl FnOnce(&mut Vec<(String, Tensor)>)) {
        let file = dir.join(WEIGHTS_FILE);
        let mut tensors = Tensor::read_safetensors(&file).unwrap();
        edit(&mut tensors);
        Tensor::write_safetensors(&tensors, &file).unwrap();
    }

    #[test]
    fn save_load_round_trip_gives_identical_logits() {
        for (i, (pos, tied)) in [
            (PositionEncoding::Rope, false),
            (PositionEncoding::Learned, true),
        ]
        .into_iter()
        .enumerate()
        {
            let cfg = small(pos, tied);
            let (dir, _vs, model) = saved(&format!("round{i}"), &cfg);
            let names: Vec<String> = fs::read_dir(&dir)
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect();
            assert_eq!(names.len(), 2, "no temporary files left: {names:?}");
            let (_vs2, back) = load_gpt(&dir, Device::Cpu).unwrap();
            assert_eq!(back.config(), &cfg);
            let x = Tensor::from_slice(&[1i64, 5, 29, 0, 7]).reshape([1, 5]);
            let a = model.logits(&x, None).unwrap();
            let b = back.logits(&x, None).unwrap();
            assert!(a.equal(&b));
            fs::remove_dir_all(&dir).unwrap();
        }
    }

    #[test]
    fn missing_and_corrupted_files_are_errors() {
        let cfg = small(PositionEncoding::Rope, true);
        let nowhere = temp_dir("nowhere");
        let err = load_gpt(&nowhere, Device::Cpu).unwrap_err().to_string();
        assert!(err.contains(CONFIG_FILE), "{err}");

        let (dir, _vs, _m) = saved("corrupt", &cfg);
        fs::write(dir.join(WEIGHTS_FILE), b"\x10\x00\x00\x00garbage").unwrap();
        let err = load_gpt(&dir, Device::Cpu).unwrap_err().to_string();
        assert!(err.contains("safetensors"), "{err}");
        fs::remove_file(dir.join(WEIGHTS_FILE)).unwrap();
        let err = load_gpt(&dir, Device::Cpu).unwrap_err().to_string();
        assert!(err.contains("does not exist"), "{err}");
        fs::write(dir.join(CONFIG_FILE), "{\"vocab_size\": 3}").unwrap();
        assert!(load_gpt(&dir, Device::Cpu).is_err());
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn missing_unexpected_and_misshaped_tensors_are_errors() {
        let cfg = small(PositionEncoding::Learned, true);
        let (dir, _vs, _m) = saved("tensors", &cfg);
        edit_weights(&dir, |ts| {
            ts.retain(|(n, _)| n != "transformer.h.1.ln_2.bias")
        });
        let err = load_gpt(&dir, Device::Cpu).unwrap_err().to_string();
        assert!(err.contains("transformer.h.1.ln_2.bias"), "{err}");
        fs::remove_dir_all(&dir).unwrap();

        let (dir, _vs, _m) = saved("tensors2", &cfg);
        edit_weights(&dir, |ts| {
            ts.push((
                "transformer.h.2.ln_1.weight".to_owned(),
                Tensor::ones([16], (tch::Kind::Float, Device::Cpu)),
            ));
            // Hugging Face's attention buffers are skipped, not unexpected.
            ts.push((
                "transformer.h.0.attn.bias".to_owned(),
                Tensor::ones([1, 1, 4, 4], (tch::Kind::Float, Device::Cpu)),
            ));
        });
        let err = load_gpt(&dir, Device::Cpu).unwrap_err().to_string();
        assert!(
            err.contains("transformer.h.2.ln_1.weight") && !err.contains("attn.bias"),
            "{err}"
        );
        fs::remove_dir_all(&dir).unwrap();

        let (dir, _vs, _m) = saved("tensors3", &cfg);
        let wider = DecoderConfig {
            d_ff: Some(32),
            ..cfg.clone()
        };
        fs::write(
            dir.join(CONFIG_FILE),
            serde_json::to_string(&wider).unwrap(),
        )
        .unwrap();
        let err = load_gpt(&dir, Device::Cpu).unwrap_err();
        assert!(matches!(err, Error::Shape(_)), "{err}");
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn names_are_normalised() {
        assert_eq!(
            normalise_name("h.0.ln_1.weight", true).as_deref(),
            Some("transformer.h.0.ln_1.weight")
        );
        assert_eq!(
            normalise_name("transformer.wte.weight", true).as_deref(),
            Some("transformer.wte.weight")
        );
        assert_eq!(normalise_name("transformer.h.1.attn.bias", true), None);
        assert_eq!(normalise_name("h.1.attn.masked_bias", false), None);
        assert_eq!(
            normalise_name("transformer.h.1.attn.c_attn.bias", true).as_deref(),
            Some("transformer.h.1.attn.c_attn.bias")
        );
        assert_eq!(normalise_name("lm_head.weight", true), None);
        assert_eq!(
            normalise_name("lm_head.weight", false).as_deref(),
            Some("lm_head.weight")
        );
    }
}
