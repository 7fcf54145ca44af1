//! MountainCar: drive an under-powered car up a hill (Gymnasium's `MountainCar-v0`).

use super::{PhysicalState, RENDER_MODES, reset_bounds, uniform};
use crate::StateVector;
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;
use tokengym::render::canvas::Canvas;
use tokengym::seeding::rng_from_seed;
use tokengym::space::{BoxSpace, Discrete, Space};
use tokengym::{Env, EnvRng, Error, Frame, Info, RenderMode, ResetOptions, Result, RgbFrame, Step};

/// Left end of the valley; the car stops dead against the wall here.
pub const MIN_POSITION: f64 = -1.2;
/// Right end of the track.
pub const MAX_POSITION: f64 = 0.6;
/// Speed limit in either direction.
pub const MAX_SPEED: f64 = 0.07;
/// Position of the flag on the right hill.
pub const GOAL_POSITION: f64 = 0.5;
/// Acceleration per unit of action.
pub const FORCE: f64 = 0.001;
/// Gravity's coefficient (the slope term is `-GRAVITY * cos(3 x)`).
pub const GRAVITY: f64 = 0.0025;
/// The start position is uniform in `[RESET_LOW, RESET_HIGH)`, the velocity 0.
pub const RESET_LOW: f64 = -0.6;
/// See [`RESET_LOW`].
pub const RESET_HIGH: f64 = -0.4;
/// Gymnasium's time limit for `MountainCar-v0`.
pub const MAX_EPISODE_STEPS: usize = 200;
/// Gymnasium's `render_fps`.
pub const RENDER_FPS: u32 = 30;

/// Options of [`MountainCar`] (Gymnasium's keyword arguments).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MountainCarConfig {
    /// The episode terminates only when the car is at the flag with at least this velocity
    /// (Gymnasium's `goal_velocity`, default 0). Must not be NaN.
    pub goal_velocity: f64,
}

impl MountainCarConfig {
    pub(crate) fn validate(&self) -> Result<()> {
        if self.goal_velocity.is_nan() {
            return Err(Error::invalid_argument("goal_velocity must not be NaN"));
        }
        Ok(())
    }
}

/// An under-powered car in a valley must rock back and forth to reach the flag on the right
/// hill (Gymnasium's `MountainCar-v0`).
///
/// # Description
/// The mountain-car problem of Andrew Moore's PhD thesis (1990), "Efficient Memory-based
/// Learning for Robot Control". The car sits in a sinusoidal valley (the hill's height is
/// `sin(3 x)`) and its engine is too weak to climb the right hill directly, so it must build
/// momentum on the left slope first. One step updates the velocity `v` and the position `x`:
/// `v += (action - 1) * 0.001 - 0.0025 * cos(3 x)` ([`FORCE`], [`GRAVITY`]), clipped to
/// `[-0.07, 0.07]` ([`MAX_SPEED`]); then `x += v`, clipped to `[-1.2, 0.6]` ([`MIN_POSITION`],
/// [`MAX_POSITION`]). The left wall stops the car dead: at `x == -1.2` a leftward velocity
/// becomes 0. The arithmetic is `f64`, as in Gymnasium 1.4.
///
/// # Action Space
/// `Discrete(3)`; the acceleration is `(action - 1) *` [`FORCE`]. Any other action is an error.
///
/// | Num | Action |
/// |---|---|
/// | 0 | accelerate to the left |
/// | 1 | do not accelerate |
/// | 2 | accelerate to the right |
///
/// # Observation Space
/// `Box(2)` of `f32`: the state `[x, v]`, rounded from `f64`. The [`StateVector`] order is the
/// same, in `f64`.
///
/// | Num | Observation | Min | Max |
/// |---|---|---|---|
/// | 0 | car position `x` along the track | -1.2 ([`MIN_POSITION`]) | 0.6 ([`MAX_POSITION`]) |
/// | 1 | car velocity `v` (position change per step) | -0.07 | 0.07 ([`MAX_SPEED`]) |
///
/// # Rewards
/// -1 for every step, the terminating one included, so the return is minus the episode's length
/// (reward threshold -110 for `MountainCar-v0`).
///
/// # Starting State
/// `x` uniform in `[-0.6, -0.4)` ([`RESET_LOW`], [`RESET_HIGH`]), `v = 0`.
///
/// # Episode End
/// - Termination: the car reaches the flag, `x >= 0.5` ([`GOAL_POSITION`]), with
///   `v >= goal_velocity` ([`MountainCarConfig::goal_velocity`], default 0).
/// - Truncation: after [`MAX_EPISODE_STEPS`] = 200 steps, by the registry's `TimeLimit`
///   wrapper, not by this type.
/// - Stepping after termination behaves as in Gymnasium: the simulation goes on; call `reset`
///   instead.
///
/// # Arguments
/// [`MountainCarConfig`], also the keyword arguments of `make_with` (in
/// [`MakeOptions`](tokengym::MakeOptions)): `goal_velocity` (default 0; NaN is an error).
/// Renders as text (`ansi`) or as a 600x400 picture (`rgb_array`), at [`RENDER_FPS`] = 30.
///
/// # Version History
/// - v0: the original release, and Gymnasium's only version of this environment (time limit
///   200 steps, reward threshold -110).
///
/// ```
/// use tokengym::Env;
/// use tokengym_envs::classic_control::MountainCar;
/// let mut env = MountainCar::new();
/// let (obs, _) = env.reset(Some(0))?;
/// assert!((-0.6..-0.4).contains(&obs[0]) && obs[1] == 0.0);
/// assert_eq!(env.step(&2)?.reward, -1.0);
/// assert!(env.step(&3).is_err());
/// # Ok::<(), tokengym::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct MountainCar {
    config: MountainCarConfig,
    state: PhysicalState<2>,
    rng: EnvRng,
    observation_space: BoxSpace<f32, [f32; 2]>,
    action_space: Discrete,
}

