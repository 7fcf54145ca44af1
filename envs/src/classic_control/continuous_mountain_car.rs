//! MountainCarContinuous: the mountain car with a continuous throttle (Gymnasium's
//! `MountainCarContinuous-v0`).

use super::mountain_car::{
    MAX_POSITION, MAX_SPEED, MIN_POSITION, RESET_HIGH, RESET_LOW, mountain_ansi,
    mountain_car_observation_space, mountain_picture,
};
use super::{PhysicalState, RENDER_MODES, reset_bounds, uniform};
use crate::StateVector;
use serde::{Deserialize, Serialize};
use tokengym::seeding::rng_from_seed;
use tokengym::space::{BoxSpace, Space};
use tokengym::{Env, EnvRng, Error, Frame, Info, RenderMode, ResetOptions, Result, Step};

/// Smallest throttle.
pub const MIN_ACTION: f32 = -1.0;
/// Largest throttle.
pub const MAX_ACTION: f32 = 1.0;
/// Position of the flag (0.45 here, 0.5 in the discrete version).
pub const GOAL_POSITION: f64 = 0.45;
/// Acceleration per unit of throttle.
pub const POWER: f64 = 0.0015;
/// Gravity's coefficient (the slope term is `-GRAVITY * cos(3 x)`).
pub const GRAVITY: f64 = 0.0025;
/// Reward for reaching the flag.
pub const GOAL_REWARD: f64 = 100.0;
/// The action cost is `ACTION_COST * action^2` per step.
pub const ACTION_COST: f64 = 0.1;
/// Gymnasium's time limit for `MountainCarContinuous-v0`.
pub const MAX_EPISODE_STEPS: usize = 999;
/// Gymnasium's `render_fps`.
pub const RENDER_FPS: u32 = 30;

/// Options of [`ContinuousMountainCar`] (Gymnasium's keyword arguments).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ContinuousMountainCarConfig {
    /// The episode terminates only when the car is at the flag with at least this velocity
    /// (Gymnasium's `goal_velocity`, default 0). Must not be NaN.
    pub goal_velocity: f64,
}

