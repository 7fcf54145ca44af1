//! The k-armed testbed: many independent bandit problems, learning curves averaged over them
//! (Sutton & Barto §2.3, Figure 2.2).
//!
//! Run `r` resets a [`KArmedBandit`] with seed `seed + r`, so every agent faces the same true
//! values in the same run; each agent's RNG gets its own seed derived from `(seed, r, agent)`.
//! Runs are grouped in fixed blocks of [`BLOCK_RUNS`]; worker threads take whole blocks and the
//! per-block sums are added in block order, so the curves are bit-identical for any number of
//! threads.
//!
//! ```
//! use tokengym_agents::bandit::testbed::{TestbedConfig, run_testbed};
//! let agents = ["greedy".parse()?, "eps:0.1".parse()?];
//! let config = TestbedConfig { runs: 20, steps: 50, ..TestbedConfig::default() };
//! let result = run_testbed(&config, &agents)?;
//! assert_eq!(result.agents.len(), 2);
//! assert_eq!(result.agents[1].mean_reward.len(), 50);
//! # Ok::<(), tokengym::Error>(())
//! ```

use super::{BanditAgent, BanditAgentConfig, filled, reserved};
use serde::{Deserialize, Serialize};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokengym::seeding::sub_seed;
use tokengym::{Env, Error, Result};
use tokengym_envs::toy::bandit::{BanditConfig, KArmedBandit};

/// Runs per block of work (the unit of thread scheduling and of summation order).
pub const BLOCK_RUNS: usize = 25;

/// How to run the testbed.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TestbedConfig {
    /// Independent bandit problems (default 2000).
    pub runs: usize,
    /// Pulls per run (default 1000).
    pub steps: usize,
    /// Base seed (default 0).
    pub seed: u64,
    /// The bandit problems (default: the 10-armed testbed).
    pub bandit: BanditConfig,
    /// Worker threads; 0 uses every available core (default 0). Does not change the results.
    pub threads: usize,
}

impl Default for TestbedConfig {
    fn default() -> Self {
        TestbedConfig {
            runs: 2000,
            steps: 1000,
            seed: 0,
            bandit: BanditConfig::default(),
            threads: 0,
        }
    }
}

/// One agent's results.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AgentCurves {
    /// The agent's legend name.
    pub label: String,
    /// The agent.
    pub config: BanditAgentConfig,
    /// Reward at each step, averaged over runs.
    pub mean_reward: Vec<f64>,
    /// Fraction of runs that pulled an optimal arm at each step.
    pub optimal_fraction: Vec<f64>,
    /// Reward at each step of run 0.
    pub first_run_rewards: Vec<f64>,
    /// Whether run 0 pulled an optimal arm at each step.
    pub first_run_optimal: Vec<bool>,
}

impl AgentCurves {
    /// Mean of `curve` over its last `n` steps (the whole curve if shorter).
    pub fn tail_mean(curve: &[f64], n: usize) -> f64 {
        let tail = &curve[curve.len().saturating_sub(n)..];
        tail.iter().sum::<f64>() / tail.len() as f64
    }
}

/// Results of [`run_testbed`], one entry per agent in the order given.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TestbedResult {
    /// How the testbed was run.
    pub config: TestbedConfig,
    /// Per-agent curves.
    pub agents: Vec<AgentCurves>,
}

/// Sums over one block of runs for every agent: rewards and optimal-pull counts per step.
struct BlockSums {
    reward: Vec<Vec<f64>>,
    optimal: Vec<Vec<u32>>,
}

/// The seed of agent `agent`'s RNG in run `run`.
fn agent_seed(seed: u64, run: usize, agent: usize) -> u64 {
    sub_seed(seed, run) ^ ((agent as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15))
}

