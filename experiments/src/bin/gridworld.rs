//! `gridworld`: SARSA, expected SARSA and Q-learning on Sutton & Barto's cliff walking
//! (Example 6.6, Figure 6.4), an evaluation report against a random policy and the optimum, and
//! (with `--planning`) the value-iteration utilities of Russell & Norvig's 4x3 world.
//!
//! ```text
//! gridworld --episodes 500 --seeds 50 --out runs/gridworld
//! gridworld --planning
//! ```

use anyhow::{Context, Result};
use clap::Parser;
use serde::Serialize;
use std::fmt::Write as _;
use std::path::PathBuf;
use tokengym::agent::AgentPolicy;
use tokengym::evaluation::{Bootstrap, Comparison, ReturnStats, mean, std_dev};
use tokengym::policy::{RandomPolicy, evaluate};
use tokengym::wrappers::TimeLimit;
use tokengym_agents::planning::{PlanningConfig, policy_iteration, value_iteration};
use tokengym_agents::tabular::{TdAgent, TdConfig, TdMethod};
use tokengym_envs::toy::{GridWorld, Mdp};
use tokengym_experiments::plot::{LineChart, Series};
use tokengym_experiments::report::write_report;
use tokengym_experiments::run_dir::{OutDir, write_atomic, write_json};

/// Cliff walking with SARSA vs Q-learning (Sutton & Barto Fig. 6.4), or 4x3-world planning.
#[derive(Parser, Debug, Serialize)]
#[command(version, about)]
struct Args {
    /// Training episodes per run.
    #[arg(long, default_value_t = 500)]
    episodes: usize,
    /// Independent runs (seeds 0..seeds) per algorithm; curves are averaged over them.
    #[arg(long, default_value_t = 50)]
    seeds: u64,
    /// Exploration rate of the epsilon-greedy behaviour policy.
    #[arg(long, default_value_t = 0.1)]
    epsilon: f64,
    /// Step size.
    #[arg(long, default_value_t = 0.5)]
    alpha: f64,
    /// Moving-average window (episodes) of the reward curves.
    #[arg(long, default_value_t = 10)]
    smooth: usize,
    /// Evaluation episodes per trained agent (and per seed of the random policy).
    #[arg(long, default_value_t = 20)]
    eval_episodes: usize,
    /// Step limit of evaluation episodes: a greedy policy that loops (SARSA's sometimes do
    /// after 500 episodes at alpha 0.5) is cut here, and so is the random walk.
    #[arg(long, default_value_t = 1000)]
    eval_max_steps: u64,
    /// Bootstrap resamples of the IQM confidence interval.
    #[arg(long, default_value_t = 2000)]
    resamples: usize,
    /// Output folder.
    #[arg(long, default_value = "runs/gridworld")]
    out: PathBuf,
    /// Replace an earlier run's outputs in --out instead of refusing.
    #[arg(long)]
    overwrite: bool,
    /// Only print (and save) the value-iteration utilities of the 4x3 worlds.
    #[arg(long)]
    planning: bool,
}

const METHODS: [TdMethod; 3] = [
    TdMethod::Sarsa,
    TdMethod::ExpectedSarsa,
    TdMethod::QLearning,
];

/// Row-2 cells along the cliff (columns 1 to 10).
const CLIFF_EDGE: std::ops::RangeInclusive<usize> = 25..=34;

#[derive(Serialize)]
struct MethodSummary {
    method: &'static str,
    /// Mean over seeds of the mean return of the last 100 training episodes.
    online_return_last_100: f64,
    online_return_last_100_std_over_seeds: f64,
    /// Seeds whose greedy path walks along the whole cliff edge.
    greedy_paths_on_cliff_edge: usize,
    /// Seeds whose greedy path keeps off the cliff edge entirely.
    greedy_paths_away_from_edge: usize,
    /// Seeds whose greedy path reaches the goal (the others loop).
    greedy_paths_reaching_goal: usize,
    /// Mean greedy path length (moves) over seeds.
    greedy_path_moves_mean: f64,
    greedy_eval: ReturnStats,
    epsilon_greedy_eval: ReturnStats,
}