impl Default for MountainCar {
    fn default() -> Self {
        Self::new()
    }
}

/// The observation space of both mountain-car environments.
pub(crate) fn mountain_car_observation_space() -> BoxSpace<f32, [f32; 2]> {
    BoxSpace::new(
        vec![MIN_POSITION as f32, -MAX_SPEED as f32],
        vec![MAX_POSITION as f32, MAX_SPEED as f32],
        vec![2],
    )
    .expect("the mountain car's constant observation bounds are valid")
}

impl MountainCar {
    /// Re-seeds when `seed` is given, then starts at rest at a position uniform in `[low, high)`.
    fn reset_within(&mut self, seed: Option<u64>, low: f64, high: f64) -> Result<([f32; 2], Info)> {
        if seed.is_some() {
            self.rng = rng_from_seed(seed);
        }
        let state = [uniform(&mut self.rng, low, high), 0.0];
        self.state.put(state);
        Ok((state.map(|x| x as f32), Info::new()))
    }

    /// MountainCar with Gymnasium's default options.
    pub fn new() -> Self {
        Self::build(MountainCarConfig::default())
    }

    /// MountainCar with the given options; fails if `goal_velocity` is NaN.
    pub fn with_config(config: MountainCarConfig) -> Result<Self> {
        config.validate()?;
        Ok(Self::build(config))
    }

    fn build(config: MountainCarConfig) -> Self {
        MountainCar {
            config,
            state: PhysicalState::absent(),
            rng: rng_from_seed(None),
            observation_space: mountain_car_observation_space(),
            action_space: Discrete::new(3).expect("Discrete(3) is valid"),
        }
    }

    /// The options this environment was built with.
    pub fn config(&self) -> &MountainCarConfig {
        &self.config
    }
}

impl Env for MountainCar {
    type ObsSpace = BoxSpace<f32, [f32; 2]>;
    type ActSpace = Discrete;

    fn observation_space(&self) -> &Self::ObsSpace {
        &self.observation_space
    }

    fn action_space(&self) -> &Self::ActSpace {
        &self.action_space
    }

    fn reset(&mut self, seed: Option<u64>) -> Result<([f32; 2], Info)> {
        self.reset_within(seed, RESET_LOW, RESET_HIGH)
    }

    /// Gymnasium's reset options `low` and `high`: the start position uniform in `[low, high)`
    /// (defaults [`RESET_LOW`], [`RESET_HIGH`]); other options are errors.
    fn reset_with_options(
        &mut self,
        seed: Option<u64>,
        options: &ResetOptions,
    ) -> Result<([f32; 2], Info)> {
        if options.is_empty() {
            return self.reset(seed);
        }
        let (low, high) = reset_bounds("MountainCar", options, RESET_LOW, RESET_HIGH)?;
        self.reset_within(seed, low, high)
    }

