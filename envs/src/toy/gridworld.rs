//! GridWorld: a finite MDP on a grid drawn from a text map, with a known transition model
//! (Russell & Norvig's 4x3 world, Sutton & Barto's cliff walking, or any map you write).

use super::mdp::{Mdp, Outcome};
use rand::RngExt;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use tokengym::seeding::rng_from_seed;
use tokengym::space::{Discrete, Space};
use tokengym::{Env, EnvRng, Error, Frame, Info, RenderMode, Result, Step};

/// Action 0: move up (towards the first line of the map).
pub const UP: i64 = 0;
/// Action 1: move right.
pub const RIGHT: i64 = 1;
/// Action 2: move down.
pub const DOWN: i64 = 2;
/// Action 3: move left.
pub const LEFT: i64 = 3;
/// Arrows for the four actions, in action order (for rendering policies).
pub const ARROWS: [char; 4] = ['^', '>', 'v', '<'];

const RENDER_MODES: [RenderMode; 1] = [RenderMode::Ansi];
/// Row and column offsets of the four actions.
const MOVES: [(isize, isize); 4] = [(-1, 0), (0, 1), (1, 0), (0, -1)];

/// When a terminal cell pays its reward.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TerminalReward {
    /// Entering the cell pays `step_reward + reward` and ends the episode (Sutton & Barto's
    /// convention, Gymnasium's `CliffWalking`).
    OnEntry,
    /// Entering the cell pays `step_reward`; the next action, whichever it is, pays the cell's
    /// reward and ends the episode. This is Russell & Norvig's state-reward convention
    /// `U(s) = R(s) + gamma * max_a sum P(s'|s,a) U(s')` with `U(terminal) = R(terminal)`: the
    /// cell's reward is discounted once more than the step into it.
    OnExit,
}

/// How a [`GridWorld`] is drawn and paid.
///
/// The map has one line per row, top row first, all lines of equal length:
/// `.` free, `#` wall, `S` the start (free, exactly one), `C` cliff (entering pays
/// `cliff_reward` instead of the step reward and sends the agent back to the start); every other
/// character is a terminal cell and must have an entry in `terminal_rewards`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GridWorldConfig {
    /// The grid, one line per row, top row first.
    pub map: String,
    /// The reward of each terminal character.
    pub terminal_rewards: BTreeMap<char, f64>,
    /// Reward of every move (into a free or terminal cell, or bumping and staying).
    pub step_reward: f64,
    /// Reward of stepping into a cliff cell (replaces the step reward).
    pub cliff_reward: f64,
    /// Probability of slipping: the intended move happens with `1 - slip`, each of the two
    /// perpendicular moves with `slip / 2`.
    pub slip: f64,
    /// When terminal cells pay.
    pub terminal_reward: TerminalReward,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Cell {
    Free,
    Wall,
    Cliff,
    Terminal(f64),
}

