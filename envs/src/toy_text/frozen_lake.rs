//! FrozenLake: cross a frozen lake from start to goal without falling into a hole
//! (Gymnasium 1.4's `FrozenLake-v1` / `FrozenLake8x8-v1`, draw for draw).

use super::{TransitionTable, Walker, highlight_red};
use crate::toy::Outcome;
use std::collections::HashSet;
use tokengym::seeding::rng_from_seed;
use tokengym::space::Discrete;
use tokengym::{Env, Error, Frame, Info, RenderMode, Result, Step};

/// Action 0: move left.
pub const LEFT: i64 = 0;
/// Action 1: move down.
pub const DOWN: i64 = 1;
/// Action 2: move right.
pub const RIGHT: i64 = 2;
/// Action 3: move up.
pub const UP: i64 = 3;
/// Number of actions.
const N_ACTIONS: usize = 4;
/// The action names of the ansi render, indexed by action.
const ACTION_NAMES: [&str; 4] = ["Left", "Down", "Right", "Up"];

/// Gymnasium's `MAPS["4x4"]`.
pub const MAP_4X4: [&str; 4] = ["SFFF", "FHFH", "FFFH", "HFFG"];
/// Gymnasium's `MAPS["8x8"]`.
pub const MAP_8X8: [&str; 8] = [
    "SFFFFFFF", "FFFFFFFF", "FFFHFFFF", "FFFFFHFF", "FFFHFFFF", "FHHFFFHF", "FHFFHFHF", "FFFHFFFG",
];

/// The options of Gymnasium's `FrozenLakeEnv(desc, map_name, is_slippery, success_rate,
/// reward_schedule)`.
#[derive(Clone, Debug, PartialEq)]
pub struct FrozenLakeConfig {
    /// A custom map, one string per row (`S` start, `F` frozen, `H` hole, `G` goal); when set,
    /// `map_name` is ignored.
    pub desc: Option<Vec<String>>,
    /// `"4x4"` or `"8x8"`. With neither `desc` nor `map_name`, an (unseeded) random 8x8 map
    /// with 80% frozen tiles is generated, as in Gymnasium.
    pub map_name: Option<String>,
    /// Whether moves can slip to either perpendicular direction.
    pub is_slippery: bool,
    /// Probability of moving in the intended direction when slippery (each perpendicular
    /// direction gets half the rest).
    pub success_rate: f64,
    /// Rewards for entering a goal, a hole and a frozen (or start) tile.
    pub reward_schedule: [f64; 3],
}

impl Default for FrozenLakeConfig {
    fn default() -> Self {
        FrozenLakeConfig {
            desc: None,
            map_name: Some("4x4".to_string()),
            is_slippery: true,
            success_rate: 1.0 / 3.0,
            reward_schedule: [1.0, 0.0, 0.0],
        }
    }
}

