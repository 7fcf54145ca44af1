//! Checkpoints of policy-gradient agents: one `model.safetensors` file holding the network's
//! parameters, Adam's state and, in the safetensors metadata, everything else needed to resume
//! or evaluate (algorithm, environment id, network shape, normalisation statistics, counters,
//! configuration) plus a checksum of the metadata and the tensor bytes (format 2; format 1
//! files, whose checksum covers the tensors only, still load).
//!
//! One file, written atomically (temporary file + rename), so a crash leaves the previous
//! checkpoint intact, and a truncated or bit-flipped file is detected when loading. The tensors
//! are plain `f32` safetensors readable by PyTorch (`safetensors.torch.load_file`).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use safetensors::tensor::{Dtype, SafeTensors, TensorView};
use serde::{Deserialize, Serialize};

use crate::common::normalization::{ObsNormalizer, RewardNormalizer};
use crate::error::{Error, Result};
use crate::nn::net::{NamedTensor, NetSpec};

/// The file name of a checkpoint inside its folder.
pub const CHECKPOINT_FILE: &str = "model.safetensors";
/// The metadata key that holds [`CheckpointMeta`] as JSON.
const META_KEY: &str = "tokengym";
/// The metadata key of the tensor checksum.
const CHECKSUM_KEY: &str = "tokengym.fnv1a64";
/// Version of the checkpoint layout written: 2, whose checksum covers the metadata (steps,
/// environment, configuration...) as well as the tensors. Version 1 (tensors only) still loads.
pub const FORMAT_VERSION: u32 = 2;
/// The oldest layout that loads.
const OLDEST_READABLE_VERSION: u32 = 1;

/// Everything in a checkpoint besides the tensors.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckpointMeta {
    /// [`FORMAT_VERSION`] of the writer.
    pub format_version: u32,
    /// `"ppo"` or `"reinforce"`.
    pub algo: String,
    /// The registry id the agent was trained on.
    pub env_id: String,
    /// Keyword arguments the environment was made with.
    #[serde(default)]
    pub env_kwargs: tokengym::Kwargs,
    /// The step limit the environment was made with, when it replaced the spec's.
    #[serde(default)]
    pub max_episode_steps: Option<u64>,
    /// The network's shape.
    pub net: NetSpec,
    /// Observation statistics, when observations are normalised.
    pub obs_norm: Option<ObsNormalizer>,
    /// Return statistics, when rewards are normalised.
    pub reward_norm: Option<RewardNormalizer>,
    /// Environment steps trained so far.
    pub steps: u64,
    /// Episodes finished so far.
    pub episodes: u64,
    /// Parameter updates so far.
    pub updates: u64,
    /// The run's seed.
    pub seed: u64,
    /// Total step budget of the run (for learning-rate schedules when resuming).
    pub total_steps: u64,
    /// The algorithm's configuration as JSON (`PpoConfig` or `ReinforceConfig`).
    pub config: serde_json::Value,
}

impl CheckpointMeta {
    /// The metadata of an `algo` agent whose acting part is `actor`, made for `env_id` with
    /// `make`, after `progress`, run from `seed` with `config`. No reward statistics, and a
    /// step budget equal to the steps taken: an algorithm with either sets it over this.
    pub fn for_agent(
        algo: &str,
        env_id: &str,
        make: &tokengym::MakeOptions,
        actor: &crate::common::actor::Actor,
        progress: tokengym::Progress,
        seed: u64,
        config: &impl Serialize,
    ) -> Result<Self> {
        Ok(CheckpointMeta {
            format_version: FORMAT_VERSION,
            algo: algo.to_owned(),
            env_id: env_id.to_owned(),
            env_kwargs: make.kwargs.clone(),
            max_episode_steps: make.max_episode_steps,
            net: actor.net.spec().clone(),
            obs_norm: actor.obs_norm.clone(),
            reward_norm: None,
            steps: progress.steps,
            episodes: progress.episodes,
            updates: progress.updates,
            seed,
            total_steps: progress.steps,
            config: serde_json::to_value(config)
                .map_err(|e| Error::InvalidArgument(format!("config: {e}")))?,
        })
    }

    /// The agent's progress when it was saved.
    pub fn progress(&self) -> tokengym::Progress {
        tokengym::Progress {
            steps: self.steps,
            episodes: self.episodes,
            updates: self.updates,
        }
    }
}

