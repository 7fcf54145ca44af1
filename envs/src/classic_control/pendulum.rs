//! Pendulum: swing a rigid rod up and hold it upright (Gymnasium's `Pendulum-v1`).

use super::numpy_square::numpy_square;
use super::{PhysicalState, RENDER_MODES, uniform};
use crate::state::StateVector;
use serde::{Deserialize, Serialize};
use std::f64::consts::PI;
use std::fmt::Write as _;
use std::hint::black_box;
use tokengym::render::canvas::Canvas;
use tokengym::seeding::rng_from_seed;
use tokengym::space::{BoxSpace, Space};
use tokengym::{EnvRng, Error, Frame, Info, RenderMode, ResetOptions, Result, Step};

/// Bound on the angular velocity, rad/s.
pub const MAX_SPEED: f64 = 8.0;
/// Bound on the torque (the action space is `[-MAX_TORQUE, MAX_TORQUE]`).
pub const MAX_TORQUE: f32 = 2.0;
/// Integration time of one step, seconds.
pub const DT: f64 = 0.05;
/// Mass of the rod, kg.
pub const MASS: f64 = 1.0;
/// Length of the rod, metres.
pub const LENGTH: f64 = 1.0;
/// Default gravity, m/s².
pub const DEFAULT_G: f64 = 10.0;
/// Default bound of the initial angle, rad (`θ ~ U[-π, π]`).
pub const DEFAULT_X_INIT: f64 = PI;
/// Default bound of the initial angular velocity, rad/s (`θ̇ ~ U[-1, 1]`).
pub const DEFAULT_Y_INIT: f64 = 1.0;
/// Width and height of `rgb_array` frames, pixels.
pub const SCREEN_DIM: usize = 500;
/// Playback speed of rendered episodes (Gymnasium's `render_fps`).
pub const RENDER_FPS: u32 = 30;
/// Gymnasium's `TimeLimit` for `Pendulum-v1` (applied by the registry, not by this type).
pub const MAX_EPISODE_STEPS: usize = 200;

const ROD_COLOUR: [u8; 3] = [204, 77, 77];

/// Options of [`Pendulum`]. Unknown fields are rejected when deserializing.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PendulumConfig {
    /// Gravity (default 10). Any finite value: 0 gives a free rotor, a negative value turns the
    /// pendulum upside down (the goal then becomes the stable equilibrium).
    pub g: f64,
    /// Initial angle drawn from `[-x_init, x_init]` (Gymnasium's reset option, default `π`).
    pub x_init: f64,
    /// Initial angular velocity drawn from `[-y_init, y_init]` (Gymnasium's reset option,
    /// default 1).
    pub y_init: f64,
}

impl Default for PendulumConfig {
    fn default() -> Self {
        PendulumConfig {
            g: DEFAULT_G,
            x_init: DEFAULT_X_INIT,
            y_init: DEFAULT_Y_INIT,
        }
    }
}

impl PendulumConfig {
    /// Checks the options: finite `g`, finite non-negative `x_init` and `y_init`.
    pub fn validate(&self) -> Result<()> {
        if !self.g.is_finite() {
            return Err(Error::invalid_argument(format!(
                "Pendulum g must be finite, got {}",
                self.g
            )));
        }
        for (name, v) in [("x_init", self.x_init), ("y_init", self.y_init)] {
            if !(v.is_finite() && v >= 0.0) {
                return Err(Error::invalid_argument(format!(
                    "Pendulum {name} must be finite and >= 0, got {v}"
                )));
            }
        }
        Ok(())
    }
}

