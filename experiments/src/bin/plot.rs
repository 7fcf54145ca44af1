//! `plot`: learning curves of run directories as a PNG. Runs with the same environment and
//! algorithm (read from each run's `config.toml`, else `summary.json`) form one group, drawn as
//! the mean over its runs with a min–max band.
//!
//! ```text
//! plot runs/ppo-cartpole-s0 runs/ppo-cartpole-s1 runs/reinforce-cartpole-s0 -o cartpole.png
//! plot runs/ppo-pendulum-s* -o pendulum-eval.png --metric eval
//! plot runs/ppo-cartpole-s0 -o losses.png --metric loss --window 10
//! plot runs/rl-lm-sentiment-s* -o rl-lm.png --metric lm --window 5
//! ```

use anyhow::Result;
use clap::Parser;
use std::path::PathBuf;
use tokengym_experiments::curves::{Metric, PlotOptions, plot_runs};

/// Draws learning curves (mean and min–max band over seeds) of training run directories.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// Run directories (each with metrics.csv and config.toml or summary.json).
    #[arg(required = true)]
    runs: Vec<PathBuf>,
    /// Output PNG file.
    #[arg(short, long)]
    out: PathBuf,
    /// What to draw: training episode returns, evaluation returns, or losses (2x2 grid).
    #[arg(long, value_enum, default_value_t = Metric::Return)]
    metric: Metric,
    /// Moving-average window: episodes for `return`, updates for `loss` and `lm`.
    #[arg(long, default_value_t = 100)]
    window: usize,
    /// Chart title (default: the environments and the metric).
    #[arg(long)]
    title: Option<String>,
    /// Most points of the common step grid the runs are resampled onto.
    #[arg(long, default_value_t = 200)]
    points: usize,
}

fn main() {
    tokengym_experiments::cli::run_main(env!("CARGO_BIN_NAME"), run);
}

fn run(args: Args) -> Result<()> {
    let opts = PlotOptions {
        metric: args.metric,
        window: args.window,
        title: args.title,
        points: args.points,
    };
    plot_runs(&args.runs, &opts, &args.out)?;
    println!("wrote {}", args.out.display());
    Ok(())
}