/// For [`Agent::restore`](tokengym::Agent::restore): an error unless the checkpoint at `path`
/// (holding a `name` agent for `saved_env`) was made for this agent's environment `own_env`.
pub fn check_same_env(path: &Path, name: &str, saved_env: &str, own_env: &str) -> Result<()> {
    if saved_env == own_env {
        Ok(())
    } else {
        Err(Error::checkpoint(
            path,
            format!("it holds a {name} agent for {saved_env}, this one is for {own_env}"),
        ))
    }
}

/// The checkpoint file for `path`: `path` itself if it names a file, else `path/model.safetensors`.
pub fn checkpoint_file(path: &Path) -> PathBuf {
    if path.extension().is_some_and(|e| e == "safetensors") {
        path.to_path_buf()
    } else {
        path.join(CHECKPOINT_FILE)
    }
}

fn fnv1a64(chunks: &[&[u8]]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for chunk in chunks {
        for &b in *chunk {
            h ^= b as u64;
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    h
}

/// Writes `tensors` and `meta` to `path` (a folder, or a `.safetensors` file) atomically.
pub fn save(path: &Path, meta: &CheckpointMeta, tensors: &[NamedTensor]) -> Result<()> {
    let file = checkpoint_file(path);
    let mut sorted: Vec<&NamedTensor> = tensors.iter().collect();
    sorted.sort_by(|a, b| a.name.cmp(&b.name));
    let bytes: Vec<Vec<u8>> = sorted
        .iter()
        .map(|t| t.data.iter().flat_map(|x| x.to_le_bytes()).collect())
        .collect();
    let mut views = Vec::with_capacity(sorted.len());
    for (t, b) in sorted.iter().zip(&bytes) {
        let view = TensorView::new(Dtype::F32, t.shape.clone(), b)
            .map_err(|e| Error::checkpoint(&file, format!("tensor {}: {e:?}", t.name)))?;
        views.push((t.name.clone(), view));
    }
    let meta_json = serde_json::to_string(meta).map_err(|e| Error::checkpoint(&file, e))?;
    let mut chunks: Vec<&[u8]> = Vec::with_capacity(bytes.len() + 1);
    if meta.format_version >= 2 {
        chunks.push(meta_json.as_bytes());
    }
    chunks.extend(bytes.iter().map(Vec::as_slice));
    let checksum = format!("{:016x}", fnv1a64(&chunks));
    let info: HashMap<String, String> = HashMap::from([
        (META_KEY.to_owned(), meta_json),
        (CHECKSUM_KEY.to_owned(), checksum),
    ]);
    let buffer = safetensors::tensor::serialize(views, &Some(info))
        .map_err(|e| Error::checkpoint(&file, format!("{e:?}")))?;
    tokengym::atomic_write::write_atomic(&file, &buffer).map_err(|e| Error::checkpoint(&file, e))
}

/// Reads a checkpoint written by [`save`]; a missing, truncated, corrupted or foreign file is a
/// [`Error::Checkpoint`] naming the problem.
pub fn load(path: &Path) -> Result<(CheckpointMeta, Vec<NamedTensor>)> {
    let file = checkpoint_file(path);
    let buffer = std::fs::read(&file).map_err(|e| Error::checkpoint(&file, e))?;
    let (_, header) = SafeTensors::read_metadata(&buffer).map_err(|e| {
        Error::checkpoint(
            &file,
            format!("not a safetensors file, or truncated ({e:?})"),
        )
    })?;
    let info = header.metadata().clone().unwrap_or_default();
    let meta_json = info.get(META_KEY).ok_or_else(|| {
        Error::checkpoint(
            &file,
            "no tokengym metadata: not written by a tokengym agent",
        )
    })?;
    // The version first, so that a layout from another build gets a message about versions
    // rather than about the fields it does not know.
    let version = serde_json::from_str::<serde_json::Value>(meta_json)
        .ok()
        .and_then(|v| v.get("format_version")?.as_u64());
    match version {
        Some(v) if (OLDEST_READABLE_VERSION as u64..=FORMAT_VERSION as u64).contains(&v) => {}
        Some(v) => {
            return Err(Error::checkpoint(
                &file,
                format!(
                    "format version {v} (this build reads {OLDEST_READABLE_VERSION} to \
                     {FORMAT_VERSION}; a newer tokengym wrote it?)"
                ),
            ));
        }
        None => {
            return Err(Error::checkpoint(
                &file,
                "metadata without a format_version",
            ));
        }
    }
    let meta: CheckpointMeta = serde_json::from_str(meta_json)
        .map_err(|e| Error::checkpoint(&file, format!("metadata: {e}")))?;
    let st = SafeTensors::deserialize(&buffer)
        .map_err(|e| Error::checkpoint(&file, format!("corrupted ({e:?})")))?;
    let mut names: Vec<String> = st.names().into_iter().cloned().collect();
    names.sort();
    let mut tensors = Vec::with_capacity(names.len());
    let mut chunks = Vec::with_capacity(names.len() + 1);
    if meta.format_version >= 2 {
        chunks.push(meta_json.as_bytes());
    }
    for name in names {
        let view = st
            .tensor(&name)
            .map_err(|e| Error::checkpoint(&file, format!("tensor {name}: {e:?}")))?;
        if view.dtype() != Dtype::F32 {
            return Err(Error::checkpoint(
                &file,
                format!("tensor {name} has dtype {:?}, expected F32", view.dtype()),
            ));
        }
        let data = view.data();
        chunks.push(data);
        tensors.push(NamedTensor {
            name,
            shape: view.shape().to_vec(),
            data: data
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect(),
        });
    }
    let expected = info.get(CHECKSUM_KEY).map(String::as_str);
    let actual = format!("{:016x}", fnv1a64(&chunks));
    if expected != Some(actual.as_str()) {
        let what = if meta.format_version >= 2 {
            "the metadata or the tensor data was changed or is corrupted"
        } else {
            "the tensor data is corrupted"
        };
        return Err(Error::checkpoint(
            &file,
            format!("checksum mismatch: {what}"),
        ));
    }
    Ok((meta, tensors))
}

/// A checkpoint read for one algorithm: its metadata and tensors, the algorithm's configuration
/// and how the environment was made.
#[derive(Debug)]
pub struct AgentCheckpoint<C> {
    /// Everything besides the tensors.
    pub meta: CheckpointMeta,
    /// Parameters and optimiser state.
    pub tensors: Vec<NamedTensor>,
    /// The algorithm's configuration.
    pub config: C,
    /// Keyword arguments and step limit of the environment.
    pub make: tokengym::MakeOptions,
}

/// Reads the checkpoint at `path` for algorithm `algo` (`"ppo"`, `"reinforce"`); `name` is how
/// errors call the algorithm. Another algorithm's checkpoint or an unreadable configuration is
/// an [`Error::Checkpoint`].
pub fn read_agent<C: serde::de::DeserializeOwned>(
    path: &Path,
    algo: &str,
    name: &str,
) -> Result<AgentCheckpoint<C>> {
    let (meta, tensors) = load(path)?;
    if meta.algo != algo {
        return Err(Error::checkpoint(
            path,
            format!("holds a {} agent, not a {name} agent", meta.algo),
        ));
    }
    let config: C = serde_json::from_value(meta.config.clone())
        .map_err(|e| Error::checkpoint(path, format!("{name} configuration: {e}")))?;
    let make = tokengym::MakeOptions {
        kwargs: meta.env_kwargs.clone(),
        max_episode_steps: meta.max_episode_steps,
        ..tokengym::MakeOptions::default()
    };
    Ok(AgentCheckpoint {
        meta,
        tensors,
        config,
        make,
    })
}

/// Puts a checkpoint's parameters, optimiser state and observation statistics into `actor`
/// (built from the same configuration); a network of another shape is an error.
pub fn restore_actor(
    path: &Path,
    actor: &mut crate::common::actor::Actor,
    meta: &CheckpointMeta,
    tensors: &[NamedTensor],
) -> Result<()> {
    if actor.net.spec() != &meta.net {
        return Err(Error::checkpoint(
            path,
            "the network shape in the checkpoint does not match its configuration",
        ));
    }
    actor.net.load(tensors)?;
    actor.obs_norm = meta.obs_norm.clone();
    Ok(())
}

/// Writes `meta` with `actor`'s parameters and optimiser state to `path`, atomically.
pub fn save_actor(
    path: &Path,
    meta: &CheckpointMeta,
    actor: &crate::common::actor::Actor,
) -> Result<()> {
    let mut tensors = actor.net.parameters()?;
    tensors.extend(actor.net.optimizer_state()?);
    save(path, meta, &tensors)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::architecture::{Activation, Trunk};
    use crate::nn::net::{ActionHead, AdamConfig};

    fn meta() -> CheckpointMeta {
        CheckpointMeta {
            format_version: FORMAT_VERSION,
            algo: "ppo".to_owned(),
            env_id: "CartPole-v1".to_owned(),
            env_kwargs: tokengym::Kwargs::new().with("sutton_barto_reward", true),
            max_episode_steps: Some(200),
            net: NetSpec {
                obs_dim: 4,
                head: ActionHead::Categorical { n: 2 },
                hidden: vec![8],
                activation: Activation::Tanh,
                trunk: Trunk::Separate,
                log_std_init: 0.0,
                adam: AdamConfig::default(),
            },
            obs_norm: Some(ObsNormalizer::new(4, 10.0)),
            reward_norm: None,
            steps: 1000,
            episodes: 12,
            updates: 3,
            seed: 7,
            total_steps: 5000,
            config: serde_json::json!({"n_steps": 32}),
        }
    }

    fn tensors() -> Vec<NamedTensor> {
        vec![
            NamedTensor {
                name: "critic.0.bias".to_owned(),
                shape: vec![2],
                data: vec![1.5, -2.0],
            },
            NamedTensor {
                name: "actor.0.weight".to_owned(),
                shape: vec![2, 3],
                data: vec![0.0, 1.0, 2.0, 3.0, 4.0, f32::MIN_POSITIVE],
            },
        ]
    }

    fn tmp(name: &str) -> PathBuf {
        std::env::temp_dir().join(format!("tokengym-ckpt-{}-{name}", std::process::id()))
    }

    #[test]
    fn round_trip_is_exact() {
        let dir = tmp("rt");
        save(&dir, &meta(), &tensors()).unwrap();
        let (m, t) = load(&dir).unwrap();
        assert_eq!(m, meta());
        let mut want = tensors();
        want.sort_by(|a, b| a.name.cmp(&b.name));
        assert_eq!(t, want);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// The file with the first occurrence of `from` in its bytes replaced by `to` (same length,
    /// so the safetensors header stays well-formed).
    fn edited(bytes: &[u8], from: &str, to: &str) -> Vec<u8> {
        assert_eq!(from.len(), to.len());
        let at = bytes
            .windows(from.len())
            .position(|w| w == from.as_bytes())
            .unwrap_or_else(|| panic!("{from} not in the file"));
        let mut out = bytes.to_vec();
        out[at..at + to.len()].copy_from_slice(to.as_bytes());
        out
    }

    #[test]
    fn edited_metadata_is_rejected_and_version_1_files_still_load() {
        let dir = tmp("meta");
        save(&dir, &meta(), &tensors()).unwrap();
        let file = checkpoint_file(&dir);
        let good = std::fs::read(&file).unwrap();
        for (from, to) in [
            // The metadata is a JSON string inside the header's JSON: its quotes are escaped.
            (r#"\"steps\":1000"#, r#"\"steps\":9000"#),
            (
                r#"\"env_id\":\"CartPole-v1\""#,
                r#"\"env_id\":\"CartPole-v0\""#,
            ),
        ] {
            std::fs::write(&file, edited(&good, from, to)).unwrap();
            let e = load(&dir).unwrap_err().to_string();
            assert!(
                e.contains("checksum mismatch") && e.contains("metadata"),
                "{e}"
            );
        }
        // A version-1 file (checksum over the tensors only) loads as before.
        let old = CheckpointMeta {
            format_version: 1,
            ..meta()
        };
        save(&dir, &old, &tensors()).unwrap();
        assert_eq!(load(&dir).unwrap().0, old);
        // A version from the future is named as such.
        let future = CheckpointMeta {
            format_version: 7,
            ..meta()
        };
        save(&dir, &future, &tensors()).unwrap();
        let e = load(&dir).unwrap_err().to_string();
        assert!(e.contains("format version 7"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn corruption_truncation_and_foreign_files_are_clear_errors() {
        let dir = tmp("bad");
        save(&dir, &meta(), &tensors()).unwrap();
        let file = checkpoint_file(&dir);
        let good = std::fs::read(&file).unwrap();

        let mut flipped = good.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 0x40;
        std::fs::write(&file, &flipped).unwrap();
        assert!(load(&dir).unwrap_err().to_string().contains("checksum"));

        std::fs::write(&file, &good[..good.len() - 3]).unwrap();
        let e = load(&dir).unwrap_err().to_string();
        assert!(e.contains("truncated") || e.contains("corrupted"), "{e}");

        std::fs::write(&file, b"hello").unwrap();
        assert!(
            load(&dir)
                .unwrap_err()
                .to_string()
                .contains("not a safetensors")
        );

        std::fs::remove_file(&file).unwrap();
        let e = load(&dir).unwrap_err().to_string();
        assert!(e.contains("model.safetensors"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