/// A rigid rod hinged at one end, turned by a limited torque: swing it up and hold it upright
/// (Gymnasium's `Pendulum-v1`).
///
/// # Description
/// The inverted-pendulum swing-up, a classic problem of control theory. The state is `[θ, θ̇]`,
/// with `θ = 0` pointing straight up and `θ` growing counter-clockwise. A torque `u` gives,
/// with semi-implicit Euler over [`DT`]` = 0.05 s`,
/// `θ̇' = clip(θ̇ + (3g/(2l) sin θ + 3/(m l²) u) dt, ±8)` and `θ' = θ + θ̇' dt`, where `m` is
/// [`MASS`] (1 kg), `l` is [`LENGTH`] (1 m) and `g` the gravity. The angle is not wrapped.
/// Given the same state and actions, the results are bit-identical to Gymnasium 1.4.0's.
///
/// **Numerics.** As in Gymnasium under NumPy 2's promotion rules, the torque terms are computed
/// in `f32` (`u**2`, `0.001 * u**2` and `3.0 * u` are float32 because the action is) and only
/// then added to the `f64` terms. Squares call libm's `pow` as NumPy does, and the angle is
/// normalized with NumPy's floored remainder. A step whose reward or state is not finite fails
/// with [`Error::NonFinite`].
///
/// # Action Space
/// `Box(1)` of `f32`: the torque `u` in `[-2, 2]` ([`MAX_TORQUE`]), positive counter-clockwise.
/// Values outside it (or NaN) are an error, whereas Gymnasium silently clips them.
///
/// | Num | Action | Min | Max |
/// |---|---|---|---|
/// | 0 | torque `u` (N m) | -2 | 2 |
///
/// # Observation Space
/// `Box(3)` of `f32`: `[cos θ, sin θ, θ̇]`. The [`StateVector`] is the state `[θ, θ̇]`, in
/// `f64` (Gymnasium's `env.unwrapped.state`), not the observation; its `θ` is not wrapped.
///
/// | Num | Observation | Min | Max |
/// |---|---|---|---|
/// | 0 | `cos θ` | -1 | 1 |
/// | 1 | `sin θ` | -1 | 1 |
/// | 2 | angular velocity `θ̇` (rad/s) | -8 | 8 ([`MAX_SPEED`]) |
///
/// # Rewards
/// `-(θn² + 0.1 θ̇² + 0.001 u²)`, from the state before the step, with `θn` the angle
/// normalized into `[-π, π)`: between about `-16.27` (`-(π² + 0.1 · 8² + 0.001 · 2²)`) and `0`
/// (upright, at rest, no torque). `Pendulum-v1` has no reward threshold.
///
/// # Starting State
/// `θ` uniform in `[-π, π]`, `θ̇` uniform in `[-1, 1]`. Both bounds are configurable:
/// [`PendulumConfig::x_init`] (default [`DEFAULT_X_INIT`]) and [`PendulumConfig::y_init`]
/// (default [`DEFAULT_Y_INIT`]), Gymnasium's reset options `x_init` and `y_init`.
///
/// # Episode End
/// - Termination: never.
/// - Truncation: after [`MAX_EPISODE_STEPS`] = 200 steps, by the registry's `TimeLimit`
///   wrapper, not by this type.
///
/// # Arguments
/// [`PendulumConfig`], checked by [`Pendulum::with_config`]: `g`, the gravity in m/s² (default
/// [`DEFAULT_G`] = 10; any finite value: 0 gives a free rotor, a negative value turns the
/// pendulum upside down), and `x_init`, `y_init` (the start bounds above; finite and
/// non-negative). The keyword argument of `make_with` (in
/// [`MakeOptions`](tokengym::MakeOptions)) is `g`. Renders as text (`ansi`) or as a 500x500
/// picture (`rgb_array`, [`SCREEN_DIM`]) with an arrow for the last torque, at
/// [`RENDER_FPS`] = 30.
///
/// # Version History
/// - v1: the step's equations were rewritten in a simpler form; the behaviour is unchanged.
/// - v0: the original release.
///
/// ```
/// use tokengym::Env;
/// use tokengym_envs::StateVector;
/// use tokengym_envs::classic_control::{Pendulum, PendulumConfig};
///
/// let mut env = Pendulum::with_config(PendulumConfig { g: 9.81, ..Default::default() })?;
/// env.reset(Some(0))?;
/// env.set_state(&[0.0, 0.0])?; // upright, at rest
/// let step = env.step(&[0.0])?;
/// assert_eq!(step.reward, 0.0);
/// assert!(env.step(&[2.5]).is_err()); // outside [-2, 2]
/// # Ok::<(), tokengym::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Pendulum {
    config: PendulumConfig,
    state: PhysicalState<2>,
    last_u: Option<f32>,
    rng: EnvRng,
    obs_space: BoxSpace<f32, [f32; 3]>,
    act_space: BoxSpace<f32, [f32; 1]>,
}

/// `x**2` for a `float32` as NumPy computes it (libm `powf`).
fn sq32(x: f32) -> f32 {
    x.powf(black_box(2.0))
}

/// NumPy's `a % b` for `float64`: `fmod` shifted to take the sign of `b`.
fn py_mod(a: f64, b: f64) -> f64 {
    let m = a % b;
    if m != 0.0 {
        if (b < 0.0) != (m < 0.0) { m + b } else { m }
    } else {
        0.0f64.copysign(b)
    }
}

/// Gymnasium's `angle_normalize`: `((x + π) mod 2π) - π`.
fn angle_normalize(x: f64) -> f64 {
    py_mod(x + PI, 2.0 * PI) - PI
}

impl Default for Pendulum {
    fn default() -> Self {
        Self::new()
    }
}

