//! `rollout`: run a random or heuristic policy in any registered environment, report the returns
//! and save the first episode as an animated GIF; with `--seeds N`, also an evaluation report
//! (mean, median, IQM with a bootstrap interval; against a random policy) as markdown and PNG.
//!
//! ```text
//! rollout --env CartPole-v1 --policy heuristic --episodes 5 --seed 0 --out runs/demo
//! rollout --env Acrobot-v1 --policy heuristic --episodes 10 --seeds 5 --out runs/acrobot
//! ```

use anyhow::{Context, Result, bail};
use clap::{Parser, ValueEnum};
use serde::Serialize;
use std::path::PathBuf;
use std::time::Instant;
use tokengym::evaluation::{Bootstrap, Comparison, ReturnStats};
use tokengym::policy::{Policy, RandomPolicy, evaluate};
use tokengym::space::Value;
use tokengym::wrappers::RecordVideo;
use tokengym::{Env, RenderMode};
use tokengym_experiments::heuristics::heuristic_policy;
use tokengym_experiments::report::write_report;
use tokengym_experiments::run_dir::{OutDir, write_json};

#[derive(Clone, Copy, Debug, ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
enum PolicyKind {
    /// Uniform samples from the action space.
    Random,
    /// The hand-written controller for the environment (classic-control ids only).
    Heuristic,
}

/// Run a policy in a registered environment and record the first episode as a GIF.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// Environment id (see `--list`).
    #[arg(long, default_value = "CartPole-v1")]
    env: String,
    /// Which policy acts.
    #[arg(long, value_enum, default_value_t = PolicyKind::Heuristic)]
    policy: PolicyKind,
    /// Number of episodes; episode i is reset with seed + i.
    #[arg(long, default_value_t = 5)]
    episodes: usize,
    /// Seed of the first episode.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Output folder: summary.json and the GIF of the first episode.
    #[arg(long, default_value = "runs/rollout")]
    out: PathBuf,
    /// Replace an earlier run's outputs in --out instead of refusing.
    #[arg(long)]
    overwrite: bool,
    /// Do not record a GIF.
    #[arg(long)]
    no_gif: bool,
    /// With N > 1: also evaluate the policy and a random policy over N seeds of `--episodes`
    /// episodes each and write report.md / report.png.
    #[arg(long, default_value_t = 1)]
    seeds: usize,
    /// List the registered environment ids and exit.
    #[arg(long)]
    list: bool,
}

#[derive(Serialize)]
struct Summary<'a> {
    env: &'a str,
    policy: PolicyKind,
    seed: u64,
    episodes: usize,
    returns: &'a [f64],
    lengths: &'a [u64],
    mean_return: f64,
    std_return: f64,
    reward_threshold: Option<f64>,
    wall_seconds: f64,
    gif: Option<PathBuf>,
}

/// What a run writes into --out besides the GIF (and --overwrite replaces).
const OUTPUTS: &[&str] = &["summary.json", "report.md", "report.png"];

fn main() {
    tokengym_experiments::cli::run_main(env!("CARGO_BIN_NAME"), run);
}

