//! [`RunConfig`]: the settings of one training run, as a TOML file. The same format serves the
//! presets compiled into the binaries (`experiments/configs/<algo>/<env>.toml`) and the
//! `config.toml` that a run writes into its run directory (with every hyperparameter spelled out,
//! so the file alone reproduces the run).
//!
//! ```toml
//! env = "CartPole-v1"
//! algo = "ppo"            # or "reinforce"
//! total_steps = 100000    # budget in environment steps
//! # total_episodes = 1000 # or a budget in episodes (exactly one of the two)
//! seed = 0                # optional; the command line's --seed wins
//! eval_episodes = 20      # deterministic evaluation episodes at the end
//! eval_every = 10000      # optional: env steps between periodic evaluations
//! [env_kwargs]            # optional keyword arguments for the registry
//! [ppo]                   # PpoConfig (only with algo = "ppo"); omitted keys take defaults
//! [ppo.net]
//! ```
//!
//! ```
//! use tokengym_experiments::run_config::{Algo, RunConfig};
//! let cfg = RunConfig::preset(Algo::Ppo, "CartPole-v1")?;
//! assert_eq!(cfg.total_steps, Some(100_000));
//! let again = RunConfig::from_toml_str(&cfg.to_toml_string()?)?;
//! assert_eq!(again, cfg);
//! # Ok::<(), anyhow::Error>(())
//! ```

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::Path;
use std::str::FromStr;
use tokengym::registry::Kwargs;
use tokengym_agents::ppo::PpoConfig;
use tokengym_agents::reinforce::ReinforceConfig;

/// Periodic evaluations run this many deterministic episodes each.
pub const PERIODIC_EVAL_EPISODES: usize = 5;

/// The training algorithm of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Algo {
    /// Proximal Policy Optimization (`[ppo]` section).
    Ppo,
    /// REINFORCE, the Monte-Carlo policy gradient (`[reinforce]` section).
    Reinforce,
}

impl Algo {
    /// Every algorithm, in a fixed order.
    pub const ALL: [Algo; 2] = [Algo::Ppo, Algo::Reinforce];

    /// The name used in config files, preset paths and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Algo::Ppo => "ppo",
            Algo::Reinforce => "reinforce",
        }
    }
}

impl fmt::Display for Algo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Algo {
    type Err = anyhow::Error;

    fn from_str(s: &str) -> Result<Self> {
        let wanted = s.trim().to_ascii_lowercase();
        Algo::ALL
            .into_iter()
            .find(|a| a.name() == wanted)
            .with_context(|| format!("unknown algorithm {s:?}: expected ppo or reinforce"))
    }
}

/// The presets compiled into the binary: `(algo, env id, TOML text)`.
const PRESETS: &[(Algo, &str, &str)] = &[
    (
        Algo::Ppo,
        "CartPole-v1",
        include_str!("../configs/ppo/CartPole-v1.toml"),
    ),
    (
        Algo::Ppo,
        "Acrobot-v1",
        include_str!("../configs/ppo/Acrobot-v1.toml"),
    ),
    (
        Algo::Ppo,
        "MountainCar-v0",
        include_str!("../configs/ppo/MountainCar-v0.toml"),
    ),
    (
        Algo::Ppo,
        "MountainCarContinuous-v0",
        include_str!("../configs/ppo/MountainCarContinuous-v0.toml"),
    ),
    (
        Algo::Ppo,
        "Pendulum-v1",
        include_str!("../configs/ppo/Pendulum-v1.toml"),
    ),
    (
        Algo::Reinforce,
        "CartPole-v1",
        include_str!("../configs/reinforce/CartPole-v1.toml"),
    ),
];

/// The training budget of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Budget {
    /// Environment steps (summed over parallel environments).
    Steps(u64),
    /// Completed training episodes.
    Episodes(u64),
}

fn default_eval_episodes() -> usize {
    20
}