/// An agent moving on a grid drawn from a text map, four moves per cell, with an optional slip
/// and a known transition model (Russell & Norvig's 4x3 world, Sutton & Barto's cliff walking).
///
/// # Description
/// A finite MDP: the agent starts on the map's `S` cell and moves up, right, down or left
/// among free cells (`.`), walls (`#`), cliffs (`C`) and terminal cells; the
/// [`GridWorldConfig`] draws the map and sets the rewards and the slip. The intended move
/// happens with probability `1 - slip`, each of the two perpendicular moves with `slip / 2`;
/// moving into a wall or off the grid leaves the agent in place. The full transition model is
/// available through [`Mdp`] ([`Mdp::transitions`], [`Mdp::start_state`]), for dynamic
/// programming.
///
/// # Action Space
/// `Discrete(4)`; any other action is an [`Error::InvalidAction`].
///
/// | Num | Action |
/// |---|---|
/// | 0 ([`UP`]) | move up (towards the first line of the map) |
/// | 1 ([`RIGHT`]) | move right |
/// | 2 ([`DOWN`]) | move down |
/// | 3 ([`LEFT`]) | move left |
///
/// # Observation Space
/// `Discrete(rows * cols)`: the agent's cell index `row * cols + col` (row 0 is the top line
/// of the map), as in Gymnasium's `CliffWalking`. Walls and cliffs are in the space but never
/// observed.
///
/// | Num | Observation | Min | Max |
/// |---|---|---|---|
/// | 0 | cell index `row * cols + col` | 0 | `rows * cols - 1` |
///
/// # Rewards
/// - `step_reward` for every move: into a free or terminal cell, or bumping and staying.
/// - `cliff_reward` (instead of the step reward) for stepping into a cliff cell, which sends
///   the agent back to the start.
/// - A terminal cell's reward (`terminal_rewards`) as [`TerminalReward`] says: with
///   [`TerminalReward::OnEntry`] entering it pays `step_reward + reward`; with
///   [`TerminalReward::OnExit`] entering it pays `step_reward` and the next action, whichever
///   it is, pays `reward`.
///
/// The 4x3 world pays -0.04 per move
/// ([`four_by_three_stochastic`](Self::four_by_three_stochastic); 0 in
/// [`four_by_three_deterministic`](Self::four_by_three_deterministic)) and +1 / -1 on exit
/// from its terminals; cliff walking pays -1 per move (entering the goal included) and -100
/// for the cliff.
///
/// # Starting State
/// Always the `S` cell (36, the bottom-left, in cliff walking; 8 in the 4x3 world). The seed
/// only drives the slips: `reset(Some(seed))` re-seeds the RNG, the first `reset(None)` seeds
/// it from OS entropy and later ones continue its stream.
///
/// # Episode End
/// - Termination: as [`TerminalReward`] says, on entering a terminal cell (`OnEntry`) or on
///   the action after it (`OnExit`; the observation stays that cell). Falling off a cliff does
///   not end the episode.
/// - Truncation: none; neither this type nor its registry ids have a time limit (set one with
///   `max_episode_steps` in [`make_with`](crate::make_with)).
/// - Stepping after termination is an [`Error::EpisodeEnded`] and before the first reset an
///   [`Error::ResetNeeded`].
///
/// # Arguments
/// [`GridWorldConfig`] (the map and its rewards, `slip`, [`TerminalReward`]), passed to
/// [`GridWorld::new`]; or the shipped worlds [`four_by_three`](Self::four_by_three)`(slip,
/// step_reward)`, [`four_by_three_stochastic`](Self::four_by_three_stochastic),
/// [`four_by_three_deterministic`](Self::four_by_three_deterministic) and
/// [`cliff_walking`](Self::cliff_walking). Registry ids: `GridWorld4x3-v0`, keyword arguments
/// `slip` (default 0.2) and `step_reward` (default -0.04), and `CliffWalking-v0`, without
/// keyword arguments. Renders as text (`ansi`, the agent as `@`, at 4 fps);
/// [`render_policy`](Self::render_policy), [`render_values`](Self::render_values) and
/// [`render_path`](Self::render_path) draw policies, values and paths on the map.
///
/// # Version History
/// - v0: initial version (tokengym 0.1): `GridWorld4x3-v0`, Russell & Norvig's 4x3 world
///   (AIMA Fig. 17.1), and `CliffWalking-v0`, Sutton & Barto's cliff walking (Example 6.6).
///
/// ```
/// use tokengym::Env;
/// use tokengym_envs::toy::gridworld::{GridWorld, RIGHT};
/// let mut env = GridWorld::cliff_walking();
/// let (start, _) = env.reset(Some(0))?;
/// assert_eq!(start, 36); // bottom-left of the 4x12 grid
/// let step = env.step(&RIGHT)?; // into the cliff: -100 and back to the start
/// assert_eq!((step.obs, step.reward, step.terminated), (36, -100.0, false));
/// # Ok::<(), tokengym::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct GridWorld {
    config: GridWorldConfig,
    rows: usize,
    cols: usize,
    cells: Vec<Cell>,
    chars: Vec<char>,
    start: usize,
    /// Outcomes of all state-action pairs, `offsets[s * 4 + a]..offsets[s * 4 + a + 1]`.
    outcomes: Vec<Outcome>,
    offsets: Vec<usize>,
    state: usize,
    started: bool,
    ended: bool,
    rng: EnvRng,
    obs_space: Discrete,
    act_space: Discrete,
}