/// The mountain car driven by a continuous throttle: reaching the flag pays 100 and every step
/// costs fuel (Gymnasium's `MountainCarContinuous-v0`).
///
/// # Description
/// The continuous-action version of [`MountainCar`](super::MountainCar) (Moore, 1990): the
/// same valley, track and start, but the engine takes a throttle `a` in `[-1, 1]` and the flag
/// stands at 0.45 instead of 0.5. One step updates the velocity `v` and the position `x`:
/// `v += a * 0.0015 - 0.0025 * cos(3 x)` ([`POWER`], [`GRAVITY`]), clipped to `[-0.07, 0.07]`
/// ([`MAX_SPEED`]); then `x += v`, clipped to `[-1.2, 0.6]` ([`MIN_POSITION`],
/// [`MAX_POSITION`]); at the left wall (`x == -1.2`) a leftward velocity becomes 0.
///
/// **Precision.** Gymnasium stores the state as float32 after every step, and NumPy's promotion
/// rules then compute parts of the next step in float32 (`3 * x` and `a * 0.0015 - 0.0025 *
/// cos(3 x)` become float32 when `x` and `a` are, and comparisons with constants happen in
/// float32). The state right after `reset` (or [`StateVector::set_state`]) is float64, as in
/// Gymnasium. This environment tracks which precision the state has and follows the same rules,
/// so its trajectories are bit-identical to Gymnasium's; [`ContinuousMountainCar::set_state_f32`]
/// sets a float32 state, as Gymnasium's steps leave it.
///
/// # Action Space
/// `Box(1)` of `f32` in `[-1, 1]` ([`MIN_ACTION`], [`MAX_ACTION`]); an action outside it (or
/// NaN) is an error.
///
/// | Num | Action | Min | Max |
/// |---|---|---|---|
/// | 0 | throttle `a`; the acceleration is `a *` [`POWER`] | -1 | 1 |
///
/// # Observation Space
/// `Box(2)` of `f32`: the state `[x, v]`. The [`StateVector`] order is the same, in `f64`
/// (after a step, its values are exactly representable as `f32`; see the precision note above).
///
/// | Num | Observation | Min | Max |
/// |---|---|---|---|
/// | 0 | car position `x` along the track | -1.2 ([`MIN_POSITION`]) | 0.6 ([`MAX_POSITION`]) |
/// | 1 | car velocity `v` (position change per step) | -0.07 | 0.07 ([`MAX_SPEED`]) |
///
/// # Rewards
/// `-0.1 a²` ([`ACTION_COST`]) for every step, plus 100 ([`GOAL_REWARD`]) on the step that
/// reaches the flag (reward threshold 90 for `MountainCarContinuous-v0`).
///
/// # Starting State
/// `x` uniform in `[-0.6, -0.4)` ([`RESET_LOW`], [`RESET_HIGH`]), `v = 0`, in float64.
///
/// # Episode End
/// - Termination: the car reaches the flag, `x >= 0.45` ([`GOAL_POSITION`]), with
///   `v >= goal_velocity` ([`ContinuousMountainCarConfig::goal_velocity`], default 0).
/// - Truncation: after [`MAX_EPISODE_STEPS`] = 999 steps, by the registry's `TimeLimit`
///   wrapper, not by this type.
/// - Stepping after termination behaves as in Gymnasium: the simulation goes on; call `reset`
///   instead.
///
/// # Arguments
/// [`ContinuousMountainCarConfig`], also the keyword arguments of `make_with` (in
/// [`MakeOptions`](tokengym::MakeOptions)): `goal_velocity` (default 0; NaN is an error).
/// Renders as text (`ansi`) or as a 600x400 picture (`rgb_array`), at [`RENDER_FPS`] = 30.
///
/// # Version History
/// - v0: the original release, and Gymnasium's only version of this environment (time limit
///   999 steps, reward threshold 90).
///
/// ```
/// use tokengym::Env;
/// use tokengym_envs::classic_control::ContinuousMountainCar;
/// let mut env = ContinuousMountainCar::new();
/// env.reset(Some(0))?;
/// let step = env.step(&[0.5])?;
/// assert_eq!(step.reward, -(0.5f64 * 0.5) * 0.1);
/// assert!(env.step(&[1.5]).is_err() && env.step(&[f32::NAN]).is_err());
/// # Ok::<(), tokengym::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct ContinuousMountainCar {
    config: ContinuousMountainCarConfig,
    /// `[position, velocity]`; values of a float32 state are exactly representable as `f32`.
    state: PhysicalState<2>,
    /// Whether the state has NumPy dtype float32 (after a step) rather than float64.
    state_is_f32: bool,
    rng: EnvRng,
    observation_space: BoxSpace<f32, [f32; 2]>,
    action_space: BoxSpace<f32, [f32; 1]>,
}

impl Default for ContinuousMountainCar {
    fn default() -> Self {
        Self::new()
    }
}

/// `x > c` as NumPy evaluates it: in float32 when `x` is a float32 scalar (the Python constant
/// is cast to float32), in float64 otherwise.
fn gt(x: f64, x_is_f32: bool, c: f64) -> bool {
    if x_is_f32 {
        (x as f32) > (c as f32)
    } else {
        x > c
    }
}

/// `x < c`, with NumPy's precision (see [`gt`]).
fn lt(x: f64, x_is_f32: bool, c: f64) -> bool {
    gt(-x, x_is_f32, -c)
}

/// `x >= c`, with NumPy's precision (see [`gt`]).
fn ge(x: f64, x_is_f32: bool, c: f64) -> bool {
    !lt(x, x_is_f32, c)
}

impl ContinuousMountainCar {
    /// Re-seeds when `seed` is given, then starts at rest at a position uniform in `[low, high)`.
    fn reset_within(&mut self, seed: Option<u64>, low: f64, high: f64) -> Result<([f32; 2], Info)> {
        if seed.is_some() {
            self.rng = rng_from_seed(seed);
        }
        let state = [uniform(&mut self.rng, low, high), 0.0];
        self.state.put(state);
        self.state_is_f32 = false;
        Ok((state.map(|x| x as f32), Info::new()))
    }

    /// MountainCarContinuous with Gymnasium's default options.
    pub fn new() -> Self {
        Self::build(ContinuousMountainCarConfig::default())
    }