    fn step(&mut self, action: &i64) -> Result<Step<[f32; 2]>> {
        self.action_space.check_action(action)?;
        let [mut position, mut velocity] = self.state.get()?;
        // Gymnasium: `velocity += (action - 1) * force + cos(3 * position) * (-gravity)`.
        velocity += (*action - 1) as f64 * FORCE + (3.0 * position).cos() * (-GRAVITY);
        velocity = velocity.clamp(-MAX_SPEED, MAX_SPEED);
        position += velocity;
        position = position.clamp(MIN_POSITION, MAX_POSITION);
        if position == MIN_POSITION && velocity < 0.0 {
            velocity = 0.0;
        }
        let terminated = position >= GOAL_POSITION && velocity >= self.config.goal_velocity;
        let state = [position, velocity];
        self.state.put(state);
        Ok(Step::new(state.map(|x| x as f32), -1.0, terminated, false))
    }

    fn render_modes(&self) -> &[RenderMode] {
        RENDER_MODES
    }

    fn render(&self, mode: RenderMode) -> Result<Frame> {
        self.state
            .render(mode, |&[position, velocity], mode| match mode {
                RenderMode::Ansi => Frame::Ansi(mountain_ansi(position, velocity, GOAL_POSITION)),
                RenderMode::RgbArray => Frame::Rgb(mountain_picture(position, GOAL_POSITION)),
            })
    }

    fn render_fps(&self) -> u32 {
        RENDER_FPS
    }
}

impl StateVector for MountainCar {
    fn state(&self) -> Vec<f64> {
        self.state.to_vec()
    }

    /// Sets `[position, velocity]` (finite numbers).
    fn set_state(&mut self, state: &[f64]) -> Result<()> {
        self.state.set_checked("MountainCar", state)
    }
}

/// Height of the hills at `x` (as Gymnasium draws them).
fn height(x: f64) -> f64 {
    (3.0 * x).sin() * 0.45 + 0.55
}

/// The text picture of both mountain-car environments: the track with the car `C` and the
/// flag `F`, then the numbers.
pub(crate) fn mountain_ansi(position: f64, velocity: f64, goal: f64) -> String {
    const CELLS: usize = 46;
    let cell = |x: f64| {
        let f = ((x - MIN_POSITION) / (MAX_POSITION - MIN_POSITION)).clamp(0.0, 1.0);
        (f * (CELLS - 1) as f64).round() as usize
    };
    let (car, flag) = (cell(position), cell(goal));
    let mut s = String::with_capacity(CELLS + 80);
    s.push('|');
    for i in 0..CELLS {
        s.push(if i == car {
            'C'
        } else if i == flag {
            'F'
        } else {
            '_'
        });
    }
    s.push_str("|\n");
    let _ = write!(
        s,
        "position={position:+.5} velocity={velocity:+.5} goal={goal}"
    );
    s
}

