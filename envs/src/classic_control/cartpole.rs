//! CartPole: balance a pole on a cart (Gymnasium's `CartPole-v1`).

use super::{PhysicalState, RENDER_MODES, reset_bounds, uniform};
use crate::StateVector;
use serde::{Deserialize, Serialize};
use std::f64::consts::PI;
use std::fmt::Write as _;
use tokengym::render::canvas::Canvas;
use tokengym::seeding::rng_from_seed;
use tokengym::space::{BoxSpace, Discrete, Space};
use tokengym::{Env, EnvRng, Frame, Info, RenderMode, ResetOptions, Result, Step};

/// Gravitational acceleration (m/s^2).
pub const GRAVITY: f64 = 9.8;
/// Mass of the cart (kg).
pub const MASS_CART: f64 = 1.0;
/// Mass of the pole (kg).
pub const MASS_POLE: f64 = 0.1;
/// Cart plus pole.
pub const TOTAL_MASS: f64 = MASS_POLE + MASS_CART;
/// Half the pole's length (m): the distance from the pivot to the pole's centre of mass.
pub const HALF_LENGTH: f64 = 0.5;
/// `MASS_POLE * HALF_LENGTH`.
pub const POLE_MASS_LENGTH: f64 = MASS_POLE * HALF_LENGTH;
/// Magnitude of the force pushing the cart (N).
pub const FORCE_MAG: f64 = 10.0;
/// Seconds between state updates (explicit Euler integration).
pub const TAU: f64 = 0.02;
/// The episode terminates when `|theta|` exceeds 12 degrees (in radians, computed as Gymnasium
/// does: `12 * 2 * pi / 360`).
pub const THETA_THRESHOLD_RADIANS: f64 = 24.0 * PI / 360.0;
/// The episode terminates when `|x|` exceeds this (m).
pub const X_THRESHOLD: f64 = 2.4;
/// Every state variable starts uniform in `[-RESET_BOUND, RESET_BOUND)`.
pub const RESET_BOUND: f64 = 0.05;
/// Gymnasium's time limit for `CartPole-v1`.
pub const MAX_EPISODE_STEPS: usize = 500;
/// Gymnasium's `render_fps`.
pub const RENDER_FPS: u32 = 50;

const SCREEN_WIDTH: usize = 600;
const SCREEN_HEIGHT: usize = 400;

/// Options of [`CartPole`] (Gymnasium's keyword arguments of `gymnasium.make("CartPole-v1")`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CartPoleConfig {
    /// Sutton and Barto's reward: 0 on every non-terminating step and -1 on termination (and on
    /// every step after it), instead of +1 on every step.
    pub sutton_barto_reward: bool,
}

