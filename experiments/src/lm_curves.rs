//! Curves of `rl-lm` runs over seeds: [`plot_lm_runs`] reads each run's `metrics.csv` and
//! `summary.json` and draws a 2x2 PNG (mean reward, KL to the reference, policy entropy, the
//! reference's perplexity on the responses) with one line per (task, algorithm) group: the mean
//! over the group's runs with a min–max band, each run smoothed by a moving average over updates.
//!
//! ```no_run
//! use std::path::Path;
//! use tokengym_experiments::lm_curves::plot_lm_runs;
//! plot_lm_runs(&["runs/rl-lm-s0", "runs/rl-lm-s1"], 5, Path::new("rl-lm.png"))?;
//! # Ok::<(), anyhow::Error>(())
//! ```

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::plot::{LineChart, save_png_grid};
use crate::seed_bands::{group_series, moving_average};

/// The columns drawn, with their axis labels.
const PANELS: [(&str, &str); 4] = [
    ("mean_reward", "mean reward"),
    ("kl", "KL to the reference (nats / sequence)"),
    ("entropy", "policy entropy (nats / token)"),
    ("ref_perplexity", "reference perplexity of the responses"),
];

/// One `rl-lm` run, read back.
#[derive(Debug, Clone, PartialEq)]
pub struct LmRun {
    /// The run folder.
    pub dir: PathBuf,
    /// `task` of its summary.
    pub task: String,
    /// `algo` of its summary.
    pub algo: String,
    /// Update steps (first column of `metrics.csv`).
    pub steps: Vec<f64>,
    /// Mean reward, KL, entropy and reference perplexity, one value per step each.
    pub columns: Vec<Vec<f64>>,
}

/// Reads the run in `dir` (`metrics.csv` with the `rl-lm` header, `summary.json`).
pub fn load_lm_run(dir: &Path) -> Result<LmRun> {
    let summary_path = dir.join("summary.json");
    let summary: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(&summary_path)
            .with_context(|| format!("cannot read {}", summary_path.display()))?,
    )
    .with_context(|| format!("{} is not JSON", summary_path.display()))?;
    let field = |k: &str| -> Result<String> {
        summary[k]
            .as_str()
            .map(str::to_owned)
            .with_context(|| format!("{} has no {k:?}", summary_path.display()))
    };
    let (task, algo) = (field("task")?, field("algo")?);
    let csv_path = dir.join("metrics.csv");
    let text = std::fs::read_to_string(&csv_path)
        .with_context(|| format!("cannot read {}", csv_path.display()))?;
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap_or_default().split(',').collect();
    let col = |name: &str| -> Result<usize> {
        header.iter().position(|h| *h == name).with_context(|| {
            format!(
                "{} has no {name:?} column (not an rl-lm run?)",
                csv_path.display()
            )
        })
    };
    let step_col = col("step")?;
    let cols = PANELS
        .iter()
        .map(|(name, _)| col(name))
        .collect::<Result<Vec<_>>>()?;
    let mut steps = Vec::new();
    let mut columns = vec![Vec::new(); PANELS.len()];
    for (i, line) in lines.enumerate() {
        let cells: Vec<&str> = line.split(',').collect();
        let num = |c: usize| -> Result<f64> {
            cells
                .get(c)
                .and_then(|v| v.parse::<f64>().ok())
                .with_context(|| format!("{} line {}: bad number", csv_path.display(), i + 2))
        };
        steps.push(num(step_col)?);
        for (out, &c) in columns.iter_mut().zip(&cols) {
            out.push(num(c)?);
        }
    }
    if steps.is_empty() {
        bail!("{} has no rows", csv_path.display());
    }
    Ok(LmRun {
        dir: dir.to_path_buf(),
        task,
        algo,
        steps,
        columns,
    })
}

/// Draws the runs in `dirs` into the PNG `out` (see the module docs), smoothing each run's
/// curves over `window` updates.
pub fn plot_lm_runs<P: AsRef<Path>>(dirs: &[P], window: usize, out: &Path) -> Result<()> {
    if dirs.is_empty() {
        bail!("no run directories given");
    }
    if window == 0 {
        bail!("the moving-average window must be at least 1");
    }
    let runs = dirs
        .iter()
        .map(|d| load_lm_run(d.as_ref()))
        .collect::<Result<Vec<_>>>()?;
    let mut groups: Vec<((&str, &str), Vec<&LmRun>)> = Vec::new();
    for run in &runs {
        let key = (run.task.as_str(), run.algo.as_str());
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, members)) => members.push(run),
            None => groups.push((key, vec![run])),
        }
    }
    let mut charts = Vec::with_capacity(PANELS.len());
    for (i, (_, label)) in PANELS.iter().enumerate() {
        let mut chart = LineChart::new(*label)
            .x_label("update step")
            .y_label(*label);
        for ((task, algo), members) in &groups {
            let curves: Vec<Vec<(f64, f64)>> = members
                .iter()
                .map(|r| {
                    let smooth = moving_average(&r.columns[i], window);
                    r.steps.iter().copied().zip(smooth).collect()
                })
                .collect();
            chart.push(group_series(format!("{algo} {task}"), &curves, 200)?);
        }
        charts.push(chart);
    }
    save_png_grid(out, &charts, 2, (1400, 900))
        .with_context(|| format!("drawing {}", out.display()))
}