fn run(args: Args) -> Result<()> {
    tokengym_envs::register_envs()?;
    if args.list {
        print!("{}", tokengym::registry::pprint_registry());
        return Ok(());
    }
    if args.episodes == 0 {
        bail!("--episodes must be at least 1");
    }
    let spec = tokengym::registry::spec(&args.env)?;
    let out_dir = OutDir::new(&args.out, OUTPUTS);
    out_dir.check(args.overwrite)?;
    let env = tokengym_envs::make(&args.env)?;
    let mut policy: Box<dyn Policy<Value, Value>> = match args.policy {
        PolicyKind::Random => Box::new(RandomPolicy::new(env.action_space().clone())),
        PolicyKind::Heuristic => heuristic_policy(&args.env).with_context(|| {
            format!("no heuristic policy for {}; use --policy random", args.env)
        })?,
    };

    let rows = report_rows(if args.seeds > 1 { args.seeds } else { 0 })?;
    out_dir.clear()?;
    let start = Instant::now();
    let (eval, gif) = if args.no_gif || !env.render_modes().contains(&RenderMode::RgbArray) {
        let mut env = env;
        (
            evaluate(&mut policy, &mut env, args.episodes, args.seed)?,
            None,
        )
    } else {
        let prefix = args.env.to_lowercase();
        let mut env = RecordVideo::new(env, &args.out)?
            .with_episode_trigger(|episode| episode == 0)
            .with_name_prefix(prefix)?;
        let eval = evaluate(&mut policy, &mut env, args.episodes, args.seed)?;
        env.finish()?;
        (eval, env.written_paths().first().cloned())
    };
    let wall_seconds = start.elapsed().as_secs_f64();

    for (i, (r, l)) in eval.returns.iter().zip(&eval.lengths).enumerate() {
        println!(
            "episode {i:3}  seed {:5}  return {r:9.2}  length {l:5}",
            args.seed + i as u64
        );
    }
    println!(
        "{} / {:?}: mean return {:.2} ± {:.2} over {} episodes{}",
        args.env,
        args.policy,
        eval.mean_return(),
        eval.std_return(),
        args.episodes,
        spec.reward_threshold
            .map(|t| format!(" (reward threshold {t})"))
            .unwrap_or_default()
    );
    let summary_path = args.out.join("summary.json");
    write_json(
        &summary_path,
        &Summary {
            env: &args.env,
            policy: args.policy,
            seed: args.seed,
            episodes: args.episodes,
            returns: &eval.returns,
            lengths: &eval.lengths,
            mean_return: eval.mean_return(),
            std_return: eval.std_return(),
            reward_threshold: spec.reward_threshold,
            wall_seconds,
            gif: gif.clone(),
        },
    )
    .with_context(|| format!("writing {}", summary_path.display()))?;
    if let Some(gif) = gif {
        println!("first episode: {}", gif.display());
    }
    println!("summary: {}", summary_path.display());
    if args.seeds > 1 {
        let report = write_evaluation_report(&args, &mut policy, rows)?;
        println!("report: {}", report.display());
    }
    Ok(())
}

/// Room for the returns of `seeds` blocks of both policies, allocated fallibly (`--seeds`
/// comes from the user), before anything is written.
fn report_rows(seeds: usize) -> Result<ReportRows> {
    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    for v in [&mut ours, &mut theirs] {
        v.try_reserve_exact(seeds)
            .map_err(|_| anyhow::anyhow!("--seeds {seeds} does not fit in memory"))?;
    }
    Ok((ours, theirs))
}

/// The returns of each seed block, of the policy and of the random policy.
type ReportRows = (Vec<Vec<f64>>, Vec<Vec<f64>>);

/// Evaluates `policy` and a random policy over `args.seeds` blocks of `args.episodes` episodes
/// (block `r` uses seeds `seed + r * episodes + i`) and writes report.md / report.png.
fn write_evaluation_report(
    args: &Args,
    policy: &mut Box<dyn Policy<Value, Value>>,
    rows: ReportRows,
) -> Result<PathBuf> {
    let mut env = tokengym_envs::make(&args.env)?;
    let mut random = RandomPolicy::new(env.action_space().clone());
    let (mut ours, mut theirs) = rows;
    for r in 0..args.seeds {
        let seed = args.seed + (r * args.episodes) as u64;
        ours.push(evaluate(policy, &mut env, args.episodes, seed)?.returns);
        theirs.push(evaluate(&mut random, &mut env, args.episodes, seed)?.returns);
    }
    let boot = Bootstrap::default();
    let name = format!("{:?}", args.policy).to_lowercase();
    let comparison = Comparison::new()
        .with(name, ReturnStats::from_runs(&ours, &boot)?)
        .with("random", ReturnStats::from_runs(&theirs, &boot)?)
        .random_baseline("random");
    let notes = format!(
        "{} seeds x {} episodes per policy; episode i of seed block r is reset with seed {} + r * {} + i.",
        args.seeds, args.episodes, args.seed, args.episodes
    );
    write_report(&args.out, &args.env, &comparison, &notes)?;
    Ok(args.out.join("report.md"))
}
