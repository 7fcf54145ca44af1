//! The metrics log of a training run (`metrics.csv`) and its summary (`summary.json`).
//!
//! `metrics.csv` is one long-format table with the header [`HEADER`]. The `kind` column says
//! which cells a row fills; the others are empty:
//!
//! - `episode`: `episode_return`, `episode_length` (one row per finished training episode);
//! - `update`: the losses and statistics of one policy update ([`UpdateStats`]);
//! - `eval`: `eval_mean_return`, `eval_std_return` of a deterministic evaluation.
//!
//! Every row has `step` (environment steps so far, summed over parallel environments) and
//! `wall_seconds` (since the start of training).
//!
//! ```
//! use tokengym_experiments::metrics::{MetricsLog, RowKind, UpdateStats};
//! let mut log = MetricsLog::new();
//! log.push_episode(120, 0.5, 120.0, 120);
//! log.push_update(256, 0.9, &UpdateStats { policy_loss: Some(-0.01), ..Default::default() });
//! log.push_eval(256, 1.0, 500.0, 0.0);
//! let path = std::env::temp_dir().join(format!("tg-metrics-doc-{}.csv", std::process::id()));
//! log.flush(&path)?;
//! let back = MetricsLog::read(&path)?;
//! assert_eq!(back, log);
//! assert_eq!(back.rows()[1].kind, RowKind::Update);
//! # std::fs::remove_file(&path).ok();
//! # Ok::<(), anyhow::Error>(())
//! ```

use crate::run_dir::{write_atomic, write_json};
use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;
use std::path::Path;

/// The header line of `metrics.csv` (without the newline).
pub const HEADER: &str = "kind,step,wall_seconds,episode_return,episode_length,policy_loss,\
value_loss,entropy,approx_kl,clip_fraction,explained_variance,learning_rate,clip_range,\
grad_norm,steps_per_second,eval_mean_return,eval_std_return";

/// Number of columns of `metrics.csv`.
const COLUMNS: usize = 17;

/// Which kind of event a row records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RowKind {
    /// A finished training episode.
    Episode,
    /// A policy update.
    Update,
    /// A deterministic evaluation.
    Eval,
}

impl RowKind {
    /// The text of the `kind` column.
    pub fn name(self) -> &'static str {
        match self {
            RowKind::Episode => "episode",
            RowKind::Update => "update",
            RowKind::Eval => "eval",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        [RowKind::Episode, RowKind::Update, RowKind::Eval]
            .into_iter()
            .find(|k| k.name() == s)
    }
}

/// The statistics of one policy update; `None` cells stay empty (e.g. REINFORCE has no
/// `approx_kl`, `clip_fraction` or `clip_range`).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct UpdateStats {
    /// Policy (surrogate) loss.
    pub policy_loss: Option<f64>,
    /// Value-function loss.
    pub value_loss: Option<f64>,
    /// Mean entropy of the policy.
    pub entropy: Option<f64>,
    /// Approximate KL divergence between the old and the new policy.
    pub approx_kl: Option<f64>,
    /// Fraction of samples whose ratio was clipped.
    pub clip_fraction: Option<f64>,
    /// Explained variance of the value predictions.
    pub explained_variance: Option<f64>,
    /// Learning rate used by the update.
    pub learning_rate: Option<f64>,
    /// Clip range used by the update.
    pub clip_range: Option<f64>,
    /// Gradient norm before clipping.
    pub grad_norm: Option<f64>,
    /// Environment steps per second of wall time so far.
    pub steps_per_second: Option<f64>,
}

impl UpdateStats {
    fn cells(&self) -> [Option<f64>; 10] {
        [
            self.policy_loss,
            self.value_loss,
            self.entropy,
            self.approx_kl,
            self.clip_fraction,
            self.explained_variance,
            self.learning_rate,
            self.clip_range,
            self.grad_norm,
            self.steps_per_second,
        ]
    }

    fn from_cells(c: [Option<f64>; 10]) -> Self {
        UpdateStats {
            policy_loss: c[0],
            value_loss: c[1],
            entropy: c[2],
            approx_kl: c[3],
            clip_fraction: c[4],
            explained_variance: c[5],
            learning_rate: c[6],
            clip_range: c[7],
            grad_norm: c[8],
            steps_per_second: c[9],
        }
    }
}

