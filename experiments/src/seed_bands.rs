//! Curves of several runs (seeds) as one: trailing moving averages, resampling onto a common
//! grid of steps, and the mean with a min–max band over runs.
//!
//! Runs in a group rarely log at the same steps, so their curves are resampled (linear
//! interpolation) onto a common grid of steps. The grid spans the steps where every run of the
//! group has data (from the latest first logged step to the earliest last one), so that the mean
//! does not jump where a run ends; if the runs' spans do not overlap at all, it spans all of
//! them, and each run contributes only where it has data. On that span the grid is the union of
//! the logged steps when that has at most `points` entries, else `points` evenly spaced steps.
//! The band at a step spans the runs that contribute there.
//!
//! ```
//! use tokengym_experiments::seed_bands::aggregate;
//! let a = vec![(0.0, 0.0), (10.0, 10.0)];
//! let b = vec![(0.0, 2.0), (10.0, 4.0)];
//! let band = aggregate(&[a, b], 200);
//! assert_eq!((band[1].mean, band[1].min, band[1].max), (7.0, 4.0, 10.0));
//! ```

use anyhow::Result;

use crate::plot::Series;

/// Trailing moving average: entry `i` is the mean of `values[i + 1 - w ..= i]` with
/// `w = min(window, i + 1)` (a window of 0 counts as 1).
pub fn moving_average(values: &[f64], window: usize) -> Vec<f64> {
    let window = window.max(1);
    let mut out = Vec::with_capacity(values.len());
    let mut sum = 0.0;
    for (i, &v) in values.iter().enumerate() {
        sum += v;
        if i >= window {
            sum -= values[i - window];
        }
        out.push(sum / (i + 1).min(window) as f64);
    }
    out
}

/// Linear interpolation of the curve `points` (sorted by x) at `x`; `None` outside
/// `[first x, last x]`. With several points at the same x, the last one counts.
pub fn interpolate(points: &[(f64, f64)], x: f64) -> Option<f64> {
    let (first, last) = (points.first()?, points.last()?);
    if !(first.0..=last.0).contains(&x) {
        return None;
    }
    let above = points.partition_point(|p| p.0 <= x);
    if above == points.len() {
        return Some(last.1);
    }
    // `above >= 1` because points[0].0 <= x, and points[above].0 > x >= points[above - 1].0.
    let (x0, y0) = points[above - 1];
    let (x1, y1) = points[above];
    Some(y0 + (y1 - y0) * (x - x0) / (x1 - x0))
}

/// The common step grid of `curves` (see the module documentation).
pub fn step_grid(curves: &[Vec<(f64, f64)>], points: usize) -> Vec<f64> {
    let ends = |c: &Vec<(f64, f64)>| Some((c.first()?.0, c.last()?.0));
    let spans: Vec<(f64, f64)> = curves.iter().filter_map(ends).collect();
    if spans.is_empty() {
        return Vec::new();
    }
    // Where every run has data; where any has, if their spans do not overlap.
    let mut lo = spans.iter().map(|s| s.0).fold(f64::NEG_INFINITY, f64::max);
    let mut hi = spans.iter().map(|s| s.1).fold(f64::INFINITY, f64::min);
    if lo > hi {
        lo = spans.iter().map(|s| s.0).fold(f64::INFINITY, f64::min);
        hi = spans.iter().map(|s| s.1).fold(f64::NEG_INFINITY, f64::max);
    }
    let mut xs: Vec<f64> = curves
        .iter()
        .flatten()
        .map(|p| p.0)
        .filter(|x| (lo..=hi).contains(x))
        .collect();
    xs.sort_by(f64::total_cmp);
    xs.dedup();
    let points = points.max(2);
    if xs.len() <= points {
        return xs;
    }
    (0..points)
        .map(|i| lo + (hi - lo) * i as f64 / (points - 1) as f64)
        .collect()
}

/// Mean, minimum and maximum over runs at one step of the grid.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BandPoint {
    /// Environment steps.
    pub x: f64,
    /// Mean over the runs with data at `x`.
    pub mean: f64,
    /// Minimum over those runs.
    pub min: f64,
    /// Maximum over those runs.
    pub max: f64,
    /// How many runs have data at `x`.
    pub runs: usize,
}

/// Resamples every curve (sorted by x) onto [`step_grid`] and aggregates over curves at each
/// grid step; steps where no curve has data are left out.
pub fn aggregate(curves: &[Vec<(f64, f64)>], points: usize) -> Vec<BandPoint> {
    step_grid(curves, points)
        .into_iter()
        .filter_map(|x| {
            let mut band = BandPoint {
                x,
                mean: 0.0,
                min: f64::INFINITY,
                max: f64::NEG_INFINITY,
                runs: 0,
            };
            for y in curves.iter().filter_map(|c| interpolate(c, x)) {
                band.mean += y;
                band.min = band.min.min(y);
                band.max = band.max.max(y);
                band.runs += 1;
            }
            (band.runs > 0).then(|| BandPoint {
                mean: band.mean / band.runs as f64,
                ..band
            })
        })
        .collect()
}

