//! `RunningMeanStd`: running per-element mean and variance, mergeable across workers.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

/// Running mean, variance and count of a stream of vectors, element-wise (Gymnasium's
/// `RunningMeanStd`, used by the normalization wrappers).
///
/// Updates use the parallel (Chan et al.) combination of means and variances, in `f64`, so a
/// batch update, a sample-by-sample update and a [`merge`](RunningMeanStd::merge) of two
/// statistics all give the same result up to rounding. The variance is the population variance
/// (NumPy's `var` with `ddof = 0`).
///
/// [`RunningMeanStd::new`] starts like Gymnasium's: mean 0, variance 1 and a pseudo-count of
/// `1e-4`, so the first sample dominates immediately but the variance is never 0/0.
/// [`RunningMeanStd::empty`] starts with count 0, giving the exact mean/variance of what was seen.
///
/// The statistics serialize with serde (an agent saves them with its model); deserializing
/// validates them.
///
/// ```
/// use tokengym::RunningMeanStd;
/// let mut a = RunningMeanStd::empty(1);
/// let mut b = RunningMeanStd::empty(1);
/// a.update(&[1.0])?;
/// a.update(&[2.0])?;
/// b.update(&[6.0])?;
/// a.merge(&b)?;
/// assert_eq!(a.mean(), &[3.0]);
/// assert!((a.var()[0] - 14.0 / 3.0).abs() < 1e-12);
/// assert_eq!(a.count(), 3.0);
/// # Ok::<(), tokengym::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RmsRepr", into = "RmsRepr")]
pub struct RunningMeanStd {
    mean: Vec<f64>,
    var: Vec<f64>,
    count: f64,
}

#[derive(Serialize, Deserialize)]
struct RmsRepr {
    mean: Vec<f64>,
    var: Vec<f64>,
    count: f64,
}

impl TryFrom<RmsRepr> for RunningMeanStd {
    type Error = Error;
    fn try_from(r: RmsRepr) -> Result<Self> {
        RunningMeanStd::from_parts(r.mean, r.var, r.count)
    }
}

impl From<RunningMeanStd> for RmsRepr {
    fn from(r: RunningMeanStd) -> Self {
        RmsRepr {
            mean: r.mean,
            var: r.var,
            count: r.count,
        }
    }
}

/// The default pseudo-count of [`RunningMeanStd::new`] (Gymnasium's `epsilon=1e-4`).
pub const RMS_INITIAL_COUNT: f64 = 1e-4;

impl RunningMeanStd {
    /// Statistics of vectors of length `len`, started like Gymnasium's (mean 0, variance 1,
    /// count [`RMS_INITIAL_COUNT`]).
    pub fn new(len: usize) -> Self {
        RunningMeanStd {
            mean: vec![0.0; len],
            var: vec![1.0; len],
            count: RMS_INITIAL_COUNT,
        }
    }

    /// Statistics with nothing seen (count 0): after updates they are exactly the sample
    /// mean and population variance.
    pub fn empty(len: usize) -> Self {
        RunningMeanStd {
            mean: vec![0.0; len],
            var: vec![0.0; len],
            count: 0.0,
        }
    }

    /// Statistics from their parts; fails when the lengths differ, the count is negative or
    /// not finite, or a mean/variance is not finite or a variance is negative.
    pub fn from_parts(mean: Vec<f64>, var: Vec<f64>, count: f64) -> Result<Self> {
        if mean.len() != var.len() {
            return Err(Error::shape("RunningMeanStd var", mean.len(), var.len()));
        }
        if !(count.is_finite() && count >= 0.0) {
            return Err(Error::invalid_argument(format!(
                "RunningMeanStd count must be finite and >= 0, got {count}"
            )));
        }
        if let Some(i) = mean.iter().position(|m| !m.is_finite()) {
            return Err(Error::NonFinite {
                what: "RunningMeanStd mean".into(),
                detail: format!("element {i} is {}", mean[i]),
            });
        }
        if let Some(i) = var.iter().position(|v| !(v.is_finite() && *v >= 0.0)) {
            return Err(Error::invalid_argument(format!(
                "RunningMeanStd variance {i} must be finite and >= 0, got {}",
                var[i]
            )));
        }
        Ok(RunningMeanStd { mean, var, count })
    }

    /// Number of elements per vector.
    pub fn len(&self) -> usize {
        self.mean.len()
    }

    /// Whether the vectors have no elements.
    pub fn is_empty(&self) -> bool {
        self.mean.is_empty()
    }

    /// The running mean.
    pub fn mean(&self) -> &[f64] {
        &self.mean
    }

    /// The running (population) variance.
    pub fn var(&self) -> &[f64] {
        &self.var
    }

    /// The number of samples seen (plus the initial pseudo-count of [`RunningMeanStd::new`]).
    pub fn count(&self) -> f64 {
        self.count
    }