/// One row of `metrics.csv`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MetricsRow {
    /// Which cells the row fills.
    pub kind: RowKind,
    /// Environment steps so far.
    pub step: u64,
    /// Seconds since the start of training.
    pub wall_seconds: f64,
    /// Return of the finished episode (`episode` rows).
    pub episode_return: Option<f64>,
    /// Length of the finished episode (`episode` rows).
    pub episode_length: Option<u64>,
    /// Update statistics (`update` rows; all `None` otherwise).
    pub update: UpdateStats,
    /// Mean evaluation return (`eval` rows).
    pub eval_mean_return: Option<f64>,
    /// Standard deviation of the evaluation returns (`eval` rows).
    pub eval_std_return: Option<f64>,
}

impl MetricsRow {
    fn blank(kind: RowKind, step: u64, wall_seconds: f64) -> Self {
        MetricsRow {
            kind,
            step,
            wall_seconds,
            episode_return: None,
            episode_length: None,
            update: UpdateStats::default(),
            eval_mean_return: None,
            eval_std_return: None,
        }
    }
}

/// The rows of `metrics.csv`, kept in memory and written out whole by [`MetricsLog::flush`].
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MetricsLog {
    rows: Vec<MetricsRow>,
}

impl MetricsLog {
    /// An empty log.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records a finished training episode.
    pub fn push_episode(&mut self, step: u64, wall_seconds: f64, ret: f64, length: u64) {
        let mut row = MetricsRow::blank(RowKind::Episode, step, wall_seconds);
        row.episode_return = Some(ret);
        row.episode_length = Some(length);
        self.rows.push(row);
    }

    /// Records a policy update.
    pub fn push_update(&mut self, step: u64, wall_seconds: f64, stats: &UpdateStats) {
        let mut row = MetricsRow::blank(RowKind::Update, step, wall_seconds);
        row.update = *stats;
        self.rows.push(row);
    }

    /// Records a deterministic evaluation.
    pub fn push_eval(&mut self, step: u64, wall_seconds: f64, mean: f64, std: f64) {
        let mut row = MetricsRow::blank(RowKind::Eval, step, wall_seconds);
        row.eval_mean_return = Some(mean);
        row.eval_std_return = Some(std);
        self.rows.push(row);
    }

    /// All rows, in the order they were pushed.
    pub fn rows(&self) -> &[MetricsRow] {
        &self.rows
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether the log has no rows.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// `(step, return)` of every training episode.
    pub fn episode_returns(&self) -> impl Iterator<Item = (u64, f64)> + '_ {
        self.rows
            .iter()
            .filter(|r| r.kind == RowKind::Episode)
            .filter_map(|r| Some((r.step, r.episode_return?)))
    }

