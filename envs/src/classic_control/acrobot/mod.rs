//! Acrobot: swing the tip of a two-link arm above a bar (Gymnasium's `Acrobot-v1`).

mod dynamics;

use super::{PhysicalState, RENDER_MODES, reset_bounds, uniform};
use crate::state::StateVector;
use dynamics::{bound, rk4, wrap};
use serde::{Deserialize, Serialize};
use std::f64::consts::PI;
use std::fmt::Write as _;
use tokengym::render::canvas::Canvas;
use tokengym::seeding::rng_from_seed;
use tokengym::space::{BoxSpace, Discrete};
use tokengym::{EnvRng, Error, Frame, Info, RenderMode, ResetOptions, Result, Step};

/// Integration time of one step, seconds.
pub const DT: f64 = 0.2;
/// Length of the first (upper) link, metres.
pub const LINK_LENGTH_1: f64 = 1.0;
/// Length of the second (lower) link, metres.
pub const LINK_LENGTH_2: f64 = 1.0;
/// Mass of the first link, kg.
pub const LINK_MASS_1: f64 = 1.0;
/// Mass of the second link, kg.
pub const LINK_MASS_2: f64 = 1.0;
/// Distance from the fixed joint to the first link's centre of mass, metres.
pub const LINK_COM_POS_1: f64 = 0.5;
/// Distance from the middle joint to the second link's centre of mass, metres.
pub const LINK_COM_POS_2: f64 = 0.5;
/// Moment of inertia of either link.
pub const LINK_MOI: f64 = 1.0;
/// Gravity, m/s².
pub const GRAVITY: f64 = 9.8;
/// Bound on the first joint's angular velocity, rad/s (`4π`).
pub const MAX_VEL_1: f64 = 4.0 * PI;
/// Bound on the second joint's angular velocity, rad/s (`9π`).
pub const MAX_VEL_2: f64 = 9.0 * PI;
/// Torque applied by actions 0, 1 and 2.
pub const AVAIL_TORQUE: [f64; 3] = [-1.0, 0.0, 1.0];
/// Width and height of `rgb_array` frames, pixels.
pub const SCREEN_DIM: usize = 500;
/// Playback speed of rendered episodes (Gymnasium's `render_fps`).
pub const RENDER_FPS: u32 = 15;
/// Gymnasium's `TimeLimit` for `Acrobot-v1` (applied by the registry, not by this type).
pub const MAX_EPISODE_STEPS: usize = 500;
/// Outside `WRAP_LOOP_LIMIT` turns of `[-π, π]` an angle is wrapped with one remainder
/// instead of Gymnasium's subtraction loop (which would take too long or never finish).
const WRAP_LOOP_LIMIT: f64 = 64.0;

/// Which equations of motion to use (Gymnasium's `book_or_nips`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AcrobotDynamics {
    /// Sutton & Barto's book (and the Java implementation): the default.
    #[default]
    Book,
    /// The NeurIPS 1995 paper, which lacks the `-m2 l1 lc2 θ̇1² sin θ2` term in `θ̈2`.
    Nips,
}

/// Options of [`Acrobot`]. Unknown fields are rejected when deserializing.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AcrobotConfig {
    /// Equations of motion: `"book"` (default) or `"nips"`.
    pub book_or_nips: AcrobotDynamics,
    /// Uniform noise in `[-torque_noise_max, torque_noise_max]` added to every torque (default 0:
    /// none). Must be finite and non-negative.
    pub torque_noise_max: f64,
    /// Lower bound of the uniform initial state (Gymnasium's reset option `low`, default -0.1).
    pub reset_low: f64,
    /// Upper bound of the uniform initial state (Gymnasium's reset option `high`, default 0.1).
    pub reset_high: f64,
}

impl Default for AcrobotConfig {
    fn default() -> Self {
        AcrobotConfig {
            book_or_nips: AcrobotDynamics::Book,
            torque_noise_max: 0.0,
            reset_low: -0.1,
            reset_high: 0.1,
        }
    }
}

