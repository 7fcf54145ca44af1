//! Evaluation statistics for episode returns: mean, median, standard deviation, interquartile
//! mean (IQM) with a stratified bootstrap confidence interval (as in rliable, Agarwal et al.
//! 2021), and a comparison table against a random policy and a known optimum.
//!
//! ```
//! use tokengym::evaluation::{Bootstrap, Comparison, ReturnStats};
//! // Two seeds, four evaluation episodes each.
//! let trained = ReturnStats::from_runs(&[vec![-13.0, -13.0, -15.0, -13.0], vec![-17.0, -17.0, -17.0, -19.0]], &Bootstrap::default())?;
//! let random = ReturnStats::from_runs(&[vec![-900.0, -1500.0, -700.0, -2100.0]], &Bootstrap::default())?;
//! assert_eq!(trained.median, -16.0);
//! let table = Comparison::new()
//!     .with("trained", trained)
//!     .with("random", random)
//!     .random_baseline("random")
//!     .optimum(-13.0)
//!     .to_markdown();
//! assert!(table.contains("| trained |"));
//! # Ok::<(), tokengym::Error>(())
//! ```

use crate::error::{Error, Result};
use crate::seeding::EnvRng;
use rand::{RngExt, SeedableRng};
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;

/// Settings of the bootstrap confidence interval of the IQM.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Bootstrap {
    /// Number of resamples (at least 1).
    pub resamples: usize,
    /// Coverage of the interval, in `(0, 1)` (0.95 for a 95% interval).
    pub confidence: f64,
    /// Seed of the resampling RNG: the same seed gives the same interval.
    pub seed: u64,
}

impl Default for Bootstrap {
    /// 2000 resamples, 95%, seed 0.
    fn default() -> Self {
        Bootstrap {
            resamples: 2000,
            confidence: 0.95,
            seed: 0,
        }
    }
}

/// The arithmetic mean (`None` when empty).
pub fn mean(xs: &[f64]) -> Option<f64> {
    (!xs.is_empty()).then(|| xs.iter().sum::<f64>() / xs.len() as f64)
}

/// The median: the middle value, or the mean of the two middle values of an even-length list
/// (`None` when empty).
pub fn median(xs: &[f64]) -> Option<f64> {
    let sorted = sorted(xs);
    let n = sorted.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(sorted[n / 2]),
        _ => Some((sorted[n / 2 - 1] + sorted[n / 2]) / 2.0),
    }
}

/// The population standard deviation (divides by `n`, like NumPy's default; `None` when empty).
pub fn std_dev(xs: &[f64]) -> Option<f64> {
    let m = mean(xs)?;
    Some((xs.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / xs.len() as f64).sqrt())
}

/// The interquartile mean: drop the lowest and the highest `floor(n / 4)` values and average
/// the rest (`scipy.stats.trim_mean(x, 0.25)`, which rliable uses; `None` when empty).
pub fn iqm(xs: &[f64]) -> Option<f64> {
    iqm_sorted(&sorted(xs))
}

fn iqm_sorted(sorted: &[f64]) -> Option<f64> {
    let cut = sorted.len() / 4;
    mean(&sorted[cut..sorted.len() - cut])
}

/// Running sums: element `i` is `xs[0] + ... + xs[i]` (cumulative reward over episodes).
pub fn cumulative(xs: &[f64]) -> Vec<f64> {
    xs.iter()
        .scan(0.0, |acc, x| {
            *acc += x;
            Some(*acc)
        })
        .collect()
}

/// The `q`-quantile (`q` in `[0, 1]`) of sorted values with linear interpolation (NumPy's
/// default `percentile` method; `None` when empty).
pub fn quantile_sorted(sorted: &[f64], q: f64) -> Option<f64> {
    let last = sorted.len().checked_sub(1)?;
    let pos = q.clamp(0.0, 1.0) * last as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    Some(sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64))
}

fn sorted(xs: &[f64]) -> Vec<f64> {
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    v
}

