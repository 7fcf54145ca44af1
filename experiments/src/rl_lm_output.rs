//! What an `rl-lm` run writes besides `summary.json`: `metrics.csv` and the per-step curves as
//! PNGs ([`StepLog`], [`Curves`]) and the before/after samples ([`write_samples`]). The tuned
//! model is saved by the fine-tuner itself (`tokengym_lm::rl::FineTuner`).

use std::fmt::Write as _;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result};
use tokengym::Callback;
use tokengym_lm::rl::{BatchStats, RolloutBatch};

use crate::plot::{LineChart, Series};
use crate::run_dir::write_atomic;

/// The per-step curves of a run and their plots.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Curves {
    /// Mean reward per step.
    pub reward: Vec<f64>,
    /// KL to the starting model per step.
    pub kl: Vec<f64>,
    /// Policy entropy per step.
    pub entropy: Vec<f64>,
    /// Mean response length per step.
    pub length: Vec<f64>,
}

impl Curves {
    /// Appends one step: its mean reward and its batch statistics.
    pub fn push(&mut self, reward: f64, stats: &BatchStats) {
        self.reward.push(reward);
        self.kl.push(stats.kl);
        self.entropy.push(stats.entropy);
        self.length.push(stats.mean_response_len);
    }

    /// Writes `reward.png`, `kl.png`, `entropy.png` and `length.png` into `out`.
    pub fn plot(&self, out: &Path) -> Result<()> {
        let charts: [(&str, &str, &str, &[f64]); 4] = [
            (
                "reward.png",
                "mean reward per step",
                "mean reward",
                &self.reward,
            ),
            (
                "kl.png",
                "KL to the starting model",
                "KL (nats / sequence)",
                &self.kl,
            ),
            (
                "entropy.png",
                "policy entropy",
                "entropy (nats / token)",
                &self.entropy,
            ),
            ("length.png", "response length", "tokens", &self.length),
        ];
        for (file, title, y, ys) in charts {
            plot(&out.join(file), title, y, ys)?;
        }
        Ok(())
    }
}

/// The per-update log of an `rl-lm` run, as a [`Callback`] of the fine-tuner: one row of
/// `metrics.csv` per update (flushed atomically every 10 updates and by [`StepLog::flush`]),
/// the curves, and a progress line unless quiet.
#[derive(Debug)]
pub struct StepLog {
    path: PathBuf,
    quiet: bool,
    csv: String,
    start: Instant,
    /// The curves so far.
    pub curves: Curves,
    error: Option<anyhow::Error>,
}

impl StepLog {
    /// A log writing `out/metrics.csv`.
    pub fn new(out: &Path, quiet: bool) -> Self {
        Self {
            path: out.join("metrics.csv"),
            quiet,
            csv: String::from(
                "step,mean_reward,kl,entropy,ref_perplexity,mean_response_len,loss,wall_seconds\n",
            ),
            start: Instant::now(),
            curves: Curves::default(),
            error: None,
        }
    }

    /// Writes `metrics.csv` now; also reports a write that failed during training.
    pub fn flush(&mut self) -> Result<()> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        write_atomic(&self.path, self.csv.as_bytes())
            .with_context(|| format!("cannot write {}", self.path.display()))
    }

    fn record(&mut self, metrics: &[(&str, f64)]) -> Result<()> {
        let get = |name: &str| {
            metrics
                .iter()
                .find(|(k, _)| *k == name)
                .map(|&(_, v)| v)
                .with_context(|| format!("the fine-tuner reported no {name}"))
        };
        let (step, mean, loss) = (get("step")?, get("mean_reward")?, get("loss")?);
        let stats = BatchStats {
            kl: get("kl")?,
            entropy: get("entropy")?,
            reference_perplexity: get("ref_perplexity")?,
            mean_response_len: get("mean_response_len")?,
        };
        let wall = self.start.elapsed().as_secs_f64();
        let BatchStats {
            kl,
            entropy,
            reference_perplexity: ppl,
            mean_response_len: len,
        } = stats;
        writeln!(
            self.csv,
            "{step},{mean},{kl},{entropy},{ppl},{len},{loss},{wall:.3}"
        )?;
        self.curves.push(mean, &stats);
        if (step as u64).is_multiple_of(10) {
            // A long run leaves its curve behind even if it is stopped.
            write_atomic(&self.path, self.csv.as_bytes())?;
        }
        if !self.quiet {
            println!(
                "step {step:>5}  reward {mean:>8.4}  kl {kl:>8.4}  entropy {entropy:>6.3}  \
                 len {len:>5.1}  loss {loss:>9.4}"
            );
        }
        Ok(())
    }
}

impl Callback for StepLog {
    fn on_update(&mut self, metrics: &[(&str, f64)]) -> ControlFlow<()> {
        match self.record(metrics) {
            Ok(()) => ControlFlow::Continue(()),
            Err(e) => {
                self.error = Some(e);
                ControlFlow::Break(())
            }
        }
    }
}

/// Writes the completions of the same prompts before and after training, with their rewards.
pub fn write_samples(path: &Path, before: &RolloutBatch, after: &RolloutBatch) -> Result<()> {
    let mut text =
        String::from("# completions of fixed prompts, same sampling seed before and after\n");
    for i in 0..before.len().min(after.len()) {
        writeln!(text, "prompt: {:?}", before.prompts[i])?;
        writeln!(
            text,
            "  before ({:+.3}): {:?}",
            before.reward_values[i], before.completions[i]
        )?;
        writeln!(
            text,
            "  after  ({:+.3}): {:?}",
            after.reward_values[i], after.completions[i]
        )?;
    }
    write_atomic(path, text.as_bytes())?;
    Ok(())
}

fn plot(path: &Path, title: &str, y: &str, ys: &[f64]) -> Result<()> {
    LineChart::new(title)
        .x_label("step")
        .y_label(y)
        .series(Series::from_ys(y, ys))
        .save_png(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}
