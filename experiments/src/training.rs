//! The `train` binary's work as a library function: a run directory with its config, metrics,
//! checkpoints, summary and reward curve, resumable after an interruption.
//!
//! ```text
//! runs/<name>/config.toml        the effective configuration
//! runs/<name>/metrics.csv        one row per episode, update and evaluation
//! runs/<name>/checkpoint/        model.safetensors (weights, Adam, normalisation, counters)
//! runs/<name>/summary.json       final deterministic evaluation and timings
//! runs/<name>/reward.png         episode returns against environment steps
//! ```
//!
//! Training runs in chunks (`eval_every` steps, or a tenth of the budget): after each chunk the
//! agent is evaluated (when `eval_every` is set), checkpointed and the metrics are flushed, all
//! atomically, so an interrupted run loses at most one chunk and `--resume` continues it.

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use indicatif::{ProgressBar, ProgressStyle};
use tokengym::{Agent, Budget, BudgetUnit, Callback, EpisodeStats, MakeOptions};
use tokengym_agents::AnyAgent;
use tokengym_agents::nn::Backend;
use tokengym_agents::nn::DeviceChoice;
use tokengym_agents::ppo::Ppo;
use tokengym_agents::reinforce::Reinforce;

use tokengym_agents::common::CHECKPOINT_FILE;

use crate::metrics::{MetricsLog, Summary, UpdateStats, git_commit, write_summary};
use crate::resume;
use crate::run_config::{Algo, PERIODIC_EVAL_EPISODES, RunConfig};
use crate::run_dir::{OutDir, remove_stale_temporaries};

/// Seeds of evaluation episodes start here (plus the run's seed), away from training seeds.
pub const EVAL_SEED_OFFSET: u64 = 1_000_000;

/// What to train and where.
#[derive(Debug, Clone)]
pub struct TrainOptions {
    /// The run's configuration (seed filled in).
    pub config: RunConfig,
    /// The run directory.
    pub out: PathBuf,
    /// Where the network runs.
    pub device: DeviceChoice,
    /// Continue the run in `out` from its checkpoint.
    pub resume: bool,
    /// Replace an existing run in `out` (checkpoint, metrics, summary, plot are removed).
    pub overwrite: bool,
    /// Show a progress bar.
    pub progress: bool,
    /// Write `reward.png` at the end.
    pub plot: bool,
}

/// What a finished run reports.
#[derive(Debug, Clone)]
pub struct TrainOutcome {
    /// The summary written to `summary.json`.
    pub summary: Summary,
    /// The run directory.
    pub out: PathBuf,
}

/// Records episodes and updates into the metrics log and drives the progress bar.
struct Logger<'a> {
    log: &'a mut MetricsLog,
    bar: &'a ProgressBar,
    start: Instant,
    wall_offset: f64,
    step: u64,
    episodes_budget: bool,
}

impl Logger<'_> {
    fn wall(&self) -> f64 {
        self.wall_offset + self.start.elapsed().as_secs_f64()
    }
}

impl Callback for Logger<'_> {
    fn on_step(&mut self, event: &tokengym::agent::StepEvent) -> ControlFlow<()> {
        self.step = self.step.max(event.total_steps);
        if !self.episodes_budget && event.total_steps.is_multiple_of(1024) {
            self.bar.set_position(event.total_steps);
        }
        ControlFlow::Continue(())
    }

    fn on_episode_end(&mut self, stats: &EpisodeStats) -> ControlFlow<()> {
        let wall = self.wall();
        self.log.push_episode(self.step, wall, stats.ret, stats.len);
        if self.episodes_budget {
            self.bar.inc(1);
        }
        ControlFlow::Continue(())
    }

    fn on_update(&mut self, metrics: &[(&str, f64)]) -> ControlFlow<()> {
        let get = |name: &str| metrics.iter().find(|(k, _)| *k == name).map(|&(_, v)| v);
        if let Some(step) = get("step") {
            self.step = step as u64;
        }
        let stats = UpdateStats {
            policy_loss: get("policy_loss"),
            value_loss: get("value_loss"),
            entropy: get("entropy"),
            approx_kl: get("approx_kl"),
            clip_fraction: get("clip_fraction"),
            explained_variance: get("explained_variance"),
            learning_rate: get("learning_rate"),
            clip_range: get("clip_range"),
            grad_norm: get("grad_norm"),
            steps_per_second: get("steps_per_second"),
        };
        let wall = self.wall();
        self.log.push_update(self.step, wall, &stats);
        if let Some(ret) = self.log.mean_last_returns(100) {
            self.bar
                .set_message(format!("mean return (last 100) {ret:8.2}"));
        }
        ControlFlow::Continue(())
    }
}

fn make_options(config: &RunConfig) -> MakeOptions {
    MakeOptions {
        kwargs: config.env_kwargs.clone(),
        ..MakeOptions::default()
    }
}