/// FrozenLake (Gymnasium 1.4's `FrozenLakeEnv`).
///
/// # Description
/// The player crosses a frozen lake from the start tile to the goal tile, walking over frozen
/// tiles and avoiding holes. The lake is slippery unless `is_slippery` is false: the player may
/// move perpendicular to the intended direction. Maps are the fixed `4x4` and `8x8` ones, a
/// custom `desc`, or a random map from [`generate_random_map`] (which always has a path).
///
/// # Action Space
/// `Discrete(4)`: 0 left, 1 down, 2 right, 3 up.
///
/// # Observation Space
/// `Discrete(nrow * ncol)`: the player's position `row * ncol + col`.
///
/// | Num | Observation | Min | Max |
/// |---|---|---|---|
/// | 0 | player position `row * ncol + col` | 0 | `nrow * ncol - 1` |
///
/// # Rewards
/// `reward_schedule = (goal, hole, frozen)`, by default `(1, 0, 0)`: paid for the tile entered.
///
/// # Starting State
/// A start tile `S`, uniformly among them (one `random()` draw, as Gymnasium's
/// `categorical_sample` does even when there is a single start).
///
/// # Episode End
/// Termination: the player enters a hole or the goal. Truncation (registry time limit): 100
/// steps for `FrozenLake-v1`, 200 for `FrozenLake8x8-v1`.
///
/// # Information
/// `info["prob"]`: the probability of the transition taken (`Int(1)` after a reset, as
/// Gymnasium's `{"prob": 1}`; a float after a step).
///
/// # Arguments
/// See [`FrozenLakeConfig`]: `desc`, `map_name`, `is_slippery` (true), `success_rate` (1/3),
/// `reward_schedule` ((1, 0, 0)).
///
/// Unlike Gymnasium, a map with ragged rows, no start tile or letters other than `SFHG` is
/// refused with an error, and so are an unknown `map_name` and a `success_rate` outside [0, 1].
///
/// # Version History
/// - v1: Gymnasium 1.4's `FrozenLake-v1` / `FrozenLake8x8-v1` (reward fixes of Gymnasium's v1,
///   `success_rate` and `reward_schedule` from Gymnasium 1.3).
///
/// ```
/// use tokengym::Env;
/// use tokengym_envs::toy_text::FrozenLake;
///
/// let mut env = FrozenLake::new();
/// let (obs, _) = env.reset(Some(42))?;
/// assert_eq!(obs, 0);
/// let step = env.step(&2)?;
/// assert!(step.info.get("prob").is_some());
/// assert!(env.step(&4).is_err()); // not an action
/// # Ok::<(), tokengym::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct FrozenLake {
    desc: Vec<Vec<u8>>,
    nrow: usize,
    ncol: usize,
    p: TransitionTable,
    initial_state_distrib: Vec<f64>,
    walker: Walker,
    obs_space: Discrete,
    act_space: Discrete,
}

impl FrozenLake {
    /// The default `FrozenLake-v1` (4x4 map, slippery).
    pub fn new() -> Self {
        Self::with_config(FrozenLakeConfig::default()).expect("the default config is valid")
    }

    /// The 8x8 map (`FrozenLake8x8-v1`), slippery.
    pub fn eight_by_eight() -> Self {
        Self::with_config(FrozenLakeConfig {
            map_name: Some("8x8".to_string()),
            ..FrozenLakeConfig::default()
        })
        .expect("the 8x8 config is valid")
    }

