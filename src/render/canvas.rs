//! A small software rasterizer that draws filled shapes onto an [`RgbFrame`].
//!
//! Environments use it for their `rgb_array` pictures. Shapes are filled by sampling pixel
//! centres: pixel `(px, py)` is painted when the point `(px + 0.5, py + 0.5)` lies inside the
//! shape, so a square from `(2, 3)` to `(6, 7)` covers exactly the 16 pixels with `2 <= px < 6`
//! and `3 <= py < 7`, and adjacent shapes neither overlap nor leave gaps.
//!
//! Coordinates are `f64` pixels. By default `y` points down (row 0 at the top, as in the frame).
//! [`Canvas::with_y_up`] switches to the convention of Gymnasium's classic-control drawings,
//! where `y` points up from the bottom edge (Gymnasium draws upside down and flips the image at
//! the end; this canvas flips each coordinate instead).
//!
//! ```
//! use tokengym::render::canvas::Canvas;
//! let mut c = Canvas::new(20, 10, [255, 255, 255]).with_y_up(true);
//! c.fill_rect(0.0, 0.0, 20.0, 2.0, [0, 0, 0]); // a strip along the bottom edge
//! let frame = c.into_frame();
//! assert_eq!(frame.pixel(5, 9), Some([0, 0, 0]));
//! assert_eq!(frame.pixel(5, 0), Some([255, 255, 255]));
//! ```

use super::RgbFrame;

/// A drawing surface over an [`RgbFrame`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Canvas {
    frame: RgbFrame,
    y_up: bool,
}

/// One crossing of a scanline with a polygon edge: its `x` and the edge's direction.
#[derive(Clone, Copy, Debug)]
struct Crossing {
    x: f64,
    winding: i32,
}

impl Canvas {
    /// A `width x height` canvas filled with `background`, `y` pointing down.
    pub fn new(width: usize, height: usize, background: [u8; 3]) -> Self {
        Canvas {
            frame: RgbFrame::filled(width, height, background),
            y_up: false,
        }
    }

    /// Draws onto an existing frame.
    pub fn from_frame(frame: RgbFrame) -> Self {
        Canvas { frame, y_up: false }
    }

    /// Chooses whether `y` points up from the bottom edge (`true`) or down from the top (`false`).
    pub fn with_y_up(mut self, y_up: bool) -> Self {
        self.y_up = y_up;
        self
    }

    /// Width in pixels.
    pub fn width(&self) -> usize {
        self.frame.width()
    }

    /// Height in pixels.
    pub fn height(&self) -> usize {
        self.frame.height()
    }

    /// The frame drawn so far.
    pub fn frame(&self) -> &RgbFrame {
        &self.frame
    }

    /// Finishes drawing and returns the frame.
    pub fn into_frame(self) -> RgbFrame {
        self.frame
    }

    /// Paints every pixel with `rgb`.
    pub fn fill(&mut self, rgb: [u8; 3]) {
        for px in self.frame.data_mut().chunks_exact_mut(3) {
            px.copy_from_slice(&rgb);
        }
    }

    /// The device `y` (pointing down) of a user `y`.
    fn dev_y(&self, y: f64) -> f64 {
        if self.y_up {
            self.frame.height() as f64 - y
        } else {
            y
        }
    }

    /// Paints the pixels of row `py` whose centres lie in `[x0, x1)`.
    fn span(&mut self, py: usize, x0: f64, x1: f64, rgb: [u8; 3]) {
        let w = self.frame.width() as f64;
        // First pixel whose centre px + 0.5 >= x0, last whose centre < x1.
        let start = (x0 - 0.5).ceil().clamp(0.0, w);
        let end = (x1 - 0.5).ceil().clamp(0.0, w);
        if start.is_nan() || end.is_nan() || start >= end {
            return;
        }
        let (start, end) = (start as usize, end as usize);
        let row = py * self.frame.width() * 3;
        let data = self.frame.data_mut();
        for px in data[row + start * 3..row + end * 3].chunks_exact_mut(3) {
            px.copy_from_slice(&rgb);
        }
    }