    /// Adds one sample; fails when `x` has the wrong length. Does not allocate.
    pub fn update(&mut self, x: &[f64]) -> Result<()> {
        self.check_len(x.len())?;
        self.update_with(x.iter().copied());
        Ok(())
    }

    /// Adds one `f32` sample (widened to `f64`); fails when `x` has the wrong length. Does not
    /// allocate.
    pub fn update_f32(&mut self, x: &[f32]) -> Result<()> {
        self.check_len(x.len())?;
        self.update_with(x.iter().map(|&v| v as f64));
        Ok(())
    }

    fn check_len(&self, got: usize) -> Result<()> {
        if got == self.len() {
            Ok(())
        } else {
            Err(Error::shape("RunningMeanStd sample", self.len(), got))
        }
    }

    fn update_with(&mut self, x: impl Iterator<Item = f64>) {
        let count = self.count;
        let tot = count + 1.0;
        for ((m, v), x) in self.mean.iter_mut().zip(self.var.iter_mut()).zip(x) {
            // Batch of one: batch mean x, batch variance 0.
            let delta = x - *m;
            *m += delta / tot;
            *v = (*v * count + delta * delta * count / tot) / tot;
        }
        self.count = tot;
    }

    /// Adds a batch of samples: `batch` holds `n` rows of [`len`](RunningMeanStd::len) values,
    /// row-major. Fails when its length is not a multiple of `len`.
    pub fn update_batch(&mut self, batch: &[f64]) -> Result<()> {
        let len = self.len();
        if len == 0 || batch.is_empty() {
            return Ok(());
        }
        if !batch.len().is_multiple_of(len) {
            return Err(Error::shape(
                "RunningMeanStd batch",
                format!("a multiple of {len}"),
                batch.len(),
            ));
        }
        let n = batch.len() / len;
        let mut other = RunningMeanStd::empty(len);
        for j in 0..len {
            let mean = (0..n).map(|i| batch[i * len + j]).sum::<f64>() / n as f64;
            let var = (0..n)
                .map(|i| (batch[i * len + j] - mean).powi(2))
                .sum::<f64>()
                / n as f64;
            other.mean[j] = mean;
            other.var[j] = var;
        }
        other.count = n as f64;
        self.merge(&other)
    }

    /// Adds a batch of `f32` samples (`n` rows of [`len`](RunningMeanStd::len) values,
    /// row-major), as [`update_batch`](RunningMeanStd::update_batch) does, without allocating:
    /// what vectorised agents call on every step.
    pub fn update_batch_f32(&mut self, batch: &[f32]) -> Result<()> {
        let len = self.len();
        if len == 0 || batch.is_empty() {
            return Ok(());
        }
        if !batch.len().is_multiple_of(len) {
            return Err(Error::shape(
                "RunningMeanStd batch",
                format!("a multiple of {len}"),
                batch.len(),
            ));
        }
        let n = (batch.len() / len) as f64;
        let (na, tot) = (self.count, self.count + n);
        for j in 0..len {
            let col = || batch.iter().skip(j).step_by(len).map(|&x| x as f64);
            let mb = col().sum::<f64>() / n;
            let vb = col().map(|x| (x - mb) * (x - mb)).sum::<f64>() / n;
            let delta = mb - self.mean[j];
            self.mean[j] += delta * n / tot;
            self.var[j] = (self.var[j] * na + vb * n + delta * delta * na * n / tot) / tot;
        }
        self.count = tot;
        Ok(())
    }

    /// Combines with statistics gathered elsewhere (Gymnasium's `update_from_moments`): the
    /// result describes the union of both streams. Fails when the lengths differ.
    pub fn merge(&mut self, other: &RunningMeanStd) -> Result<()> {
        if other.len() != self.len() {
            return Err(Error::shape(
                "RunningMeanStd merge",
                self.len(),
                other.len(),
            ));
        }
        let (na, nb) = (self.count, other.count);
        let tot = na + nb;
        if tot == 0.0 {
            return Ok(());
        }
        for ((m, v), (mb, vb)) in self
            .mean
            .iter_mut()
            .zip(self.var.iter_mut())
            .zip(other.mean.iter().zip(&other.var))
        {
            let delta = mb - *m;
            *m += delta * nb / tot;
            *v = (*v * na + vb * nb + delta * delta * na * nb / tot) / tot;
        }
        self.count = tot;
        Ok(())
    }

