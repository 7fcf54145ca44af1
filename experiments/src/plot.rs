//! Line charts as PNG files: several named series, optional shaded bands, axis labels, a title
//! and a legend.
//!
//! Built on `plotters` without its system-font feature: text is drawn with DejaVu Sans, which
//! ships in `experiments/assets/` and is compiled into the binary, so charts render on a bare
//! machine with no fontconfig/freetype installed. Files are written atomically (rendered to a
//! temporary file in the same folder, then renamed).
//!
//! ```
//! use tokengym_experiments::plot::{LineChart, Series};
//! let steps: Vec<f64> = (1..=100).map(f64::from).collect();
//! let mean: Vec<f64> = steps.iter().map(|t| 1.0 - 1.0 / t).collect();
//! let std = vec![0.1; 100];
//! let chart = LineChart::new("Learning curve")
//!     .x_label("step")
//!     .y_label("reward")
//!     .series(Series::new("agent", steps.iter().copied().zip(mean.iter().copied()))
//!         .with_std_band(&std)?);
//! let path = std::env::temp_dir().join(format!("tg-plot-doc-{}.png", std::process::id()));
//! chart.save_png(&path)?;
//! # std::fs::remove_file(&path).ok();
//! # Ok::<(), tokengym_experiments::plot::PlotError>(())
//! ```

use plotters::prelude::*;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

/// The font compiled into the binary (DejaVu Sans; licence in `experiments/assets/`).
const FONT: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");
/// The family name charts ask for.
const FAMILY: &str = "sans-serif";

/// Colours of successive series (Tableau 10, then repeating).
const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

/// An axis range `(lo, hi)`.
type Range = (f64, f64);

/// What can go wrong while drawing or writing a chart.
#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    /// The chart (or figure) has nothing to draw.
    #[error("chart {0:?} has no series with points")]
    Empty(String),
    /// A coordinate is NaN or infinite.
    #[error("series {series:?} has a non-finite value at index {index}")]
    NonFinite {
        /// Name of the offending series.
        series: String,
        /// Index of the offending point.
        index: usize,
    },
    /// A band does not have one entry per point of its series.
    #[error("band of series {series:?} has {got} entries, the series has {expected} points")]
    BandLength {
        /// Name of the offending series.
        series: String,
        /// Number of points in the series.
        expected: usize,
        /// Number of band entries given.
        got: usize,
    },
    /// Bad figure geometry (zero size, zero rows or columns, empty range).
    #[error("invalid figure layout: {0}")]
    Layout(String),
    /// The bundled font could not be loaded.
    #[error("the bundled font could not be loaded")]
    Font,
    /// `plotters` failed while drawing or encoding.
    #[error("drawing failed: {0}")]
    Draw(String),
    /// Writing the file failed.
    #[error("writing {path}")]
    Io {
        /// The file being written.
        path: PathBuf,
        /// The underlying error (also `Error::source`).
        #[source]
        source: std::io::Error,
    },
}

fn draw_err<E: std::fmt::Display>(e: E) -> PlotError {
    PlotError::Draw(e.to_string())
}

/// One named curve `(x, y)` with an optional shaded band `(lo, hi)` per point.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    name: String,
    points: Vec<(f64, f64)>,
    band: Option<Vec<(f64, f64)>>,
    band_label: Option<String>,
}

impl Series {
    /// A series named `name` (shown in the legend) through `points`.
    pub fn new(name: impl Into<String>, points: impl IntoIterator<Item = (f64, f64)>) -> Self {
        Series {
            name: name.into(),
            points: points.into_iter().collect(),
            band: None,
            band_label: None,
        }
    }

    /// A series with `y[i]` at `x = i + 1` (steps counted from 1).
    pub fn from_ys(name: impl Into<String>, ys: &[f64]) -> Self {
        Series::new(
            name,
            ys.iter().enumerate().map(|(i, &y)| ((i + 1) as f64, y)),
        )
    }

    /// Shades from `lo[i]` to `hi[i]` around each point (e.g. min–max over seeds).
    pub fn with_band(mut self, lo: &[f64], hi: &[f64]) -> Result<Self, PlotError> {
        for got in [lo.len(), hi.len()] {
            if got != self.points.len() {
                return Err(PlotError::BandLength {
                    series: self.name,
                    expected: self.points.len(),
                    got,
                });
            }
        }
        self.band = Some(lo.iter().copied().zip(hi.iter().copied()).collect());
        Ok(self)
    }