/// The series of one group: the mean line, and a min–max band when there are several runs.
pub(crate) fn group_series(
    name: String,
    curves: &[Vec<(f64, f64)>],
    points: usize,
) -> Result<Series> {
    let band = aggregate(curves, points);
    let mean = band.iter().map(|b| (b.x, b.mean));
    if curves.len() < 2 {
        return Ok(Series::new(name, mean));
    }
    let lo: Vec<f64> = band.iter().map(|b| b.min).collect();
    let hi: Vec<f64> = band.iter().map(|b| b.max).collect();
    Ok(Series::new(format!("{name} (mean)"), mean)
        .with_band(&lo, &hi)?
        .with_band_label(format!("min–max over {} seeds", curves.len())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moving_average_by_hand() {
        assert_eq!(
            moving_average(&[1.0, 2.0, 3.0, 4.0], 2),
            [1.0, 1.5, 2.5, 3.5]
        );
        assert_eq!(
            moving_average(&[1.0, 2.0, 3.0, 4.0], 100),
            [1.0, 1.5, 2.0, 2.5]
        );
        assert_eq!(moving_average(&[4.0, 2.0], 0), [4.0, 2.0]);
        assert!(moving_average(&[], 3).is_empty());
    }

    #[test]
    fn interpolation_inside_and_outside() {
        let c = [(0.0, 0.0), (10.0, 10.0), (10.0, 20.0), (20.0, 0.0)];
        assert_eq!(interpolate(&c, 5.0), Some(5.0));
        // At a repeated x the last point counts.
        assert_eq!(interpolate(&c, 10.0), Some(20.0));
        assert_eq!(interpolate(&c, 15.0), Some(10.0));
        assert_eq!(interpolate(&c, 20.0), Some(0.0));
        assert_eq!(interpolate(&c, -1.0), None);
        assert_eq!(interpolate(&c, 20.5), None);
        assert_eq!(interpolate(&[], 0.0), None);
        assert_eq!(interpolate(&[(3.0, 7.0)], 3.0), Some(7.0));
    }

    #[test]
    fn band_over_runs_by_hand() {
        // Few steps: the grid is their union.
        let a = vec![(0.0, 0.0), (10.0, 10.0)];
        let b = vec![(0.0, 2.0), (10.0, 4.0)];
        let band = aggregate(&[a.clone(), b], 200);
        assert_eq!(band.len(), 2);
        assert_eq!((band[0].mean, band[0].min, band[0].max), (1.0, 0.0, 2.0));
        assert_eq!(
            (band[1].mean, band[1].min, band[1].max, band[1].runs),
            (7.0, 4.0, 10.0, 2)
        );
        // The grid spans 5..=10, where both runs have data: the union of their steps there,
        // or an even grid when that has more than `points` entries.
        let a = vec![(0.0, 0.0), (4.0, 4.0), (10.0, 10.0)];
        let c = vec![(5.0, 1.0), (7.0, 1.0), (20.0, 4.0)];
        assert_eq!(step_grid(&[a.clone(), c.clone()], 3), [5.0, 7.0, 10.0]);
        assert_eq!(step_grid(&[a.clone(), c.clone()], 2), [5.0, 10.0]);
        let band = aggregate(&[a.clone(), c], 2);
        let got: Vec<(f64, f64, f64, f64, usize)> = band
            .iter()
            .map(|b| (b.x, b.mean, b.min, b.max, b.runs))
            .collect();
        // At 10, c is 1 + 3 * (10 - 7) / 13.
        let c10 = 1.0 + 9.0 / 13.0;
        assert_eq!(
            got,
            [
                (5.0, 3.0, 1.0, 5.0, 2),
                (10.0, (10.0 + c10) / 2.0, c10, 10.0, 2)
            ]
        );
        // Disjoint runs: the grid spans both, each run counts where it has data, and grid
        // steps with no data (20) are left out.
        let d = vec![(30.0, 1.0), (40.0, 3.0)];
        assert_eq!(step_grid(&[a.clone(), d.clone()], 3), [0.0, 20.0, 40.0]);
        let band = aggregate(&[a, d], 3);
        let got: Vec<(f64, f64, usize)> = band.iter().map(|b| (b.x, b.mean, b.runs)).collect();
        assert_eq!(got, [(0.0, 0.0, 1), (40.0, 3.0, 1)]);
        assert!(step_grid(&[vec![]], 3).is_empty());
    }
}
