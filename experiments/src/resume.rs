//! What `train --resume` checks before it continues a run: that the run folder has a
//! checkpoint, and that the checkpoint was made by the run its `config.toml` describes (same
//! algorithm, environment, keyword arguments, seed and hyperparameters). A resumed run that
//! silently trained something else, or started again from step 0, would be worse than an error.

use std::path::Path;

use anyhow::{Context, Result, bail};
use tokengym_agents::common::{CHECKPOINT_FILE, CheckpointMeta, checkpoint};
use tokengym_agents::ppo::PpoConfig;
use tokengym_agents::reinforce::ReinforceConfig;

use crate::run_config::{Algo, RunConfig};

/// The checkpoint of the run in `ckpt` (its folder), or an error when there is none: a run
/// without a checkpoint cannot be resumed, and starting it again would replace its metrics.
pub fn saved_run(ckpt: &Path) -> Result<CheckpointMeta> {
    let file = ckpt.join(CHECKPOINT_FILE);
    if !file.is_file() {
        bail!(
            "nothing to resume: {} is missing (the run folder is left as it is; train without \
             --resume and with --overwrite to start the run again)",
            file.display()
        );
    }
    let (meta, _) =
        checkpoint::load(ckpt).with_context(|| format!("resuming from {}", ckpt.display()))?;
    Ok(meta)
}

/// An error naming the first difference between the run described by `config` and the run
/// that wrote `meta`.
pub fn check_matches(config: &RunConfig, meta: &CheckpointMeta, ckpt: &Path) -> Result<()> {
    let differ =
        |what: &str, config_value: &dyn std::fmt::Display, saved: &dyn std::fmt::Display| {
            anyhow::anyhow!(
                "config.toml says {what} {config_value}, but the checkpoint {} was trained with \
             {what} {saved}; resume with the run's own config.toml",
                ckpt.display()
            )
        };
    if meta.algo != config.algo.name() {
        return Err(differ("algo", &config.algo, &meta.algo));
    }
    if meta.env_id != config.env {
        return Err(differ("env", &config.env, &meta.env_id));
    }
    if meta.env_kwargs != config.env_kwargs {
        return Err(differ(
            "env_kwargs",
            &format!("{:?}", config.env_kwargs),
            &format!("{:?}", meta.env_kwargs),
        ));
    }
    let seed = config.seed.unwrap_or(0);
    if meta.seed != seed {
        return Err(differ("seed", &seed, &meta.seed));
    }
    // Both sides go through the typed section, so numbers compare as the same f32s.
    let (ours, saved) = match config.algo {
        Algo::Ppo => (
            serde_json::to_value(config.ppo_config()?),
            serde_json::from_value::<PpoConfig>(meta.config.clone()).map(serde_json::to_value),
        ),
        Algo::Reinforce => (
            serde_json::to_value(config.reinforce_config()?),
            serde_json::from_value::<ReinforceConfig>(meta.config.clone())
                .map(serde_json::to_value),
        ),
    };
    let ours = ours.context("serializing the algorithm section")?;
    let saved = saved
        .and_then(|v| v)
        .with_context(|| format!("the configuration in {} is unreadable", ckpt.display()))?;
    if let Some(key) = first_difference(&ours, &saved) {
        bail!(
            "config.toml's [{}] {key} differs from the checkpoint {} (hyperparameters cannot \
             change on resume; resume with the run's own config.toml)",
            config.algo,
            ckpt.display()
        );
    }
    Ok(())
}

/// The dotted path of the first key where two JSON objects differ.
fn first_difference(a: &serde_json::Value, b: &serde_json::Value) -> Option<String> {
    use serde_json::Value::Object;
    match (a, b) {
        (Object(x), Object(y)) => {
            let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect();
            keys.sort();
            keys.dedup();
            keys.into_iter().find_map(|k| match (x.get(k), y.get(k)) {
                (Some(u), Some(v)) => first_difference(u, v).map(|d| {
                    if d.is_empty() {
                        k.clone()
                    } else {
                        format!("{k}.{d}")
                    }
                }),
                _ => Some(k.clone()),
            })
        }
        _ if a == b => None,
        _ => Some(String::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn first_difference_names_the_nested_key() {
        let a = json!({"n_steps": 32, "net": {"hidden": [64], "adam_eps": 1e-5}});
        assert_eq!(first_difference(&a, &a), None);
        let b = json!({"n_steps": 32, "net": {"hidden": [32], "adam_eps": 1e-5}});
        assert_eq!(first_difference(&a, &b).as_deref(), Some("net.hidden"));
        let c = json!({"n_steps": 32});
        assert_eq!(first_difference(&a, &c).as_deref(), Some("net"));
    }

    #[test]
    fn a_missing_checkpoint_is_an_error_naming_it() {
        let dir = std::env::temp_dir().join(format!("tg-resume-{}", std::process::id()));
        let e = saved_run(&dir.join("checkpoint")).unwrap_err().to_string();
        assert!(
            e.contains("nothing to resume") && e.contains("model.safetensors"),
            "{e}"
        );
    }
}