    /// Shades `y ± std[i]` around each point (mean ± standard deviation).
    pub fn with_std_band(self, std: &[f64]) -> Result<Self, PlotError> {
        if std.len() != self.points.len() {
            return Err(PlotError::BandLength {
                series: self.name,
                expected: self.points.len(),
                got: std.len(),
            });
        }
        let lo: Vec<f64> = self.points.iter().zip(std).map(|(p, s)| p.1 - s).collect();
        let hi: Vec<f64> = self.points.iter().zip(std).map(|(p, s)| p.1 + s).collect();
        self.with_band(&lo, &hi)
    }

    /// Gives the band its own legend entry (a shaded swatch), e.g. `"min–max over 3 seeds"`.
    /// Without it the band has no legend entry.
    pub fn with_band_label(mut self, label: impl Into<String>) -> Self {
        self.band_label = Some(label.into());
        self
    }

    /// The series' name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The series' points.
    pub fn points(&self) -> &[(f64, f64)] {
        &self.points
    }

    fn validate(&self) -> Result<(), PlotError> {
        let bad = |index| PlotError::NonFinite {
            series: self.name.clone(),
            index,
        };
        if let Some(i) = self
            .points
            .iter()
            .position(|(x, y)| !x.is_finite() || !y.is_finite())
        {
            return Err(bad(i));
        }
        if let Some(band) = &self.band
            && let Some(i) = band
                .iter()
                .position(|(lo, hi)| !lo.is_finite() || !hi.is_finite())
        {
            return Err(bad(i));
        }
        Ok(())
    }
}

/// A line chart: title, axis labels, series and (optionally) fixed axis ranges.
#[derive(Clone, Debug, PartialEq)]
pub struct LineChart {
    title: String,
    x_label: String,
    y_label: String,
    series: Vec<Series>,
    x_range: Option<(f64, f64)>,
    y_range: Option<(f64, f64)>,
}

impl LineChart {
    /// An empty chart titled `title`.
    pub fn new(title: impl Into<String>) -> Self {
        LineChart {
            title: title.into(),
            x_label: String::new(),
            y_label: String::new(),
            series: Vec::new(),
            x_range: None,
            y_range: None,
        }
    }

    /// Labels the x axis.
    pub fn x_label(mut self, label: impl Into<String>) -> Self {
        self.x_label = label.into();
        self
    }

    /// Labels the y axis.
    pub fn y_label(mut self, label: impl Into<String>) -> Self {
        self.y_label = label.into();
        self
    }

    /// Fixes the x axis to `[lo, hi]` instead of fitting the data.
    pub fn x_range(mut self, lo: f64, hi: f64) -> Self {
        self.x_range = Some((lo, hi));
        self
    }

    /// Fixes the y axis to `[lo, hi]` instead of fitting the data.
    pub fn y_range(mut self, lo: f64, hi: f64) -> Self {
        self.y_range = Some((lo, hi));
        self
    }

    /// Adds a series (colours follow the order of addition).
    pub fn series(mut self, series: Series) -> Self {
        self.series.push(series);
        self
    }

    /// Adds a series through a mutable reference (for loops).
    pub fn push(&mut self, series: Series) {
        self.series.push(series);
    }

    /// Writes the chart as a 1000x600 PNG to `path`, atomically.
    pub fn save_png(&self, path: &Path) -> Result<(), PlotError> {
        save_png_grid(path, std::slice::from_ref(self), 1, (1000, 600))
    }

    /// The data ranges to draw: explicit ranges, else the data's extent with 5% y padding.
    fn ranges(&self) -> Result<(Range, Range), PlotError> {
        let mut xs = (f64::INFINITY, f64::NEG_INFINITY);
        let mut ys = (f64::INFINITY, f64::NEG_INFINITY);
        for s in &self.series {
            s.validate()?;
            for &(x, y) in &s.points {
                xs = (xs.0.min(x), xs.1.max(x));
                ys = (ys.0.min(y), ys.1.max(y));
            }
            for &(lo, hi) in s.band.iter().flatten() {
                ys = (ys.0.min(lo.min(hi)), ys.1.max(lo.max(hi)));
            }
        }
        if !xs.0.is_finite() {
            return Err(PlotError::Empty(self.title.clone()));
        }
        let widen = |(lo, hi): (f64, f64), pad: f64| {
            if hi > lo {
                let d = (hi - lo) * pad;
                (lo - d, hi + d)
            } else {
                (lo - 0.5, hi + 0.5)
            }
        };
        let x = self.x_range.unwrap_or(widen(xs, 0.0));
        let y = self.y_range.unwrap_or(widen(ys, 0.05));
        for (lo, hi) in [x, y] {
            if !(lo.is_finite() && hi.is_finite() && hi > lo) {
                return Err(PlotError::Layout(format!(
                    "empty or non-finite axis range [{lo}, {hi}] in {:?}",
                    self.title
                )));
            }
        }
        Ok((x, y))
    }