impl Pendulum {
    /// Re-seeds when `seed` is given, then draws the state uniform in `[-high, high)`
    /// (Gymnasium's `uniform(low=-high, high=high)` over the two state variables).
    fn reset_within(&mut self, seed: Option<u64>, high: [f64; 2]) -> Result<([f32; 3], Info)> {
        if seed.is_some() {
            self.rng = rng_from_seed(seed);
        }
        let state = high.map(|h| uniform(&mut self.rng, -h, h));
        self.state.put(state);
        self.last_u = None;
        Ok((self.observation(), Info::new()))
    }

    /// A pendulum with the default options (`Pendulum-v1`).
    pub fn new() -> Self {
        Self::build(PendulumConfig::default())
    }

    /// A pendulum with the given options; fails with [`Error::InvalidArgument`] for invalid ones.
    pub fn with_config(config: PendulumConfig) -> Result<Self> {
        config.validate()?;
        Ok(Self::build(config))
    }

    fn build(config: PendulumConfig) -> Self {
        let high = [1.0, 1.0, MAX_SPEED as f32];
        Pendulum {
            config,
            state: PhysicalState::absent(),
            last_u: None,
            rng: rng_from_seed(None),
            obs_space: BoxSpace::new(high.map(|h| -h).to_vec(), high.to_vec(), vec![3])
                .expect("Pendulum's constant observation bounds are valid"),
            act_space: BoxSpace::new(vec![-MAX_TORQUE], vec![MAX_TORQUE], vec![1])
                .expect("Pendulum's constant torque bounds are valid"),
        }
    }

    /// The options this environment was built with.
    pub fn config(&self) -> &PendulumConfig {
        &self.config
    }

    /// The torque of the last step (`None` right after a reset).
    pub fn last_torque(&self) -> Option<f32> {
        self.last_u
    }

    /// The observation of the current state (what `reset` and `step` return).
    pub fn observation(&self) -> [f32; 3] {
        let [th, thdot] = self.state.values();
        [th.cos() as f32, th.sin() as f32, thdot as f32]
    }

    fn render_rgb(&self) -> Frame {
        let dim = SCREEN_DIM as f64;
        let scale = dim / (2.2 * 2.0);
        let c = (SCREEN_DIM / 2) as f64;
        let half_width = (0.2 * scale / 2.0).trunc();
        let [th, _] = self.state.values();
        // The rod points along θ + π/2 from the +x axis (y up): straight up for θ = 0.
        let (dir_x, dir_y) = ((th + PI / 2.0).cos(), (th + PI / 2.0).sin());
        let end = (c + scale * dir_x, c + scale * dir_y);
        let (nx, ny) = (-dir_y * 0.1 * scale, dir_x * 0.1 * scale);
        let mut canvas = Canvas::new(SCREEN_DIM, SCREEN_DIM, [255, 255, 255]).with_y_up(true);
        let rod = [
            (c + nx, c + ny),
            (end.0 + nx, end.1 + ny),
            (end.0 - nx, end.1 - ny),
            (c - nx, c - ny),
        ];
        canvas.fill_polygon(&rod, ROD_COLOUR);
        canvas.fill_circle(c, c, half_width, ROD_COLOUR);
        canvas.fill_circle(end.0.trunc(), end.1.trunc(), half_width, ROD_COLOUR);
        if let Some(u) = self.last_u {
            // Gymnasium shows a curved arrow sized by |u|: counter-clockwise for u > 0.
            let radius = scale * f64::from(u.abs()) / 4.0;
            let sign = if u > 0.0 { 1.0 } else { -1.0 };
            let arc = |k: usize| {
                let a = -PI / 2.0 + sign * (k as f64) * PI / 12.0;
                (c + radius * a.cos(), c + radius * a.sin())
            };
            let mut points = [(0.0, 0.0); 17];
            for (k, p) in points.iter_mut().enumerate() {
                *p = arc(k);
            }
            let thick = (radius / 6.0).max(1.0);
            canvas.polyline(&points, thick, [0, 0, 0]);
            let (tip, prev) = (arc(18), arc(16));
            let (dx, dy) = (tip.0 - prev.0, tip.1 - prev.1);
            let head = [
                (tip.0, tip.1),
                (prev.0 - dy * 0.6, prev.1 + dx * 0.6),
                (prev.0 + dy * 0.6, prev.1 - dx * 0.6),
            ];
            canvas.fill_polygon(&head, [0, 0, 0]);
        }
        canvas.fill_circle(c, c, (0.05 * scale).trunc(), [0, 0, 0]);
        Frame::Rgb(canvas.into_frame())
    }

