//! `bandit`: the 10-armed testbed of Sutton & Barto (chapter 2, Figure 2.2).
//!
//! Runs several bandit agents on `--runs` independent bandit problems of `--steps` pulls each
//! (all cores; the numbers do not depend on the thread count) and writes to `--out`:
//! `average_reward.png`, `optimal_action.png` (% optimal action per step, the book's
//! Figure 2.2), `single_run.png` (run 0: cumulative optimal-action rate and running average
//! reward), `metrics.csv` (one row per step and agent) and `summary.json`.
//!
//! ```text
//! bandit --runs 2000 --steps 1000 --seed 0 --out runs/bandit
//! bandit --agents greedy,eps:0.1,ucb:2 --nonstationary --out runs/bandit-walk
//! ```

use anyhow::{Result, bail};
use clap::Parser;
use serde::Serialize;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::PathBuf;
use std::time::Instant;
use tokengym_agents::bandit::BanditAgentConfig;
use tokengym_agents::bandit::testbed::{AgentCurves, TestbedConfig, TestbedResult, run_testbed};
use tokengym_envs::toy::bandit::BanditConfig;
use tokengym_experiments::plot::{LineChart, Series, save_png_grid};
use tokengym_experiments::run_dir::{OutDir, write_atomic, write_json};

/// Steps averaged for the "final" numbers of the summary.
const FINAL_WINDOW: usize = 100;

/// The k-armed bandit testbed (Sutton & Barto, Figure 2.2): average reward and % optimal action
/// of several agents over many independent runs.
#[derive(Parser, Debug)]
#[command(version)]
struct Args {
    /// Independent bandit problems (runs); run r uses seed + r.
    #[arg(long, default_value_t = 2000)]
    runs: usize,
    /// Pulls per run.
    #[arg(long, default_value_t = 1000)]
    steps: usize,
    /// Base seed.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Output folder.
    #[arg(long, default_value = "runs/bandit")]
    out: PathBuf,
    /// Replace an earlier run's outputs in --out instead of refusing.
    #[arg(long)]
    overwrite: bool,
    /// Comma-separated agents: greedy, eps:E, eps-const:E:A, optimistic:Q1, optimistic:Q1:E, ucb:C,
    /// gradient:A, gradient-nobaseline:A.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "greedy,eps:0.01,eps:0.1,optimistic:5,ucb:2,gradient:0.1"
    )]
    agents: Vec<BanditAgentConfig>,
    /// Number of arms.
    #[arg(long, default_value_t = 10)]
    k: usize,
    /// Mean of the true values q*(a) (the book's gradient-bandit figure uses 4).
    #[arg(long, default_value_t = 0.0, allow_negative_numbers = true)]
    value_mean: f64,
    /// Standard deviation of the true values q*(a) (0: all arms start equal, as in Exercise 2.5).
    #[arg(long, default_value_t = 1.0)]
    value_std: f64,
    /// Standard deviation of the rewards around q*(a) (0: deterministic rewards).
    #[arg(long, default_value_t = 1.0)]
    reward_std: f64,
    /// Let every q*(a) take an N(0, walk_std²) random-walk step after each pull.
    #[arg(long)]
    nonstationary: bool,
    /// Standard deviation of the random walk (with --nonstationary).
    #[arg(long, default_value_t = 0.01)]
    walk_std: f64,
    /// Worker threads (0: all cores). Does not change the results.
    #[arg(long, default_value_t = 0)]
    threads: usize,
}

#[derive(Serialize)]
struct AgentSummary<'a> {
    label: &'a str,
    config: BanditAgentConfig,
    /// Mean reward over the last `final_window` steps.
    final_average_reward: f64,
    /// Fraction of optimal pulls over the last `final_window` steps.
    final_optimal_fraction: f64,
    /// Mean reward over all steps and runs.
    overall_average_reward: f64,
    /// Fraction of optimal pulls over all steps and runs.
    overall_optimal_fraction: f64,
}

#[derive(Serialize)]
struct Summary<'a> {
    testbed: &'a TestbedConfig,
    final_window: usize,
    agents: Vec<AgentSummary<'a>>,
    wall_seconds: f64,
    files: [&'static str; 5],
}

/// What a run writes into --out (and --overwrite replaces).
const OUTPUTS: &[&str] = &[
    "average_reward.png",
    "optimal_action.png",
    "single_run.png",
    "metrics.csv",
    "summary.json",
];

fn main() {
    tokengym_experiments::cli::run_main(env!("CARGO_BIN_NAME"), run);
}

