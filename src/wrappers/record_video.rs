//! `RecordVideo`: save rendered episodes as animated GIFs.

use crate::env::{ActOf, Env, ObsOf, Step, Transition};
use crate::error::{Error, Result};
use crate::info::Info;
use crate::render::{Frame, RenderMode, RgbFrame};
use std::fs;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// Decides from an episode index (0 for the first episode) whether to record it.
pub type EpisodeTrigger = Box<dyn FnMut(u64) -> bool + Send>;

/// Default file-name prefix (Gymnasium's `"rl-video"`).
pub const DEFAULT_VIDEO_PREFIX: &str = "rl-video";

/// Default NeuQuant speed of the colour quantisation (1 = best, 30 = fastest).
pub const DEFAULT_GIF_SPEED: i32 = 10;

/// Records the `rgb_array` frames of selected episodes and writes each one as an animated GIF
/// `{folder}/{name_prefix}-episode-{id}.gif` playing at the environment's `render_fps`
/// (Gymnasium's `RecordVideo`, which writes MP4 instead).
///
/// Episodes are numbered from 0 at each `reset`; the episode trigger (by default every
/// episode) chooses which are recorded. A recorded episode's frames are one after the reset
/// and one after every step; the GIF is written when the episode ends
/// (`terminated || truncated`), when `reset` interrupts it, or on [`RecordVideo::finish`].
/// Files are written atomically: to a hidden temporary file in the folder, then renamed.
///
/// Colours: each frame gets its own palette, exact when the frame has at most 256 colours and
/// reduced with NeuQuant (the `gif` crate's `Frame::from_rgb_speed`) otherwise.
///
/// Frames are kept in memory until the episode ends. Observations are untouched; the flat
/// methods are forwarded (plus a render call per step while recording).
pub struct RecordVideo<E> {
    env: E,
    folder: PathBuf,
    name_prefix: String,
    trigger: EpisodeTrigger,
    speed: i32,
    episode_id: Option<u64>,
    recording: bool,
    frames: Vec<RgbFrame>,
    written: Vec<PathBuf>,
}

impl<E: Env> RecordVideo<E> {
    /// Wraps `env`, recording every episode into `folder` (created if missing). Fails when the
    /// environment cannot render `rgb_array`, its `render_fps` is 0, or the folder cannot be
    /// created.
    pub fn new(env: E, folder: impl Into<PathBuf>) -> Result<Self> {
        if !env.render_modes().contains(&RenderMode::RgbArray) {
            return Err(Error::invalid_argument(format!(
                "RecordVideo needs an environment that renders rgb_array; it supports {:?}",
                env.render_modes()
            )));
        }
        if env.render_fps() == 0 {
            return Err(Error::invalid_argument(
                "RecordVideo: the environment's render_fps is 0",
            ));
        }
        let folder = folder.into();
        fs::create_dir_all(&folder).map_err(|e| Error::io(&folder, e))?;
        Ok(RecordVideo {
            env,
            folder,
            name_prefix: DEFAULT_VIDEO_PREFIX.to_string(),
            trigger: Box::new(|_| true),
            speed: DEFAULT_GIF_SPEED,
            episode_id: None,
            recording: false,
            frames: Vec::new(),
            written: Vec::new(),
        })
    }

    /// Records only the episodes for which `trigger(episode_index)` is true.
    pub fn with_episode_trigger(
        mut self,
        trigger: impl FnMut(u64) -> bool + Send + 'static,
    ) -> Self {
        self.trigger = Box::new(trigger);
        self
    }

    /// Sets the file-name prefix; it must be non-empty and hold no path separator.
    pub fn with_name_prefix(mut self, prefix: impl Into<String>) -> Result<Self> {
        let prefix = prefix.into();
        if prefix.is_empty() || prefix.contains(['/', '\\']) {
            return Err(Error::invalid_argument(format!(
                "RecordVideo: invalid name prefix {prefix:?}"
            )));
        }
        self.name_prefix = prefix;
        Ok(self)
    }

    /// Sets the NeuQuant speed of the colour quantisation, 1 (best) to 30 (fastest).
    pub fn with_quantization_speed(mut self, speed: i32) -> Result<Self> {
        if !(1..=30).contains(&speed) {
            return Err(Error::invalid_argument(format!(
                "RecordVideo: quantization speed must be in 1..=30, got {speed}"
            )));
        }
        self.speed = speed;
        Ok(self)
    }

    /// The GIFs written so far, in order.
    pub fn written_paths(&self) -> &[PathBuf] {
        &self.written
    }

    /// Whether the current episode is being recorded.
    pub fn is_recording(&self) -> bool {
        self.recording
    }

    /// The folder the GIFs go to.
    pub fn folder(&self) -> &Path {
        &self.folder
    }

    /// Writes the episode being recorded, if any, and returns its path. Call this before
    /// dropping the wrapper to keep an unfinished episode (dropping discards it).
    pub fn finish(&mut self) -> Result<Option<PathBuf>> {
        self.stop_recording()
    }

