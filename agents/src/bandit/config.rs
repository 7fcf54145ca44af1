//! [`BanditAgentConfig`]: a bandit agent described as data (for command lines and run records).

use super::{BanditAgent, EpsilonGreedy, GradientBandit, StepSize, Ucb};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use tokengym::{Error, Result};

/// Which bandit agent to build, with its hyperparameters.
///
/// Parses from short command-line specs (see [`FromStr`](#impl-FromStr-for-BanditAgentConfig)):
///
/// ```
/// use tokengym_agents::bandit::{BanditAgentConfig, StepSize};
/// let eps: BanditAgentConfig = "eps:0.1".parse()?;
/// assert_eq!(eps, BanditAgentConfig::EpsilonGreedy {
///     epsilon: 0.1, step_size: StepSize::SampleAverage, initial_value: 0.0 });
/// assert_eq!(eps.label(), "ε-greedy ε=0.1");
/// assert!("ucb:-1".parse::<BanditAgentConfig>().is_err());
/// # Ok::<(), tokengym::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum BanditAgentConfig {
    /// [`EpsilonGreedy`] (greedy when `epsilon` is 0, optimistic when `initial_value` > 0).
    EpsilonGreedy {
        /// Exploration probability in [0, 1].
        epsilon: f64,
        /// How estimates move.
        step_size: StepSize,
        /// Initial estimate of every arm.
        initial_value: f64,
    },
    /// [`Ucb`].
    Ucb {
        /// Exploration weight `c >= 0`.
        c: f64,
        /// How estimates move.
        step_size: StepSize,
    },
    /// [`GradientBandit`].
    Gradient {
        /// Preference step size `α > 0`.
        alpha: f64,
        /// Whether to subtract the average-reward baseline.
        baseline: bool,
    },
}

impl BanditAgentConfig {
    /// Builds the agent for `k` arms with its RNG seeded by `seed`; fails on invalid
    /// hyperparameters.
    pub fn build(&self, k: usize, seed: u64) -> Result<Box<dyn BanditAgent + Send>> {
        Ok(match *self {
            BanditAgentConfig::EpsilonGreedy {
                epsilon,
                step_size,
                initial_value,
            } => Box::new(EpsilonGreedy::new(
                k,
                epsilon,
                step_size,
                initial_value,
                seed,
            )?),
            BanditAgentConfig::Ucb { c, step_size } => Box::new(Ucb::new(k, c, step_size, seed)?),
            BanditAgentConfig::Gradient { alpha, baseline } => {
                Box::new(GradientBandit::new(k, alpha, baseline, seed)?)
            }
        })
    }

    /// A short human-readable name for legends and tables.
    pub fn label(&self) -> String {
        let step = |s: StepSize| match s {
            StepSize::SampleAverage => String::new(),
            StepSize::Constant(a) => format!(", α={a}"),
        };
        match *self {
            BanditAgentConfig::EpsilonGreedy {
                epsilon,
                step_size,
                initial_value,
            } => {
                let base = if initial_value != 0.0 {
                    format!("optimistic Q₁={initial_value}, ε={epsilon}")
                } else if epsilon == 0.0 {
                    "greedy ε=0".to_string()
                } else {
                    format!("ε-greedy ε={epsilon}")
                };
                base + &step(step_size)
            }
            BanditAgentConfig::Ucb { c, step_size } => format!("UCB c={c}{}", step(step_size)),
            BanditAgentConfig::Gradient { alpha, baseline } => format!(
                "gradient α={alpha}{}",
                if baseline { "" } else { ", no baseline" }
            ),
        }
    }
}

impl fmt::Display for BanditAgentConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.label())
    }
}

/// Parses `kind[:p1[:p2]]`:
///
/// | spec | agent |
/// |---|---|
/// | `greedy` | ε-greedy with ε = 0, sample averages |
/// | `eps:E` | ε-greedy, sample averages |
/// | `eps-const:E:A` | ε-greedy with constant step size `A` |
/// | `optimistic:Q1[:E]` | ε-greedy (ε = `E`, default 0) from `Q1`, constant α = 0.1 (the book's Figure 2.3) |
/// | `ucb:C` | UCB, sample averages |
/// | `gradient:A` | gradient bandit with baseline |
/// | `gradient-nobaseline:A` | gradient bandit without baseline |
impl FromStr for BanditAgentConfig {
    type Err = Error;