fn run(args: Args) -> Result<()> {
    if args.agents.is_empty() {
        bail!("--agents must name at least one agent");
    }
    let testbed = TestbedConfig {
        runs: args.runs,
        steps: args.steps,
        seed: args.seed,
        bandit: BanditConfig {
            k: args.k,
            value_mean: args.value_mean,
            value_std: args.value_std,
            reward_std: args.reward_std,
            stationary: !args.nonstationary,
            walk_std: args.walk_std,
        },
        threads: args.threads,
    };
    let out_dir = OutDir::new(&args.out, OUTPUTS);
    out_dir.check(args.overwrite)?;
    let start = Instant::now();
    let result = run_testbed(&testbed, &args.agents)?;
    let wall_seconds = start.elapsed().as_secs_f64();
    out_dir.clear()?;

    write_plots(&args, &result)?;
    write_atomic(
        &args.out.join("metrics.csv"),
        metrics_csv(&result).as_bytes(),
    )?;
    let summary = Summary {
        testbed: &result.config,
        final_window: FINAL_WINDOW,
        agents: result.agents.iter().map(summarize).collect(),
        wall_seconds,
        files: [
            "average_reward.png",
            "optimal_action.png",
            "single_run.png",
            "metrics.csv",
            "summary.json",
        ],
    };
    write_json(&args.out.join("summary.json"), &summary)?;

    let mut report = format!(
        "{} runs x {} steps, {} agents, {:.2} s\n{:<32} {:>14} {:>12}\n",
        testbed.runs,
        testbed.steps,
        result.agents.len(),
        wall_seconds,
        "agent",
        "final reward",
        "% optimal"
    );
    for a in &summary.agents {
        let _ = writeln!(
            report,
            "{:<32} {:>14.3} {:>11.1}%",
            a.label,
            a.final_average_reward,
            100.0 * a.final_optimal_fraction
        );
    }
    let _ = writeln!(
        report,
        "(last {FINAL_WINDOW} steps) -> {}",
        args.out.display()
    );
    // A closed stdout (`bandit | head`) is not an error: the files are written.
    let _ = std::io::stdout().write_all(report.as_bytes());
    Ok(())
}

fn summarize(a: &AgentCurves) -> AgentSummary<'_> {
    AgentSummary {
        label: &a.label,
        config: a.config,
        final_average_reward: AgentCurves::tail_mean(&a.mean_reward, FINAL_WINDOW),
        final_optimal_fraction: AgentCurves::tail_mean(&a.optimal_fraction, FINAL_WINDOW),
        overall_average_reward: AgentCurves::tail_mean(&a.mean_reward, usize::MAX),
        overall_optimal_fraction: AgentCurves::tail_mean(&a.optimal_fraction, usize::MAX),
    }
}

fn metrics_csv(result: &TestbedResult) -> String {
    let mut csv = String::from("step,agent,average_reward,optimal_fraction\n");
    for t in 0..result.config.steps {
        for a in &result.agents {
            let _ = writeln!(
                csv,
                "{},\"{}\",{},{}",
                t + 1,
                a.label.replace('"', "\"\""),
                a.mean_reward[t],
                a.optimal_fraction[t]
            );
        }
    }
    csv
}

/// Running mean of `values` (element t is the mean of the first t + 1).
fn running_mean(values: impl IntoIterator<Item = f64>) -> Vec<f64> {
    let mut total = 0.0;
    values
        .into_iter()
        .enumerate()
        .map(|(i, v)| {
            total += v;
            total / (i + 1) as f64
        })
        .collect()
}

fn write_plots(args: &Args, result: &TestbedResult) -> Result<()> {
    let runs = result.config.runs;
    let k = result.config.bandit.k;
    let mut reward = LineChart::new(format!("Average reward ({k}-armed testbed, {runs} runs)"))
        .x_label("step")
        .y_label("average reward");
    let mut optimal = LineChart::new(format!("% optimal action ({k}-armed testbed, {runs} runs)"))
        .x_label("step")
        .y_label("% optimal action")
        .y_range(0.0, 100.0);
    let mut single_optimal = LineChart::new("Run 0: cumulative % optimal action")
        .x_label("step")
        .y_label("% optimal so far")
        .y_range(0.0, 100.0);
    let mut single_reward = LineChart::new("Run 0: running average reward")
        .x_label("step")
        .y_label("average reward so far");
    for a in &result.agents {
        reward.push(Series::from_ys(&a.label, &a.mean_reward));
        let pct: Vec<f64> = a.optimal_fraction.iter().map(|f| 100.0 * f).collect();
        optimal.push(Series::from_ys(&a.label, &pct));
        let cum = running_mean(
            a.first_run_optimal
                .iter()
                .map(|&o| if o { 100.0 } else { 0.0 }),
        );
        single_optimal.push(Series::from_ys(&a.label, &cum));
        single_reward.push(Series::from_ys(
            &a.label,
            &running_mean(a.first_run_rewards.iter().copied()),
        ));
    }
    reward.save_png(&args.out.join("average_reward.png"))?;
    optimal.save_png(&args.out.join("optimal_action.png"))?;
    save_png_grid(
        &args.out.join("single_run.png"),
        &[single_optimal, single_reward],
        1,
        (1000, 1000),
    )?;
    Ok(())
}