    /// The wrapped environment.
    pub fn inner(&self) -> &E {
        &self.env
    }

    /// The wrapped environment, mutably.
    pub fn inner_mut(&mut self) -> &mut E {
        &mut self.env
    }

    /// Unwraps the environment (an unfinished recording is discarded; see
    /// [`RecordVideo::finish`]).
    pub fn into_inner(self) -> E {
        self.env
    }

    fn capture(&mut self) -> Result<()> {
        match self.env.render(RenderMode::RgbArray)? {
            Frame::Rgb(f) => {
                if let Some(first) = self.frames.first()
                    && (first.width(), first.height()) != (f.width(), f.height())
                {
                    return Err(Error::shape(
                        "RecordVideo frame size",
                        format!("{}x{}", first.width(), first.height()),
                        format!("{}x{}", f.width(), f.height()),
                    ));
                }
                self.frames.push(f);
                Ok(())
            }
            Frame::Ansi(_) => Err(Error::invalid_argument(
                "RecordVideo: render(rgb_array) returned a text frame",
            )),
        }
    }

    fn on_reset(&mut self) -> Result<()> {
        self.stop_recording()?;
        let id = self.episode_id.map_or(0, |i| i + 1);
        self.episode_id = Some(id);
        if (self.trigger)(id) {
            self.recording = true;
            self.capture()?;
        }
        Ok(())
    }

    fn on_step(&mut self, done: bool) -> Result<()> {
        if self.recording {
            self.capture()?;
            if done {
                self.stop_recording()?;
            }
        }
        Ok(())
    }

    fn stop_recording(&mut self) -> Result<Option<PathBuf>> {
        if !self.recording {
            return Ok(None);
        }
        self.recording = false;
        let frames = std::mem::take(&mut self.frames);
        if frames.is_empty() {
            return Ok(None);
        }
        let id = self.episode_id.unwrap_or(0);
        let path = self
            .folder
            .join(format!("{}-episode-{id}.gif", self.name_prefix));
        let tmp = self
            .folder
            .join(format!(".{}-episode-{id}.gif.tmp", self.name_prefix));
        let written = write_gif(&tmp, &frames, self.env.render_fps(), self.speed)
            .and_then(|()| fs::rename(&tmp, &path).map_err(|e| Error::io(&path, e)));
        if let Err(e) = written {
            // Best effort: do not leave a half-written temporary file behind.
            let _ = fs::remove_file(&tmp);
            return Err(e);
        }
        self.written.push(path.clone());
        Ok(Some(path))
    }
}

/// Encodes `frames` (all the same size) as a looping GIF at `fps` into `path`.
fn write_gif(path: &Path, frames: &[RgbFrame], fps: u32, speed: i32) -> Result<()> {
    let Some(first) = frames.first() else {
        return Ok(());
    };
    let dim = |x: usize, what: &str| {
        u16::try_from(x)
            .map_err(|_| Error::Encode(format!("GIF {what} {x} exceeds {} pixels", u16::MAX)))
    };
    let (w, h) = (dim(first.width(), "width")?, dim(first.height(), "height")?);
    if w == 0 || h == 0 {
        return Err(Error::Encode(format!("empty GIF frame ({w}x{h})")));
    }
    // GIF delays are in hundredths of a second.
    let delay = u16::try_from((100 + fps / 2) / fps.max(1))
        .unwrap_or(u16::MAX)
        .max(1);
    let enc = |e: gif::EncodingError| Error::Encode(format!("GIF {}: {e}", path.display()));
    let file = fs::File::create(path).map_err(|e| Error::io(path, e))?;
    let mut encoder = gif::Encoder::new(BufWriter::new(file), w, h, &[]).map_err(enc)?;
    encoder.set_repeat(gif::Repeat::Infinite).map_err(enc)?;
    for f in frames {
        let mut frame = gif::Frame::from_rgb_speed(w, h, f.data(), speed);
        frame.delay = delay;
        encoder.write_frame(&frame).map_err(enc)?;
    }
    let mut out = encoder.into_inner().map_err(enc)?;
    out.flush().map_err(|e| Error::io(path, e))?;
    let file = out
        .into_inner()
        .map_err(|e| Error::io(path, e.into_error()))?;
    file.sync_all().map_err(|e| Error::io(path, e))
}

impl<E: Env> Env for RecordVideo<E> {
    type ObsSpace = E::ObsSpace;
    type ActSpace = E::ActSpace;