/// Runs every agent on `config.runs` fresh bandit problems of `config.steps` pulls each.
pub fn run_testbed(config: &TestbedConfig, agents: &[BanditAgentConfig]) -> Result<TestbedResult> {
    if config.runs == 0 || config.steps == 0 {
        return Err(Error::invalid_argument(format!(
            "testbed needs at least one run and one step, got {} runs of {} steps",
            config.runs, config.steps
        )));
    }
    if agents.is_empty() {
        return Err(Error::invalid_argument("testbed needs at least one agent"));
    }
    config.bandit.validate()?;
    for a in agents {
        a.build(config.bandit.k, 0)?;
    }
    let blocks = config.runs.div_ceil(BLOCK_RUNS);
    let threads = match config.threads {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    }
    .min(blocks);
    let next = AtomicUsize::new(0);
    let mut slots: Vec<Option<BlockSums>> = reserved(blocks, "runs / block size")?;
    slots.resize_with(blocks, || None);
    let slots = Mutex::new(slots);
    let first_run: Mutex<Vec<(Vec<f64>, Vec<bool>)>> = Mutex::new(Vec::new());
    std::thread::scope(|scope| -> Result<()> {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| -> Result<()> {
                    let mut worker = Worker::new(config, agents)?;
                    loop {
                        let block = next.fetch_add(1, Ordering::Relaxed);
                        if block >= blocks {
                            return Ok(());
                        }
                        let (sums, first) = worker.run_block(block)?;
                        if let Some(first) = first {
                            *first_run.lock().map_err(poisoned)? = first;
                        }
                        slots.lock().map_err(poisoned)?[block] = Some(sums);
                    }
                })
            })
            .collect();
        for w in workers {
            w.join()
                .map_err(|_| Error::Worker("a testbed thread panicked".into()))??;
        }
        Ok(())
    })?;
    let slots = slots.into_inner().map_err(poisoned)?;
    let first_run = first_run.into_inner().map_err(poisoned)?;
    let mut reward: Vec<Vec<f64>> = (0..agents.len())
        .map(|_| filled(0.0, config.steps, "steps"))
        .collect::<Result<_>>()?;
    let mut optimal: Vec<Vec<u64>> = (0..agents.len())
        .map(|_| filled(0, config.steps, "steps"))
        .collect::<Result<_>>()?;
    for slot in slots {
        let sums = slot.ok_or_else(|| Error::Worker("a testbed block was not run".into()))?;
        for i in 0..agents.len() {
            for (total, s) in reward[i].iter_mut().zip(&sums.reward[i]) {
                *total += s;
            }
            for (total, &s) in optimal[i].iter_mut().zip(&sums.optimal[i]) {
                *total += u64::from(s);
            }
        }
    }
    let runs = config.runs as f64;
    let agents = agents
        .iter()
        .zip(reward.into_iter().zip(optimal))
        .zip(first_run)
        .map(
            |((a, (reward, optimal)), (first_rewards, first_optimal))| AgentCurves {
                label: a.label(),
                config: *a,
                mean_reward: reward.iter().map(|r| r / runs).collect(),
                optimal_fraction: optimal.iter().map(|&o| o as f64 / runs).collect(),
                first_run_rewards: first_rewards,
                first_run_optimal: first_optimal,
            },
        )
        .collect();
    Ok(TestbedResult {
        config: *config,
        agents,
    })
}

fn poisoned<T>(_: std::sync::PoisonError<T>) -> Error {
    Error::Worker("a testbed thread panicked while holding a lock".into())
}

/// One thread's environments and agents, reused across its blocks.
struct Worker<'a> {
    config: &'a TestbedConfig,
    envs: Vec<KArmedBandit>,
    agents: Vec<Box<dyn BanditAgent + Send>>,
}

type FirstRun = Vec<(Vec<f64>, Vec<bool>)>;