impl AcrobotConfig {
    /// Checks the options: finite numbers, non-negative noise, `reset_low <= reset_high`.
    pub fn validate(&self) -> Result<()> {
        if !(self.torque_noise_max.is_finite() && self.torque_noise_max >= 0.0) {
            return Err(Error::invalid_argument(format!(
                "Acrobot torque_noise_max must be finite and >= 0, got {}",
                self.torque_noise_max
            )));
        }
        if !(self.reset_low.is_finite() && self.reset_high.is_finite())
            || self.reset_low > self.reset_high
        {
            return Err(Error::invalid_argument(format!(
                "Acrobot reset bounds must be finite with reset_low <= reset_high, got [{}, {}]",
                self.reset_low, self.reset_high
            )));
        }
        Ok(())
    }
}

/// Two links hang from a fixed pivot, with a motor only at the joint between them; swing the tip
/// above a bar one link length over the pivot (Gymnasium's `Acrobot-v1`).
///
/// # Description
/// The acrobot of Sutton's NeurIPS 1995 paper, "Generalization in Reinforcement Learning:
/// Successful Examples Using Sparse Coarse Coding", and of Sutton and Barto's book. The arm
/// starts hanging down almost at rest; an action picks a torque at the middle joint, and the
/// agent must pump energy into the swing until the tip rises high enough. The equations of
/// motion of the book (or, optionally, of the paper: see [`AcrobotDynamics`]) are integrated
/// over [`DT`]` = 0.2 s` with one classic fourth-order Runge–Kutta step on the state augmented
/// by the torque (whose derivative is zero). Afterwards both angles are wrapped into `[-π, π]`
/// and the velocities clipped to `±`[`MAX_VEL_1`] and `±`[`MAX_VEL_2`]. Given the same state
/// and actions, the results are bit-identical to Gymnasium 1.4.0's.
///
/// **Numerics.** All physics is `f64` in Gymnasium's order of operations. NumPy's `x**2` on a
/// `float64` calls libm's `pow`, which for a small fraction of inputs differs from `x * x` in the
/// last bit, so squares here call `pow` too. Angles far outside `[-π, π]` (only reachable
/// through [`StateVector::set_state`]) are wrapped with a remainder instead of Gymnasium's
/// endless loop, and a step whose result is not finite fails with [`Error::NonFinite`].
///
/// # Action Space
/// `Discrete(3)`: the torque at the middle joint is [`AVAIL_TORQUE`]`[action]`, plus, if
/// [`AcrobotConfig::torque_noise_max`] is positive, uniform noise in
/// `[-torque_noise_max, torque_noise_max]`. Any other action is an error.
///
/// | Num | Action |
/// |---|---|
/// | 0 | torque -1 at the middle joint |
/// | 1 | no torque |
/// | 2 | torque +1 at the middle joint |
///
/// # Observation Space
/// `Box(6)` of `f32`, computed from the state `[θ1, θ2, θ̇1, θ̇2]`: `θ1` is the upper link's
/// angle from straight down, `θ2` the lower link's angle relative to the upper one (0 when the
/// links are in line). The [`StateVector`] is that state, in `f64` (Gymnasium's
/// `env.unwrapped.state`), not the observation. An observation starting `[1, 0, 1, 0]` means
/// both links point straight down.
///
/// | Num | Observation | Min | Max |
/// |---|---|---|---|
/// | 0 | `cos θ1` | -1 | 1 |
/// | 1 | `sin θ1` | -1 | 1 |
/// | 2 | `cos θ2` | -1 | 1 |
/// | 3 | `sin θ2` | -1 | 1 |
/// | 4 | angular velocity `θ̇1` (rad/s) | ~ -12.566 (-4π) | ~ 12.566 (4π) |
/// | 5 | angular velocity `θ̇2` (rad/s) | ~ -28.274 (-9π) | ~ 28.274 (9π) |
///
/// # Rewards
/// -1 for every step that does not reach the goal, 0 for the step that does (reward threshold
/// -100 for `Acrobot-v1`).
///
/// # Starting State
/// All four state variables uniform in `[-0.1, 0.1]` ([`AcrobotConfig::reset_low`],
/// [`AcrobotConfig::reset_high`]; Gymnasium's reset options `low` and `high`), rounded to `f32`
/// as Gymnasium does: the arm hangs down almost at rest.
///
/// # Episode End
/// - Termination: the tip rises more than one link length above the pivot,
///   `-cos θ1 - cos(θ1 + θ2) > 1`.
/// - Truncation: after [`MAX_EPISODE_STEPS`] = 500 steps, by the registry's `TimeLimit`
///   wrapper, not by this type.
/// - Stepping after termination behaves as in Gymnasium: the simulation simply continues; call
///   `reset` instead.
///
/// # Arguments
/// [`AcrobotConfig`], checked by [`Acrobot::with_config`]: `book_or_nips` (default
/// [`AcrobotDynamics::Book`]), `torque_noise_max` (default 0: no noise; finite and
/// non-negative), `reset_low` and `reset_high` (defaults -0.1 and 0.1; finite, with
/// `reset_low <= reset_high`). The keyword arguments of `make_with` (in
/// [`MakeOptions`](tokengym::MakeOptions)) are `book_or_nips` (`"book"` or `"nips"`) and
/// `torque_noise_max`. Renders as text (`ansi`) or as a 500x500 picture (`rgb_array`,
/// [`SCREEN_DIM`]), at [`RENDER_FPS`] = 15.
///
/// # Version History
/// - v1: the time limit grew from 200 to 500 steps, and the observation gives the cosine and
///   sine of each angle instead of the two angles themselves.
/// - v0: the original release, observing `θ1` and `θ2` directly (in `[-π, π]`) with a 200-step
///   limit; Gymnasium has since dropped it, and tokengym does not register it.
///
/// ```
/// use tokengym::Env;
/// use tokengym_envs::classic_control::{Acrobot, AcrobotConfig, AcrobotDynamics};
///
/// let mut env = Acrobot::with_config(AcrobotConfig {
///     book_or_nips: AcrobotDynamics::Nips,
///     ..Default::default()
/// })?;
/// let (obs, _) = env.reset(Some(0))?;
/// assert_eq!(obs.len(), 6);
/// let step = env.step(&2)?; // torque +1
/// assert_eq!(step.reward, -1.0);
/// assert!(env.step(&3).is_err()); // outside Discrete(3)
/// # Ok::<(), tokengym::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Acrobot {
    config: AcrobotConfig,
    state: PhysicalState<4>,
    rng: EnvRng,
    obs_space: BoxSpace<f32, [f32; 6]>,
    act_space: Discrete,
}