fn new_agent(config: &RunConfig, seed: u64, device: DeviceChoice) -> Result<AnyAgent> {
    let make = make_options(config);
    Ok(match config.algo {
        Algo::Ppo => AnyAgent::new(Ppo::new(
            &config.env,
            &make,
            config.ppo_config()?.clone(),
            seed,
            device,
        )?),
        Algo::Reinforce => AnyAgent::new(Reinforce::new(
            &config.env,
            &make,
            config.reinforce_config()?.clone(),
            seed,
            device,
        )?),
    })
}

/// The run's budget: environment steps or episodes.
fn budget(config: &RunConfig) -> Result<Budget> {
    match (config.total_steps, config.total_episodes) {
        (Some(s), None) => Ok(Budget::Steps(s)),
        (None, Some(e)) => Ok(Budget::Episodes(e)),
        _ => bail!("give exactly one budget: total_steps or total_episodes"),
    }
}

/// What a `train` run writes into its folder (and `--overwrite` replaces; `eval.json` is
/// `eval`'s, of the run's checkpoint).
pub const TRAIN_OUTPUTS: &[&str] = &[
    "config.toml",
    "metrics.csv",
    "checkpoint",
    "summary.json",
    "reward.png",
    "eval.json",
];

/// An error for a PPO budget smaller than one rollout (PPO collects whole rollouts, so such a
/// run would take a full rollout anyway, many times the budget); a note on stderr when the
/// budget is not a whole number of rollouts, with the number of steps the run will take.
fn check_budget(config: &RunConfig, budget: Budget) -> Result<()> {
    let Budget::Steps(total) = budget else {
        return Ok(());
    };
    let Algo::Ppo = config.algo else {
        return Ok(());
    };
    let ppo = config.ppo_config()?;
    let rollout = ppo.rollout_size() as u64;
    if total < rollout {
        bail!(
            "a budget of {total} steps is smaller than one PPO rollout of num_envs {} x n_steps {} \
             = {rollout} steps; give --steps {rollout} or more, or make n_steps smaller",
            ppo.num_envs,
            ppo.n_steps
        );
    }
    if !total.is_multiple_of(rollout) {
        eprintln!(
            "note: PPO collects whole rollouts of {rollout} steps, so the run takes {} steps, \
             not {total}",
            total.div_ceil(rollout) * rollout
        );
    }
    for warning in ppo.warnings() {
        eprintln!("warning: {warning}");
    }
    Ok(())
}

/// The summary of the run in `out` if it finished at `steps` (its final evaluation and
/// `summary.json` written after its last checkpoint).
fn finished_summary(out: &Path, steps: u64) -> Option<Summary> {
    let summary = Summary::read(&out.join("summary.json")).ok()?;
    (summary.total_steps == steps).then_some(summary)
}

