//! Loading and saving decoders as model folders (`config.json` + safetensors weights).
//!
//! - [`load_decoder`] reads either kind of folder: one written by [`save_decoder`] (our
//!   [`DecoderConfig`] as `config.json`) or a Hugging Face folder of a supported family
//!   (`config.json` with a `model_type`, see [`crate::models`]; weights in `model.safetensors`
//!   or sharded with `model.safetensors.index.json`; no hub access). The weights keep their
//!   stored dtype unless a dtype is given; variables are created directly in that dtype.
//! - [`save_decoder`] writes our own format: the family's tensor names and our
//!   [`DecoderConfig`] as `config.json`, each file written to a temporary name and renamed into
//!   place.
//!
//! The name and shape checks are those of [`crate::model::folder`].

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use tch::nn::VarStore;
use tch::{Device, Kind, Tensor};

use crate::error::{Error, Result};
use crate::model::config::DecoderConfig;
use crate::model::decoder::Decoder;
pub use crate::model::folder::WEIGHTS_FILE;
use crate::model::folder::{MappedWeights, is_rl_head, weight_files};
use crate::models::{config_from_hf, is_hf_config};

/// Name of the config file in a model folder.
pub const CONFIG_FILE: &str = "config.json";

fn io_err(path: &Path, e: std::io::Error) -> Error {
    Error::Core(tokengym::Error::io(path, e))
}

/// Loads the weights of the model folder `dir` into the variables of `vs` (built for `cfg`).
pub fn load_weights(vs: &VarStore, dir: &Path, cfg: &DecoderConfig) -> Result<()> {
    let weights = MappedWeights::open(&weight_files(dir)?)?;
    weights.load_into(vs, cfg.family.layout(), cfg.tie_embeddings)
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

/// The decoder config of a model folder, in either format.
pub fn read_decoder_config(dir: &Path) -> Result<DecoderConfig> {
    let text = read_config_text(dir)?;
    if is_hf_config(&text) {
        return config_from_hf(&text).map_err(|e| {
            Error::InvalidArgument(format!("{}: {e}", dir.join(CONFIG_FILE).display()))
        });
    }
    let cfg = serde_json::from_str::<DecoderConfig>(&text).map_err(|e| {
        Error::InvalidArgument(format!(
            "{} is not a valid DecoderConfig: {e}",
            dir.join(CONFIG_FILE).display()
        ))
    })?;
    Ok(cfg)
}

/// The floating-point kinds a model can be loaded in.
pub const LOAD_KINDS: [Kind; 3] = [Kind::Float, Kind::Half, Kind::BFloat16];

/// Loads a model folder onto `device`: ours ([`save_decoder`]) or a Hugging Face one of a
/// supported family. `dtype`: the parameters' kind (f32, f16 or bf16); `None` keeps the dtype
/// the weights are stored in.
///
/// ```no_run
/// use tch::{Device, Kind};
/// use tokengym_lm::model::load_decoder;
///
/// let (_vs, model) = load_decoder("Qwen2.5-0.5B-Instruct".as_ref(), Device::Cpu, Some(Kind::BFloat16))?;
/// assert_eq!(model.config().family, tokengym_lm::model::ModelFamily::Qwen2);
/// # Ok::<(), tokengym_lm::error::Error>(())
/// ```
pub fn load_decoder(
    dir: &Path,
    device: Device,
    dtype: Option<Kind>,
) -> Result<(VarStore, Decoder)> {
    let cfg = read_decoder_config(dir)?;
    let weights = MappedWeights::open(&weight_files(dir)?)?;
    let kind = match dtype {
        Some(k) => k,
        None => weights.stored_kind()?,
    };
    if !LOAD_KINDS.contains(&kind) {
        return Err(Error::InvalidArgument(format!(
            "models load in f32, f16 or bf16, not {kind:?}"
        )));
    }
    let mut vs = VarStore::new(device);
    vs.set_kind(kind);
    let layout = cfg.family.layout();
    let tied = cfg.tie_embeddings;
    let model = Decoder::new_for_loading(&vs.root(), cfg)?;
    weights.load_into(&vs, layout, tied)?;
    Ok((vs, model))
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
pub fn save_decoder(dir: &Path, vs: &VarStore, cfg: &DecoderConfig) -> Result<()> {
    save_variables(dir, vs, cfg, |_| true)
}

/// [`save_decoder`] for the language model alone: the variables of our RL heads
/// (`value_head.*`, `reward_head.*`) in the same store are left out, without copying the model.
pub fn save_language_model(dir: &Path, vs: &VarStore, cfg: &DecoderConfig) -> Result<()> {
    save_variables(dir, vs, cfg, |name| !is_rl_head(name))
}

fn save_variables(
    dir: &Path,
    vs: &VarStore,
    cfg: &DecoderConfig,
    keep: impl Fn(&str) -> bool,
) -> Result<()> {
    cfg.validate()?;
    fs::create_dir_all(dir).map_err(|e| io_err(dir, e))?;
    let vars: BTreeMap<String, Tensor> = vs.variables().into_iter().collect();
    let named = vars
        .into_iter()
        .filter(|(name, _)| keep(name))
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
        save_decoder(&dir, &vs, cfg).unwrap();
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
            let (_vs2, back) = load_decoder(&dir, Device::Cpu, None).unwrap();
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
        let err = load_decoder(&nowhere, Device::Cpu, None)
            .unwrap_err()
            .to_string();
        assert!(err.contains(CONFIG_FILE), "{err}");

        let (dir, _vs, _m) = saved("corrupt", &cfg);
        fs::write(dir.join(WEIGHTS_FILE), b"\x10\x00\x00\x00garbage").unwrap();
        let err = load_decoder(&dir, Device::Cpu, None)
            .unwrap_err()
            .to_string();
        assert!(err.contains("safetensors"), "{err}");
        fs::remove_file(dir.join(WEIGHTS_FILE)).unwrap();
        let err = load_decoder(&dir, Device::Cpu, None)
            .unwrap_err()
            .to_string();
        assert!(err.contains(WEIGHTS_FILE), "{err}");
        fs::write(dir.join(CONFIG_FILE), "{\"vocab_size\": 3}").unwrap();
        assert!(load_decoder(&dir, Device::Cpu, None).is_err());
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn missing_unexpected_and_misshaped_tensors_are_errors() {
        let cfg = small(PositionEncoding::Learned, true);
        let (dir, _vs, _m) = saved("tensors", &cfg);
        edit_weights(&dir, |ts| {
            ts.retain(|(n, _)| n != "transformer.h.1.ln_2.bias")
        });
        let err = load_decoder(&dir, Device::Cpu, None)
            .unwrap_err()
            .to_string();
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
        let err = load_decoder(&dir, Device::Cpu, None)
            .unwrap_err()
            .to_string();
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
        let err = load_decoder(&dir, Device::Cpu, None).unwrap_err();
        assert!(matches!(err, Error::Shape(_)), "{err}");
        fs::remove_dir_all(&dir).unwrap();
    }
}