/// The settings of one training run (see the module documentation for the file format).
///
/// A loaded config is normalised: the section of its algorithm is always present (filled with
/// the defaults when the file leaves it out), so [`RunConfig::ppo`] is `Some` for PPO runs and
/// [`RunConfig::reinforce`] for REINFORCE runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunConfig {
    /// Registry id of the environment, e.g. `"CartPole-v1"`.
    pub env: String,
    /// The training algorithm.
    pub algo: Algo,
    /// Budget in environment steps (summed over parallel environments).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_steps: Option<u64>,
    /// Budget in completed training episodes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_episodes: Option<u64>,
    /// Seed of the run (the command line's `--seed` overrides it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// Deterministic evaluation episodes at the end of training.
    #[serde(default = "default_eval_episodes")]
    pub eval_episodes: usize,
    /// Environment steps between periodic deterministic evaluations of
    /// [`PERIODIC_EVAL_EPISODES`] episodes each (`None`: only the final evaluation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eval_every: Option<u64>,
    /// Keyword arguments for the environment's constructor in the registry.
    #[serde(default, skip_serializing_if = "Kwargs::is_empty")]
    pub env_kwargs: Kwargs,
    /// PPO hyperparameters (only with `algo = "ppo"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ppo: Option<PpoConfig>,
    /// REINFORCE hyperparameters (only with `algo = "reinforce"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reinforce: Option<ReinforceConfig>,
}

impl RunConfig {
    /// A config for `algo` on `env` with the algorithm's default hyperparameters and a budget
    /// of `total_steps` environment steps.
    pub fn new(algo: Algo, env: impl Into<String>, total_steps: u64) -> Self {
        let mut cfg = RunConfig {
            env: env.into(),
            algo,
            total_steps: Some(total_steps),
            total_episodes: None,
            seed: None,
            eval_episodes: default_eval_episodes(),
            eval_every: None,
            env_kwargs: Kwargs::new(),
            ppo: None,
            reinforce: None,
        };
        cfg.fill_algo_section();
        cfg
    }

    /// Parses and validates TOML text (the error names the line and the offending key).
    pub fn from_toml_str(text: &str) -> Result<Self> {
        let mut cfg: RunConfig = toml::from_str(text).map_err(|e| toml_error(text, &e))?;
        cfg.validate()?;
        cfg.fill_algo_section();
        Ok(cfg)
    }

    /// Reads, parses and validates the config file at `path`.
    pub fn from_file(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading config {}", path.display()))?;
        Self::from_toml_str(&text).with_context(|| format!("in config {}", path.display()))
    }

    /// The preset for `algo` on `env` compiled into the binary; the error lists the presets.
    pub fn preset(algo: Algo, env: &str) -> Result<Self> {
        let Some((_, _, text)) = PRESETS.iter().find(|(a, e, _)| *a == algo && *e == env) else {
            bail!(
                "no preset for {algo} on {env}; available presets: {}. Pass a config file \
                 with --config instead",
                Self::preset_names().join(", ")
            );
        };
        let cfg = Self::from_toml_str(text)
            .with_context(|| format!("in the built-in preset {algo}/{env}"))?;
        if cfg.algo != algo || cfg.env != env {
            bail!(
                "the built-in preset {algo}/{env} describes {}/{}",
                cfg.algo,
                cfg.env
            );
        }
        Ok(cfg)
    }

    /// The names of the built-in presets, `"<algo>/<env>"`.
    pub fn preset_names() -> Vec<String> {
        PRESETS.iter().map(|(a, e, _)| format!("{a}/{e}")).collect()
    }

    /// The config as TOML text, every hyperparameter of the algorithm included.
    pub fn to_toml_string(&self) -> Result<String> {
        toml::to_string(self).context("serializing the run config to TOML")
    }

    /// Writes [`RunConfig::to_toml_string`] to `path` atomically.
    pub fn write(&self, path: &Path) -> Result<()> {
        let text = self.to_toml_string()?;
        crate::run_dir::write_atomic(path, text.as_bytes())
            .with_context(|| format!("writing {}", path.display()))
    }

