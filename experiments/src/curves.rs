//! Learning curves of run directories: per run a curve over environment steps, per group of
//! runs with the same (env, algo) the mean over runs with a min–max band, drawn with
//! [`crate::plot`].
//!
//! - [`Metric::Return`]: the moving average (over `window` episodes) of the training episode
//!   returns, placed at the step each episode ended;
//! - [`Metric::Eval`]: the mean return of the deterministic evaluations (`eval` rows);
//! - [`Metric::Loss`]: policy loss, value loss, entropy and approximate KL of the updates (moving
//!   average over `window` updates), in a 2x2 grid.
//!
//! Runs in a group are drawn as their mean with a min–max band ([`crate::seed_bands`]).

use crate::metrics::{MetricsLog, UpdateStats};
use crate::plot::{LineChart, save_png_grid};
use crate::run_config::RunConfig;
use crate::seed_bands::{group_series, moving_average};
use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};

/// What to draw.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Metric {
    /// Moving average of training episode returns.
    #[default]
    Return,
    /// Deterministic evaluation returns.
    Eval,
    /// Policy loss, value loss, entropy and approximate KL (2x2 grid).
    Loss,
    /// `rl-lm` runs: mean reward, KL, entropy and reference perplexity per update (2x2 grid,
    /// see [`crate::lm_curves`]).
    Lm,
}

/// Options of [`plot_runs`].
#[derive(Debug, Clone, PartialEq)]
pub struct PlotOptions {
    /// What to draw.
    pub metric: Metric,
    /// Moving-average window: episodes for [`Metric::Return`], updates for [`Metric::Loss`].
    pub window: usize,
    /// The title (default: the environments and what is drawn).
    pub title: Option<String>,
    /// Most points of the common step grid.
    pub points: usize,
}

impl Default for PlotOptions {
    fn default() -> Self {
        PlotOptions {
            metric: Metric::Return,
            window: 100,
            title: None,
            points: 200,
        }
    }
}

/// One run directory, read back.
#[derive(Debug, Clone, PartialEq)]
pub struct RunData {
    /// The run directory.
    pub dir: PathBuf,
    /// Registry id of the environment.
    pub env: String,
    /// Algorithm name.
    pub algo: String,
    /// Its `metrics.csv`.
    pub log: MetricsLog,
}

/// Reads `dir/metrics.csv` and the run's env and algo from `dir/config.toml` (or, without
/// one, from `dir/summary.json`).
pub fn load_run(dir: &Path) -> Result<RunData> {
    if !dir.is_dir() {
        bail!("run directory {} does not exist", dir.display());
    }
    let config = dir.join("config.toml");
    let summary = dir.join("summary.json");
    let (env, algo) = if config.exists() {
        let cfg = RunConfig::from_file(&config)?;
        (cfg.env, cfg.algo.to_string())
    } else if summary.exists() {
        let text = std::fs::read_to_string(&summary)
            .with_context(|| format!("reading {}", summary.display()))?;
        let v: serde_json::Value = serde_json::from_str(&text)
            .with_context(|| format!("malformed {}", summary.display()))?;
        let field = |k: &str| {
            v.get(k)
                .and_then(|x| x.as_str())
                .map(str::to_owned)
                .with_context(|| format!("{} has no string field {k:?}", summary.display()))
        };
        (field("env")?, field("algo")?)
    } else {
        bail!(
            "{} has neither config.toml nor summary.json to say which env and algo it ran",
            dir.display()
        );
    };
    let log = MetricsLog::read(&dir.join("metrics.csv"))?;
    Ok(RunData {
        dir: dir.to_path_buf(),
        env,
        algo,
        log,
    })
}

/// The curve of one run: `(step, value)` sorted by step, smoothed over `window` entries
/// (`window` 1: raw values).
fn run_curve(pairs: impl Iterator<Item = (u64, f64)>, window: usize) -> Vec<(f64, f64)> {
    let mut pairs: Vec<(u64, f64)> = pairs.collect();
    pairs.sort_by_key(|p| p.0);
    let ys: Vec<f64> = pairs.iter().map(|p| p.1).collect();
    let smooth = moving_average(&ys, window);
    pairs
        .iter()
        .zip(smooth)
        .map(|(p, y)| (p.0 as f64, y))
        .collect()
}

/// Runs grouped by (env, algo), in order of first appearance.
fn groups(runs: &[RunData]) -> Vec<((&str, &str), Vec<&RunData>)> {
    let mut out: Vec<((&str, &str), Vec<&RunData>)> = Vec::new();
    for run in runs {
        let key = (run.env.as_str(), run.algo.as_str());
        match out.iter_mut().find(|(k, _)| *k == key) {
            Some((_, members)) => members.push(run),
            None => out.push((key, vec![run])),
        }
    }
    out
}