/// A pole hinged on a cart that moves along a frictionless track; push the cart left or right
/// to keep the pole upright (Gymnasium's `CartPole-v1`).
///
/// # Description
/// The cart-pole problem of Barto, Sutton and Anderson (1983), "Neuronlike adaptive elements
/// that can solve difficult learning control problems". The pole starts almost upright; the
/// agent pushes the cart with a fixed force to the left or to the right. The accelerations of
/// the pole and of the cart come from the system's equations of motion and are integrated with
/// explicit Euler over [`TAU`] = 0.02 s, operation for operation as Gymnasium 1.4 computes them.
///
/// # Action Space
/// `Discrete(2)`; the force is [`FORCE_MAG`] = 10 N.
///
/// | Num | Action |
/// |---|---|
/// | 0 | push the cart to the left |
/// | 1 | push the cart to the right |
///
/// # Observation Space
/// `Box(4)` of `f32`: the state, rounded from `f64`. The bounds are twice the termination
/// thresholds; a state inside them is not necessarily one an episode can reach. The
/// [`StateVector`] order is the same, in `f64`.
///
/// | Num | Observation | Min | Max |
/// |---|---|---|---|
/// | 0 | cart position `x` (m) | -4.8 | 4.8 |
/// | 1 | cart velocity `x_dot` (m/s) | -inf | inf |
/// | 2 | pole angle `theta` (rad; 0 upright, positive leaning right) | ~ -0.419 (-24°) | ~ 0.419 (24°) |
/// | 3 | pole angular velocity `theta_dot` (rad/s) | -inf | inf |
///
/// # Rewards
/// +1 for every step, the terminating one included, so the return is the episode's length
/// (reward threshold 475 for `CartPole-v1`). With [`CartPoleConfig::sutton_barto_reward`]: 0
/// for every step that does not terminate and -1 for the one that does.
///
/// # Starting State
/// All four state variables uniform in `[-0.05, 0.05)` ([`RESET_BOUND`]).
///
/// # Episode End
/// - Termination: the pole angle leaves `±12°` ([`THETA_THRESHOLD_RADIANS`]) or the cart
///   position leaves `±2.4` ([`X_THRESHOLD`]; the cart's centre leaves the track).
/// - Truncation: after [`MAX_EPISODE_STEPS`] = 500 steps (200 for `CartPole-v0`), by the
///   registry's `TimeLimit` wrapper, not by this type.
/// - Stepping after termination behaves as in Gymnasium: the physics goes on and the reward is
///   0 (-1 with the Sutton-Barto reward); call `reset` instead.
///
/// # Arguments
/// [`CartPoleConfig`], also the keyword arguments of `make_with` (in
/// [`MakeOptions`](tokengym::MakeOptions)): `sutton_barto_reward` (default `false`). Renders as
/// text (`ansi`) or as a 600x400 picture (`rgb_array`), at [`RENDER_FPS`] = 50.
///
/// # Version History
/// - v1: the time limit is 500 steps and the reward threshold 475 (Gymnasium 1.4's
///   `CartPole-v1`, its `sutton_barto_reward` included).
/// - v0: the time limit is 200 steps and the reward threshold 195.
///
/// ```
/// use tokengym::Env;
/// use tokengym_envs::classic_control::CartPole;
/// let mut env = CartPole::new();
/// let (obs, _) = env.reset(Some(0))?;
/// assert!(obs.iter().all(|x| x.abs() < 0.05));
/// let step = env.step(&1)?;
/// assert_eq!(step.reward, 1.0);
/// assert!(env.step(&2).is_err()); // not in Discrete(2)
/// # Ok::<(), tokengym::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct CartPole {
    config: CartPoleConfig,
    state: PhysicalState<4>,
    steps_beyond_terminated: Option<u64>,
    rng: EnvRng,
    observation_space: BoxSpace<f32, [f32; 4]>,
    action_space: Discrete,
}

impl Default for CartPole {
    fn default() -> Self {
        Self::new()
    }
}

impl CartPole {
    /// Re-seeds when `seed` is given, then draws every state variable uniform in `[low, high)`.
    fn reset_within(&mut self, seed: Option<u64>, low: f64, high: f64) -> Result<([f32; 4], Info)> {
        if seed.is_some() {
            self.rng = rng_from_seed(seed);
        }
        let state = [0; 4].map(|_| uniform(&mut self.rng, low, high));
        self.state.put(state);
        self.steps_beyond_terminated = None;
        Ok((Self::obs(&state), Info::new()))
    }

    /// CartPole with Gymnasium's default options.
    pub fn new() -> Self {
        Self::with_config(CartPoleConfig::default())
    }

    /// CartPole with the given options (every combination is valid).
    pub fn with_config(config: CartPoleConfig) -> Self {
        let high = [
            (X_THRESHOLD * 2.0) as f32,
            f32::INFINITY,
            (THETA_THRESHOLD_RADIANS * 2.0) as f32,
            f32::INFINITY,
        ];
        let low = high.map(|h| -h);
        CartPole {
            config,
            state: PhysicalState::absent(),
            steps_beyond_terminated: None,
            rng: rng_from_seed(None),
            observation_space: BoxSpace::new(low.to_vec(), high.to_vec(), vec![4])
                .expect("CartPole's constant observation bounds are valid"),
            action_space: Discrete::new(2).expect("Discrete(2) is valid"),
        }
    }

