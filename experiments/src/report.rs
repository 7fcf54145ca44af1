//! Evaluation reports: a [`Comparison`] of policies as Markdown (`report.md`) and as a PNG
//! (`report.png`) with two panels drawn by [`crate::plot`]:
//!
//! - **returns per policy**: for every policy a box from the first to the third quartile of its
//!   episode returns with a line at the median (random baseline included);
//! - **IQM with confidence interval**: a box spanning the bootstrap confidence interval of the
//!   interquartile mean with a line at the IQM, for every policy but the random baseline, and
//!   the optimum as a horizontal line when known.
//!
//! Policy `i` sits at `x = i` in both panels, in the colour of its legend entry.
//!
//! ```
//! use tokengym::evaluation::{Bootstrap, Comparison, ReturnStats};
//! use tokengym_experiments::report::write_report;
//! let b = Bootstrap { resamples: 200, ..Default::default() };
//! let cmp = Comparison::new()
//!     .with("learned", ReturnStats::from_returns(&[-15.0, -13.0, -17.0], &b)?)
//!     .with("random", ReturnStats::from_returns(&[-900.0, -1400.0], &b)?)
//!     .random_baseline("random")
//!     .optimum(-13.0);
//! let dir = std::env::temp_dir().join(format!("tg-report-doc-{}", std::process::id()));
//! write_report(&dir, "Cliff walking", &cmp, "")?;
//! assert!(dir.join("report.png").exists());
//! # std::fs::remove_dir_all(&dir).ok();
//! # Ok::<(), anyhow::Error>(())
//! ```

use crate::plot::{LineChart, PlotError, Series, save_png_grid};
use crate::run_dir::write_atomic;
use anyhow::Context;
use std::path::Path;
use tokengym::evaluation::{Comparison, ReturnStats};

/// Half the width of a policy's box, in x units.
const HALF_WIDTH: f64 = 0.3;

fn policy_box(name: &str, x: f64, centre: f64, lo: f64, hi: f64) -> Result<Series, PlotError> {
    Series::new(name, [(x - HALF_WIDTH, centre), (x + HALF_WIDTH, centre)])
        .with_band(&[lo, lo], &[hi, hi])
}

/// The two panels of the report (see the module documentation).
pub fn comparison_charts(title: &str, cmp: &Comparison) -> Result<Vec<LineChart>, PlotError> {
    let n = cmp.entries.len() as f64;
    let x_range = (-0.5, (n - 0.5).max(0.5));
    let mut returns = LineChart::new(format!("{title}: returns (box = quartiles, line = median)"))
        .x_label("policy (legend order)")
        .y_label("episode return")
        .x_range(x_range.0, x_range.1);
    let mut iqm = LineChart::new(format!("{title}: IQM and its bootstrap CI"))
        .x_label("policy (legend order)")
        .y_label("interquartile mean of returns")
        .x_range(x_range.0, x_range.1);
    for (i, (name, s)) in cmp.entries.iter().enumerate() {
        let x = i as f64;
        returns.push(policy_box(name, x, s.median, s.q25, s.q75)?);
        if cmp.random.as_deref() == Some(name.as_str()) {
            // Keep the colours aligned with the first panel: an empty placeholder would be
            // rejected, so the baseline is drawn as a point-sized box at its IQM.
            iqm.push(policy_box(name, x, s.iqm, s.iqm, s.iqm)?);
            continue;
        }
        iqm.push(policy_box(name, x, s.iqm, s.iqm_ci_low, s.iqm_ci_high)?);
    }
    if let Some(opt) = cmp.optimum {
        iqm.push(Series::new("optimum", [(x_range.0, opt), (x_range.1, opt)]));
        let learned: Vec<&ReturnStats> = cmp
            .entries
            .iter()
            .filter(|(name, _)| cmp.random.as_deref() != Some(name.as_str()))
            .map(|(_, s)| s)
            .collect();
        // Zoom on the learned policies and the optimum; the random baseline is in panel one.
        let lo = learned.iter().map(|s| s.iqm_ci_low).fold(opt, f64::min);
        let hi = learned.iter().map(|s| s.iqm_ci_high).fold(opt, f64::max);
        let pad = ((hi - lo) * 0.15).max(0.5);
        iqm = iqm.y_range(lo - pad, hi + pad);
    }
    Ok(vec![returns, iqm])
}

/// Writes `report.md` (a heading, the comparison table, then `notes`) and `report.png` into
/// `dir`, both atomically.
pub fn write_report(dir: &Path, title: &str, cmp: &Comparison, notes: &str) -> anyhow::Result<()> {
    let charts = comparison_charts(title, cmp)?;
    let png = dir.join("report.png");
    save_png_grid(&png, &charts, 2, (1600, 600))
        .with_context(|| format!("drawing {}", png.display()))?;
    let mut md = format!("# {title}\n\n{}", cmp.to_markdown());
    md.push_str("\n![returns and IQM per policy](report.png)\n");
    if !notes.is_empty() {
        md.push('\n');
        md.push_str(notes);
        if !notes.ends_with('\n') {
            md.push('\n');
        }
    }
    let path = dir.join("report.md");
    write_atomic(&path, md.as_bytes()).with_context(|| format!("writing {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokengym::evaluation::Bootstrap;

    fn cmp() -> Comparison {
        let b = Bootstrap {
            resamples: 100,
            ..Default::default()
        };
        Comparison::new()
            .with(
                "sarsa",
                ReturnStats::from_returns(&[-17.0, -17.0, -19.0], &b).unwrap(),
            )
            .with("q", ReturnStats::from_returns(&[-13.0, -13.0], &b).unwrap())
            .with(
                "random",
                ReturnStats::from_returns(&[-2000.0, -500.0], &b).unwrap(),
            )
            .random_baseline("random")
            .optimum(-13.0)
    }

    #[test]
    fn writes_markdown_table_and_two_panel_png() {
        let charts = comparison_charts("t", &cmp()).unwrap();
        assert_eq!(charts.len(), 2);
        let dir = std::env::temp_dir().join(format!("tg-report-{}", std::process::id()));
        write_report(&dir, "Cliff", &cmp(), "notes here").unwrap();
        let md = std::fs::read_to_string(dir.join("report.md")).unwrap();
        assert!(md.starts_with("# Cliff\n"));
        assert!(md.contains("| sarsa |") && md.contains("| random |") && md.contains("notes here"));
        let png = std::fs::read(dir.join("report.png")).unwrap();
        assert_eq!(&png[1..4], b"PNG");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn non_finite_statistics_are_errors_not_panics() {
        let mut c = cmp();
        c.optimum = Some(f64::NAN);
        let dir = std::env::temp_dir().join(format!("tg-report-bad-{}", std::process::id()));
        assert!(write_report(&dir, "bad", &c, "").is_err());
        std::fs::remove_dir_all(&dir).ok();
    }
}
