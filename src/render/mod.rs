//! Rendering: modes and frames.

pub mod canvas;

use crate::error::{Error, Result};
use std::fmt;
use std::str::FromStr;

/// How an environment is asked to render (Gymnasium's `render_mode`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RenderMode {
    /// A text picture of the current state (`"ansi"`).
    Ansi,
    /// An RGB pixel frame (`"rgb_array"`).
    RgbArray,
}

impl RenderMode {
    /// Gymnasium's name of the mode.
    pub fn as_str(&self) -> &'static str {
        match self {
            RenderMode::Ansi => "ansi",
            RenderMode::RgbArray => "rgb_array",
        }
    }
}

impl fmt::Display for RenderMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for RenderMode {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "ansi" => Ok(RenderMode::Ansi),
            "rgb_array" => Ok(RenderMode::RgbArray),
            other => Err(Error::invalid_argument(format!(
                "unknown render mode {other:?} (expected \"ansi\" or \"rgb_array\")"
            ))),
        }
    }
}

/// What `render` returns.
#[derive(Clone, Debug, PartialEq)]
pub enum Frame {
    /// Text, for [`RenderMode::Ansi`].
    Ansi(String),
    /// Pixels, for [`RenderMode::RgbArray`].
    Rgb(RgbFrame),
}

/// An RGB image, 8 bits per channel, row-major, top row first (`height x width x 3`, like
/// Gymnasium's `rgb_array`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RgbFrame {
    width: usize,
    height: usize,
    data: Vec<u8>,
}

impl RgbFrame {
    /// A frame filled with one colour.
    pub fn filled(width: usize, height: usize, rgb: [u8; 3]) -> Self {
        let mut data = Vec::with_capacity(width * height * 3);
        for _ in 0..width * height {
            data.extend_from_slice(&rgb);
        }
        RgbFrame {
            width,
            height,
            data,
        }
    }

    /// Wraps raw RGB bytes; `data.len()` must be `width * height * 3`.
    pub fn from_raw(width: usize, height: usize, data: Vec<u8>) -> Result<Self> {
        let expected = width
            .checked_mul(height)
            .and_then(|p| p.checked_mul(3))
            .ok_or_else(|| {
                Error::invalid_argument(format!("a {width}x{height} frame is too large"))
            })?;
        if data.len() != expected {
            return Err(Error::shape("RGB frame bytes", expected, data.len()));
        }
        Ok(RgbFrame {
            width,
            height,
            data,
        })
    }

    /// Width in pixels.
    pub fn width(&self) -> usize {
        self.width
    }

    /// Height in pixels.
    pub fn height(&self) -> usize {
        self.height
    }

    /// The bytes, `height x width x 3`.
    pub fn data(&self) -> &[u8] {
        &self.data
    }

    /// The bytes, mutably.
    pub fn data_mut(&mut self) -> &mut [u8] {
        &mut self.data
    }

    /// The colour at `(x, y)` (`y = 0` is the top row), if inside the frame.
    pub fn pixel(&self, x: usize, y: usize) -> Option<[u8; 3]> {
        if x < self.width && y < self.height {
            let i = (y * self.width + x) * 3;
            Some([self.data[i], self.data[i + 1], self.data[i + 2]])
        } else {
            None
        }
    }

    /// Sets the colour at `(x, y)`; pixels outside the frame are ignored.
    pub fn set_pixel(&mut self, x: usize, y: usize, rgb: [u8; 3]) {
        if x < self.width && y < self.height {
            let i = (y * self.width + x) * 3;
            self.data[i..i + 3].copy_from_slice(&rgb);
        }
    }
}