#[derive(Serialize)]
struct Summary<'a> {
    config: &'a Args,
    optimal_return: f64,
    methods: Vec<MethodSummary>,
    random_eval: ReturnStats,
}

/// What a cliff-walking run writes into --out (and --overwrite replaces).
const OUTPUTS: &[&str] = &[
    "rewards.png",
    "metrics.csv",
    "paths.txt",
    "report.md",
    "report.png",
    "summary.json",
];

fn main() {
    tokengym_experiments::cli::run_main(env!("CARGO_BIN_NAME"), run);
}

fn run(args: Args) -> Result<()> {
    if args.planning {
        let out_dir = OutDir::new(&args.out, &["planning.txt"]);
        out_dir.check(args.overwrite)?;
        let text = planning_report()?;
        print!("{text}");
        let path = args.out.join("planning.txt");
        write_atomic(&path, text.as_bytes())
            .with_context(|| format!("writing {}", path.display()))?;
        return Ok(());
    }
    anyhow::ensure!(
        args.episodes >= 1 && args.seeds >= 1,
        "need at least one episode and one seed"
    );
    anyhow::ensure!(
        args.smooth >= 1,
        "--smooth must be at least 1 (1: no smoothing), got 0"
    );
    anyhow::ensure!(
        args.eval_episodes >= 1,
        "--eval-episodes must be at least 1"
    );
    let out_dir = OutDir::new(&args.out, OUTPUTS);
    out_dir.check(args.overwrite)?;
    let boot = Bootstrap {
        resamples: args.resamples,
        confidence: 0.95,
        seed: 0,
    };
    let world = GridWorld::cliff_walking();
    let optimum = value_iteration(&world, &PlanningConfig::with_gamma(1.0))?.start_value(&world);

    let mut curves = Vec::new();
    let mut csv = String::from("method,episode,mean_return,std_return,min_return,max_return\n");
    let mut paths_txt = String::new();
    let mut summaries = Vec::new();
    let mut comparison = Comparison::new();
    for method in METHODS {
        let run = train_method(&args, method, &boot)?;
        for (e, column) in transpose(&run.returns).iter().enumerate() {
            let (lo, hi) = column
                .iter()
                .fold((f64::INFINITY, f64::NEG_INFINITY), |a, &r| {
                    (a.0.min(r), a.1.max(r))
                });
            let _ = writeln!(
                csv,
                "{},{},{:.4},{:.4},{},{}",
                method.name(),
                e,
                mean(column).unwrap_or(f64::NAN),
                std_dev(column).unwrap_or(f64::NAN),
                lo,
                hi
            );
        }
        curves.push((method, run.returns.clone()));
        let _ = writeln!(
            paths_txt,
            "{} (seed 0): greedy path, {} moves\n{}\n{} greedy policy (seed 0)\n{}\nover {} seeds: {} greedy paths reach the goal; {} walk along the cliff edge, {} keep away from it\n",
            method.name(),
            run.first_path.len() - 1,
            world.render_path(&run.first_path),
            method.name(),
            world.render_policy(&run.first_policy),
            args.seeds,
            run.reach,
            run.on_edge,
            run.away
        );
        let last: Vec<f64> = run
            .returns
            .iter()
            .map(|r| mean(&r[r.len().saturating_sub(100)..]).unwrap_or(f64::NAN))
            .collect();
        comparison = comparison
            .with(format!("{} (greedy)", method.name()), run.greedy.clone())
            .with(
                format!("{} (eps={})", method.name(), args.epsilon),
                run.eps.clone(),
            );
        summaries.push(MethodSummary {
            method: method.name(),
            online_return_last_100: mean(&last).unwrap_or(f64::NAN),
            online_return_last_100_std_over_seeds: std_dev(&last).unwrap_or(f64::NAN),
            greedy_paths_on_cliff_edge: run.on_edge,
            greedy_paths_away_from_edge: run.away,
            greedy_paths_reaching_goal: run.reach,
            greedy_path_moves_mean: run.path_moves,
            greedy_eval: run.greedy,
            epsilon_greedy_eval: run.eps,
        });
    }

    let random = evaluate_random(&args, &boot)?;
    comparison = comparison
        .with("random", random.clone())
        .random_baseline("random")
        .optimum(optimum);

    out_dir.clear()?;
    reward_chart(&args, &curves).save_png(&args.out.join("rewards.png"))?;
    write_atomic(&args.out.join("metrics.csv"), csv.as_bytes())?;
    write_atomic(&args.out.join("paths.txt"), paths_txt.as_bytes())?;
    let notes = format!(
        "Cliff walking (Sutton & Barto Example 6.6), {} training episodes x {} seeds, alpha {}, epsilon {}, gamma 1. \
         Each trained agent is evaluated for {} episodes greedily and with its epsilon-greedy behaviour policy (no learning); \
         the random policy for {} episodes per seed (at most {} steps each). Optimum: value iteration's V*(start) = {optimum}.",
        args.episodes,
        args.seeds,
        args.alpha,
        args.epsilon,
        args.eval_episodes,
        args.eval_episodes,
        args.eval_max_steps
    );
    write_report(&args.out, "Cliff walking", &comparison, &notes)?;
    let summary = Summary {
        config: &args,
        optimal_return: optimum,
        methods: summaries,
        random_eval: random,
    };
    write_json(&args.out.join("summary.json"), &summary)?;

    print!("{paths_txt}");
    println!("{}", comparison.to_markdown());
    for m in &summary.methods {
        println!(
            "{:<15} online return (last 100 episodes, mean over seeds) {:8.2}",
            m.method, m.online_return_last_100
        );
    }
    println!("wrote {}", args.out.display());
    Ok(())
}