    /// The budget: [`Budget::Steps`] when `total_steps` is set, else [`Budget::Episodes`]
    /// (a validated config has exactly one of the two; an unvalidated one with neither gets
    /// `Steps(0)`).
    pub fn budget(&self) -> Budget {
        match (self.total_steps, self.total_episodes) {
            (Some(n), _) => Budget::Steps(n),
            (None, Some(n)) => Budget::Episodes(n),
            (None, None) => Budget::Steps(0),
        }
    }

    /// The PPO settings of a PPO run (an error for other algorithms).
    pub fn ppo_config(&self) -> Result<&PpoConfig> {
        match (self.algo, &self.ppo) {
            (Algo::Ppo, Some(c)) => Ok(c),
            _ => bail!("the run config is for {}, not ppo", self.algo),
        }
    }

    /// The REINFORCE settings of a REINFORCE run (an error for other algorithms).
    pub fn reinforce_config(&self) -> Result<&ReinforceConfig> {
        match (self.algo, &self.reinforce) {
            (Algo::Reinforce, Some(c)) => Ok(c),
            _ => bail!("the run config is for {}, not reinforce", self.algo),
        }
    }

    /// Checks the budget, the evaluation settings and the algorithm section (which must match
    /// `algo`), and the hyperparameters' own ranges.
    pub fn validate(&self) -> Result<()> {
        if self.env.trim().is_empty() {
            bail!("env must name an environment, e.g. env = \"CartPole-v1\"");
        }
        match (self.total_steps, self.total_episodes) {
            (None, None) => bail!("give a budget: total_steps or total_episodes"),
            (Some(_), Some(_)) => {
                bail!("give one budget, total_steps or total_episodes, not both")
            }
            (Some(0), _) | (_, Some(0)) => bail!("the budget must be positive"),
            _ => {}
        }
        if self.eval_episodes == 0 {
            bail!("eval_episodes must be at least 1");
        }
        if self.eval_every == Some(0) {
            bail!("eval_every must be positive (leave it out to evaluate only at the end)");
        }
        match self.algo {
            Algo::Ppo => {
                if self.reinforce.is_some() {
                    bail!("algo = \"ppo\" but the file has a [reinforce] section");
                }
                if let Some(c) = &self.ppo {
                    c.validate().map_err(|e| anyhow::anyhow!("[ppo]: {e}"))?;
                }
            }
            Algo::Reinforce => {
                if self.ppo.is_some() {
                    bail!("algo = \"reinforce\" but the file has a [ppo] section");
                }
                if let Some(c) = &self.reinforce {
                    c.validate()
                        .map_err(|e| anyhow::anyhow!("[reinforce]: {e}"))?;
                }
            }
        }
        Ok(())
    }

    /// Puts the defaults in place of a missing section of the run's algorithm.
    fn fill_algo_section(&mut self) {
        match self.algo {
            Algo::Ppo => {
                self.ppo.get_or_insert_with(PpoConfig::default);
            }
            Algo::Reinforce => {
                self.reinforce.get_or_insert_with(ReinforceConfig::default);
            }
        }
    }
}