    /// `(step, mean return)` of every evaluation.
    pub fn eval_returns(&self) -> impl Iterator<Item = (u64, f64)> + '_ {
        self.rows
            .iter()
            .filter(|r| r.kind == RowKind::Eval)
            .filter_map(|r| Some((r.step, r.eval_mean_return?)))
    }

    /// `(step, stats)` of every update.
    pub fn updates(&self) -> impl Iterator<Item = (u64, &UpdateStats)> + '_ {
        self.rows
            .iter()
            .filter(|r| r.kind == RowKind::Update)
            .map(|r| (r.step, &r.update))
    }

    /// Drops the rows logged after environment step `step` (what a resumed run re-does: the
    /// checkpoint it continues from was written at `step`).
    pub fn truncate_after(&mut self, step: u64) {
        self.rows.retain(|r| r.step <= step);
    }

    /// Keeps the first `keep` evaluation rows at step `step` and drops the others.
    pub fn keep_evals_at(&mut self, step: u64, keep: usize) {
        let mut seen = 0;
        self.rows.retain(|r| {
            if r.kind == RowKind::Eval && r.step == step {
                seen += 1;
                seen <= keep
            } else {
                true
            }
        });
    }

    /// Mean return of the last (up to) `n` training episodes; `None` before the first one.
    pub fn mean_last_returns(&self, n: usize) -> Option<f64> {
        let returns: Vec<f64> = self.episode_returns().map(|(_, r)| r).collect();
        let tail = &returns[returns.len().saturating_sub(n)..];
        (!tail.is_empty()).then(|| tail.iter().sum::<f64>() / tail.len() as f64)
    }

    /// The whole table as CSV text (header included).
    pub fn to_csv(&self) -> String {
        // About 12 characters per filled cell, a comma per empty one.
        let mut out = String::with_capacity(HEADER.len() + 1 + self.rows.len() * 64);
        out.push_str(HEADER);
        out.push('\n');
        for row in &self.rows {
            // Writing to a String cannot fail.
            let _ = write!(out, "{},{},{}", row.kind.name(), row.step, row.wall_seconds);
            let cell = |out: &mut String, v: Option<f64>| {
                out.push(',');
                if let Some(v) = v {
                    let _ = write!(out, "{v}");
                }
            };
            cell(&mut out, row.episode_return);
            out.push(',');
            if let Some(len) = row.episode_length {
                let _ = write!(out, "{len}");
            }
            for v in row.update.cells() {
                cell(&mut out, v);
            }
            cell(&mut out, row.eval_mean_return);
            cell(&mut out, row.eval_std_return);
            out.push('\n');
        }
        out
    }

    /// Writes the whole table to `path` atomically (temporary file, then rename).
    pub fn flush(&self, path: &Path) -> Result<()> {
        write_atomic(path, self.to_csv().as_bytes())
            .with_context(|| format!("writing {}", path.display()))
    }

    /// Parses CSV text in the format of [`MetricsLog::to_csv`]; errors name the line.
    pub fn parse(text: &str) -> Result<Self> {
        let mut lines = text.lines().enumerate();
        match lines.next() {
            Some((_, h)) if h.trim_end() == HEADER => {}
            Some((_, h)) => bail!("line 1: expected the header {HEADER:?}, found {h:?}"),
            None => bail!("empty file: expected the header {HEADER:?}"),
        }
        let mut rows = Vec::new();
        for (i, line) in lines {
            let line = line.trim_end();
            if line.is_empty() {
                continue;
            }
            let row = parse_row(line).with_context(|| format!("line {}", i + 1))?;
            rows.push(row);
        }
        Ok(MetricsLog { rows })
    }

    /// Reads a `metrics.csv` file; errors name the file and the line.
    pub fn read(path: &Path) -> Result<Self> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        Self::parse(&text).with_context(|| format!("malformed {}", path.display()))
    }
}

fn parse_row(line: &str) -> Result<MetricsRow> {
    let cells: Vec<&str> = line.split(',').collect();
    if cells.len() != COLUMNS {
        bail!(
            "expected {COLUMNS} comma-separated cells, found {}",
            cells.len()
        );
    }
    let kind = RowKind::parse(cells[0]).with_context(|| {
        format!(
            "unknown kind {:?}: expected episode, update or eval",
            cells[0]
        )
    })?;
    let step: u64 = cells[1]
        .parse()
        .with_context(|| format!("step {:?} is not a non-negative integer", cells[1]))?;
    let wall_seconds: f64 = cells[2]
        .parse()
        .with_context(|| format!("wall_seconds {:?} is not a number", cells[2]))?;
    let num = |i: usize| -> Result<Option<f64>> {
        let c = cells[i].trim();
        if c.is_empty() {
            return Ok(None);
        }
        let name = HEADER.split(',').nth(i).unwrap_or("cell");
        c.parse()
            .map(Some)
            .with_context(|| format!("{name} {c:?} is not a number"))
    };
    let episode_length = match cells[4].trim() {
        "" => None,
        c => Some(
            c.parse::<u64>()
                .with_context(|| format!("episode_length {c:?} is not a non-negative integer"))?,
        ),
    };
    let mut update = [None; 10];
    for (j, slot) in update.iter_mut().enumerate() {
        *slot = num(5 + j)?;
    }
    let row = MetricsRow {
        kind,
        step,
        wall_seconds,
        episode_return: num(3)?,
        episode_length,
        update: UpdateStats::from_cells(update),
        eval_mean_return: num(15)?,
        eval_std_return: num(16)?,
    };
    let missing = match kind {
        RowKind::Episode => row.episode_return.is_none() || row.episode_length.is_none(),
        RowKind::Eval => row.eval_mean_return.is_none(),
        RowKind::Update => false,
    };
    if missing {
        bail!("a {} row without its values", kind.name());
    }
    Ok(row)
}