    fn draw<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, plotters::coord::Shift>,
    ) -> Result<(), PlotError>
    where
        DB::ErrorType: 'static,
    {
        let ((x0, x1), (y0, y1)) = self.ranges()?;
        let mut chart = ChartBuilder::on(area)
            .caption(&self.title, (FAMILY, 26))
            .margin(12)
            .margin_right(28)
            .x_label_area_size(48)
            .y_label_area_size(70)
            .build_cartesian_2d(x0..x1, y0..y1)
            .map_err(draw_err)?;
        chart
            .configure_mesh()
            .x_desc(&self.x_label)
            .y_desc(&self.y_label)
            .axis_desc_style((FAMILY, 18))
            .label_style((FAMILY, 15))
            .x_label_formatter(&|v| tick(*v))
            .y_label_formatter(&|v| tick(*v))
            .light_line_style(WHITE.mix(0.0))
            .draw()
            .map_err(draw_err)?;
        // Data units per pixel, for the line-thickening shift below.
        let (w_px, h_px) = chart.plotting_area().dim_in_pixel();
        let dx = (x1 - x0) / f64::from(w_px.max(1));
        let dy = (y1 - y0) / f64::from(h_px.max(1));
        for (i, s) in self.series.iter().enumerate() {
            let color = PALETTE[i % PALETTE.len()];
            if let Some(band) = &s.band {
                let outline: Vec<(f64, f64)> = s
                    .points
                    .iter()
                    .zip(band)
                    .map(|(p, b)| (p.0, b.1))
                    .chain(s.points.iter().zip(band).rev().map(|(p, b)| (p.0, b.0)))
                    .collect();
                let drawn = chart
                    .draw_series(std::iter::once(Polygon::new(
                        outline,
                        color.mix(0.18).filled(),
                    )))
                    .map_err(draw_err)?;
                if let Some(label) = &s.band_label {
                    drawn.label(label).legend(move |(x, y)| {
                        Rectangle::new([(x, y - 6), (x + 22, y + 6)], color.mix(0.18).filled())
                    });
                }
            }
            // Two 1-pixel lines, the second shifted one pixel right and down, look like a 2-pixel
            // line. (plotters fills wider lines as polygons, which smears steep segments
            // across the whole image.)
            chart
                .draw_series(LineSeries::new(
                    s.points.iter().map(|&(x, y)| (x + dx, y - dy)),
                    color.stroke_width(1),
                ))
                .map_err(draw_err)?;
            chart
                .draw_series(LineSeries::new(
                    s.points.iter().copied(),
                    color.stroke_width(1),
                ))
                .map_err(draw_err)?
                .label(&s.name)
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 22, y)], color.stroke_width(3))
                });
        }
        if self
            .series
            .iter()
            .any(|s| !s.name.is_empty() || s.band_label.is_some())
        {
            chart
                .configure_series_labels()
                .label_font((FAMILY, 16))
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK.mix(0.4))
                .position(SeriesLabelPosition::LowerRight)
                .draw()
                .map_err(draw_err)?;
        }
        Ok(())
    }
}

/// A tick label: at most 3 decimals, without trailing zeros (`100`, `0.25`, `-1.5`).
fn tick(v: f64) -> String {
    let text = format!("{v:.3}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text == "-0" {
        "0".to_string()
    } else {
        text.to_string()
    }
}

/// Registers the bundled font with `plotters` once per process.
fn ensure_font() -> Result<(), PlotError> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = REGISTERED
        .get_or_init(|| plotters::style::register_font(FAMILY, FontStyle::Normal, FONT).is_ok());
    if *ok { Ok(()) } else { Err(PlotError::Font) }
}