    /// Fills a polygon (convex or not, even self-intersecting) with the non-zero winding rule.
    ///
    /// Fewer than three points, or any non-finite coordinate, draw nothing.
    pub fn fill_polygon(&mut self, points: &[(f64, f64)], rgb: [u8; 3]) {
        if points.len() < 3
            || points
                .iter()
                .any(|&(x, y)| !x.is_finite() || !y.is_finite())
        {
            return;
        }
        let dev: Vec<(f64, f64)> = points.iter().map(|&(x, y)| (x, self.dev_y(y))).collect();
        let (mut ymin, mut ymax) = (f64::INFINITY, f64::NEG_INFINITY);
        for &(_, y) in &dev {
            ymin = ymin.min(y);
            ymax = ymax.max(y);
        }
        let h = self.frame.height() as f64;
        // Rows whose centre py + 0.5 lies in [ymin, ymax).
        let row0 = (ymin - 0.5).ceil().clamp(0.0, h) as usize;
        let row1 = (ymax - 0.5).ceil().clamp(0.0, h) as usize;
        let mut crossings: Vec<Crossing> = Vec::with_capacity(dev.len());
        for py in row0..row1 {
            let yc = py as f64 + 0.5;
            crossings.clear();
            for i in 0..dev.len() {
                let (x0, y0) = dev[i];
                let (x1, y1) = dev[(i + 1) % dev.len()];
                // Half-open rule: an edge covers y0 <= yc < y1 (or the reverse), so shared
                // vertices are counted once and horizontal edges never.
                let winding = if y0 <= yc && yc < y1 {
                    1
                } else if y1 <= yc && yc < y0 {
                    -1
                } else {
                    continue;
                };
                let t = (yc - y0) / (y1 - y0);
                crossings.push(Crossing {
                    x: x0 + t * (x1 - x0),
                    winding,
                });
            }
            crossings.sort_by(|a, b| a.x.total_cmp(&b.x));
            let mut winding = 0;
            for k in 0..crossings.len() {
                let before = winding;
                winding += crossings[k].winding;
                if before == 0 && winding != 0 {
                    // A span starts here; find where the winding returns to zero.
                    let x0 = crossings[k].x;
                    let mut w = winding;
                    let mut x1 = x0;
                    for c in &crossings[k + 1..] {
                        w += c.winding;
                        if w == 0 {
                            x1 = c.x;
                            break;
                        }
                    }
                    self.span(py, x0, x1, rgb);
                }
            }
        }
    }

    /// Fills the axis-aligned rectangle with corners `(x0, y0)` and `(x1, y1)`.
    pub fn fill_rect(&mut self, x0: f64, y0: f64, x1: f64, y1: f64, rgb: [u8; 3]) {
        self.fill_polygon(&[(x0, y0), (x1, y0), (x1, y1), (x0, y1)], rgb);
    }

    /// Fills the disc of radius `r` centred on `(cx, cy)`.
    pub fn fill_circle(&mut self, cx: f64, cy: f64, r: f64, rgb: [u8; 3]) {
        if !(cx.is_finite() && cy.is_finite() && r.is_finite()) || r <= 0.0 {
            return;
        }
        let cy = self.dev_y(cy);
        let h = self.frame.height() as f64;
        let row0 = (cy - r - 0.5).ceil().clamp(0.0, h) as usize;
        let row1 = (cy + r - 0.5).ceil().clamp(0.0, h) as usize;
        for py in row0..row1 {
            let dy = py as f64 + 0.5 - cy;
            let dx2 = r * r - dy * dy;
            if dx2 < 0.0 {
                continue;
            }
            let dx = dx2.sqrt();
            // Centres with (x - cx)^2 <= r^2 - dy^2; the span end is exclusive, so nudge it.
            self.span(py, cx - dx, cx + dx + 1e-9, rgb);
        }
    }

