//! `eval`: evaluate a trained agent from its checkpoint with deterministic actions, optionally
//! recording the first episode as an animated GIF.
//!
//! ```text
//! eval --checkpoint runs/ppo-CartPole-v1-s0/checkpoint --episodes 20 --render gif
//! ```

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::{Parser, ValueEnum};
use serde::Serialize;
use tokengym::policy::evaluate;
use tokengym::wrappers::RecordVideo;
use tokengym::{Agent, Env, RenderMode};
use tokengym_agents::AnyAgent;
use tokengym_agents::nn::DeviceChoice;
use tokengym_experiments::run_dir::write_json;

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Render {
    /// Record the first episode as `<out>/<env>-episode-0.gif`.
    Gif,
}

/// Evaluate a trained agent (deterministic actions) from its checkpoint.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// The checkpoint folder (`runs/<name>/checkpoint`), a run folder, or a `.safetensors` file.
    #[arg(long)]
    checkpoint: PathBuf,
    /// Number of evaluation episodes; episode i is reset with seed + i.
    #[arg(long, default_value_t = 20)]
    episodes: usize,
    /// Seed of the first episode.
    #[arg(long, default_value_t = 1_000_000)]
    seed: u64,
    /// Record the first episode.
    #[arg(long, value_enum)]
    render: Option<Render>,
    /// Where eval.json (and the GIF) go; default: the checkpoint's run folder.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Device for the network: auto, cpu or cuda.
    #[arg(long, default_value = "auto")]
    device: String,
}

#[derive(Serialize)]
struct EvalReport<'a> {
    env: &'a str,
    algo: &'a str,
    trained_steps: u64,
    episodes: usize,
    seed: u64,
    returns: &'a [f64],
    lengths: &'a [u64],
    mean_return: f64,
    std_return: f64,
    wall_seconds: f64,
    gif: Option<PathBuf>,
}

fn main() {
    tokengym_experiments::cli::run_main(env!("CARGO_BIN_NAME"), run);
}

/// `runs/x` holds `runs/x/checkpoint/model.safetensors`; accept the run folder too.
fn resolve(path: &std::path::Path) -> PathBuf {
    let inner = path.join("checkpoint");
    if inner.join("model.safetensors").exists() {
        inner
    } else {
        path.to_path_buf()
    }
}

fn run(args: Args) -> Result<()> {
    if args.episodes == 0 {
        bail!("--episodes must be at least 1");
    }
    let device: DeviceChoice = args.device.parse()?;
    let ckpt = resolve(&args.checkpoint);
    let mut agent = AnyAgent::load(&ckpt, device)
        .with_context(|| format!("cannot load an agent from {}", args.checkpoint.display()))?;
    let out = match &args.out {
        Some(o) => o.clone(),
        None => ckpt
            .parent()
            .map(std::path::Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from(".")),
    };
    let env_id = agent.env_id().to_owned();
    let make = agent.make_options().clone();
    let env = tokengym_envs::make_with(&env_id, &make)?;
    let start = Instant::now();
    let (eval, gif) = match args.render {
        Some(Render::Gif) => {
            if !env.render_modes().contains(&RenderMode::RgbArray) {
                bail!("{env_id} cannot render images, so no GIF can be recorded");
            }
            let mut env = RecordVideo::new(env, &out)
                .with_context(|| format!("cannot record into {}", out.display()))?
                .with_episode_trigger(|episode| episode == 0)
                .with_name_prefix(env_id.to_lowercase())?;
            let mut policy = agent.actor().policy(true);
            let eval = evaluate(&mut policy, &mut env, args.episodes, args.seed)?;
            env.finish()?;
            (eval, env.written_paths().first().cloned())
        }
        None => {
            let mut env = env;
            let mut policy = agent.actor().policy(true);
            (
                evaluate(&mut policy, &mut env, args.episodes, args.seed)?,
                None,
            )
        }
    };
    let wall_seconds = start.elapsed().as_secs_f64();
    println!(
        "{env_id} / {} ({} training steps): mean return {:.2} ± {:.2} over {} deterministic episodes",
        agent.algo(),
        agent.progress().steps,
        eval.mean_return(),
        eval.std_return(),
        args.episodes
    );
    if let Some(gif) = &gif {
        println!("first episode: {}", gif.display());
    }
    let report_path = out.join("eval.json");
    write_json(
        &report_path,
        &EvalReport {
            env: &env_id,
            algo: agent.algo(),
            trained_steps: agent.progress().steps,
            episodes: args.episodes,
            seed: args.seed,
            returns: &eval.returns,
            lengths: &eval.lengths,
            mean_return: eval.mean_return(),
            std_return: eval.std_return(),
            wall_seconds,
            gif,
        },
    )
    .with_context(|| format!("cannot write {}", report_path.display()))?;
    Ok(())
}