/// What `summary.json` of a run holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Registry id of the environment.
    pub env: String,
    /// Algorithm name (`"ppo"`, `"reinforce"`).
    pub algo: String,
    /// Seed of the run.
    pub seed: u64,
    /// Environment steps taken in training.
    pub total_steps: u64,
    /// Training episodes finished.
    pub total_episodes: u64,
    /// Wall-clock seconds of training (without the final evaluation).
    pub wall_seconds: f64,
    /// Mean return of the final deterministic evaluation.
    pub eval_mean_return: f64,
    /// Standard deviation of the final evaluation's returns.
    pub eval_std_return: f64,
    /// Episodes of the final evaluation.
    pub eval_episodes: usize,
    /// Mean return of the last 100 training episodes (`None` if none finished).
    pub final_train_return_mean100: Option<f64>,
    /// Network backend that ran (`"native"`, `"tch"`).
    pub backend: String,
    /// Device (`"cpu"`, `"cuda:0"`).
    pub device: String,
    /// Commit of the source tree (`git rev-parse HEAD`), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git_commit: Option<String>,
}

impl Summary {
    /// Reads a `summary.json` file.
    pub fn read(path: &Path) -> Result<Self> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        serde_json::from_str(&text).with_context(|| format!("malformed {}", path.display()))
    }
}

/// Writes `summary` as pretty JSON to `path`, atomically.
pub fn write_summary(path: &Path, summary: &Summary) -> Result<()> {
    write_json(path, summary).with_context(|| format!("writing {}", path.display()))
}

