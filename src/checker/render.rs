//! Rendering checks: declared modes give the right frames; undeclared modes are errors.

use super::report::{CheckReport, Outcome};
use super::{CheckOptions, guarded, panic_message};
use crate::env::Env;
use crate::render::{Frame, RenderMode};
use crate::seeding::EnvRng;
use crate::space::Space;
use rand::SeedableRng;
use std::panic::{AssertUnwindSafe, catch_unwind};

/// Every render mode there is.
const ALL_MODES: [RenderMode; 2] = [RenderMode::Ansi, RenderMode::RgbArray];

/// Checks one frame against its mode; returns the RGB size, if any.
fn frame_kind(
    mode: RenderMode,
    frame: &Frame,
    when: &str,
    report: &mut CheckReport,
) -> Result<Option<(usize, usize)>, String> {
    match (mode, frame) {
        (RenderMode::Ansi, Frame::Ansi(text)) => {
            if text.is_empty() {
                report.warn(format!("render(ansi) {when} returned an empty string"));
            }
            Ok(None)
        }
        (RenderMode::RgbArray, Frame::Rgb(rgb)) => {
            if rgb.width() == 0 || rgb.height() == 0 {
                return Err(format!(
                    "render(rgb_array) {when} returned an empty {}x{} frame",
                    rgb.width(),
                    rgb.height()
                ));
            }
            if rgb.data().len() != rgb.width() * rgb.height() * 3 {
                return Err(format!(
                    "render(rgb_array) {when} returned {} bytes for a {}x{} frame",
                    rgb.data().len(),
                    rgb.width(),
                    rgb.height()
                ));
            }
            Ok(Some((rgb.width(), rgb.height())))
        }
        (_, Frame::Ansi(_)) => Err(format!("render({mode}) {when} returned a text frame")),
        (_, Frame::Rgb(_)) => Err(format!("render({mode}) {when} returned an RGB frame")),
    }
}

/// [`super::CheckKind::Render`].
pub(crate) fn declared_modes<E: Env + ?Sized>(
    env: &mut E,
    opts: &CheckOptions,
    report: &mut CheckReport,
) -> Outcome {
    let modes = env.render_modes().to_vec();
    if modes.is_empty() {
        return Outcome::Skipped("the environment declares no render modes".into());
    }
    for (i, m) in modes.iter().enumerate() {
        if modes[..i].contains(m) {
            report.warn(format!("render_modes() lists {m} twice"));
        }
    }
    let mut run = || -> Result<(), String> {
        let fps = guarded_value("render_fps", || env.render_fps())?;
        if fps == 0 {
            return Err("render_fps() is 0; it must be positive".into());
        }
        let mut rng = EnvRng::seed_from_u64(opts.seed);
        for &mode in &modes {
            guarded("reset", || env.reset(Some(opts.seed)))?;
            let what = format!("render({mode})");
            let frame = guarded(&what, || env.render(mode))?;
            let size = frame_kind(mode, &frame, "after reset", report)?;
            let action = env.action_space().sample(&mut rng);
            let step = guarded("step", || env.step(&action))?;
            let frame = guarded(&what, || env.render(mode))?;
            let when = if step.done() {
                "after the last step"
            } else {
                "after a step"
            };
            let later = frame_kind(mode, &frame, when, report)?;
            if let (Some(a), Some(b)) = (size, later)
                && a != b
            {
                return Err(format!(
                    "render(rgb_array) changed size from {}x{} after reset to {}x{} {when}",
                    a.0, a.1, b.0, b.1
                ));
            }
        }
        Ok(())
    };
    Outcome::from_result(run())
}

/// [`super::CheckKind::UnsupportedRenderMode`].
pub(crate) fn undeclared_modes<E: Env + ?Sized>(env: &mut E, opts: &CheckOptions) -> Outcome {
    let declared = env.render_modes().to_vec();
    let undeclared: Vec<RenderMode> = ALL_MODES
        .into_iter()
        .filter(|m| !declared.contains(m))
        .collect();
    if undeclared.is_empty() {
        return Outcome::Skipped("every render mode is declared".into());
    }
    if let Err(msg) = guarded("reset", || env.reset(Some(opts.seed))) {
        return Outcome::Skipped(format!("reset failed: {msg}"));
    }
    for mode in undeclared {
        match catch_unwind(AssertUnwindSafe(|| env.render(mode))) {
            Ok(Err(_)) => {}
            Ok(Ok(_)) => {
                return Outcome::Failed(format!(
                    "render({mode}) succeeded although render_modes() does not list it"
                ));
            }
            Err(p) => {
                return Outcome::Failed(format!(
                    "render({mode}) panicked (it is not in render_modes(), so it must return an \
                     error): {}",
                    panic_message(p.as_ref())
                ));
            }
        }
    }
    Outcome::Passed
}

/// Like [`guarded`] for a call that cannot fail but may panic.
fn guarded_value<T>(what: &str, f: impl FnOnce() -> T) -> Result<T, String> {
    catch_unwind(AssertUnwindSafe(f))
        .map_err(|p| format!("{what} panicked: {}", panic_message(p.as_ref())))
}