impl Default for Acrobot {
    fn default() -> Self {
        Self::new()
    }
}

impl Acrobot {
    /// Re-seeds when `seed` is given, then draws every state variable uniform in `[low, high)`.
    fn reset_within(&mut self, seed: Option<u64>, low: f64, high: f64) -> Result<([f32; 6], Info)> {
        if seed.is_some() {
            self.rng = rng_from_seed(seed);
        }
        // Gymnasium draws float64 values and stores them as float32.
        let state = [0; 4].map(|_| uniform(&mut self.rng, low, high) as f32 as f64);
        self.state.put(state);
        Ok((self.observation(), Info::new()))
    }

    /// An acrobot with the default options (`Acrobot-v1`).
    pub fn new() -> Self {
        Self::build(AcrobotConfig::default())
    }

    /// An acrobot with the given options; fails with [`Error::InvalidArgument`] for invalid ones.
    pub fn with_config(config: AcrobotConfig) -> Result<Self> {
        config.validate()?;
        Ok(Self::build(config))
    }

    fn build(config: AcrobotConfig) -> Self {
        let high = [1.0, 1.0, 1.0, 1.0, MAX_VEL_1 as f32, MAX_VEL_2 as f32];
        Acrobot {
            config,
            state: PhysicalState::absent(),
            rng: rng_from_seed(None),
            obs_space: BoxSpace::new(high.map(|h| -h).to_vec(), high.to_vec(), vec![6])
                .expect("Acrobot's constant observation bounds are valid"),
            act_space: Discrete::new(3).expect("Discrete(3) is valid"),
        }
    }