    /// Writes `(x - mean) / sqrt(var + epsilon)` into `x`, element-wise, in place.
    pub fn normalize_f32(&self, x: &mut [f32], epsilon: f64) {
        for ((x, m), v) in x.iter_mut().zip(&self.mean).zip(&self.var) {
            *x = ((*x as f64 - m) / (v + epsilon).sqrt()) as f32;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch_moments(rows: &[[f64; 2]]) -> ([f64; 2], [f64; 2]) {
        let n = rows.len() as f64;
        let mut mean = [0.0; 2];
        let mut var = [0.0; 2];
        for j in 0..2 {
            mean[j] = rows.iter().map(|r| r[j]).sum::<f64>() / n;
            var[j] = rows.iter().map(|r| (r[j] - mean[j]).powi(2)).sum::<f64>() / n;
        }
        (mean, var)
    }

    #[test]
    fn f32_batch_update_equals_f64_batch_update() {
        let rows: Vec<f32> = vec![1.0, -2.0, 3.0, 0.5, 10.0, 4.0];
        let mut a = RunningMeanStd::new(2);
        let mut b = RunningMeanStd::new(2);
        a.update_batch(&rows.iter().map(|&x| x as f64).collect::<Vec<_>>())
            .unwrap();
        b.update_batch_f32(&rows).unwrap();
        b.update_batch_f32(&[]).unwrap();
        for j in 0..2 {
            assert!((a.mean()[j] - b.mean()[j]).abs() < 1e-12);
            assert!((a.var()[j] - b.var()[j]).abs() < 1e-12);
        }
        assert_eq!(a.count(), b.count());
        assert!(b.update_batch_f32(&[1.0, 2.0, 3.0]).is_err());
    }

    #[test]
    fn sequential_updates_give_batch_moments() {
        let rows = [[1.0, -2.0], [3.0, 0.5], [10.0, 4.0], [-1.0, 4.0]];
        let mut rms = RunningMeanStd::empty(2);
        for r in &rows {
            rms.update(r).unwrap();
        }
        let (mean, var) = batch_moments(&rows);
        for j in 0..2 {
            assert!((rms.mean()[j] - mean[j]).abs() < 1e-12);
            assert!((rms.var()[j] - var[j]).abs() < 1e-12);
        }
        assert_eq!(rms.count(), 4.0);
        let mut batched = RunningMeanStd::empty(2);
        batched.update_batch(rows.as_flattened()).unwrap();
        for j in 0..2 {
            assert!((batched.mean()[j] - mean[j]).abs() < 1e-12);
            assert!((batched.var()[j] - var[j]).abs() < 1e-12);
        }
    }

    #[test]
    fn gymnasium_initialisation_matches_numpy_reference() {
        // Gymnasium's RunningMeanStd().update(np.array([[2.0]])): mean 2/(1+c),
        // var (c*1 + 4*c/(1+c))/(1+c) with c = 1e-4.
        let mut rms = RunningMeanStd::new(1);
        rms.update(&[2.0]).unwrap();
        let c = RMS_INITIAL_COUNT;
        let m1 = 2.0 / (c + 1.0);
        let v1 = (c + 4.0 * c / (c + 1.0)) / (c + 1.0);
        assert!((rms.mean()[0] - m1).abs() < 1e-15);
        assert!((rms.var()[0] - v1).abs() < 1e-15);
        assert!((rms.count() - (1.0 + c)).abs() < 1e-15);
    }

    #[test]
    fn wrong_lengths_and_bad_parts_are_errors() {
        let mut rms = RunningMeanStd::new(2);
        assert!(rms.update(&[1.0]).is_err());
        assert!(rms.update_f32(&[1.0, 2.0, 3.0]).is_err());
        assert!(rms.update_batch(&[1.0, 2.0, 3.0]).is_err());
        assert!(rms.merge(&RunningMeanStd::new(3)).is_err());
        assert!(RunningMeanStd::from_parts(vec![0.0], vec![-1.0], 1.0).is_err());
        assert!(RunningMeanStd::from_parts(vec![0.0], vec![1.0], -1.0).is_err());
        assert!(RunningMeanStd::from_parts(vec![f64::NAN], vec![1.0], 1.0).is_err());
        assert!(RunningMeanStd::from_parts(vec![0.0, 1.0], vec![1.0], 1.0).is_err());
    }

    #[test]
    fn serde_round_trip_and_validation() {
        let mut rms = RunningMeanStd::new(3);
        rms.update(&[1.0, 2.0, 3.0]).unwrap();
        let json = serde_json::to_string(&rms).unwrap();
        let back: RunningMeanStd = serde_json::from_str(&json).unwrap();
        assert_eq!(rms, back);
        let bad = r#"{"mean":[0.0],"var":[-1.0],"count":1.0}"#;
        assert!(serde_json::from_str::<RunningMeanStd>(bad).is_err());
    }

    #[test]
    fn normalize_uses_mean_and_var() {
        let rms = RunningMeanStd::from_parts(vec![1.0, -1.0], vec![4.0, 0.0], 10.0).unwrap();
        let mut x = [5.0f32, -1.0];
        rms.normalize_f32(&mut x, 1e-8);
        assert!((x[0] - 2.0).abs() < 1e-6);
        assert_eq!(x[1], 0.0);
    }
}