    /// MountainCarContinuous with the given options; fails if `goal_velocity` is NaN.
    pub fn with_config(config: ContinuousMountainCarConfig) -> Result<Self> {
        if config.goal_velocity.is_nan() {
            return Err(Error::invalid_argument("goal_velocity must not be NaN"));
        }
        Ok(Self::build(config))
    }

    fn build(config: ContinuousMountainCarConfig) -> Self {
        ContinuousMountainCar {
            config,
            state: PhysicalState::absent(),
            state_is_f32: false,
            rng: rng_from_seed(None),
            observation_space: mountain_car_observation_space(),
            action_space: BoxSpace::new(vec![MIN_ACTION], vec![MAX_ACTION], vec![1])
                .expect("Box(-1, 1, (1,)) is valid"),
        }
    }

    /// The options this environment was built with.
    pub fn config(&self) -> &ContinuousMountainCarConfig {
        &self.config
    }

    /// Whether the state currently has float32 precision (true after every step).
    pub fn state_is_f32(&self) -> bool {
        self.state_is_f32
    }

    /// Sets a float32 state `[position, velocity]`, as Gymnasium's `step` leaves it (the next
    /// step then computes in float32 where NumPy would). Fails on non-finite numbers.
    pub fn set_state_f32(&mut self, state: [f32; 2]) -> Result<()> {
        self.state
            .set_checked("MountainCarContinuous", &state.map(f64::from))?;
        self.state_is_f32 = true;
        Ok(())
    }
}

