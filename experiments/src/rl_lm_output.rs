//! What an `rl-lm` run writes besides `metrics.csv` and `summary.json`: the per-step curves
//! as PNGs ([`Curves`]), the before/after samples ([`write_samples`]) and the tuned model
//! ([`save_model`]).

use std::fmt::Write as _;
use std::fs;
use std::path::Path;

use anyhow::{Context, Result};
use tokengym_lm::model::GptConfig;
use tokengym_lm::model::save_gpt;
use tokengym_lm::pretrain::{STATE_FILE, TOKENIZER_FILE};
use tokengym_lm::rl::{BatchStats, FrozenGpt, RolloutBatch};

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

/// Saves the GPT's variables of `vs` (not a PPO value head or a learned baseline) with the
/// source checkpoint's tokenizer and trainer state to `dir`, replacing it atomically (written
/// next to it, renamed).
pub fn save_model(
    vs: &tch::nn::VarStore,
    cfg: &GptConfig,
    source: &Path,
    dir: &Path,
) -> Result<()> {
    let snapshot = FrozenGpt::copy_of(vs, cfg)?;
    let tmp = dir.with_extension("tmp");
    let _ = fs::remove_dir_all(&tmp);
    save_gpt(&tmp, snapshot.var_store(), cfg)?;
    for file in [TOKENIZER_FILE, STATE_FILE] {
        let src = source.join(file);
        if src.is_file() {
            fs::copy(&src, tmp.join(file))
                .with_context(|| format!("cannot copy {}", src.display()))?;
        }
    }
    let old = dir.with_extension("old");
    let _ = fs::remove_dir_all(&old);
    if dir.exists() {
        fs::rename(dir, &old).with_context(|| format!("cannot move {}", dir.display()))?;
    }
    fs::rename(&tmp, dir)
        .with_context(|| format!("cannot move the new checkpoint to {}", dir.display()))?;
    let _ = fs::remove_dir_all(&old);
    Ok(())
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
