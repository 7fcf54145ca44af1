//! Evaluation reports: a [`Comparison`] of policies as Markdown (`report.md`) and as a PNG
//! (`report.png`) with two panels drawn by [`crate::plot`]:
//!
//! - **returns per policy**: for every policy a box from the first to the third quartile of its
//!   episode returns with a line at the median;
//! - **IQM with confidence interval**: a box spanning the bootstrap confidence interval of the
//!   interquartile mean with a line at the IQM.
//!
//! Both panels draw the optimum as a horizontal line when it is known, put policy `i` at
//! `x = i` in the colour of its legend entry, and zoom on the policies other than the random
//! baseline (which is usually far below and is drawn clipped at the bottom edge; the first
//! panel's title gives its median).
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
use tokengym::evaluation::Comparison;

/// Half the width of a policy's box, in x units.
const HALF_WIDTH: f64 = 0.3;

fn policy_box(name: &str, x: f64, centre: f64, lo: f64, hi: f64) -> Result<Series, PlotError> {
    Series::new(name, [(x - HALF_WIDTH, centre), (x + HALF_WIDTH, centre)])
        .with_band(&[lo, lo], &[hi, hi])
}

/// The two panels of the report (see the module documentation).
pub fn comparison_charts(title: &str, cmp: &Comparison) -> Result<Vec<LineChart>, PlotError> {
    let n = cmp.entries.len() as f64;
    // Room on the right for the legend, which plot.rs draws in the lower right corner.
    let x_range = (-0.5, (n - 0.5).max(0.5) + 0.6 * n.max(1.0));
    let is_random = |name: &str| cmp.random.as_deref() == Some(name);
    let baseline = cmp
        .entries
        .iter()
        .find(|(name, _)| is_random(name))
        .map(|(name, s)| format!("; {name} (median {:.0}) clipped at the bottom", s.median))
        .unwrap_or_default();
    let x_label = format!("policy (legend order){baseline}");
    let mut returns = LineChart::new(format!("{title}: returns (quartile box, median line)"))
        .x_label(&x_label)
        .y_label("episode return")
        .x_range(x_range.0, x_range.1);
    let mut iqm = LineChart::new(format!("{title}: IQM and its bootstrap CI"))
        .x_label(&x_label)
        .y_label("interquartile mean of returns")
        .x_range(x_range.0, x_range.1);
    if let Some(opt) = cmp.optimum {
        // First, so the boxes are drawn over it.
        for chart in [&mut returns, &mut iqm] {
            chart.push(Series::new("optimum", [(x_range.0, opt), (x_range.1, opt)]));
        }
    }
    // Each panel zooms on the learned policies (and the optimum): a random baseline is usually
    // far below and is drawn clipped at the bottom edge.
    let start = cmp
        .optimum
        .map_or((f64::INFINITY, f64::NEG_INFINITY), |o| (o, o));
    let (mut span_r, mut span_i) = (start, start);
    for (i, (name, s)) in cmp.entries.iter().enumerate() {
        let x = i as f64;
        returns.push(policy_box(name, x, s.median, s.q25, s.q75)?);
        iqm.push(policy_box(name, x, s.iqm, s.iqm_ci_low, s.iqm_ci_high)?);
        if !is_random(name) {
            span_r = (span_r.0.min(s.q25), span_r.1.max(s.q75));
            span_i = (span_i.0.min(s.iqm_ci_low), span_i.1.max(s.iqm_ci_high));
        }
    }
    let zoom = |chart: LineChart, (lo, hi): (f64, f64)| {
        if lo.is_finite() && hi.is_finite() {
            let pad = ((hi - lo) * 0.1).max(0.5);
            chart.y_range(lo - pad, hi + pad)
        } else {
            chart
        }
    };
    let (returns, iqm) = (zoom(returns, span_r), zoom(iqm, span_i));
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
    use tokengym::evaluation::{Bootstrap, ReturnStats};

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