    /// The options this environment was built with.
    pub fn config(&self) -> &AcrobotConfig {
        &self.config
    }

    /// The observation of the current state (what `reset` and `step` return).
    pub fn observation(&self) -> [f32; 6] {
        let [t1, t2, v1, v2] = self.state.values();
        [
            t1.cos() as f32,
            t1.sin() as f32,
            t2.cos() as f32,
            t2.sin() as f32,
            v1 as f32,
            v2 as f32,
        ]
    }

    fn terminal(&self) -> bool {
        let [t1, t2, ..] = self.state.values();
        -t1.cos() - (t2 + t1).cos() > 1.0
    }

    /// Pivot, middle joint and tip in metres (`y` up, pivot at the origin).
    fn joints(&self) -> [(f64, f64); 3] {
        let [t1, t2, ..] = self.state.values();
        let p1 = (LINK_LENGTH_1 * t1.sin(), -LINK_LENGTH_1 * t1.cos());
        let p2 = (
            p1.0 + LINK_LENGTH_2 * (t1 + t2).sin(),
            p1.1 - LINK_LENGTH_2 * (t1 + t2).cos(),
        );
        [(0.0, 0.0), p1, p2]
    }

    fn render_rgb(&self) -> Frame {
        let dim = SCREEN_DIM as f64;
        let scale = dim / ((LINK_LENGTH_1 + LINK_LENGTH_2 + 0.2) * 2.0);
        let offset = dim / 2.0;
        let px = |(x, y): (f64, f64)| (x * scale + offset, y * scale + offset);
        let mut canvas = Canvas::new(SCREEN_DIM, SCREEN_DIM, [255, 255, 255]).with_y_up(true);
        // The goal bar, one link length above the pivot.
        canvas.line(px((-2.2, 1.0)), px((2.2, 1.0)), 1.0, [0, 0, 0]);
        let joints = self.joints();
        let half_width = 0.1 * scale;
        for w in joints.windows(2) {
            let (a, b) = (px(w[0]), px(w[1]));
            let (dx, dy) = (b.0 - a.0, b.1 - a.1);
            let len = (dx * dx + dy * dy).sqrt().max(f64::MIN_POSITIVE);
            let (nx, ny) = (-dy / len * half_width, dx / len * half_width);
            let quad = [
                (a.0 + nx, a.1 + ny),
                (b.0 + nx, b.1 + ny),
                (b.0 - nx, b.1 - ny),
                (a.0 - nx, a.1 - ny),
            ];
            canvas.fill_polygon(&quad, [0, 204, 204]);
            canvas.fill_circle(a.0, a.1, half_width.trunc(), [204, 204, 0]);
        }
        Frame::Rgb(canvas.into_frame())
    }

    fn render_ansi(&self) -> Frame {
        const W: usize = 23;
        const H: usize = 13;
        let mut grid = [[b' '; W]; H];
        // 5 columns and 2.5 rows per metre, pivot at the centre; row 0 is the top.
        let cell = |(x, y): (f64, f64)| {
            let c = (x * 5.0 + (W / 2) as f64).round();
            let r = ((H / 2) as f64 - y * 2.5).round();
            (c >= 0.0 && r >= 0.0 && (c as usize) < W && (r as usize) < H)
                .then_some((r as usize, c as usize))
        };
        if let Some((r, _)) = cell((0.0, 1.0)) {
            grid[r].fill(b'-');
        }
        let joints = self.joints();
        for (w, ch) in joints.windows(2).zip([b'1', b'2']) {
            for i in 0..=20 {
                let f = i as f64 / 20.0;
                let p = (
                    w[0].0 + f * (w[1].0 - w[0].0),
                    w[0].1 + f * (w[1].1 - w[0].1),
                );
                if let Some((r, c)) = cell(p) {
                    grid[r][c] = ch;
                }
            }
        }
        for (p, ch) in joints.iter().zip([b'O', b'o', b'*']) {
            if let Some((r, c)) = cell(*p) {
                grid[r][c] = ch;
            }
        }
        let mut text = String::with_capacity((W + 1) * H + 160);
        for row in &grid {
            text.push_str(std::str::from_utf8(row).unwrap_or_default().trim_end());
            text.push('\n');
        }
        let [t1, t2, v1, v2] = self.state.values();
        let tip = joints[2].1;
        let _ = writeln!(
            text,
            "theta1={t1:+.4} theta2={t2:+.4} dtheta1={v1:+.4} dtheta2={v2:+.4}\n\
             tip height={tip:+.4} (goal > +1.0){}",
            if self.terminal() { " GOAL" } else { "" }
        );
        Frame::Ansi(text)
    }
}