    /// The options this environment was built with.
    pub fn config(&self) -> &CartPoleConfig {
        &self.config
    }

    fn obs(state: &[f64; 4]) -> [f32; 4] {
        state.map(|x| x as f32)
    }

    /// One Euler step of the equations of motion, in Gymnasium's order of operations.
    fn dynamics(state: [f64; 4], action: i64) -> [f64; 4] {
        let [x, x_dot, theta, theta_dot] = state;
        let force = if action == 1 { FORCE_MAG } else { -FORCE_MAG };
        let costheta = theta.cos();
        let sintheta = theta.sin();
        let temp = (force + POLE_MASS_LENGTH * (theta_dot * theta_dot) * sintheta) / TOTAL_MASS;
        let thetaacc = (GRAVITY * sintheta - costheta * temp)
            / (HALF_LENGTH * (4.0 / 3.0 - MASS_POLE * (costheta * costheta) / TOTAL_MASS));
        let xacc = temp - POLE_MASS_LENGTH * thetaacc * costheta / TOTAL_MASS;
        [
            x + TAU * x_dot,
            x_dot + TAU * xacc,
            theta + TAU * theta_dot,
            theta_dot + TAU * thetaacc,
        ]
    }
}

impl Env for CartPole {
    type ObsSpace = BoxSpace<f32, [f32; 4]>;
    type ActSpace = Discrete;

    fn observation_space(&self) -> &Self::ObsSpace {
        &self.observation_space
    }

    fn action_space(&self) -> &Self::ActSpace {
        &self.action_space
    }

    fn reset(&mut self, seed: Option<u64>) -> Result<([f32; 4], Info)> {
        self.reset_within(seed, -RESET_BOUND, RESET_BOUND)
    }

    /// Gymnasium's reset options `low` and `high`: every state variable uniform in
    /// `[low, high)` (defaults `-RESET_BOUND`, `RESET_BOUND`); other options are errors.
    fn reset_with_options(
        &mut self,
        seed: Option<u64>,
        options: &ResetOptions,
    ) -> Result<([f32; 4], Info)> {
        if options.is_empty() {
            return self.reset(seed);
        }
        let (low, high) = reset_bounds("CartPole", options, -RESET_BOUND, RESET_BOUND)?;
        self.reset_within(seed, low, high)
    }

    fn step(&mut self, action: &i64) -> Result<Step<[f32; 4]>> {
        self.action_space.check_action(action)?;
        let state = Self::dynamics(self.state.get()?, *action);
        self.state.put(state);
        let [x, _, theta, _] = state;
        // Written as Gymnasium's four comparisons so that a NaN state (reachable only from
        // absurd set_state values) does not terminate, exactly as there.
        #[allow(clippy::manual_range_contains)]
        let terminated = x < -X_THRESHOLD
            || x > X_THRESHOLD
            || theta < -THETA_THRESHOLD_RADIANS
            || theta > THETA_THRESHOLD_RADIANS;
        let sutton_barto = self.config.sutton_barto_reward;
        let reward = if !terminated {
            if sutton_barto { 0.0 } else { 1.0 }
        } else if let Some(n) = self.steps_beyond_terminated.as_mut() {
            // Gymnasium warns here: the episode is over and further steps are undefined.
            *n += 1;
            if sutton_barto { -1.0 } else { 0.0 }
        } else {
            self.steps_beyond_terminated = Some(0);
            if sutton_barto { -1.0 } else { 1.0 }
        };
        Ok(Step::new(Self::obs(&state), reward, terminated, false))
    }

    fn render_modes(&self) -> &[RenderMode] {
        RENDER_MODES
    }