impl GridWorld {
    /// A grid world from `config`; errors on a malformed map, a terminal character without a
    /// reward, a slip outside `[0, 1]` or a non-finite reward.
    pub fn new(config: GridWorldConfig) -> Result<Self> {
        let bad = |msg: String| Error::invalid_argument(format!("GridWorld: {msg}"));
        if !(0.0..=1.0).contains(&config.slip) {
            return Err(bad(format!("slip must be in [0, 1], got {}", config.slip)));
        }
        let rewards = [config.step_reward, config.cliff_reward];
        if rewards
            .iter()
            .chain(config.terminal_rewards.values())
            .any(|r| !r.is_finite())
        {
            return Err(bad("rewards must be finite".into()));
        }
        let lines: Vec<&str> = config
            .map
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        let rows = lines.len();
        let cols = lines.first().map_or(0, |l| l.chars().count());
        if rows == 0 || cols == 0 {
            return Err(bad("the map is empty".into()));
        }
        let mut cells = Vec::with_capacity(rows * cols);
        let mut chars = Vec::with_capacity(rows * cols);
        let mut start = None;
        for (r, line) in lines.iter().enumerate() {
            if line.chars().count() != cols {
                return Err(bad(format!(
                    "row {r} has {} cells, row 0 has {cols}",
                    line.chars().count()
                )));
            }
            for ch in line.chars() {
                let cell = match ch {
                    '.' => Cell::Free,
                    '#' => Cell::Wall,
                    'C' => Cell::Cliff,
                    'S' => {
                        if start.replace(cells.len()).is_some() {
                            return Err(bad("the map has more than one start 'S'".into()));
                        }
                        Cell::Free
                    }
                    other => match config.terminal_rewards.get(&other) {
                        Some(&reward) => Cell::Terminal(reward),
                        None => {
                            return Err(bad(format!(
                                "cell {other:?} is neither '.', '#', 'S', 'C' nor a terminal with a reward"
                            )));
                        }
                    },
                };
                cells.push(cell);
                chars.push(ch);
            }
        }
        let start = start.ok_or_else(|| bad("the map has no start 'S'".into()))?;
        let n = (rows * cols) as u64;
        let mut world = GridWorld {
            config,
            rows,
            cols,
            cells,
            chars,
            start,
            outcomes: Vec::new(),
            offsets: Vec::new(),
            state: start,
            started: false,
            ended: false,
            rng: rng_from_seed(None),
            obs_space: Discrete::new(n)?,
            act_space: Discrete::new(4)?,
        };
        world.build_model();
        Ok(world)
    }

    /// Russell & Norvig's 4x3 world without noise and without a step reward: moves always
    /// succeed, the terminals pay +1 (top right) and -1 (below it), the wall is at (2,2) in
    /// their 1-based (column, row) coordinates with (1,1) the bottom-left start.
    pub fn four_by_three_deterministic() -> Self {
        Self::from_valid(Self::four_by_three_config(0.0, 0.0))
    }

    /// Russell & Norvig's 4x3 world (AIMA Fig. 17.1): the intended move with probability 0.8,
    /// each perpendicular one with 0.1, step reward -0.04, terminals +1 and -1.
    pub fn four_by_three_stochastic() -> Self {
        Self::from_valid(Self::four_by_three_config(0.2, -0.04))
    }

    /// The 4x3 world with any slip probability (in `[0, 1]`) and finite step reward.
    pub fn four_by_three(slip: f64, step_reward: f64) -> Result<Self> {
        Self::new(Self::four_by_three_config(slip, step_reward))
    }