impl Env for ContinuousMountainCar {
    type ObsSpace = BoxSpace<f32, [f32; 2]>;
    type ActSpace = BoxSpace<f32, [f32; 1]>;

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
        let (low, high) = reset_bounds("ContinuousMountainCar", options, RESET_LOW, RESET_HIGH)?;
        self.reset_within(seed, low, high)
    }

    fn step(&mut self, action: &[f32; 1]) -> Result<Step<[f32; 2]>> {
        self.action_space.check_action(action)?;
        let [mut position, mut velocity] = self.state.get()?;
        let is_f32 = self.state_is_f32;
        let a = action[0];
        // Python's `min(max(a, -1.0), 1.0)` keeps the float32 `a` inside the range.
        let force = a.clamp(MIN_ACTION, MAX_ACTION);
        // `force * power` is float32 (NumPy casts the Python float to float32).
        let push = force * POWER as f32;
        // `math.cos(3 * position)`: `3 * position` is float32 when the state is.
        let slope = if is_f32 {
            f64::from(3.0f32 * position as f32).cos()
        } else {
            (3.0 * position).cos()
        };
        // float32 minus a Python float: float32.
        let dv = push - (GRAVITY * slope) as f32;
        // `velocity += dv`: float32 + float32, or float64 + float32.
        let mut v_is_f32 = is_f32;
        velocity = if is_f32 {
            f64::from(velocity as f32 + dv)
        } else {
            velocity + f64::from(dv)
        };
        // Clipping assigns Python floats (float64).
        if gt(velocity, v_is_f32, MAX_SPEED) {
            (velocity, v_is_f32) = (MAX_SPEED, false);
        }
        if lt(velocity, v_is_f32, -MAX_SPEED) {
            (velocity, v_is_f32) = (-MAX_SPEED, false);
        }
        // `position += velocity`: float32 + (float32 or Python float) stays float32.
        let mut p_is_f32 = is_f32;
        position = if is_f32 {
            f64::from(position as f32 + velocity as f32)
        } else {
            position + velocity
        };
        if gt(position, p_is_f32, MAX_POSITION) {
            (position, p_is_f32) = (MAX_POSITION, false);
        }
        if lt(position, p_is_f32, MIN_POSITION) {
            (position, p_is_f32) = (MIN_POSITION, false);
        }
        let at_wall = if p_is_f32 {
            position as f32 == MIN_POSITION as f32
        } else {
            position == MIN_POSITION
        };
        if at_wall && lt(velocity, v_is_f32, 0.0) {
            (velocity, v_is_f32) = (0.0, false);
        }
        let terminated = ge(position, p_is_f32, GOAL_POSITION)
            && ge(velocity, v_is_f32, self.config.goal_velocity);
        let base = if terminated { GOAL_REWARD } else { 0.0 };
        // `math.pow(action[0], 2)` of the unclipped action, in float64 (exact for a float32).
        let a64 = f64::from(a);
        let reward = base - a64 * a64 * ACTION_COST;
        // The new state is a float32 array.
        let obs = [position as f32, velocity as f32];
        self.state.put(obs.map(f64::from));
        self.state_is_f32 = true;
        Ok(Step::new(obs, reward, terminated, false))
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

impl StateVector for ContinuousMountainCar {
    fn state(&self) -> Vec<f64> {
        self.state.to_vec()
    }

    /// Sets a float64 state `[position, velocity]` (finite numbers), as assigning
    /// `env.unwrapped.state = np.array([...])` does in Gymnasium. Use
    /// [`ContinuousMountainCar::set_state_f32`] for a float32 state.
    fn set_state(&mut self, state: &[f64]) -> Result<()> {
        self.state.set_checked("MountainCarContinuous", state)?;
        self.state_is_f32 = false;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_actions_and_options_are_errors() {
        let mut env = ContinuousMountainCar::new();
        assert!(matches!(env.step(&[0.0]), Err(Error::ResetNeeded)));
        env.reset(Some(0)).unwrap();
        for a in [1.0001, -1.5, f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
            assert!(
                matches!(env.step(&[a]), Err(Error::InvalidAction { .. })),
                "{a}"
            );
        }
        assert!(env.step(&[1.0]).is_ok() && env.step(&[-1.0]).is_ok());
        let bad = ContinuousMountainCarConfig {
            goal_velocity: f64::NAN,
        };
        assert!(ContinuousMountainCar::with_config(bad).is_err());
    }

    #[test]
    fn set_state_validates_and_tracks_precision() {
        let mut env = ContinuousMountainCar::new();
        assert!(matches!(env.set_state(&[0.0]), Err(Error::InvalidState(_))));
        assert!(env.set_state(&[0.0, f64::NAN]).is_err());
        assert!(env.set_state_f32([f32::NAN, 0.0]).is_err());
        env.set_state(&[-0.5, 0.0]).unwrap();
        assert!(!env.state_is_f32());
        env.step(&[0.3]).unwrap();
        assert!(env.state_is_f32());
        assert!(env.state().iter().all(|&x| x == f64::from(x as f32)));
        env.set_state_f32([-0.5, 0.01]).unwrap();
        assert!(env.state_is_f32());
        assert_eq!(env.state(), vec![-0.5, f64::from(0.01f32)]);
    }

    #[test]
    fn goal_pays_and_wall_stops() {
        let mut env = ContinuousMountainCar::new();
        env.reset(Some(1)).unwrap();
        env.set_state(&[0.44, 0.03]).unwrap();
        let s = env.step(&[0.0]).unwrap();
        assert!(s.terminated);
        assert_eq!(s.reward, 100.0);
        env.set_state(&[-1.19, -0.05]).unwrap();
        let s = env.step(&[-1.0]).unwrap();
        assert!(!s.terminated);
        assert_eq!(s.reward, -0.1);
        assert_eq!(s.obs, [-1.2f32, 0.0]);
    }

    #[test]
    fn seeding_is_deterministic() {
        let (mut a, mut b) = (ContinuousMountainCar::new(), ContinuousMountainCar::new());
        assert_eq!(a.reset(Some(9)).unwrap().0, b.reset(Some(9)).unwrap().0);
        assert_ne!(a.reset(Some(9)).unwrap().0, b.reset(Some(10)).unwrap().0);
    }

    #[test]
    fn renders_text_and_pixels() {
        let mut env = ContinuousMountainCar::new();
        env.reset(Some(0)).unwrap();
        let Frame::Ansi(text) = env.render(RenderMode::Ansi).unwrap() else {
            panic!("expected text")
        };
        assert!(text.contains("goal=0.45"));
        let Frame::Rgb(frame) = env.render(RenderMode::RgbArray).unwrap() else {
            panic!("expected pixels")
        };
        assert_eq!((frame.width(), frame.height()), (600, 400));
        assert!(frame.data().chunks_exact(3).any(|p| p == [204, 204, 0]));
        assert_eq!(env.render_fps(), 30);
    }
}