/// The current commit of the git checkout around the working directory (`git rev-parse HEAD`),
/// or `None` when git or the repository is not there.
pub fn git_commit() -> Option<String> {
    let out = std::process::Command::new("git")
        .args(["rev-parse", "HEAD"])
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    let text = String::from_utf8(out.stdout).ok()?;
    let hash = text.trim();
    (out.status.success() && !hash.is_empty()).then(|| hash.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn demo() -> MetricsLog {
        let mut log = MetricsLog::new();
        log.push_episode(20, 0.01, 20.0, 20);
        log.push_episode(45, 0.02, 25.0, 25);
        let stats = UpdateStats {
            policy_loss: Some(-0.0125),
            value_loss: Some(3.5),
            entropy: Some(0.69),
            approx_kl: Some(1e-7),
            clip_fraction: Some(0.0),
            explained_variance: Some(f64::NAN),
            learning_rate: Some(0.001),
            clip_range: Some(0.2),
            grad_norm: Some(1.25e20),
            steps_per_second: Some(12345.5),
        };
        log.push_update(256, 0.1, &stats);
        log.push_update(512, 0.2, &UpdateStats::default());
        log.push_eval(512, 0.3, 180.5, 12.25);
        log
    }

    #[test]
    fn csv_has_the_exact_header_and_empty_cells() {
        let text = demo().to_csv();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "kind,step,wall_seconds,episode_return,episode_length,policy_loss,value_loss,\
             entropy,approx_kl,clip_fraction,explained_variance,learning_rate,clip_range,\
             grad_norm,steps_per_second,eval_mean_return,eval_std_return"
        );
        assert_eq!(lines[1], "episode,20,0.01,20,20,,,,,,,,,,,,");
        assert_eq!(lines[4], "update,512,0.2,,,,,,,,,,,,,,");
        assert_eq!(lines[5], "eval,512,0.3,,,,,,,,,,,,,180.5,12.25");
        assert!(lines.iter().all(|l| l.split(',').count() == COLUMNS));
    }

    #[test]
    fn flush_and_read_round_trip() {
        let dir = std::env::temp_dir().join(format!("tg-metrics-{}", std::process::id()));
        let path = dir.join("metrics.csv");
        let log = demo();
        log.flush(&path).unwrap();
        let back = MetricsLog::read(&path).unwrap();
        assert_eq!(back.len(), 5);
        // NaN != NaN, so compare the NaN cell separately.
        assert!(back.rows()[2].update.explained_variance.unwrap().is_nan());
        assert_eq!(back.to_csv(), log.to_csv());
        assert_eq!(back.rows()[2].update.grad_norm, Some(1.25e20));
        assert_eq!(back.rows()[2].update.approx_kl, Some(1e-7));
        assert_eq!(
            back.episode_returns().collect::<Vec<_>>(),
            vec![(20, 20.0), (45, 25.0)]
        );
        assert_eq!(back.eval_returns().collect::<Vec<_>>(), vec![(512, 180.5)]);
        assert_eq!(back.updates().count(), 2);
        let leftovers = std::fs::read_dir(&dir)
            .unwrap()
            .filter(|e| e.as_ref().unwrap().file_name() != "metrics.csv")
            .count();
        assert_eq!(leftovers, 0);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn malformed_input_names_the_line() {
        let bad = |body: &str| {
            let text = format!("{HEADER}\n{}", body);
            format!("{:#}", MetricsLog::parse(&text).unwrap_err())
        };
        let ok = "episode,20,0.01,20,20,,,,,,,,,,,,\n";
        let e = bad(&format!("{ok}episode,x,0.01,20,20,,,,,,,,,,,,\n"));
        assert!(e.contains("line 3") && e.contains("step"), "{e}");
        let e = bad(&format!("{ok}{ok}episode,1,0.01,20\n"));
        assert!(e.contains("line 4") && e.contains("17"), "{e}");
        let e = bad("loss,1,0.01,,,,,,,,,,,,,,\n");
        assert!(e.contains("line 2") && e.contains("unknown kind"), "{e}");
        let e = bad("update,1,0.01,,,abc,,,,,,,,,,,\n");
        assert!(e.contains("policy_loss") && e.contains("abc"), "{e}");
        let e = bad("episode,1,0.01,,,,,,,,,,,,,,\n");
        assert!(e.contains("without its values"), "{e}");
        let e = bad("episode,1,0.01,3,-2,,,,,,,,,,,,\n");
        assert!(e.contains("episode_length"), "{e}");
        let e = format!("{:#}", MetricsLog::parse("a,b\n").unwrap_err());
        assert!(e.contains("line 1") && e.contains("header"), "{e}");
        assert!(MetricsLog::parse("").is_err());
        let e = format!(
            "{:#}",
            MetricsLog::read(Path::new("/nonexistent/m.csv")).unwrap_err()
        );
        assert!(e.contains("/nonexistent/m.csv"), "{e}");
        // A trailing blank line is fine.
        assert_eq!(
            MetricsLog::parse(&format!("{HEADER}\n{ok}\n"))
                .unwrap()
                .len(),
            1
        );
    }

    #[test]
    fn mean_of_the_last_returns() {
        let mut log = MetricsLog::new();
        assert_eq!(log.mean_last_returns(100), None);
        for i in 1..=5 {
            log.push_episode(i * 10, 0.0, i as f64, 10);
        }
        log.push_eval(50, 0.0, 99.0, 0.0);
        assert_eq!(log.mean_last_returns(2), Some(4.5));
        assert_eq!(log.mean_last_returns(100), Some(3.0));
    }

    #[test]
    fn summary_round_trips_through_json() {
        let dir = std::env::temp_dir().join(format!("tg-summary-{}", std::process::id()));
        let path = dir.join("summary.json");
        let s = Summary {
            env: "CartPole-v1".into(),
            algo: "ppo".into(),
            seed: 3,
            total_steps: 100_000,
            total_episodes: 812,
            wall_seconds: 12.5,
            eval_mean_return: 500.0,
            eval_std_return: 0.0,
            eval_episodes: 20,
            final_train_return_mean100: Some(480.25),
            backend: "native".into(),
            device: "cpu".into(),
            git_commit: git_commit(),
        };
        write_summary(&path, &s).unwrap();
        assert_eq!(Summary::read(&path).unwrap(), s);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.contains("\"final_train_return_mean100\": 480.25"),
            "{text}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