/// Summary statistics of episode returns from one or more runs (seeds).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReturnStats {
    /// Number of runs (seeds).
    pub runs: usize,
    /// Number of episodes over all runs.
    pub episodes: usize,
    /// Mean return.
    pub mean: f64,
    /// Median return.
    pub median: f64,
    /// Population standard deviation of the returns.
    pub std: f64,
    /// Interquartile mean of the returns.
    pub iqm: f64,
    /// Lower end of the bootstrap confidence interval of the IQM.
    pub iqm_ci_low: f64,
    /// Upper end of the bootstrap confidence interval of the IQM.
    pub iqm_ci_high: f64,
    /// Coverage of that interval (e.g. 0.95).
    pub confidence: f64,
    /// First quartile (25th percentile, linear interpolation) of the returns.
    pub q25: f64,
    /// Third quartile (75th percentile) of the returns.
    pub q75: f64,
    /// Smallest return.
    pub min: f64,
    /// Largest return.
    pub max: f64,
    /// Sum of all returns (cumulative reward).
    pub total: f64,
}

impl ReturnStats {
    /// Statistics of `runs` (one list of episode returns per seed), pooled over runs. The
    /// bootstrap resamples episodes with replacement within each run (stratified by run), so
    /// every resample keeps each seed's share. Errors on no episodes, a non-finite return or
    /// bad bootstrap settings.
    pub fn from_runs(runs: &[Vec<f64>], bootstrap: &Bootstrap) -> Result<Self> {
        if bootstrap.resamples == 0 || !(bootstrap.confidence > 0.0 && bootstrap.confidence < 1.0) {
            return Err(Error::invalid_argument(format!(
                "bootstrap needs resamples >= 1 and confidence in (0, 1), got {} and {}",
                bootstrap.resamples, bootstrap.confidence
            )));
        }
        let pooled: Vec<f64> = runs.iter().flatten().copied().collect();
        if pooled.is_empty() {
            return Err(Error::invalid_argument(
                "evaluation statistics need at least one episode",
            ));
        }
        if let Some(bad) = pooled.iter().find(|r| !r.is_finite()) {
            return Err(Error::NonFinite {
                what: "episode return".into(),
                detail: bad.to_string(),
            });
        }
        let all = sorted(&pooled);
        let stat = |f: fn(&[f64]) -> Option<f64>| f(&pooled).unwrap_or(f64::NAN);
        let iqm_value = iqm_sorted(&all).unwrap_or(f64::NAN);
        let (iqm_ci_low, iqm_ci_high) = bootstrap_iqm(runs, bootstrap, pooled.len())?;
        Ok(ReturnStats {
            runs: runs.iter().filter(|r| !r.is_empty()).count(),
            episodes: pooled.len(),
            mean: stat(mean),
            median: stat(median),
            std: stat(std_dev),
            iqm: iqm_value,
            iqm_ci_low,
            iqm_ci_high,
            confidence: bootstrap.confidence,
            q25: quantile_sorted(&all, 0.25).unwrap_or(f64::NAN),
            q75: quantile_sorted(&all, 0.75).unwrap_or(f64::NAN),
            min: all[0],
            max: all[all.len() - 1],
            total: pooled.iter().sum(),
        })
    }

    /// Statistics of one run's returns.
    pub fn from_returns(returns: &[f64], bootstrap: &Bootstrap) -> Result<Self> {
        Self::from_runs(&[returns.to_vec()], bootstrap)
    }
}