/// Writes several charts into one PNG of `size` pixels (width, height), laid out row by row in
/// `cols` columns, atomically: rendered to a temporary file in the same folder, then renamed.
pub fn save_png_grid(
    path: &Path,
    charts: &[LineChart],
    cols: usize,
    size: (u32, u32),
) -> Result<(), PlotError> {
    if charts.is_empty() || cols == 0 || size.0 < 64 || size.1 < 64 {
        return Err(PlotError::Layout(format!(
            "{} charts in {cols} columns at {}x{} pixels",
            charts.len(),
            size.0,
            size.1
        )));
    }
    for c in charts {
        c.ranges()?;
    }
    ensure_font()?;
    let io = |source| PlotError::Io {
        path: path.to_path_buf(),
        source,
    };
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty());
    if let Some(dir) = dir {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    let name = path
        .file_name()
        .ok_or_else(|| PlotError::Layout(format!("{} has no file name", path.display())))?;
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    // The temporary name ends in `.png` so the encoder picks the PNG format.
    let tmp_name = format!(
        ".{}.{}-{}.tmp.png",
        name.to_string_lossy(),
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    );
    let tmp = dir.map_or_else(|| PathBuf::from(&tmp_name), |d| d.join(&tmp_name));
    let result = (|| {
        {
            let root = BitMapBackend::new(&tmp, size).into_drawing_area();
            root.fill(&WHITE).map_err(draw_err)?;
            let rows = charts.len().div_ceil(cols);
            let areas = root.split_evenly((rows, cols));
            for (chart, area) in charts.iter().zip(areas.iter()) {
                chart.draw(area)?;
            }
            root.present().map_err(draw_err)?;
        }
        std::fs::File::open(&tmp)
            .and_then(|f| f.sync_all())
            .map_err(io)?;
        std::fs::rename(&tmp, path).map_err(io)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp_dir(tag: &str) -> PathBuf {
        std::env::temp_dir().join(format!("tg-plot-{tag}-{}", std::process::id()))
    }

    fn png_size(bytes: &[u8]) -> (u32, u32) {
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "PNG signature");
        assert_eq!(&bytes[12..16], b"IHDR");
        let be =
            |i: usize| u32::from_be_bytes([bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]]);
        (be(16), be(20))
    }

    fn demo_chart() -> LineChart {
        let ys: Vec<f64> = (0..50).map(|i| (i as f64 / 8.0).sin()).collect();
        let zs: Vec<f64> = (0..50).map(|i| i as f64 / 50.0).collect();
        LineChart::new("Two curves")
            .x_label("step")
            .y_label("value")
            .series(
                Series::from_ys("sine", &ys)
                    .with_std_band(&[0.2; 50])
                    .unwrap(),
            )
            .series(
                Series::from_ys("ramp", &zs)
                    .with_band(&vec![0.0; 50], &vec![1.0; 50])
                    .unwrap()
                    .with_band_label("min–max over 2 seeds"),
            )
    }

    #[test]
    fn writes_a_png_of_the_requested_size_and_no_temp_file() {
        let dir = tmp_dir("write");
        let path = dir.join("chart.png");
        demo_chart().save_png(&path).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(png_size(&bytes), (1000, 600));
        // Text and curves make the image far from blank: a blank white PNG compresses to < 10 KB.
        assert!(bytes.len() > 10_000, "{} bytes", bytes.len());
        let grid = dir.join("grid.png");
        save_png_grid(
            &grid,
            &[demo_chart(), demo_chart(), demo_chart()],
            2,
            (800, 700),
        )
        .unwrap();
        assert_eq!(png_size(&std::fs::read(&grid).unwrap()), (800, 700));
        let leftovers = std::fs::read_dir(&dir)
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().contains(".tmp"))
            .count();
        assert_eq!(leftovers, 0);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn tick_labels_drop_trailing_zeros() {
        assert_eq!(tick(100.0), "100");
        assert_eq!(tick(0.25), "0.25");
        assert_eq!(tick(-1.5), "-1.5");
        assert_eq!(tick(-0.0001), "0");
        assert_eq!(tick(1.0 / 3.0), "0.333");
    }

    #[test]
    fn bad_input_is_an_error_not_a_panic() {
        let dir = tmp_dir("bad");
        let path = dir.join("x.png");
        assert!(matches!(
            LineChart::new("empty").save_png(&path),
            Err(PlotError::Empty(_))
        ));
        let nan = LineChart::new("nan").series(Series::from_ys("a", &[1.0, f64::NAN]));
        assert!(matches!(
            nan.save_png(&path),
            Err(PlotError::NonFinite { index: 1, .. })
        ));
        assert!(matches!(
            Series::from_ys("a", &[1.0, 2.0]).with_std_band(&[1.0]),
            Err(PlotError::BandLength {
                expected: 2,
                got: 1,
                ..
            })
        ));
        assert!(matches!(
            save_png_grid(&path, &[demo_chart()], 0, (100, 100)),
            Err(PlotError::Layout(_))
        ));
        let flat = LineChart::new("flat")
            .series(Series::from_ys("a", &[1.0]))
            .y_range(2.0, 1.0);
        assert!(matches!(flat.save_png(&path), Err(PlotError::Layout(_))));
        assert!(!path.exists());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