    fn render_ansi(&self) -> Frame {
        const W: usize = 21;
        const H: usize = 11;
        let mut grid = [[b' '; W]; H];
        let [th, thdot] = self.state.values();
        let (dx, dy) = (-th.sin(), th.cos());
        for i in 0..=16 {
            let f = i as f64 / 16.0;
            let col = ((W / 2) as f64 + f * dx * 8.0).round() as usize;
            let row = ((H / 2) as f64 - f * dy * 4.0).round() as usize;
            grid[row.min(H - 1)][col.min(W - 1)] = if i == 16 { b'@' } else { b'#' };
        }
        grid[H / 2][W / 2] = b'O';
        let mut text = String::with_capacity((W + 1) * H + 120);
        for row in &grid {
            text.push_str(std::str::from_utf8(row).unwrap_or_default().trim_end());
            text.push('\n');
        }
        let torque = match self.last_u {
            Some(u) => format!("{u:+.4}"),
            None => "none".to_string(),
        };
        let _ = writeln!(
            text,
            "theta={th:+.4} (normalized {:+.4}) thetadot={thdot:+.4} torque={torque}",
            angle_normalize(th)
        );
        Frame::Ansi(text)
    }
}

impl tokengym::Env for Pendulum {
    type ObsSpace = BoxSpace<f32, [f32; 3]>;
    type ActSpace = BoxSpace<f32, [f32; 1]>;

    fn observation_space(&self) -> &Self::ObsSpace {
        &self.obs_space
    }

    fn action_space(&self) -> &Self::ActSpace {
        &self.act_space
    }

    fn reset(&mut self, seed: Option<u64>) -> Result<([f32; 3], Info)> {
        self.reset_within(seed, [self.config.x_init, self.config.y_init])
    }

    /// Gymnasium's reset options `x_init` and `y_init`: the angle uniform in
    /// `[-x_init, x_init)` and the angular velocity in `[-y_init, y_init)` (defaults
    /// [`PendulumConfig::x_init`], [`PendulumConfig::y_init`]; finite and non-negative); other
    /// options are errors.
    fn reset_with_options(
        &mut self,
        seed: Option<u64>,
        options: &ResetOptions,
    ) -> Result<([f32; 3], Info)> {
        if options.is_empty() {
            return self.reset(seed);
        }
        options.check_keys_as(&["x_init", "y_init"], "reset option")?;
        let x = options.get_f64("x_init", self.config.x_init)?;
        let y = options.get_f64("y_init", self.config.y_init)?;
        if !(x.is_finite() && y.is_finite() && x >= 0.0 && y >= 0.0) {
            return Err(Error::invalid_argument(format!(
                "Pendulum reset options x_init and y_init must be finite and >= 0, got {x} and {y}"
            )));
        }
        self.reset_within(seed, [x, y])
    }

    fn step(&mut self, action: &[f32; 1]) -> Result<Step<[f32; 3]>> {
        let [th, thdot] = self.state.get()?;
        self.act_space.check_action(action)?;
        let (g, m, l, dt) = (self.config.g, MASS, LENGTH, DT);
        let u = action[0].clamp(-MAX_TORQUE, MAX_TORQUE);
        // float32 under NumPy 2: 0.001 * u**2 and 3.0 / (m l²) * u.
        let torque_cost = (0.001f64 as f32) * sq32(u);
        let costs =
            numpy_square(angle_normalize(th)) + 0.1 * numpy_square(thdot) + f64::from(torque_cost);
        let torque_acc = ((3.0 / (m * numpy_square(l))) as f32) * u;
        let newthdot = thdot + (3.0 * g / (2.0 * l) * th.sin() + f64::from(torque_acc)) * dt;
        let newthdot = newthdot.clamp(-MAX_SPEED, MAX_SPEED);
        let newth = th + newthdot * dt;
        let reward = -costs;
        if !(reward.is_finite() && newth.is_finite() && newthdot.is_finite()) {
            return Err(Error::NonFinite {
                what: "Pendulum step".into(),
                detail: format!("state {:?}, torque {u} -> reward {reward}", [th, thdot]),
            });
        }
        self.state.put([newth, newthdot]);
        self.last_u = Some(u);
        Ok(Step::new(self.observation(), reward, false, false))
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

impl StateVector for Pendulum {
    /// `[θ, θ̇]` (empty before the first reset).
    fn state(&self) -> Vec<f64> {
        self.state.to_vec()
    }

    /// Sets `[θ, θ̇]`; both must be finite. Also counts as a reset for
    /// [`Env::step`](tokengym::Env::step).
    fn set_state(&mut self, state: &[f64]) -> Result<()> {
        self.state.set_checked("Pendulum", state)
    }
}

#[cfg(test)]
#[path = "pendulum_tests.rs"]
mod tests;