    /// An environment with Gymnasium's constructor arguments.
    pub fn with_config(config: FrozenLakeConfig) -> Result<Self> {
        let rows: Vec<String> = match (&config.desc, &config.map_name) {
            (Some(desc), _) => desc.clone(),
            (None, Some(name)) => match name.as_str() {
                "4x4" => MAP_4X4.iter().map(|r| r.to_string()).collect(),
                "8x8" => MAP_8X8.iter().map(|r| r.to_string()).collect(),
                other => {
                    return Err(Error::invalid_argument(format!(
                        "FrozenLake: unknown map_name {other:?} (expected \"4x4\" or \"8x8\")"
                    )));
                }
            },
            (None, None) => generate_random_map(8, 0.8, None)?,
        };
        let desc = parse_map(&rows)?;
        let s = config.success_rate;
        if !(0.0..=1.0).contains(&s) {
            return Err(Error::invalid_argument(format!(
                "FrozenLake: success_rate must be in [0, 1], got {s}"
            )));
        }
        if config.reward_schedule.iter().any(|r| !r.is_finite()) {
            return Err(Error::invalid_argument(format!(
                "FrozenLake: reward_schedule must be finite, got {:?}",
                config.reward_schedule
            )));
        }
        let (nrow, ncol) = (desc.len(), desc[0].len());
        let n_states = nrow * ncol;

        // Uniform over the start tiles, normalised as NumPy does (divide by the sum).
        let starts: Vec<f64> = desc
            .iter()
            .flatten()
            .map(|&c| if c == b'S' { 1.0 } else { 0.0 })
            .collect();
        let total: f64 = starts.iter().sum();
        let initial_state_distrib: Vec<f64> = starts.iter().map(|x| x / total).collect();
        let first_start = starts.iter().position(|&x| x > 0.0).unwrap_or(0);

        let fail_rate = (1.0 - s) / 2.0;
        let schedule = config.reward_schedule;
        let slippery = config.is_slippery;
        let to_s = |row: usize, col: usize| row * ncol + col;
        let inc = |row: usize, col: usize, a: usize| -> (usize, usize) {
            match a as i64 {
                LEFT => (row, col.saturating_sub(1)),
                DOWN => ((row + 1).min(nrow - 1), col),
                RIGHT => (row, (col + 1).min(ncol - 1)),
                _ => (row.saturating_sub(1), col),
            }
        };
        let outcome = |prob: f64, row: usize, col: usize, a: usize| -> Outcome {
            let (r, c) = inc(row, col, a);
            let letter = desc[r][c];
            let reward = match letter {
                b'G' => schedule[0],
                b'H' => schedule[1],
                _ => schedule[2],
            };
            Outcome {
                prob,
                next: to_s(r, c),
                reward,
                terminal: matches!(letter, b'G' | b'H'),
            }
        };
        let p = TransitionTable::build(n_states, N_ACTIONS, first_start, |state, a| {
            let (row, col) = (state / ncol, state % ncol);
            if matches!(desc[row][col], b'G' | b'H') {
                vec![Outcome {
                    prob: 1.0,
                    next: state,
                    reward: 0.0,
                    terminal: true,
                }]
            } else if slippery {
                [(a + 3) % 4, a, (a + 1) % 4]
                    .into_iter()
                    .map(|b| outcome(if b == a { s } else { fail_rate }, row, col, b))
                    .collect()
            } else {
                vec![outcome(1.0, row, col, a)]
            }
        });
        Ok(FrozenLake {
            obs_space: Discrete::new(n_states as u64)?,
            act_space: Discrete::new(N_ACTIONS as u64)?,
            desc,
            nrow,
            ncol,
            p,
            initial_state_distrib,
            walker: Walker::new(),
        })
    }

    /// The map, one string per row.
    pub fn desc(&self) -> Vec<String> {
        self.desc
            .iter()
            .map(|r| String::from_utf8_lossy(r).into_owned())
            .collect()
    }

    /// Number of rows and columns of the map.
    pub fn shape(&self) -> (usize, usize) {
        (self.nrow, self.ncol)
    }

    /// Gymnasium's `P`, also the [`Mdp`] view.
    pub fn transition_table(&self) -> &TransitionTable {
        &self.p
    }

    /// The player's position (`env.unwrapped.s`); `None` before the first reset.
    pub fn position(&self) -> Option<usize> {
        self.walker.s
    }

    /// Gymnasium's ansi text: the last action in parentheses (or an empty line), then the map
    /// with the player's tile highlighted in red.
    fn ansi(&self, s: usize) -> String {
        let mut out = match self.walker.last_action {
            Some(a) => format!("  ({})\n", ACTION_NAMES[a as usize]),
            None => "\n".to_string(),
        };
        for (row, line) in self.desc.iter().enumerate() {
            for (col, &c) in line.iter().enumerate() {
                let tile = (c as char).to_string();
                if row * self.ncol + col == s {
                    out.push_str(&highlight_red(&tile));
                } else {
                    out.push_str(&tile);
                }
            }
            out.push('\n');
        }
        out
    }
}

impl Default for FrozenLake {
    fn default() -> Self {
        Self::new()
    }
}

/// Checks and converts a map: at least one non-empty row, equal lengths, letters `SFHG`, a
/// start tile.
fn parse_map(rows: &[String]) -> Result<Vec<Vec<u8>>> {
    let bad = |why: String| Error::invalid_argument(format!("FrozenLake: malformed map: {why}"));
    let first = rows.first().ok_or_else(|| bad("no rows".into()))?;
    if first.is_empty() {
        return Err(bad("empty row".into()));
    }
    let mut desc = Vec::with_capacity(rows.len());
    for (i, row) in rows.iter().enumerate() {
        if row.len() != first.len() {
            return Err(bad(format!(
                "row {i} has {} tiles, row 0 has {}",
                row.len(),
                first.len()
            )));
        }
        if let Some(c) = row.chars().find(|c| !"SFHG".contains(*c)) {
            return Err(bad(format!(
                "row {i} has tile {c:?} (expected S, F, H or G)"
            )));
        }
        desc.push(row.as_bytes().to_vec());
    }
    if !desc.iter().flatten().any(|&c| c == b'S') {
        return Err(bad("no start tile S".into()));
    }
    Ok(desc)
}