/// Trains one run as described in the [module docs](self).
pub fn train(opts: &TrainOptions) -> Result<TrainOutcome> {
    let config = &opts.config;
    config.validate()?;
    let seed = config.seed.unwrap_or(0);
    let budget = budget(config)?;
    let (unit, total) = (budget.unit(), budget.total());
    let by_episodes = unit == BudgetUnit::Episodes;
    if by_episodes && config.algo == Algo::Ppo {
        bail!("PPO's budget counts environment steps: give total_steps (or --steps), not episodes");
    }
    check_budget(config, budget)?;
    let out = &opts.out;
    let ckpt = out.join("checkpoint");
    let metrics_path = out.join("metrics.csv");
    let out_dir = OutDir::new(out, TRAIN_OUTPUTS);
    if opts.resume {
        let meta = resume::saved_run(&ckpt)?;
        resume::check_matches(config, &meta, &ckpt)?;
        let done = meta.progress().count(unit);
        if done >= total
            && let Some(summary) = finished_summary(out, meta.steps)
        {
            eprintln!(
                "note: the run in {} has already trained {done} {} of its budget of {total}; \
                 nothing to do (give a larger --{} to extend it)",
                out.display(),
                unit.name(),
                unit.name()
            );
            return Ok(TrainOutcome {
                summary,
                out: out.clone(),
            });
        }
    } else if ckpt.join(CHECKPOINT_FILE).exists() && !opts.overwrite {
        bail!(
            "{} already holds a run; pass --resume to continue it, --overwrite to replace it, or choose another --out",
            out.display()
        );
    } else {
        out_dir.check(opts.overwrite)?;
    }
    // The agent is made (or loaded) before anything is written, so a start that fails (an
    // unusable device, an environment that cannot be made) leaves the folder as it was.
    let (mut agent, mut log) = if opts.resume {
        let agent = AnyAgent::load(&ckpt, opts.device)
            .with_context(|| format!("resuming from {}", ckpt.display()))?;
        let mut log = if metrics_path.exists() {
            MetricsLog::read(&metrics_path)?
        } else {
            MetricsLog::new()
        };
        let steps = agent.progress().steps;
        log.truncate_after(steps);
        if agent.progress().count(unit) >= total {
            // Killed after the final evaluation was logged but before the summary: that
            // evaluation is about to run again (the periodic one at the same step stays).
            log.keep_evals_at(steps, usize::from(config.eval_every.is_some()));
        }
        (agent, log)
    } else {
        let agent = new_agent(config, seed, opts.device)?;
        out_dir.clear()?;
        (agent, MetricsLog::new())
    };
    // Temporary files of a write that was killed (an interrupted run) are not data.
    for dir in [out.as_path(), ckpt.as_path()] {
        remove_stale_temporaries(dir)
            .with_context(|| format!("cleaning temporary files in {}", dir.display()))?;
    }
    config.write(&out.join("config.toml"))?;

    let wall_offset = log.rows().last().map_or(0.0, |r| r.wall_seconds);

    let bar = if opts.progress {
        let bar = ProgressBar::new(total);
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} {unit} {msg}",
            )
            .map_err(|e| anyhow::anyhow!("{e}"))?
            .with_key(
                "unit",
                move |_: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                    let _ = w.write_str(if by_episodes { "episodes" } else { "steps" });
                },
            ),
        );
        bar
    } else {
        ProgressBar::hidden()
    };
    let done = |a: &AnyAgent| a.progress().count(unit);
    bar.set_position(done(&agent));
    let chunk = config.eval_every.unwrap_or(total.div_ceil(10)).max(1);
    let start = Instant::now();
    while done(&agent) < total {
        let stop = (done(&agent) / chunk + 1).saturating_mul(chunk).min(total);
        let mut logger = Logger {
            log: &mut log,
            bar: &bar,
            start,
            wall_offset,
            step: agent.progress().steps,
            episodes_budget: by_episodes,
        };
        let stopped = agent
            .learn_until(Budget::new(unit, stop), budget, &mut logger)?
            .stopped_by_callback;
        if config.eval_every.is_some() {
            let eval = agent.evaluate(PERIODIC_EVAL_EPISODES, seed + EVAL_SEED_OFFSET)?;
            let wall = wall_offset + start.elapsed().as_secs_f64();
            log.push_eval(
                agent.progress().steps,
                wall,
                eval.mean_return(),
                eval.std_return(),
            );
        }
        // Metrics first: a kill between the two writes leaves rows past the checkpoint, which a
        // resume drops, rather than a checkpoint past the rows, which would leave a gap.
        log.flush(&metrics_path)?;
        agent.save(&ckpt)?;
        bar.set_position(done(&agent));
        if stopped {
            break;
        }
    }
    bar.finish_and_clear();
    let wall_seconds = wall_offset + start.elapsed().as_secs_f64();

    let eval = agent.evaluate(config.eval_episodes, seed + EVAL_SEED_OFFSET)?;
    log.push_eval(
        agent.progress().steps,
        wall_seconds,
        eval.mean_return(),
        eval.std_return(),
    );
    log.flush(&metrics_path)?;
    let device = opts.device.resolve()?;
    let summary = Summary {
        env: config.env.clone(),
        algo: config.algo.name().to_owned(),
        seed,
        total_steps: agent.progress().steps,
        total_episodes: agent.progress().episodes,
        wall_seconds,
        eval_mean_return: eval.mean_return(),
        eval_std_return: eval.std_return(),
        eval_episodes: config.eval_episodes,
        final_train_return_mean100: log.mean_last_returns(100),
        backend: backend_label(config, device).to_owned(),
        device: tokengym_agents::nn::describe_device(device),
        git_commit: git_commit(),
    };
    write_summary(&out.join("summary.json"), &summary)?;
    if opts.plot {
        crate::curves::plot_runs(
            std::slice::from_ref(out),
            &crate::curves::PlotOptions::default(),
            &out.join("reward.png"),
        )?;
    }
    Ok(TrainOutcome {
        summary,
        out: out.clone(),
    })
}

/// Which network implementation ran (see `tokengym_agents::nn::build_net`).
fn backend_label(config: &RunConfig, device: tch::Device) -> &'static str {
    let backend = match config.algo {
        Algo::Ppo => config.ppo.as_ref().map(|c| c.net.backend),
        Algo::Reinforce => config.reinforce.as_ref().map(|c| c.net.backend),
    };
    match (backend.unwrap_or_default(), device) {
        (Backend::Native, _) | (Backend::Auto, tch::Device::Cpu) => "native",
        _ => "tch",
    }
}

/// The default run directory: `runs/<algo>-<env>-s<seed>`.
pub fn default_run_dir(config: &RunConfig) -> PathBuf {
    Path::new("runs").join(format!(
        "{}-{}-s{}",
        config.algo.name(),
        config.env,
        config.seed.unwrap_or(0)
    ))
}