struct MethodRun {
    returns: Vec<Vec<f64>>,
    first_path: Vec<usize>,
    first_policy: Vec<usize>,
    on_edge: usize,
    away: usize,
    reach: usize,
    path_moves: f64,
    greedy: ReturnStats,
    eps: ReturnStats,
}

fn train_method(args: &Args, method: TdMethod, boot: &Bootstrap) -> Result<MethodRun> {
    let mut run = MethodRun {
        returns: Vec::new(),
        first_path: Vec::new(),
        first_policy: Vec::new(),
        on_edge: 0,
        away: 0,
        reach: 0,
        path_moves: 0.0,
        greedy: ReturnStats::from_returns(&[0.0], boot)?,
        eps: ReturnStats::from_returns(&[0.0], boot)?,
    };
    let (mut greedy_runs, mut eps_runs) = (Vec::new(), Vec::new());
    for seed in 0..args.seeds {
        let config = TdConfig {
            alpha: args.alpha,
            epsilon: args.epsilon,
            ..TdConfig::new(method, seed)
        };
        let mut agent = TdAgent::new(GridWorld::cliff_walking(), config)?;
        let episodes = agent.learn_episodes(args.episodes, &mut ())?;
        let env = agent.env();
        run.returns.push(episodes.iter().map(|e| e.ret).collect());
        let policy = agent.q().greedy_policy();
        let path = env.follow(|s| policy[s], 200);
        if CLIFF_EDGE.clone().all(|s| path.contains(&s)) {
            run.on_edge += 1;
        }
        let reached = path.last() == Some(&world_goal(env));
        if reached {
            run.reach += 1;
        }
        if reached && !path.iter().any(|s| CLIFF_EDGE.contains(s)) {
            run.away += 1;
        }
        run.path_moves += (path.len() - 1) as f64 / args.seeds as f64;
        if seed == 0 {
            run.first_path = path;
            run.first_policy = policy;
        }
        let mut eval_env = TimeLimit::new(GridWorld::cliff_walking(), args.eval_max_steps)?;
        let eval_seed = 1_000_000 + seed * 1000;
        for (deterministic, out) in [(true, &mut greedy_runs), (false, &mut eps_runs)] {
            let mut policy = AgentPolicy::new(&mut agent, deterministic);
            out.push(evaluate(&mut policy, &mut eval_env, args.eval_episodes, eval_seed)?.returns);
        }
    }
    run.greedy = ReturnStats::from_runs(&greedy_runs, boot)?;
    run.eps = ReturnStats::from_runs(&eps_runs, boot)?;
    Ok(run)
}