    fn render(&self, mode: RenderMode) -> Result<Frame> {
        self.state.render(mode, |state, mode| match mode {
            RenderMode::Ansi => Frame::Ansi(ansi(state)),
            RenderMode::RgbArray => Frame::Rgb(picture(state).into_frame()),
        })
    }

    fn render_fps(&self) -> u32 {
        RENDER_FPS
    }
}

impl StateVector for CartPole {
    fn state(&self) -> Vec<f64> {
        self.state.to_vec()
    }

    /// Sets `[x, x_dot, theta, theta_dot]` (finite numbers). As in Gymnasium, the count of steps
    /// past termination is kept.
    fn set_state(&mut self, state: &[f64]) -> Result<()> {
        self.state.set_checked("CartPole", state)
    }
}

/// The text picture: the track from -2.4 to 2.4 with the cart and the pole's lean, then the
/// numbers.
fn ansi(state: &[f64; 4]) -> String {
    const CELLS: usize = 49;
    let [x, x_dot, theta, theta_dot] = *state;
    let frac = ((x + X_THRESHOLD) / (2.0 * X_THRESHOLD)).clamp(0.0, 1.0);
    let cart = (frac * (CELLS - 1) as f64).round() as usize;
    let pole = if theta > 0.05 {
        '/'
    } else if theta < -0.05 {
        '\\'
    } else {
        '|'
    };
    let mut s = String::with_capacity(4 * (CELLS + 2) + 96);
    for _ in 0..2 {
        for i in 0..CELLS {
            s.push(if i == cart { pole } else { ' ' });
        }
        s.push('\n');
    }
    for i in 0..CELLS {
        s.push(if i == cart { '#' } else { '=' });
    }
    s.push('\n');
    let _ = write!(
        s,
        "x={x:+.4} x_dot={x_dot:+.4} theta={theta:+.4} ({:+.1} deg) theta_dot={theta_dot:+.4}",
        theta.to_degrees()
    );
    s
}