/// Gymnasium's picture of both mountain-car environments (600x400): the hill curve, the car with
/// two wheels tilted along the slope, and the yellow flag at `goal`.
pub(crate) fn mountain_picture(position: f64, goal: f64) -> RgbFrame {
    const WIDTH: usize = 600;
    const HEIGHT: usize = 400;
    let scale = WIDTH as f64 / (MAX_POSITION - MIN_POSITION);
    let (car_width, car_height, clearance) = (40.0, 20.0, 10.0);
    let mut c = Canvas::new(WIDTH, HEIGHT, [255, 255, 255]).with_y_up(true);

    let mut curve = [(0.0, 0.0); 100];
    for (i, p) in curve.iter_mut().enumerate() {
        let x = MIN_POSITION + (MAX_POSITION - MIN_POSITION) * i as f64 / 99.0;
        *p = ((x - MIN_POSITION) * scale, height(x) * scale);
    }
    c.polyline(&curve, 2.0, [0, 0, 0]);

    // Gymnasium tilts the car by cos(3 x) radians (the slope's direction, roughly).
    let (sin, cos) = (3.0 * position).cos().sin_cos();
    let rotate = |(px, py): (f64, f64)| {
        (
            px * cos - py * sin + (position - MIN_POSITION) * scale,
            px * sin + py * cos + clearance + height(position) * scale,
        )
    };
    let (l, r, t, b) = (-car_width / 2.0, car_width / 2.0, car_height, 0.0);
    c.fill_polygon(&[(l, b), (l, t), (r, t), (r, b)].map(rotate), [0, 0, 0]);
    for wx in [car_width / 4.0, -car_width / 4.0] {
        let (x, y) = rotate((wx, 0.0));
        c.fill_circle(x, y, car_height / 2.5, [128, 128, 128]);
    }

    let flag_x = ((goal - MIN_POSITION) * scale).trunc();
    let flag_y1 = (height(goal) * scale).trunc();
    let flag_y2 = flag_y1 + 50.0;
    c.line((flag_x, flag_y1), (flag_x, flag_y2), 1.0, [0, 0, 0]);
    c.fill_polygon(
        &[
            (flag_x, flag_y2),
            (flag_x, flag_y2 - 10.0),
            (flag_x + 25.0, flag_y2 - 5.0),
        ],
        [204, 204, 0],
    );
    c.into_frame()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_actions_and_options_are_errors() {
        let mut env = MountainCar::new();
        assert!(matches!(env.step(&1), Err(Error::ResetNeeded)));
        env.reset(Some(0)).unwrap();
        for a in [-1, 3, i64::MIN] {
            assert!(matches!(env.step(&a), Err(Error::InvalidAction { .. })));
        }
        assert!(
            MountainCar::with_config(MountainCarConfig {
                goal_velocity: f64::NAN
            })
            .is_err()
        );
    }

    #[test]
    fn set_state_validates() {
        let mut env = MountainCar::new();
        assert!(matches!(env.set_state(&[0.0]), Err(Error::InvalidState(_))));
        assert!(env.set_state(&[0.0, 0.0, 0.0]).is_err());
        assert!(env.set_state(&[f64::NAN, 0.0]).is_err());
        env.set_state(&[-0.5, 0.01]).unwrap();
        assert_eq!(env.state(), vec![-0.5, 0.01]);
    }

    #[test]
    fn wall_stops_the_car_and_goal_terminates() {
        let mut env = MountainCar::new();
        env.reset(Some(0)).unwrap();
        env.set_state(&[-1.19, -0.05]).unwrap();
        let s = env.step(&0).unwrap();
        assert_eq!(env.state(), vec![-1.2, 0.0]);
        assert!(!s.terminated);
        env.set_state(&[0.49, 0.03]).unwrap();
        assert!(env.step(&2).unwrap().terminated);
        let mut picky = MountainCar::with_config(MountainCarConfig {
            goal_velocity: 0.05,
        })
        .unwrap();
        picky.reset(Some(0)).unwrap();
        picky.set_state(&[0.49, 0.03]).unwrap();
        assert!(!picky.step(&2).unwrap().terminated);
    }

    #[test]
    fn seeding_is_deterministic() {
        let (mut a, mut b) = (MountainCar::new(), MountainCar::new());
        assert_eq!(a.reset(Some(5)).unwrap().0, b.reset(Some(5)).unwrap().0);
        assert_ne!(a.reset(Some(5)).unwrap().0, b.reset(Some(6)).unwrap().0);
    }

    #[test]
    fn renders_text_and_pixels() {
        let mut env = MountainCar::new();
        env.reset(Some(0)).unwrap();
        let Frame::Ansi(text) = env.render(RenderMode::Ansi).unwrap() else {
            panic!("expected text")
        };
        assert!(text.contains('C') && text.contains('F') && text.contains("velocity=+0.00000"));
        let Frame::Rgb(frame) = env.render(RenderMode::RgbArray).unwrap() else {
            panic!("expected pixels")
        };
        assert_eq!((frame.width(), frame.height()), (600, 400));
        let colours: std::collections::HashSet<[u8; 3]> = frame
            .data()
            .chunks_exact(3)
            .map(|p| [p[0], p[1], p[2]])
            .collect();
        for c in [[0, 0, 0], [128, 128, 128], [204, 204, 0], [255, 255, 255]] {
            assert!(colours.contains(&c), "{c:?} missing");
        }
        assert_eq!(env.render_fps(), 30);
    }
}