    fn four_by_three_config(slip: f64, step_reward: f64) -> GridWorldConfig {
        GridWorldConfig {
            map: "...+\n.#.-\nS...".to_string(),
            terminal_rewards: BTreeMap::from([('+', 1.0), ('-', -1.0)]),
            step_reward,
            cliff_reward: 0.0,
            slip,
            terminal_reward: TerminalReward::OnExit,
        }
    }

    /// Sutton & Barto's cliff walking (Example 6.6): a 4x12 grid, start bottom-left, goal
    /// bottom-right, the cliff between them; -1 per step, -100 and back to the start for
    /// stepping into the cliff, the episode ends on entering the goal.
    pub fn cliff_walking() -> Self {
        let config = GridWorldConfig {
            map: format!("{row}\n{row}\n{row}\nSCCCCCCCCCCG", row = ".".repeat(12)),
            terminal_rewards: BTreeMap::from([('G', 0.0)]),
            step_reward: -1.0,
            cliff_reward: -100.0,
            slip: 0.0,
            terminal_reward: TerminalReward::OnEntry,
        };
        Self::from_valid(config)
    }

    /// Builds a world from a config known to be valid (the shipped maps).
    fn from_valid(config: GridWorldConfig) -> Self {
        match Self::new(config) {
            Ok(world) => world,
            Err(e) => unreachable!("a shipped grid world is invalid: {e}"),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &GridWorldConfig {
        &self.config
    }

    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Number of columns.
    pub fn cols(&self) -> usize {
        self.cols
    }

    /// The state index of the cell at `row` (0 = top) and `col`, if it is on the grid.
    pub fn state_at(&self, row: usize, col: usize) -> Option<usize> {
        (row < self.rows && col < self.cols).then_some(row * self.cols + col)
    }

    /// The `(row, col)` of `state` (row 0 = top).
    pub fn coords(&self, state: usize) -> (usize, usize) {
        (state / self.cols, state % self.cols)
    }

    /// The map character of `state` (`None` off the grid).
    pub fn cell_char(&self, state: usize) -> Option<char> {
        self.chars.get(state).copied()
    }

    /// Whether `state` is a wall.
    pub fn is_wall(&self, state: usize) -> bool {
        matches!(self.cells.get(state), Some(Cell::Wall))
    }

    /// Whether `state` is a terminal cell.
    pub fn is_terminal_cell(&self, state: usize) -> bool {
        matches!(self.cells.get(state), Some(Cell::Terminal(_)))
    }

    /// The agent's current cell.
    pub fn state(&self) -> usize {
        self.state
    }

    fn neighbour(&self, state: usize, dir: usize) -> (usize, Cell) {
        let (r, c) = self.coords(state);
        let (dr, dc) = MOVES[dir];
        let (nr, nc) = (r as isize + dr, c as isize + dc);
        if nr < 0 || nc < 0 || nr >= self.rows as isize || nc >= self.cols as isize {
            return (state, self.cells[state]);
        }
        let next = nr as usize * self.cols + nc as usize;
        match self.cells[next] {
            Cell::Wall => (state, self.cells[state]),
            cell => (next, cell),
        }
    }

    fn build_model(&mut self) {
        let n = self.rows * self.cols;
        let cfg = &self.config;
        let mut outcomes = Vec::new();
        let mut offsets = Vec::with_capacity(n * 4 + 1);
        offsets.push(0);
        for s in 0..n {
            for a in 0..4 {
                let here = outcomes.len();
                match self.cells[s] {
                    Cell::Wall | Cell::Cliff => {}
                    Cell::Terminal(reward) => {
                        if cfg.terminal_reward == TerminalReward::OnExit {
                            outcomes.push(Outcome {
                                prob: 1.0,
                                next: s,
                                reward,
                                terminal: true,
                            });
                        }
                    }
                    Cell::Free => {
                        let dirs = [
                            (a, 1.0 - cfg.slip),
                            ((a + 1) % 4, cfg.slip / 2.0),
                            ((a + 3) % 4, cfg.slip / 2.0),
                        ];
                        for (dir, prob) in dirs {
                            if prob <= 0.0 {
                                continue;
                            }
                            let (next, cell) = self.neighbour(s, dir);
                            let o = match cell {
                                Cell::Cliff => Outcome {
                                    prob,
                                    next: self.start,
                                    reward: cfg.cliff_reward,
                                    terminal: false,
                                },
                                Cell::Terminal(r)
                                    if cfg.terminal_reward == TerminalReward::OnEntry =>
                                {
                                    Outcome {
                                        prob,
                                        next,
                                        reward: cfg.step_reward + r,
                                        terminal: true,
                                    }
                                }
                                _ => Outcome {
                                    prob,
                                    next,
                                    reward: cfg.step_reward,
                                    terminal: false,
                                },
                            };
                            let same = outcomes[here..].iter_mut().find(|x: &&mut Outcome| {
                                x.next == o.next && x.reward == o.reward && x.terminal == o.terminal
                            });
                            match same {
                                Some(x) => x.prob += prob,
                                None => outcomes.push(o),
                            }
                        }
                    }
                }
                offsets.push(outcomes.len());
            }
        }
        self.outcomes = outcomes;
        self.offsets = offsets;
    }
}

impl Mdp for GridWorld {
    fn n_states(&self) -> usize {
        self.rows * self.cols
    }

    fn n_actions(&self) -> usize {
        4
    }

    fn transitions(&self, state: usize, action: usize) -> &[Outcome] {
        if state >= self.n_states() || action >= 4 {
            return &[];
        }
        let i = state * 4 + action;
        &self.outcomes[self.offsets[i]..self.offsets[i + 1]]
    }

    fn start_state(&self) -> usize {
        self.start
    }
}

impl Env for GridWorld {
    type ObsSpace = Discrete;
    type ActSpace = Discrete;

    fn observation_space(&self) -> &Discrete {
        &self.obs_space
    }

    fn action_space(&self) -> &Discrete {
        &self.act_space
    }

    fn reset(&mut self, seed: Option<u64>) -> Result<(i64, Info)> {
        if seed.is_some() || !self.started {
            self.rng = rng_from_seed(seed);
        }
        self.state = self.start;
        self.started = true;
        self.ended = false;
        Ok((self.state as i64, Info::new()))
    }

    fn step(&mut self, action: &i64) -> Result<Step<i64>> {
        self.act_space.check_action(action)?;
        if !self.started {
            return Err(Error::ResetNeeded);
        }
        if self.ended {
            return Err(Error::EpisodeEnded);
        }
        let i = self.state * 4 + *action as usize;
        let outcomes = &self.outcomes[self.offsets[i]..self.offsets[i + 1]];
        let chosen = match outcomes {
            [] => None,
            [only] => Some(*only),
            many => {
                let u: f64 = self.rng.random();
                let mut acc = 0.0;
                let pick = many.iter().find(|o| {
                    acc += o.prob;
                    u < acc
                });
                pick.or(many.last()).copied()
            }
        };
        let o = chosen.ok_or_else(|| {
            Error::InvalidState(format!(
                "GridWorld: no move is possible from cell {}",
                self.state
            ))
        })?;
        self.state = o.next;
        self.ended = o.terminal;
        Ok(Step::new(o.next as i64, o.reward, o.terminal, false))
    }

    fn render_modes(&self) -> &[RenderMode] {
        &RENDER_MODES
    }

    fn render(&self, mode: RenderMode) -> Result<Frame> {
        match mode {
            RenderMode::Ansi => Ok(Frame::Ansi(
                self.render_with(|s| (s == self.state).then_some('@')),
            )),
            other => Err(tokengym::env::unsupported_render_mode(other, &RENDER_MODES)),
        }
    }

    fn render_fps(&self) -> u32 {
        4
    }
}

#[path = "gridworld_views.rs"]
mod views;

#[cfg(test)]
#[path = "gridworld_tests.rs"]
mod tests;