/// Draws the runs in `dirs` into the PNG `out` (see the module documentation): one line per
/// (env, algo) group, with a min–max band when the group has several runs.
pub fn plot_runs<P: AsRef<Path>>(dirs: &[P], opts: &PlotOptions, out: &Path) -> Result<()> {
    if dirs.is_empty() {
        bail!("no run directories given");
    }
    if opts.window == 0 {
        bail!("the moving-average window must be at least 1");
    }
    if opts.metric == Metric::Lm {
        return crate::lm_curves::plot_lm_runs(dirs, opts.window, out);
    }
    let runs = dirs
        .iter()
        .map(|d| load_run(d.as_ref()))
        .collect::<Result<Vec<_>>>()?;
    let groups = groups(&runs);
    let one_env = groups.iter().all(|((e, _), _)| *e == groups[0].0.0);
    let label = |(env, algo): (&str, &str)| {
        if one_env {
            algo.to_owned()
        } else {
            format!("{algo} {env}")
        }
    };
    let env_title = if one_env {
        groups[0].0.0.to_owned()
    } else {
        let mut all: Vec<&str> = groups.iter().map(|((e, _), _)| *e).collect();
        all.sort_unstable();
        all.dedup();
        all.join(", ")
    };
    let charts = match opts.metric {
        Metric::Return | Metric::Eval => {
            let eval = opts.metric == Metric::Eval;
            let mut chart = LineChart::new(opts.title.clone().unwrap_or_else(|| {
                if eval {
                    format!("{env_title}: deterministic evaluation return")
                } else {
                    format!(
                        "{env_title}: episode return (moving average of {} episodes)",
                        opts.window
                    )
                }
            }))
            .x_label("environment steps")
            .y_label(if eval {
                "mean evaluation return"
            } else {
                "episode return"
            });
            for (key, members) in &groups {
                let mut curves = Vec::with_capacity(members.len());
                for run in members {
                    let curve = if eval {
                        run_curve(run.log.eval_returns(), 1)
                    } else {
                        run_curve(run.log.episode_returns(), opts.window)
                    };
                    if curve.is_empty() {
                        bail!(
                            "{} has no {} rows in metrics.csv",
                            run.dir.display(),
                            if eval { "eval" } else { "episode" }
                        );
                    }
                    curves.push(curve);
                }
                chart.push(group_series(label(*key), &curves, opts.points)?);
            }
            vec![chart]
        }
        Metric::Loss => {
            type Field = fn(&UpdateStats) -> Option<f64>;
            let fields: [(&str, Field); 4] = [
                ("policy loss", |u| u.policy_loss),
                ("value loss", |u| u.value_loss),
                ("entropy", |u| u.entropy),
                ("approximate KL", |u| u.approx_kl),
            ];
            let mut charts = Vec::new();
            for (name, field) in fields {
                let title = match &opts.title {
                    Some(t) => format!("{t}: {name}"),
                    None => format!("{env_title}: {name}"),
                };
                let mut chart = LineChart::new(title)
                    .x_label("environment steps")
                    .y_label(name);
                let mut any = false;
                for (key, members) in &groups {
                    let curves: Vec<Vec<(f64, f64)>> = members
                        .iter()
                        .map(|run| {
                            let values =
                                run.log.updates().filter_map(|(s, u)| Some((s, field(u)?)));
                            run_curve(values, opts.window)
                        })
                        .filter(|c| !c.is_empty())
                        .collect();
                    if !curves.is_empty() {
                        chart.push(group_series(label(*key), &curves, opts.points)?);
                        any = true;
                    }
                }
                if any {
                    charts.push(chart);
                }
            }
            if charts.is_empty() {
                bail!("none of the runs has update rows with losses in metrics.csv");
            }
            charts
        }
        Metric::Lm => return crate::lm_curves::plot_lm_runs(dirs, opts.window, out),
    };
    let (cols, size) = if charts.len() == 1 {
        (1, (1000, 600))
    } else {
        (2, (1400, 900))
    };
    save_png_grid(out, &charts, cols, size).with_context(|| format!("drawing {}", out.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run_config::{Algo, RunConfig};

    fn fake_run(root: &Path, name: &str, algo: Algo, env: &str, slope: f64) -> PathBuf {
        let dir = root.join(name);
        let mut cfg = RunConfig::new(algo, env, 1000);
        if algo == Algo::Reinforce {
            cfg = RunConfig::from_toml_str(&format!(
                "env = \"{env}\"\nalgo = \"reinforce\"\ntotal_episodes = 50\n"
            ))
            .unwrap();
        }
        cfg.write(&dir.join("config.toml")).unwrap();
        let mut log = MetricsLog::new();
        for i in 1..=50u64 {
            log.push_episode(i * 20, i as f64 * 0.01, slope * i as f64, 20);
            if i % 10 == 0 {
                let stats = UpdateStats {
                    policy_loss: Some(-0.01 * i as f64),
                    value_loss: Some(1.0 / i as f64),
                    entropy: Some(0.7),
                    approx_kl: (algo == Algo::Ppo).then_some(0.01),
                    ..UpdateStats::default()
                };
                log.push_update(i * 20, 0.0, &stats);
                log.push_eval(i * 20, 0.0, slope * i as f64, 1.0);
            }
        }
        log.flush(&dir.join("metrics.csv")).unwrap();
        dir
    }

    #[test]
    fn plots_groups_of_runs_for_every_metric() {
        let root = std::env::temp_dir().join(format!("tg-curves-{}", std::process::id()));
        let dirs = [
            fake_run(&root, "ppo-s0", Algo::Ppo, "CartPole-v1", 1.0),
            fake_run(&root, "ppo-s1", Algo::Ppo, "CartPole-v1", 2.0),
            fake_run(&root, "rf-s0", Algo::Reinforce, "CartPole-v1", 0.5),
        ];
        let runs: Vec<RunData> = dirs.iter().map(|d| load_run(d).unwrap()).collect();
        let g = groups(&runs);
        assert_eq!(g.len(), 2);
        assert_eq!((g[0].0, g[0].1.len()), (("CartPole-v1", "ppo"), 2));
        for metric in [Metric::Return, Metric::Eval, Metric::Loss] {
            let out = root.join(format!("{metric:?}.png"));
            let opts = PlotOptions {
                metric,
                window: 5,
                ..PlotOptions::default()
            };
            plot_runs(&dirs, &opts, &out).unwrap();
            let bytes = std::fs::read(&out).unwrap();
            assert!(
                bytes.starts_with(b"\x89PNG") && bytes.len() > 10_000,
                "{metric:?}"
            );
        }
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn bad_input_is_a_clear_error() {
        let root = std::env::temp_dir().join(format!("tg-curves-bad-{}", std::process::id()));
        let out = root.join("x.png");
        let msg = |dirs: &[PathBuf], opts: &PlotOptions| {
            format!("{:#}", plot_runs(dirs, opts, &out).unwrap_err())
        };
        let opts = PlotOptions::default();
        let e = msg(&[root.join("missing")], &opts);
        assert!(e.contains("missing") && e.contains("does not exist"), "{e}");
        let run = fake_run(&root, "r", Algo::Ppo, "CartPole-v1", 1.0);
        std::fs::write(run.join("metrics.csv"), "kind,step\n").unwrap();
        let e = msg(std::slice::from_ref(&run), &opts);
        assert!(e.contains("metrics.csv") && e.contains("line 1"), "{e}");
        MetricsLog::new().flush(&run.join("metrics.csv")).unwrap();
        let e = msg(std::slice::from_ref(&run), &opts);
        assert!(e.contains("no episode rows"), "{e}");
        let loss = PlotOptions {
            metric: Metric::Loss,
            ..PlotOptions::default()
        };
        assert!(msg(std::slice::from_ref(&run), &loss).contains("update rows"));
        std::fs::remove_file(run.join("config.toml")).unwrap();
        let e = msg(std::slice::from_ref(&run), &opts);
        assert!(e.contains("neither config.toml nor summary.json"), "{e}");
        // Without config.toml, summary.json names env and algo.
        std::fs::write(
            run.join("summary.json"),
            r#"{"env": "Acrobot-v1", "algo": "ppo"}"#,
        )
        .unwrap();
        let data = load_run(&run).unwrap();
        assert_eq!(
            (data.env.as_str(), data.algo.as_str()),
            ("Acrobot-v1", "ppo")
        );
        std::fs::write(run.join("summary.json"), r#"{"env": 3}"#).unwrap();
        assert!(msg(std::slice::from_ref(&run), &opts).contains("\"env\""));
        assert!(msg(&[], &opts).contains("no run directories"));
        let zero = PlotOptions {
            window: 0,
            ..PlotOptions::default()
        };
        assert!(msg(&[run], &zero).contains("window"));
        assert!(!out.exists());
        std::fs::remove_dir_all(&root).unwrap();
    }
}