/// Gymnasium's `is_valid(board, max_size)`: whether a depth-first search from the top-left
/// tile over non-hole tiles reaches a goal.
pub fn is_valid_map(board: &[Vec<u8>], max_size: usize) -> bool {
    let mut frontier = vec![(0usize, 0usize)];
    let mut discovered = HashSet::new();
    while let Some((r, c)) = frontier.pop() {
        if !discovered.insert((r, c)) {
            continue;
        }
        for (dr, dc) in [(1i64, 0i64), (0, 1), (-1, 0), (0, -1)] {
            let (nr, nc) = (r as i64 + dr, c as i64 + dc);
            if nr < 0 || nr >= max_size as i64 || nc < 0 || nc >= max_size as i64 {
                continue;
            }
            let tile = board[nr as usize][nc as usize];
            if tile == b'G' {
                return true;
            }
            if tile != b'H' {
                frontier.push((nr as usize, nc as usize));
            }
        }
    }
    false
}

/// Gymnasium's `generate_random_map(size, p, seed)`: a random `size` x `size` map with a path
/// from the start (top left) to the goal (bottom right); each tile is frozen with probability
/// `p` (capped at 1), else a hole. Draws as Gymnasium does: its own generator seeded with
/// `seed` (OS entropy when `None`), and per attempt `size * size` `random()` draws in row
/// order (NumPy's `choice(["F", "H"], p=[p, 1 - p])`), until the map is valid.
///
/// Errors (where Gymnasium would loop forever or NumPy would raise): `size < 2`, `p` not a
/// positive number.
///
/// ```
/// let map = tokengym_envs::toy_text::generate_random_map(4, 0.8, Some(0))?;
/// assert_eq!(map, ["SFFF", "HHFF", "FHHF", "HFFG"]);
/// # Ok::<(), tokengym::Error>(())
/// ```
pub fn generate_random_map(size: usize, p: f64, seed: Option<u64>) -> Result<Vec<String>> {
    if size < 2 {
        return Err(Error::invalid_argument(format!(
            "generate_random_map: size must be at least 2 (a 1x1 map has no path), got {size}"
        )));
    }
    if p.is_nan() || p <= 0.0 {
        return Err(Error::invalid_argument(format!(
            "generate_random_map: p must be a positive probability, got {p}"
        )));
    }
    let p = p.min(1.0);
    // NumPy's choice with p: cdf = cumsum([p, 1 - p]) / cdf[-1]; "H" when u >= cdf[0].
    let total = p + (1.0 - p);
    let frozen_below = p / total;
    let mut rng = rng_from_seed(seed);
    loop {
        let mut board: Vec<Vec<u8>> = (0..size)
            .map(|_| {
                (0..size)
                    .map(|_| {
                        if rng.random_f64() < frozen_below {
                            b'F'
                        } else {
                            b'H'
                        }
                    })
                    .collect()
            })
            .collect();
        board[0][0] = b'S';
        board[size - 1][size - 1] = b'G';
        if is_valid_map(&board, size) {
            return Ok(board
                .into_iter()
                .map(|r| String::from_utf8(r).expect("ASCII tiles"))
                .collect());
        }
    }
}

impl Env for FrozenLake {
    type ObsSpace = Discrete;
    type ActSpace = Discrete;

    fn observation_space(&self) -> &Discrete {
        &self.obs_space
    }

    fn action_space(&self) -> &Discrete {
        &self.act_space
    }

    fn reset(&mut self, seed: Option<u64>) -> Result<(i64, Info)> {
        Ok(self
            .walker
            .reset(seed, self.initial_state_distrib.iter().copied()))
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

mdp_via_table!(FrozenLake);