impl tokengym::Env for Acrobot {
    type ObsSpace = BoxSpace<f32, [f32; 6]>;
    type ActSpace = Discrete;

    fn observation_space(&self) -> &Self::ObsSpace {
        &self.obs_space
    }

    fn action_space(&self) -> &Self::ActSpace {
        &self.act_space
    }

    fn reset(&mut self, seed: Option<u64>) -> Result<([f32; 6], Info)> {
        self.reset_within(seed, self.config.reset_low, self.config.reset_high)
    }

    /// Gymnasium's reset options `low` and `high`: every state variable uniform in
    /// `[low, high)` (defaults [`AcrobotConfig::reset_low`], [`AcrobotConfig::reset_high`]);
    /// other options are errors.
    fn reset_with_options(
        &mut self,
        seed: Option<u64>,
        options: &ResetOptions,
    ) -> Result<([f32; 6], Info)> {
        if options.is_empty() {
            return self.reset(seed);
        }
        let (low, high) = (self.config.reset_low, self.config.reset_high);
        let (low, high) = reset_bounds("Acrobot", options, low, high)?;
        self.reset_within(seed, low, high)
    }

    fn step(&mut self, action: &i64) -> Result<Step<[f32; 6]>> {
        let [t1, t2, v1, v2] = self.state.get()?;
        let index = self
            .act_space
            .index_of(*action)
            .ok_or_else(|| Error::InvalidAction {
                action: action.to_string(),
                space: self.act_space.to_string(),
            })?;
        let mut torque = AVAIL_TORQUE[index];
        let noise = self.config.torque_noise_max;
        if noise > 0.0 {
            torque += uniform(&mut self.rng, -noise, noise);
        }
        let mut ns = rk4(&[t1, t2, v1, v2, torque], self.config.book_or_nips);
        ns[0] = wrap(ns[0], -PI, PI);
        ns[1] = wrap(ns[1], -PI, PI);
        ns[2] = bound(ns[2], -MAX_VEL_1, MAX_VEL_1);
        ns[3] = bound(ns[3], -MAX_VEL_2, MAX_VEL_2);
        if !ns.iter().all(|x| x.is_finite()) {
            return Err(Error::NonFinite {
                what: "Acrobot state".into(),
                detail: format!("{:?} -> {ns:?}", [t1, t2, v1, v2]),
            });
        }
        self.state.put(ns);
        let terminated = self.terminal();
        let reward = if terminated { 0.0 } else { -1.0 };
        Ok(Step::new(self.observation(), reward, terminated, false))
    }

    fn render_modes(&self) -> &[RenderMode] {
        RENDER_MODES
    }

    fn render(&self, mode: RenderMode) -> Result<Frame> {
        self.state.render(mode, |_, mode| match mode {
            RenderMode::Ansi => self.render_ansi(),
            RenderMode::RgbArray => self.render_rgb(),
        })
    }

    fn render_fps(&self) -> u32 {
        RENDER_FPS
    }
}

impl StateVector for Acrobot {
    /// `[θ1, θ2, θ̇1, θ̇2]` (empty before the first reset).
    fn state(&self) -> Vec<f64> {
        self.state.to_vec()
    }

    /// Sets `[θ1, θ2, θ̇1, θ̇2]`; every value must be finite. Also counts as a reset for
    /// [`Env::step`](tokengym::Env::step).
    fn set_state(&mut self, state: &[f64]) -> Result<()> {
        self.state.set_checked("Acrobot", state)
    }
}

#[cfg(test)]
mod tests;