impl<'a> Worker<'a> {
    fn new(config: &'a TestbedConfig, agents: &[BanditAgentConfig]) -> Result<Self> {
        Ok(Worker {
            config,
            envs: (0..agents.len())
                .map(|_| KArmedBandit::with_config(config.bandit))
                .collect::<Result<_>>()?,
            agents: agents
                .iter()
                .map(|a| a.build(config.bandit.k, 0))
                .collect::<Result<_>>()?,
        })
    }

    fn run_block(&mut self, block: usize) -> Result<(BlockSums, Option<FirstRun>)> {
        let steps = self.config.steps;
        let n = self.agents.len();
        let mut sums = BlockSums {
            reward: (0..n)
                .map(|_| filled(0.0, steps, "steps"))
                .collect::<Result<_>>()?,
            optimal: (0..n)
                .map(|_| filled(0, steps, "steps"))
                .collect::<Result<_>>()?,
        };
        let mut first = None;
        let start = block * BLOCK_RUNS;
        let end = (start + BLOCK_RUNS).min(self.config.runs);
        for run in start..end {
            let record = run == 0;
            let mut first_run = FirstRun::new();
            for (i, (env, agent)) in self.envs.iter_mut().zip(&mut self.agents).enumerate() {
                env.reset(Some(sub_seed(self.config.seed, run)))?;
                agent.reset(Some(agent_seed(self.config.seed, run, i)));
                let (mut rewards, mut optimal) = if record {
                    // `steps` fitted in memory for the sums above.
                    (Vec::with_capacity(steps), Vec::with_capacity(steps))
                } else {
                    (Vec::new(), Vec::new())
                };
                for t in 0..steps {
                    let a = agent.select();
                    let is_optimal = env.is_optimal(a);
                    let reward = env.step(&(a as i64))?.reward;
                    agent.update(a, reward)?;
                    sums.reward[i][t] += reward;
                    sums.optimal[i][t] += u32::from(is_optimal);
                    if record {
                        rewards.push(reward);
                        optimal.push(is_optimal);
                    }
                }
                if record {
                    first_run.push((rewards, optimal));
                }
            }
            if record {
                first = Some(first_run);
            }
        }
        Ok((sums, first))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn agents() -> Vec<BanditAgentConfig> {
        ["greedy", "eps:0.1", "ucb:2", "gradient:0.1"]
            .iter()
            .map(|s| s.parse().unwrap())
            .collect()
    }

    #[test]
    fn results_do_not_depend_on_the_number_of_threads() {
        let base = TestbedConfig {
            runs: 60,
            steps: 40,
            seed: 3,
            threads: 1,
            ..TestbedConfig::default()
        };
        let one = run_testbed(&base, &agents()).unwrap();
        let three = run_testbed(&TestbedConfig { threads: 3, ..base }, &agents()).unwrap();
        assert_eq!(one.agents, three.agents);
        let other_seed = run_testbed(&TestbedConfig { seed: 4, ..base }, &agents()).unwrap();
        assert_ne!(one.agents[1].mean_reward, other_seed.agents[1].mean_reward);
        let first = &one.agents[0];
        assert_eq!(first.first_run_rewards.len(), 40);
        assert_eq!(first.first_run_optimal.len(), 40);
        assert!(
            first
                .optimal_fraction
                .iter()
                .all(|f| (0.0..=1.0).contains(f))
        );
    }

    #[test]
    fn bad_configs_are_errors() {
        let ok = TestbedConfig {
            runs: 2,
            steps: 2,
            ..TestbedConfig::default()
        };
        assert!(run_testbed(&TestbedConfig { runs: 0, ..ok }, &agents()).is_err());
        assert!(run_testbed(&TestbedConfig { steps: 0, ..ok }, &agents()).is_err());
        assert!(run_testbed(&ok, &[]).is_err());
        let mut bad_bandit = ok;
        bad_bandit.bandit.k = 0;
        assert!(run_testbed(&bad_bandit, &agents()).is_err());
        assert!(run_testbed(&ok, &agents()).is_ok());
    }
}