    /// Draws a straight line of the given `thickness` (a filled rectangle around the segment).
    pub fn line(&mut self, a: (f64, f64), b: (f64, f64), thickness: f64, rgb: [u8; 3]) {
        let (dx, dy) = (b.0 - a.0, b.1 - a.1);
        let len = (dx * dx + dy * dy).sqrt();
        if len.is_nan() || len <= 0.0 || thickness.is_nan() || thickness <= 0.0 {
            return;
        }
        let (nx, ny) = (-dy / len * thickness / 2.0, dx / len * thickness / 2.0);
        self.fill_polygon(
            &[
                (a.0 + nx, a.1 + ny),
                (b.0 + nx, b.1 + ny),
                (b.0 - nx, b.1 - ny),
                (a.0 - nx, a.1 - ny),
            ],
            rgb,
        );
    }

    /// Draws connected line segments through `points`, with round joints.
    pub fn polyline(&mut self, points: &[(f64, f64)], thickness: f64, rgb: [u8; 3]) {
        for w in points.windows(2) {
            self.line(w[0], w[1], thickness, rgb);
        }
        if points.len() > 2 {
            for &(x, y) in &points[1..points.len() - 1] {
                self.fill_circle(x, y, thickness / 2.0, rgb);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BG: [u8; 3] = [255, 255, 255];
    const INK: [u8; 3] = [10, 20, 30];

    fn inked(c: &Canvas) -> Vec<(usize, usize)> {
        let f = c.frame();
        let mut out = Vec::new();
        for y in 0..f.height() {
            for x in 0..f.width() {
                if f.pixel(x, y) == Some(INK) {
                    out.push((x, y));
                }
            }
        }
        out
    }

    #[test]
    fn square_covers_exactly_its_pixels() {
        let mut c = Canvas::new(10, 10, BG);
        c.fill_rect(2.0, 3.0, 6.0, 7.0, INK);
        let px = inked(&c);
        assert_eq!(px.len(), 16);
        assert!(
            px.iter()
                .all(|&(x, y)| (2..6).contains(&x) && (3..7).contains(&y))
        );
    }

    #[test]
    fn y_up_flips_rows() {
        let mut c = Canvas::new(10, 10, BG).with_y_up(true);
        c.fill_rect(0.0, 0.0, 10.0, 1.0, INK);
        let px = inked(&c);
        assert_eq!(px.len(), 10);
        assert!(px.iter().all(|&(_, y)| y == 9));
    }

    #[test]
    fn triangle_area_is_about_half() {
        let mut c = Canvas::new(100, 100, BG);
        c.fill_polygon(&[(0.0, 0.0), (100.0, 0.0), (0.0, 100.0)], INK);
        let n = inked(&c).len() as f64;
        assert!((n - 5000.0).abs() < 110.0, "{n}");
    }

    #[test]
    fn concave_polygon_leaves_notch_empty() {
        // A "U": the notch between the arms stays background.
        let mut c = Canvas::new(30, 30, BG);
        let u = [
            (0.0, 0.0),
            (10.0, 0.0),
            (10.0, 20.0),
            (20.0, 20.0),
            (20.0, 0.0),
            (30.0, 0.0),
            (30.0, 30.0),
            (0.0, 30.0),
        ];
        c.fill_polygon(&u, INK);
        assert_eq!(c.frame().pixel(15, 5), Some(BG));
        assert_eq!(c.frame().pixel(5, 5), Some(INK));
        assert_eq!(c.frame().pixel(15, 25), Some(INK));
        assert_eq!(inked(&c).len(), 900 - 200);
    }

    #[test]
    fn orientation_does_not_matter() {
        let mut a = Canvas::new(20, 20, BG);
        let mut b = Canvas::new(20, 20, BG);
        let pts = [(1.3, 2.2), (17.9, 4.4), (12.0, 18.5)];
        let rev: Vec<_> = pts.iter().rev().copied().collect();
        a.fill_polygon(&pts, INK);
        b.fill_polygon(&rev, INK);
        assert_eq!(a, b);
    }

    #[test]
    fn circle_area_is_close_to_pi_r_squared() {
        let mut c = Canvas::new(100, 100, BG);
        c.fill_circle(50.0, 50.0, 20.0, INK);
        let n = inked(&c).len() as f64;
        let expected = std::f64::consts::PI * 400.0;
        assert!((n - expected).abs() / expected < 0.02, "{n} vs {expected}");
    }

    #[test]
    fn thick_line_has_its_area() {
        let mut c = Canvas::new(100, 100, BG);
        c.line((10.0, 50.0), (90.0, 50.0), 4.0, INK);
        assert_eq!(inked(&c).len(), 80 * 4);
        let mut d = Canvas::new(100, 100, BG);
        // Not at 45 degrees, so that pixel centres do not alias with the band's edges.
        d.line((10.0, 10.0), (80.0, 47.3), 3.0, INK);
        let n = inked(&d).len() as f64;
        let expected = (70.0f64.powi(2) + 37.3f64.powi(2)).sqrt() * 3.0;
        assert!((n - expected).abs() / expected < 0.05, "{n} vs {expected}");
        let mut e = Canvas::new(20, 20, BG);
        e.polyline(&[(1.0, 1.0), (10.0, 10.0), (19.0, 1.0)], 2.0, INK);
        assert!(!inked(&e).is_empty());
    }

    #[test]
    fn shapes_outside_or_degenerate_do_not_panic() {
        let mut c = Canvas::new(10, 10, BG);
        c.fill_polygon(&[(-50.0, -50.0), (-40.0, -50.0), (-45.0, -40.0)], INK);
        c.fill_polygon(&[(0.0, 0.0), (f64::NAN, 1.0), (3.0, 3.0)], INK);
        c.fill_polygon(&[(0.0, 0.0), (5.0, 5.0)], INK);
        c.fill_circle(1e9, 1e9, 3.0, INK);
        c.fill_circle(5.0, 5.0, f64::NAN, INK);
        c.line((1.0, 1.0), (1.0, 1.0), 2.0, INK);
        assert!(inked(&c).is_empty());
        // Partly outside: clipped.
        c.fill_rect(-5.0, -5.0, 2.0, 2.0, INK);
        assert_eq!(inked(&c).len(), 4);
        c.fill(INK);
        assert_eq!(inked(&c).len(), 100);
    }

    proptest::proptest! {
        /// Any triangle, however placed, paints only pixels whose centres lie in its bounding
        /// box, and never panics.
        #[test]
        fn polygons_stay_in_their_bounding_box(
            pts in proptest::collection::vec((-20.0f64..60.0, -20.0f64..60.0), 3..8),
            y_up in proptest::bool::ANY,
        ) {
            let mut c = Canvas::new(40, 30, BG).with_y_up(y_up);
            c.fill_polygon(&pts, INK);
            let dev = |y: f64| if y_up { 30.0 - y } else { y };
            let xmin = pts.iter().map(|p| p.0).fold(f64::INFINITY, f64::min);
            let xmax = pts.iter().map(|p| p.0).fold(f64::NEG_INFINITY, f64::max);
            let ymin = pts.iter().map(|p| dev(p.1)).fold(f64::INFINITY, f64::min);
            let ymax = pts.iter().map(|p| dev(p.1)).fold(f64::NEG_INFINITY, f64::max);
            for (x, y) in inked(&c) {
                let (cx, cy) = (x as f64 + 0.5, y as f64 + 0.5);
                proptest::prop_assert!(cx >= xmin && cx <= xmax && cy >= ymin && cy <= ymax);
            }
        }
    }
}
