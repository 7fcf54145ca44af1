//! CliffWalking: walk along a cliff from start to goal (Gymnasium 1.4's `CliffWalking-v1` and
//! `CliffWalkingSlippery-v1`, draw for draw).

use super::{TransitionTable, Walker};
use crate::toy::Outcome;
use tokengym::space::Discrete;
use tokengym::{Env, Frame, Info, RenderMode, Result, Step};

/// Action 0: move up.
pub const UP: i64 = 0;
/// Action 1: move right.
pub const RIGHT: i64 = 1;
/// Action 2: move down.
pub const DOWN: i64 = 2;
/// Action 3: move left.
pub const LEFT: i64 = 3;
/// Rows and columns of the grid.
pub const SHAPE: (usize, usize) = (4, 12);
/// The start state, `[3, 0]`.
pub const START_STATE: usize = 36;
/// The goal state, `[3, 11]`.
pub const GOAL_STATE: usize = 47;
/// Reward per step.
const STEP_REWARD: f64 = -1.0;
/// Reward for stepping into the cliff (the player goes back to the start).
const CLIFF_REWARD: f64 = -100.0;
const N_STATES: usize = SHAPE.0 * SHAPE.1;
const N_ACTIONS: usize = 4;

/// The options of Gymnasium's `CliffWalkingEnv(is_slippery)`.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct CliffWalkingConfig {
    /// Whether moves can slip: the intended direction and both perpendicular ones, 1/3 each.
    pub is_slippery: bool,
}

/// CliffWalking (Gymnasium 1.4's `CliffWalkingEnv`; Sutton & Barto, Example 6.6).
///
/// # Description
/// A 4x12 grid. The player starts at `[3, 0]`, the goal is at `[3, 11]`, and the cliff runs
/// along `[3, 1..=10]`. Stepping into the cliff sends the player back to the start. With
/// `is_slippery`, the player moves in the intended direction or either perpendicular one with
/// probability 1/3 each. Moves off the grid leave the player in place.
///
/// # Action Space
/// `Discrete(4)`: 0 up, 1 right, 2 down, 3 left.
///
/// # Observation Space
/// `Discrete(48)`: the position `row * 12 + col`. The cliff states are never observed; the
/// goal is observed once, on the terminating step.
///
/// | Num | Observation | Min | Max |
/// |---|---|---|---|
/// | 0 | player position `row * 12 + col` | 0 | 47 |
///
/// # Rewards
/// -1 per step, -100 for stepping into the cliff.
///
/// # Starting State
/// State 36 (`[3, 0]`); the reset makes one `random()` draw, as Gymnasium's
/// `categorical_sample` does.
///
/// # Episode End
/// Termination: the player reaches the goal. No truncation (Gymnasium registers no time limit).
///
/// # Information
/// `info["prob"]`: the probability of the transition taken (`Int(1)` after a reset, a float
/// after a step).
///
/// # Arguments
/// `is_slippery` (false); `CliffWalkingSlippery-v1` sets it.
///
/// # Version History
/// - v1: Gymnasium 1.4's `CliffWalking-v1` (the cliff sends the player back to the start without
///   ending the episode; `is_slippery`). Our course grid world keeps `CliffWalking-v0`.
///
/// ```
/// use tokengym::Env;
/// use tokengym_envs::toy_text::CliffWalking;
///
/// let mut env = CliffWalking::new();
/// assert_eq!(env.reset(Some(0))?.0, 36);
/// let step = env.step(&1)?; // right: into the cliff
/// assert_eq!((step.obs, step.reward), (36, -100.0));
/// # Ok::<(), tokengym::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct CliffWalking {
    config: CliffWalkingConfig,
    p: TransitionTable,
    walker: Walker,
    obs_space: Discrete,
    act_space: Discrete,
}

fn is_cliff(row: usize, col: usize) -> bool {
    row == 3 && (1..=10).contains(&col)
}