    forward_spaces!();
    reset_via_options!();
    fn reset_with_options(
        &mut self,
        seed: Option<u64>,
        options: &crate::env::ResetOptions,
    ) -> Result<(ObsOf<Self>, Info)> {
        let out = self.env.reset_with_options(seed, options)?;
        self.on_reset()?;
        Ok(out)
    }
    fn step(&mut self, action: &ActOf<Self>) -> Result<Step<ObsOf<Self>>> {
        let step = self.env.step(action)?;
        self.on_step(step.done())?;
        Ok(step)
    }
    forward_render!();
    fn reset_flat(&mut self, seed: Option<u64>, obs_out: &mut [f32]) -> Result<Info> {
        let info = self.env.reset_flat(seed, obs_out)?;
        self.on_reset()?;
        Ok(info)
    }
    fn step_flat(&mut self, action: &ActOf<Self>, obs_out: &mut [f32]) -> Result<Transition> {
        let t = self.env.step_flat(action, obs_out)?;
        self.on_step(t.done())?;
        Ok(t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wrappers::test_envs::{Counter, Line};

    /// A fresh, empty folder under the system temp dir.
    fn scratch_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "tokengym-record-video-{name}-{}",
            std::process::id()
        ));
        let _ = fs::remove_dir_all(&dir);
        dir
    }

    /// (frame count, width, height, delay, first pixel of each frame).
    fn decode(path: &Path) -> (usize, u16, u16, u16, Vec<[u8; 3]>) {
        let mut opts = gif::DecodeOptions::new();
        opts.set_color_output(gif::ColorOutput::RGBA);
        let mut dec = opts.read_info(fs::File::open(path).unwrap()).unwrap();
        let (w, h) = (dec.width(), dec.height());
        let mut n = 0;
        let mut delay = 0;
        let mut firsts = vec![];
        while let Some(f) = dec.read_next_frame().unwrap() {
            n += 1;
            delay = f.delay;
            firsts.push([f.buffer[0], f.buffer[1], f.buffer[2]]);
        }
        (n, w, h, delay, firsts)
    }

    #[test]
    fn writes_one_gif_per_episode_that_decodes_back() {
        let dir = scratch_dir("basic");
        let mut env = RecordVideo::new(Counter::new(Some(3)), &dir).unwrap();
        env.reset(Some(0)).unwrap();
        assert!(env.is_recording());
        for _ in 0..3 {
            env.step(&1).unwrap();
        }
        assert!(!env.is_recording());
        let path = dir.join("rl-video-episode-0.gif");
        assert_eq!(env.written_paths(), std::slice::from_ref(&path));
        let (n, w, h, delay, firsts) = decode(&path);
        // Reset frame + 3 steps; 4x3 frames; 20 fps -> 5 hundredths.
        assert_eq!((n, w, h, delay), (4, 4, 3, 5));
        // Frames have few colours, so the palette is exact: red = 40 * step count.
        let reds: Vec<u8> = firsts.iter().map(|p| p[0]).collect();
        assert_eq!(reds, [0, 40, 80, 120]);
        assert_eq!(firsts[0], [0, 10, 200]);
        // No temporary files are left behind.
        let names: Vec<_> = fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 1, "{names:?}");
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn trigger_prefix_interrupted_episodes_and_flat_path() {
        let dir = scratch_dir("trigger");
        let mut env = RecordVideo::new(Counter::new(Some(2)), &dir)
            .unwrap()
            .with_episode_trigger(|id| id % 2 == 0)
            .with_name_prefix("eval")
            .unwrap();
        let mut buf = [0.0];
        for _ in 0..3 {
            env.reset_flat(None, &mut buf).unwrap();
            while !env.step_flat(&0, &mut buf).unwrap().done() {}
        }
        // Episode 3 is skipped; episode 4 is interrupted by a reset after one step.
        env.reset(None).unwrap();
        assert!(!env.is_recording());
        env.reset(None).unwrap();
        env.step(&0).unwrap();
        env.reset(None).unwrap();
        assert!(!env.is_recording());
        let names: Vec<String> = env
            .written_paths()
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            names,
            [
                "eval-episode-0.gif",
                "eval-episode-2.gif",
                "eval-episode-4.gif"
            ]
        );
        assert_eq!(decode(&env.written_paths()[2]).0, 2);
        // finish() with nothing recording writes nothing.
        assert_eq!(env.finish().unwrap(), None);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn finish_writes_the_unfinished_episode() {
        let dir = scratch_dir("finish");
        let mut env = RecordVideo::new(Counter::new(None), &dir).unwrap();
        env.reset(None).unwrap();
        env.step(&0).unwrap();
        let path = env.finish().unwrap().expect("a GIF");
        assert_eq!(decode(&path).0, 2);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn bad_configurations_are_errors() {
        let dir = scratch_dir("bad");
        assert!(RecordVideo::new(Line::new(), &dir).is_err());
        let env = RecordVideo::new(Counter::new(None), &dir).unwrap();
        let env = env.with_quantization_speed(0).err().map(|e| e.to_string());
        assert!(env.unwrap().contains("1..=30"));
        let env = RecordVideo::new(Counter::new(None), &dir).unwrap();
        assert!(env.with_name_prefix("a/b").is_err());
        let _ = fs::remove_dir_all(&dir);
    }
}