/// The goal cell of cliff walking (bottom right).
fn world_goal(world: &GridWorld) -> usize {
    world.n_states() - 1
}

fn evaluate_random(args: &Args, boot: &Bootstrap) -> Result<ReturnStats> {
    let mut runs = Vec::new();
    for seed in 0..args.seeds {
        let mut env = TimeLimit::new(GridWorld::cliff_walking(), args.eval_max_steps)?;
        let mut policy = RandomPolicy::for_env(&env);
        runs.push(
            evaluate(
                &mut policy,
                &mut env,
                args.eval_episodes,
                1_000_000 + seed * 1000,
            )?
            .returns,
        );
    }
    Ok(ReturnStats::from_runs(&runs, boot)?)
}

fn transpose(runs: &[Vec<f64>]) -> Vec<Vec<f64>> {
    let len = runs.iter().map(Vec::len).min().unwrap_or(0);
    (0..len)
        .map(|e| runs.iter().map(|r| r[e]).collect())
        .collect()
}

/// Trailing moving average over `window` points (shorter at the start).
fn smooth(xs: &[f64], window: usize) -> Vec<f64> {
    let w = window.max(1);
    (0..xs.len())
        .map(|i| {
            let from = (i + 1).saturating_sub(w);
            mean(&xs[from..=i]).unwrap_or(f64::NAN)
        })
        .collect()
}

fn reward_chart(args: &Args, curves: &[(TdMethod, Vec<Vec<f64>>)]) -> LineChart {
    let mut chart = LineChart::new(format!(
        "Cliff walking: sum of rewards per episode ({} seeds, {}-episode moving average)",
        args.seeds, args.smooth
    ))
    .x_label("episode")
    .y_label("sum of rewards during episode (clipped at -100)")
    .y_range(-100.0, 0.0);
    for (method, runs) in curves {
        let means: Vec<f64> = transpose(runs)
            .iter()
            .map(|c| mean(c).unwrap_or(f64::NAN))
            .collect();
        let ys: Vec<f64> = smooth(&means, args.smooth)
            .iter()
            .map(|y| y.max(-100.0))
            .collect();
        chart.push(Series::new(
            method.name(),
            ys.iter().enumerate().map(|(i, &y)| (i as f64 + 1.0, y)),
        ));
    }
    chart
}

/// Value iteration (and a policy-iteration check) on the 4x3 worlds, as text grids.
fn planning_report() -> Result<String> {
    let mut out = String::new();
    let worlds = [
        (
            "deterministic 4x3 world, no step reward, gamma 0.9",
            GridWorld::four_by_three_deterministic(),
            0.9,
        ),
        (
            "stochastic 4x3 world (0.8/0.1/0.1), step reward -0.04, gamma 1 (AIMA Fig. 17.3)",
            GridWorld::four_by_three_stochastic(),
            1.0,
        ),
    ];
    for (label, world, gamma) in worlds {
        let config = PlanningConfig::with_gamma(gamma);
        let vi = value_iteration(&world, &config)?;
        let pi = policy_iteration(&world, &config)?;
        let gap = vi
            .values
            .iter()
            .zip(&pi.values)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        let _ = writeln!(
            out,
            "{label}\nvalue iteration: {} sweeps; policy iteration: {} improvements, max |V_VI - V_PI| = {gap:.2e}\nutilities (top row first; # wall):\n{}greedy policy:\n{}V*(start) = {:.5}\n",
            vi.iterations,
            pi.iterations,
            world.render_values(&vi.values, 3),
            world.render_policy(&vi.policy),
            vi.start_value(&world)
        );
        debug_assert_eq!(world.n_states(), vi.values.len());
    }
    Ok(out)
}
