//! `train`: train PPO or REINFORCE on a registered environment with a tuned preset or a config
//! file, logging metrics, checkpointing, and plotting the reward curve.
//!
//! ```text
//! train --env CartPole-v1 --algo ppo --seed 0 --out runs/demo
//! train --env Pendulum-v1 --algo ppo --steps 50000 --config my.toml --device cpu
//! train --out runs/demo --resume
//! ```

use std::path::PathBuf;

use anyhow::{Result, bail};
use clap::Parser;
use tokengym_agents::nn::DeviceChoice;
use tokengym_experiments::run_config::{Algo, RunConfig};
use tokengym_experiments::training::{TrainOptions, default_run_dir, train};

/// Train an agent; writes config.toml, metrics.csv, checkpoint/, summary.json and reward.png
/// into the run folder.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// Environment id (default: the config file's, or CartPole-v1).
    #[arg(long)]
    env: Option<String>,
    /// Algorithm: ppo or reinforce (default: the config file's, or ppo).
    #[arg(long)]
    algo: Option<String>,
    /// Budget in environment steps, in total (replaces the config's budget; with --resume it
    /// extends the run to this many steps).
    #[arg(long, conflicts_with = "episodes")]
    steps: Option<u64>,
    /// Budget in episodes, in total (replaces the config's budget, also with --resume).
    #[arg(long)]
    episodes: Option<u64>,
    /// Seed (default: the config's, or 0).
    #[arg(long)]
    seed: Option<u64>,
    /// A TOML config file (default: the built-in preset for --algo and --env).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Run folder (default: runs/ALGO-ENV-sSEED).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Device: auto (CUDA if usable), cpu (hand-written MLP backend) or cuda (tch on the GPU).
    #[arg(long, default_value = "auto")]
    device: String,
    /// Continue the run in --out from its checkpoint (its config.toml is used; --steps or
    /// --episodes may raise its budget; --env, --algo, --seed that differ from the run's are
    /// errors).
    #[arg(long)]
    resume: bool,
    /// Replace a finished or interrupted run in --out (its checkpoint, metrics, summary and
    /// plot) instead of refusing.
    #[arg(long, conflicts_with = "resume")]
    overwrite: bool,
    /// No progress bar.
    #[arg(long)]
    quiet: bool,
    /// Do not write reward.png.
    #[arg(long)]
    no_plot: bool,
    /// List the built-in presets and exit.
    #[arg(long)]
    list_presets: bool,
}

fn main() {
    tokengym_experiments::cli::run_main(env!("CARGO_BIN_NAME"), run);
}

fn config_from_args(args: &Args) -> Result<RunConfig> {
    if args.resume {
        return resumed_config(args);
    }
    if let Some(env) = &args.env
        && !tokengym::registry::is_registered(env)
    {
        // The registry's error names the closest registered ids.
        tokengym::registry::spec(env)?;
    }
    let algo: Option<Algo> = args.algo.as_deref().map(str::parse).transpose()?;
    let mut config = match &args.config {
        Some(path) => RunConfig::from_file(path)?,
        None => RunConfig::preset(
            algo.unwrap_or(Algo::Ppo),
            args.env.as_deref().unwrap_or("CartPole-v1"),
        )?,
    };
    if let Some(algo) = algo
        && algo != config.algo
    {
        bail!(
            "--algo {algo} but the config file is for {}; pass a config for {algo}",
            config.algo
        );
    }
    if let Some(env) = &args.env {
        config.env = env.clone();
    }
    set_budget(args, &mut config);
    if let Some(seed) = args.seed {
        config.seed = Some(seed);
    }
    config.seed.get_or_insert(0);
    config.validate()?;
    Ok(config)
}

/// `--steps` / `--episodes` replace the config's budget (a total, also when resuming).
fn set_budget(args: &Args, config: &mut RunConfig) {
    if let Some(steps) = args.steps {
        config.total_steps = Some(steps);
        config.total_episodes = None;
    }
    if let Some(episodes) = args.episodes {
        config.total_episodes = Some(episodes);
        config.total_steps = None;
    }
}

/// The config of a resumed run: the run folder's `config.toml` with the budget of `--steps` or
/// `--episodes` when given. Flags that would change what the run is (`--env`, `--algo`,
/// `--seed`, `--config`) are errors unless they repeat what the run already has.
fn resumed_config(args: &Args) -> Result<RunConfig> {
    let Some(out) = &args.out else {
        bail!("--resume needs --out, the run folder to continue");
    };
    let path = out.join("config.toml");
    if !path.is_file() {
        bail!(
            "nothing to resume: {} is missing (is {} a train run folder?)",
            path.display(),
            out.display()
        );
    }
    let mut config = RunConfig::from_file(&path)?;
    if let Some(file) = &args.config {
        bail!(
            "--config {} cannot be given with --resume: the run continues with its own {}",
            file.display(),
            path.display()
        );
    }
    let saved_seed = config.seed.unwrap_or(0);
    let clashes = [
        ("--env", args.env.clone(), config.env.clone()),
        ("--algo", args.algo.clone(), config.algo.to_string()),
        (
            "--seed",
            args.seed.map(|s| s.to_string()),
            saved_seed.to_string(),
        ),
    ];
    for (flag, given, saved) in clashes {
        if let Some(given) = given
            && !given.trim().eq_ignore_ascii_case(&saved)
        {
            bail!(
                "{flag} {given} but the run in {} has {saved}; a resumed run keeps it (leave \
                 {flag} out, or train a new run in another --out)",
                out.display()
            );
        }
    }
    set_budget(args, &mut config);
    config.seed = Some(saved_seed);
    config.validate()?;
    Ok(config)
}

fn run(args: Args) -> Result<()> {
    tokengym_envs::register_envs()?;
    if args.list_presets {
        for name in RunConfig::preset_names() {
            println!("{name}");
        }
        return Ok(());
    }
    let device: DeviceChoice = args.device.parse()?;
    let config = config_from_args(&args)?;
    let out = args.out.clone().unwrap_or_else(|| default_run_dir(&config));
    let outcome = train(&TrainOptions {
        config,
        out,
        device,
        resume: args.resume,
        overwrite: args.overwrite,
        progress: !args.quiet,
        plot: !args.no_plot,
    })?;
    let s = &outcome.summary;
    println!(
        "{} / {} seed {}: {} steps, {} episodes in {:.1} s; evaluation over {} deterministic \
         episodes: {:.2} ± {:.2}",
        s.env,
        s.algo,
        s.seed,
        s.total_steps,
        s.total_episodes,
        s.wall_seconds,
        s.eval_episodes,
        s.eval_mean_return,
        s.eval_std_return
    );
    println!("run folder: {}", outcome.out.display());
    Ok(())
}