/// A TOML error as one line: `line L, column C: message` (toml's own rendering spans several
/// lines with a source snippet; binaries print errors on one line).
fn toml_error(text: &str, e: &toml::de::Error) -> anyhow::Error {
    let message = e.message().trim().replace('\n', " ");
    match e.span() {
        Some(span) => {
            let before = &text[..span.start.min(text.len())];
            let line = before.matches('\n').count() + 1;
            let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
            anyhow::anyhow!("line {line}, column {column}: {message}")
        }
        None => anyhow::anyhow!("{message}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokengym::registry::MakeOptions;
    use tokengym_agents::common::Schedule;
    use tokengym_agents::reinforce::Baseline;

    fn err(text: &str) -> String {
        format!("{:#}", RunConfig::from_toml_str(text).unwrap_err())
    }

    #[test]
    fn every_preset_parses_validates_and_round_trips() {
        for (algo, env, _) in PRESETS {
            let cfg = RunConfig::preset(*algo, env).unwrap();
            assert_eq!((cfg.algo, cfg.env.as_str()), (*algo, *env));
            let text = cfg.to_toml_string().unwrap();
            assert_eq!(
                RunConfig::from_toml_str(&text).unwrap(),
                cfg,
                "{algo}/{env}"
            );
            // Each preset builds its environment with the given keyword arguments.
            let options = MakeOptions::new().kwargs(cfg.env_kwargs.clone());
            let made = tokengym_envs::make_with(env, &options).map(|_| ());
            assert!(made.is_ok(), "{algo}/{env}: {made:?}");
        }
    }

    #[test]
    fn cartpole_ppo_preset_has_the_zoo_values() {
        let cfg = RunConfig::preset(Algo::Ppo, "CartPole-v1").unwrap();
        let p = cfg.ppo_config().unwrap();
        assert_eq!(
            (p.num_envs, p.n_steps, p.batch_size, p.n_epochs),
            (8, 32, 256, 20)
        );
        assert_eq!((p.gamma, p.gae_lambda, p.ent_coef), (0.98, 0.8, 0.0));
        assert_eq!((p.learning_rate, p.lr_schedule), (1e-3, Schedule::Linear));
        assert_eq!((p.clip_range, p.clip_schedule), (0.2, Schedule::Linear));
        assert_eq!(cfg.total_steps, Some(100_000));
        assert!(cfg.reinforce_config().is_err());
        let r = RunConfig::preset(Algo::Reinforce, "CartPole-v1").unwrap();
        assert_eq!(r.total_episodes, Some(1000));
        assert_eq!(r.budget(), Budget::Episodes(1000));
        assert_eq!(cfg.budget(), Budget::Steps(100_000));
        assert_eq!(r.reinforce_config().unwrap().baseline, Baseline::Value);
    }

    #[test]
    fn missing_preset_lists_the_available_ones() {
        let e = format!(
            "{:#}",
            RunConfig::preset(Algo::Reinforce, "Pendulum-v1").unwrap_err()
        );
        assert!(e.contains("no preset for reinforce on Pendulum-v1"), "{e}");
        assert!(e.contains("ppo/CartPole-v1") && e.contains("reinforce/CartPole-v1"));
    }

    #[test]
    fn minimal_file_gets_defaults_and_round_trips() {
        let cfg = RunConfig::from_toml_str(
            "env = \"CartPole-v1\"\nalgo = \"ppo\"\ntotal_steps = 5000\n\
             [env_kwargs]\nsutton_barto_reward = true\n[ppo.net]\nhidden = [32]\n",
        )
        .unwrap();
        assert_eq!(cfg.eval_episodes, 20);
        assert_eq!(cfg.seed, None);
        let p = cfg.ppo_config().unwrap();
        assert_eq!(p.net.hidden, vec![32]);
        assert_eq!(p.n_steps, PpoConfig::default().n_steps);
        assert!(
            cfg.env_kwargs
                .get_bool("sutton_barto_reward", false)
                .unwrap()
        );
        let text = cfg.to_toml_string().unwrap();
        assert!(
            text.contains("[ppo.net]") && text.contains("n_epochs = 10"),
            "{text}"
        );
        assert_eq!(RunConfig::from_toml_str(&text).unwrap(), cfg);
        // A REINFORCE file without its section gets the defaults too.
        let r = RunConfig::from_toml_str(
            "env = \"CartPole-v1\"\nalgo = \"reinforce\"\ntotal_episodes = 10\nseed = 3\n",
        )
        .unwrap();
        assert_eq!(r.reinforce_config().unwrap(), &ReinforceConfig::default());
        assert_eq!(r.seed, Some(3));
        assert_eq!(
            r,
            RunConfig::from_toml_str(&r.to_toml_string().unwrap()).unwrap()
        );
        assert_eq!(
            RunConfig::new(Algo::Ppo, "Pendulum-v1", 10).ppo,
            Some(PpoConfig::default())
        );
    }

    #[test]
    fn file_round_trip_and_missing_file() {
        let dir = std::env::temp_dir().join(format!("tg-run-config-{}", std::process::id()));
        let path = dir.join("config.toml");
        let cfg = RunConfig::preset(Algo::Ppo, "Pendulum-v1").unwrap();
        cfg.write(&path).unwrap();
        assert_eq!(RunConfig::from_file(&path).unwrap(), cfg);
        let e = format!(
            "{:#}",
            RunConfig::from_file(&dir.join("nope.toml")).unwrap_err()
        );
        assert!(e.contains("nope.toml"), "{e}");
        std::fs::write(&path, "env = \"CartPole-v1\"\nalgo = \"ppo\"\n").unwrap();
        let e = format!("{:#}", RunConfig::from_file(&path).unwrap_err());
        assert!(e.contains("config.toml") && e.contains("budget"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn invalid_files_have_clear_messages() {
        let head = "env = \"CartPole-v1\"\nalgo = \"ppo\"\n";
        // Unknown keys, at the top level and inside a section, are named.
        let e = err(&format!("{head}total_steps = 10\ntotal_step = 10\n"));
        assert!(e.contains("total_step"), "{e}");
        let e = err(&format!("{head}total_steps = 10\n[ppo]\nn_step = 32\n"));
        assert!(e.contains("n_step"), "{e}");
        let e = err(&format!("{head}total_steps = 10\n[ppo.net]\nhiden = [3]\n"));
        assert!(e.contains("hiden"), "{e}");
        // Budgets.
        assert!(err(head).contains("give a budget"));
        let both = err(&format!("{head}total_steps = 10\ntotal_episodes = 10\n"));
        assert!(both.contains("not both"), "{both}");
        assert!(err(&format!("{head}total_steps = 0\n")).contains("positive"));
        // Algorithm and section must agree.
        let e = err(&format!(
            "{head}total_steps = 10\n[reinforce]\ngamma = 0.9\n"
        ));
        assert!(e.contains("[reinforce] section"), "{e}");
        let e = err(
            "env = \"CartPole-v1\"\nalgo = \"reinforce\"\ntotal_episodes = 5\n[ppo]\nn_steps = 4\n",
        );
        assert!(e.contains("[ppo] section"), "{e}");
        let e = err("env = \"CartPole-v1\"\nalgo = \"a2c\"\ntotal_steps = 5\n");
        assert!(e.contains("a2c"), "{e}");
        // The sections' own checks run.
        let e = err(&format!(
            "{head}total_steps = 10\n[ppo]\nbatch_size = 100000\n"
        ));
        assert!(e.contains("[ppo]") && e.contains("batch_size"), "{e}");
        let e = err(&format!("{head}total_steps = 10\neval_every = 0\n"));
        assert!(e.contains("eval_every"), "{e}");
        assert!(
            err(&format!("{head}total_steps = 10\neval_episodes = 0\n")).contains("eval_episodes")
        );
        assert!(err("algo = \"ppo\"\ntotal_steps = 5\n").contains("env"));
        assert!(err("env = \"x\"\nalgo = \"ppo\"\ntotal_steps = [").contains("line"));
    }

    #[test]
    fn algo_names_parse() {
        assert_eq!("PPO".parse::<Algo>().unwrap(), Algo::Ppo);
        assert_eq!(" reinforce".parse::<Algo>().unwrap(), Algo::Reinforce);
        assert!("dqn".parse::<Algo>().is_err());
        assert_eq!(Algo::Reinforce.to_string(), "reinforce");
    }
}