/// Gymnasium's `_calculate_transition_prob(position, move)`.
fn outcomes(state: usize, action: usize, slippery: bool) -> Vec<Outcome> {
    let moves: Vec<usize> = if slippery {
        vec![(action + 3) % 4, action, (action + 1) % 4]
    } else {
        vec![action]
    };
    let prob = 1.0 / moves.len() as f64;
    let (row, col) = (state / SHAPE.1, state % SHAPE.1);
    moves
        .into_iter()
        .map(|m| {
            let (dr, dc): (i64, i64) = match m as i64 {
                UP => (-1, 0),
                RIGHT => (0, 1),
                DOWN => (1, 0),
                _ => (0, -1),
            };
            let r = (row as i64 + dr).clamp(0, SHAPE.0 as i64 - 1) as usize;
            let c = (col as i64 + dc).clamp(0, SHAPE.1 as i64 - 1) as usize;
            if is_cliff(r, c) {
                Outcome {
                    prob,
                    next: START_STATE,
                    reward: CLIFF_REWARD,
                    terminal: false,
                }
            } else {
                let next = r * SHAPE.1 + c;
                Outcome {
                    prob,
                    next,
                    reward: STEP_REWARD,
                    terminal: next == GOAL_STATE,
                }
            }
        })
        .collect()
}

impl CliffWalking {
    /// `CliffWalking-v1`.
    pub fn new() -> Self {
        Self::with_config(CliffWalkingConfig::default())
    }

    /// `CliffWalkingSlippery-v1` when `config.is_slippery`.
    pub fn with_config(config: CliffWalkingConfig) -> Self {
        CliffWalking {
            config,
            p: TransitionTable::build(N_STATES, N_ACTIONS, START_STATE, |s, a| {
                outcomes(s, a, config.is_slippery)
            }),
            walker: Walker::new(),
            obs_space: Discrete::new(N_STATES as u64).expect("48 states"),
            act_space: Discrete::new(N_ACTIONS as u64).expect("4 actions"),
        }
    }

    /// The options this environment was built with.
    pub fn config(&self) -> CliffWalkingConfig {
        self.config
    }

    /// Gymnasium's `P`, also the [`Mdp`] view.
    pub fn transition_table(&self) -> &TransitionTable {
        &self.p
    }

    /// The player's position (`env.unwrapped.s`); `None` before the first reset.
    pub fn position(&self) -> Option<usize> {
        self.walker.s
    }

    /// The last action taken since the reset.
    pub fn last_action(&self) -> Option<i64> {
        self.walker.last_action
    }

    /// Gymnasium's ansi text: `x` the player, `T` the goal, `C` the cliff, `o` the rest, three
    /// characters a cell with the outer spaces of each row trimmed, then an empty line.
    fn ansi(&self, s: usize) -> String {
        let mut out = String::new();
        for state in 0..N_STATES {
            let (row, col) = (state / SHAPE.1, state % SHAPE.1);
            let cell = if state == s {
                " x "
            } else if state == GOAL_STATE {
                " T "
            } else if is_cliff(row, col) {
                " C "
            } else {
                " o "
            };
            let mut cell = cell;
            if col == 0 {
                cell = cell.trim_start();
            }
            if col == SHAPE.1 - 1 {
                out.push_str(cell.trim_end());
                out.push('\n');
            } else {
                out.push_str(cell);
            }
        }
        out.push('\n');
        out
    }
}

impl Default for CliffWalking {
    fn default() -> Self {
        Self::new()
    }
}

impl Env for CliffWalking {
    type ObsSpace = Discrete;
    type ActSpace = Discrete;

    fn observation_space(&self) -> &Discrete {
        &self.obs_space
    }

    fn action_space(&self) -> &Discrete {
        &self.act_space
    }

    fn reset(&mut self, seed: Option<u64>) -> Result<(i64, Info)> {
        // Gymnasium samples its one-hot initial distribution: one draw, always the start.
        Ok(self.walker.reset(
            seed,
            (0..N_STATES).map(|s| if s == START_STATE { 1.0 } else { 0.0 }),
        ))
    }

    fn step(&mut self, action: &i64) -> Result<Step<i64>> {
        self.walker.step(&self.p, &self.act_space, action)
    }

    fn render_modes(&self) -> &[RenderMode] {
        Walker::render_modes()
    }

    fn render(&self, mode: RenderMode) -> Result<Frame> {
        self.walker.render(mode, |s| self.ansi(s))
    }

    fn render_fps(&self) -> u32 {
        4
    }
}

mdp_via_table!(CliffWalking);