/// Percentile interval of the IQM over stratified bootstrap resamples (an error when the
/// resample count, which comes from the user, does not fit in memory).
fn bootstrap_iqm(runs: &[Vec<f64>], b: &Bootstrap, n: usize) -> Result<(f64, f64)> {
    let mut rng = EnvRng::seed_from_u64(b.seed);
    let mut sample = Vec::with_capacity(n);
    let mut iqms = Vec::new();
    iqms.try_reserve_exact(b.resamples).map_err(|_| {
        Error::invalid_argument(format!(
            "bootstrap: {} resamples do not fit in memory",
            b.resamples
        ))
    })?;
    for _ in 0..b.resamples {
        sample.clear();
        for run in runs.iter().filter(|r| !r.is_empty()) {
            for _ in 0..run.len() {
                sample.push(run[rng.random_range(0..run.len())]);
            }
        }
        sample.sort_by(f64::total_cmp);
        iqms.push(iqm_sorted(&sample).unwrap_or(f64::NAN));
    }
    iqms.sort_by(f64::total_cmp);
    let tail = (1.0 - b.confidence) / 2.0;
    Ok((
        quantile_sorted(&iqms, tail).unwrap_or(f64::NAN),
        quantile_sorted(&iqms, 1.0 - tail).unwrap_or(f64::NAN),
    ))
}

/// Several policies' [`ReturnStats`] side by side, optionally against a random baseline and a
/// known optimal return.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    /// `(policy name, statistics)`, in table order.
    pub entries: Vec<(String, ReturnStats)>,
    /// The entry that is the random baseline.
    pub random: Option<String>,
    /// The optimal expected return, where known (e.g. a planner's `V*(start)`).
    pub optimum: Option<f64>,
}

impl Comparison {
    /// An empty comparison.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a policy.
    pub fn with(mut self, name: impl Into<String>, stats: ReturnStats) -> Self {
        self.entries.push((name.into(), stats));
        self
    }

    /// Names the entry to normalise against (score 0).
    pub fn random_baseline(mut self, name: impl Into<String>) -> Self {
        self.random = Some(name.into());
        self
    }

    /// Sets the optimal return (score 1).
    pub fn optimum(mut self, value: f64) -> Self {
        self.optimum = Some(value);
        self
    }

    /// The statistics of the entry called `name`.
    pub fn get(&self, name: &str) -> Option<&ReturnStats> {
        self.entries.iter().find(|(n, _)| n == name).map(|(_, s)| s)
    }

    /// `(mean - random mean) / (optimum - random mean)`: 0 for the random policy, 1 for an
    /// optimal one (`None` without both references or when they coincide).
    pub fn normalized_score(&self, stats: &ReturnStats) -> Option<f64> {
        let random = self.get(self.random.as_deref()?)?.mean;
        let span = self.optimum? - random;
        (span.abs() > f64::EPSILON).then(|| (stats.mean - random) / span)
    }

    /// A Markdown table, one row per policy (and a row for the optimum when known).
    pub fn to_markdown(&self) -> String {
        let pct = self
            .entries
            .first()
            .map_or(95.0, |(_, s)| s.confidence * 100.0);
        let mut out = format!(
            "| policy | runs x episodes | mean | median | std | IQM | IQM {pct:.0}% CI | min | max | mean - optimum | normalized |\n\
             |---|---|---:|---:|---:|---:|---|---:|---:|---:|---:|\n"
        );
        let num = |x: Option<f64>| x.map_or_else(|| "—".to_string(), |v| format!("{v:.2}"));
        for (name, s) in &self.entries {
            let _ = writeln!(
                out,
                "| {name} | {} x {} | {:.2} | {:.2} | {:.2} | {:.2} | [{:.2}, {:.2}] | {:.2} | {:.2} | {} | {} |",
                s.runs,
                s.episodes / s.runs.max(1),
                s.mean,
                s.median,
                s.std,
                s.iqm,
                s.iqm_ci_low,
                s.iqm_ci_high,
                s.min,
                s.max,
                num(self.optimum.map(|o| s.mean - o)),
                num(self.normalized_score(s)),
            );
        }
        if let Some(opt) = self.optimum {
            let _ = writeln!(
                out,
                "| optimum (planner) | — | {opt:.2} | — | — | — | — | — | — | 0.00 | 1.00 |"
            );
        }
        out
    }
}

#[cfg(test)]
#[path = "evaluation_tests.rs"]
mod tests;