    fn from_str(spec: &str) -> Result<Self> {
        let mut parts = spec.trim().split(':');
        let kind = parts.next().unwrap_or_default();
        let params: Vec<&str> = parts.collect();
        let bad = |why: &str| {
            Error::invalid_argument(format!(
                "bandit agent {spec:?}: {why} (expected greedy, eps:E, eps-const:E:A, \
                 optimistic:Q1[:E], ucb:C, gradient:A or gradient-nobaseline:A)"
            ))
        };
        let num = |i: usize| -> Result<f64> {
            let text = params.get(i).ok_or_else(|| bad("missing parameter"))?;
            text.parse::<f64>()
                .map_err(|_| bad(&format!("{text:?} is not a number")))
        };
        let arity = |n: std::ops::RangeInclusive<usize>| {
            if n.contains(&params.len()) {
                Ok(())
            } else {
                Err(bad("wrong number of parameters"))
            }
        };
        let config = match kind {
            "greedy" => {
                arity(0..=0)?;
                BanditAgentConfig::EpsilonGreedy {
                    epsilon: 0.0,
                    step_size: StepSize::SampleAverage,
                    initial_value: 0.0,
                }
            }
            "eps" => {
                arity(1..=1)?;
                BanditAgentConfig::EpsilonGreedy {
                    epsilon: num(0)?,
                    step_size: StepSize::SampleAverage,
                    initial_value: 0.0,
                }
            }
            "eps-const" => {
                arity(2..=2)?;
                BanditAgentConfig::EpsilonGreedy {
                    epsilon: num(0)?,
                    step_size: StepSize::Constant(num(1)?),
                    initial_value: 0.0,
                }
            }
            "optimistic" => {
                arity(1..=2)?;
                BanditAgentConfig::EpsilonGreedy {
                    epsilon: if params.len() == 2 { num(1)? } else { 0.0 },
                    step_size: StepSize::Constant(0.1),
                    initial_value: num(0)?,
                }
            }
            "ucb" => {
                arity(1..=1)?;
                BanditAgentConfig::Ucb {
                    c: num(0)?,
                    step_size: StepSize::SampleAverage,
                }
            }
            "gradient" | "gradient-nobaseline" => {
                arity(1..=1)?;
                BanditAgentConfig::Gradient {
                    alpha: num(0)?,
                    baseline: kind == "gradient",
                }
            }
            _ => return Err(bad("unknown kind")),
        };
        // Validate the hyperparameters now rather than when the first run starts.
        config.build(1, 0)?;
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_kind_and_round_trips_through_json() {
        for spec in [
            "greedy",
            "eps:0.01",
            "eps-const:0.1:0.1",
            "optimistic:5",
            "optimistic:5:0.1",
            "ucb:2",
            "gradient:0.1",
            "gradient-nobaseline:0.4",
        ] {
            let config: BanditAgentConfig = spec.parse().unwrap();
            let json = serde_json::to_string(&config).unwrap();
            let back: BanditAgentConfig = serde_json::from_str(&json).unwrap();
            assert_eq!(back, config, "{spec} -> {json}");
            assert!(!config.label().is_empty());
            let agent = config.build(10, 0).unwrap();
            assert_eq!(agent.k(), 10);
        }
        assert_eq!(
            "optimistic:5".parse::<BanditAgentConfig>().unwrap().label(),
            "optimistic Q₁=5, ε=0, α=0.1"
        );
    }

    #[test]
    fn rejects_bad_specs() {
        for spec in [
            "",
            "nope",
            "eps",
            "eps:x",
            "eps:2",
            "eps:0.1:3",
            "ucb:-2",
            "gradient:0",
            "greedy:1",
        ] {
            assert!(spec.parse::<BanditAgentConfig>().is_err(), "{spec:?}");
        }
    }
}