/// Gymnasium's picture: a black cart on a line, a brown pole, a blue-grey axle (y points up).
fn picture(state: &[f64; 4]) -> Canvas {
    let scale = SCREEN_WIDTH as f64 / (X_THRESHOLD * 2.0);
    let pole_width = 10.0;
    let pole_len = scale * (2.0 * HALF_LENGTH);
    let (cart_width, cart_height) = (50.0, 30.0);
    let axle_offset = cart_height / 4.0;
    let cart_x = state[0] * scale + SCREEN_WIDTH as f64 / 2.0;
    let cart_y = 100.0; // top of the track line
    let mut c = Canvas::new(SCREEN_WIDTH, SCREEN_HEIGHT, [255, 255, 255]).with_y_up(true);

    let (l, r, t, b) = (
        -cart_width / 2.0,
        cart_width / 2.0,
        cart_height / 2.0,
        -cart_height / 2.0,
    );
    let cart = [(l, b), (l, t), (r, t), (r, b)].map(|(px, py)| (px + cart_x, py + cart_y));
    c.fill_polygon(&cart, [0, 0, 0]);

    let (l, r, t, b) = (
        -pole_width / 2.0,
        pole_width / 2.0,
        pole_len - pole_width / 2.0,
        -pole_width / 2.0,
    );
    // Rotate by -theta (counter-clockwise positive), so a positive angle leans right.
    let (sin, cos) = (-state[2]).sin_cos();
    let pole = [(l, b), (l, t), (r, t), (r, b)].map(|(px, py)| {
        (
            px * cos - py * sin + cart_x,
            px * sin + py * cos + cart_y + axle_offset,
        )
    });
    c.fill_polygon(&pole, [202, 152, 101]);
    c.fill_circle(
        cart_x,
        cart_y + axle_offset,
        pole_width / 2.0,
        [129, 132, 203],
    );
    c.line((0.0, cart_y), (SCREEN_WIDTH as f64, cart_y), 1.0, [0, 0, 0]);
    c
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokengym::Error;

    #[test]
    fn invalid_actions_are_errors() {
        let mut env = CartPole::new();
        assert!(matches!(env.step(&0), Err(Error::ResetNeeded)));
        env.reset(Some(1)).unwrap();
        for a in [-1, 2, i64::MAX, i64::MIN] {
            assert!(
                matches!(env.step(&a), Err(Error::InvalidAction { .. })),
                "{a}"
            );
        }
        assert!(env.step(&0).is_ok());
    }

    #[test]
    fn set_state_validates() {
        let mut env = CartPole::new();
        assert!(matches!(
            env.set_state(&[0.0; 3]),
            Err(Error::InvalidState(_))
        ));
        assert!(matches!(
            env.set_state(&[0.0, f64::NAN, 0.0, 0.0]),
            Err(Error::InvalidState(_))
        ));
        assert!(env.set_state(&[0.0, 0.0, f64::INFINITY, 0.0]).is_err());
        env.set_state(&[0.1, 0.2, 0.03, 0.4]).unwrap();
        assert_eq!(env.state(), vec![0.1, 0.2, 0.03, 0.4]);
        let step = env.step(&1).unwrap();
        assert_eq!(step.obs[0], (0.1 + TAU * 0.2) as f32);
    }

    #[test]
    fn seeding_is_deterministic() {
        let mut a = CartPole::new();
        let mut b = CartPole::new();
        let (oa, _) = a.reset(Some(42)).unwrap();
        let (ob, _) = b.reset(Some(42)).unwrap();
        assert_eq!(oa, ob);
        let (oc, _) = b.reset(Some(43)).unwrap();
        assert_ne!(oa, oc);
        // reset(None) continues the stream instead of repeating it.
        let (od, _) = a.reset(None).unwrap();
        assert_ne!(oa, od);
        assert!(oa.iter().all(|x| x.abs() <= RESET_BOUND as f32));
    }

    #[test]
    fn terminates_and_then_rewards_zero() {
        for sb in [false, true] {
            let mut env = CartPole::with_config(CartPoleConfig {
                sutton_barto_reward: sb,
            });
            env.reset(Some(0)).unwrap();
            let mut rewards = Vec::new();
            loop {
                let s = env.step(&1).unwrap();
                rewards.push(s.reward);
                if s.terminated {
                    break;
                }
            }
            let after = env.step(&1).unwrap();
            let (live, last, beyond) = if sb {
                (0.0, -1.0, -1.0)
            } else {
                (1.0, 1.0, 0.0)
            };
            assert!(rewards[..rewards.len() - 1].iter().all(|&r| r == live));
            assert_eq!(rewards.last(), Some(&last));
            assert!(after.terminated);
            assert_eq!(after.reward, beyond);
        }
    }

    #[test]
    fn renders_text_and_pixels() {
        let mut env = CartPole::new();
        assert!(env.render(RenderMode::Ansi).is_err()); // before reset
        env.reset(Some(3)).unwrap();
        env.set_state(&[1.0, 0.0, 0.1, 0.0]).unwrap();
        let Frame::Ansi(text) = env.render(RenderMode::Ansi).unwrap() else {
            panic!("expected text")
        };
        assert!(text.contains('#') && text.contains('/') && text.contains("x=+1.0000"));
        let Frame::Rgb(frame) = env.render(RenderMode::RgbArray).unwrap() else {
            panic!("expected pixels")
        };
        assert_eq!((frame.width(), frame.height()), (600, 400));
        // The cart (black) is centred at x = 1.0 * 125 + 300 = 425, 100 px above the bottom.
        assert_eq!(frame.pixel(425, 400 - 95), Some([0, 0, 0]));
        // The pole (brown) rises above it and leans right.
        assert_eq!(frame.pixel(431, 400 - 160), Some([202, 152, 101]));
        assert_eq!(frame.pixel(10, 10), Some([255, 255, 255]));
        assert_eq!(env.render_fps(), 50);
    }
}
