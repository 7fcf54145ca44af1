//! The outputs of `pretrain-lm`: its `metrics.csv` (one row per validation) and `loss.png`.

use std::path::Path;

use anyhow::{Context, Result, anyhow, bail};

use crate::plot::{LineChart, Series};
use crate::run_dir::write_atomic;

/// One row of `metrics.csv`: a validation.
#[derive(Debug, Clone, Copy)]
pub struct Row {
    /// Optimizer steps done.
    pub step: u64,
    /// Mean training loss since the previous validation (nats/token).
    pub train_loss: f64,
    /// Validation loss (nats/token).
    pub val_loss: f64,
    /// Validation perplexity.
    pub val_ppl: f64,
    /// Learning rate of the last step.
    pub lr: f64,
    /// Training tokens per second since the previous validation.
    pub tokens_per_second: f64,
}

/// The header of `metrics.csv`.
pub const CSV_HEADER: &str = "step,train_loss,val_loss,val_ppl,lr,tokens_per_second";

/// The rows of `metrics.csv` at `path` up to step `up_to` (none when the file does not
/// exist); a malformed row is an error naming the file.
pub fn read_metrics(path: &Path, up_to: u64) -> Result<Vec<Row>> {
    if !path.exists() {
        return Ok(Vec::new());
    }
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the metrics text {}", path.display()))?;
    let mut rows = Vec::new();
    for line in text.lines().skip(1).filter(|l| !l.is_empty()) {
        let f: Vec<f64> = line
            .split(',')
            .map(str::parse)
            .collect::<std::result::Result<_, _>>()
            .with_context(|| format!("{}: bad row {line:?}", path.display()))?;
        let [step, train_loss, val_loss, val_ppl, lr, tokens_per_second] = f[..] else {
            bail!("{}: bad row {line:?}", path.display());
        };
        if step as u64 <= up_to {
            rows.push(Row {
                step: step as u64,
                train_loss,
                val_loss,
                val_ppl,
                lr,
                tokens_per_second,
            });
        }
    }
    Ok(rows)
}

/// Writes `rows` as `metrics.csv` at `path`, atomically.
pub fn write_metrics(path: &Path, rows: &[Row]) -> Result<()> {
    let mut text = String::from(CSV_HEADER);
    text.push('\n');
    for r in rows {
        text.push_str(&format!(
            "{},{},{},{},{},{}\n",
            r.step, r.train_loss, r.val_loss, r.val_ppl, r.lr, r.tokens_per_second
        ));
    }
    write_atomic(path, text.as_bytes()).with_context(|| format!("cannot write {}", path.display()))
}

/// Steps averaged in the per-step training-loss curve of loss.png.
pub const SMOOTHING: usize = 10;

/// loss.png: the training loss per step (running mean over [`SMOOTHING`] steps; steps before
/// a resume come from metrics.csv, one point per validation) and the validation loss.
pub fn plot_losses(path: &Path, rows: &[Row], step_losses: &[(u64, f64)]) -> Result<()> {
    let first = step_losses.first().map_or(u64::MAX, |p| p.0);
    let mut train: Vec<(f64, f64)> = rows
        .iter()
        .filter(|r| r.train_loss.is_finite() && r.step < first)
        .map(|r| (r.step as f64, r.train_loss))
        .collect();
    let mut sum = 0.0;
    for (i, &(step, loss)) in step_losses.iter().enumerate() {
        sum += loss;
        if i >= SMOOTHING {
            sum -= step_losses[i - SMOOTHING].1;
        }
        train.push((step as f64, sum / (i + 1).min(SMOOTHING) as f64));
    }
    let valid: Vec<(f64, f64)> = rows.iter().map(|r| (r.step as f64, r.val_loss)).collect();
    let chart = LineChart::new("Language-model pre-training")
        .x_label("step")
        .y_label("cross-entropy (nats/token)")
        .series(Series::new(
            format!("train loss (mean of {SMOOTHING} steps)"),
            train,
        ))
        .series(Series::new("validation loss", valid));
    chart.save_png(path).map_err(|e| anyhow!("loss.png: {e}"))
}
