//! Taxi: pick a passenger up and drop them off at their destination (Gymnasium 1.4's
//! `Taxi-v4`, draw for draw, with its rainy and fickle-passenger variants).

use super::{TransitionTable, Walker, categorical_sample, render_ansi};
use crate::toy::Outcome;
use tokengym::seeding::rng_from_seed;
use tokengym::space::{Discrete, Space, Value};
use tokengym::{Env, EnvRng, Error, Frame, Info, InfoValue, RenderMode, Result, Step};

/// Gymnasium's `MAP`: `|` is a wall, `:` a passage between columns.
pub const MAP: [&str; 7] = [
    "+---------+",
    "|R: | : :G|",
    "| : | : : |",
    "| : : : : |",
    "| | : | : |",
    "|Y| : |B: |",
    "+---------+",
];
/// The four pick-up/drop-off locations R, G, Y, B as `(row, col)`.
pub const LOCS: [(usize, usize); 4] = [(0, 0), (0, 4), (4, 0), (4, 3)];
const N_STATES: usize = 500;
const N_ACTIONS: usize = 6;
const MAX_ROW: usize = 4;
const MAX_COL: usize = 4;
const ACTION_NAMES: [&str; 6] = ["South", "North", "East", "West", "Pickup", "Dropoff"];

/// The options of Gymnasium's `TaxiEnv(is_rainy, fickle_passenger, rainy_probability,
/// fickle_probability)`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TaxiConfig {
    /// Moves go the intended way with `rainy_probability`, else to either side.
    pub is_rainy: bool,
    /// With `fickle_probability` per episode, the passenger changes destination once, on the
    /// first move after being picked up.
    pub fickle_passenger: bool,
    /// Probability of the intended move when rainy (0.8).
    pub rainy_probability: f64,
    /// Probability that an episode's passenger is fickle (0.3).
    pub fickle_probability: f64,
}

impl Default for TaxiConfig {
    fn default() -> Self {
        TaxiConfig {
            is_rainy: false,
            fickle_passenger: false,
            rainy_probability: 0.8,
            fickle_probability: 0.3,
        }
    }
}

/// Taxi (Gymnasium 1.4's `TaxiEnv`; Dietterich 2000).
///
/// # Description
/// A 5x5 grid with walls and four marked locations (R, G, Y, B). The taxi starts on a random
/// square, the passenger at one of the locations, and the destination is another one. The
/// taxi drives to the passenger, picks them up, drives to the destination and drops them off.
///
/// # Action Space
/// `Discrete(6)`: 0 south, 1 north, 2 east, 3 west, 4 pickup, 5 drop off.
///
/// # Observation Space
/// `Discrete(500)`: `((taxi_row * 5 + taxi_col) * 5 + passenger_location) * 4 + destination`
/// ([`Taxi::encode`]); passenger location 0–3 is a marked location, 4 is in the taxi.
///
/// | Num | Observation | Min | Max |
/// |---|---|---|---|
/// | 0 | `encode(taxi_row, taxi_col, passenger_location, destination)` | 0 | 499 |
///
/// # Rewards
/// -1 per step, +20 for delivering the passenger, -10 for an illegal pickup or drop-off.
///
/// # Starting State
/// Uniform over the 300 states with the passenger waiting at a location other than the
/// destination (one `random()` draw; a second one when `fickle_passenger`).
///
/// # Episode End
/// Termination: the passenger is dropped off at the destination. Truncation (registry time
/// limit): 200 steps.
///
/// # Information
/// `info["prob"]` (a float, 1.0 after a reset) and `info["action_mask"]`
/// ([`Value::MultiBinary`], Gymnasium's `int8` array): which actions change the state.
///
/// # Arguments
/// See [`TaxiConfig`]: `is_rainy` (false), `fickle_passenger` (false), `rainy_probability`
/// (0.8), `fickle_probability` (0.3). Probabilities outside [0, 1] are errors.
///
/// # Version History
/// - v4: Gymnasium 1.4's `Taxi-v4` (`is_rainy`, `fickle_passenger`, `info["action_mask"]`).
///
/// ```
/// use tokengym::Env;
/// use tokengym_envs::toy_text::Taxi;
///
/// let mut env = Taxi::new();
/// let (obs, info) = env.reset(Some(0))?;
/// let (row, col, pass, dest) = Taxi::decode(obs as usize);
/// assert_eq!(Taxi::encode(row, col, pass, dest), obs as usize);
/// assert!(info.get("action_mask").is_some());
/// # Ok::<(), tokengym::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Taxi {
    config: TaxiConfig,
    desc: Vec<Vec<u8>>,
    p: TransitionTable,
    initial_state_distrib: Vec<f64>,
    s: Option<usize>,
    last_action: Option<i64>,
    fickle_step: bool,
    rng: EnvRng,
    obs_space: Discrete,
    act_space: Discrete,
}

impl Taxi {
    /// `Taxi-v4`.
    pub fn new() -> Self {
        Self::with_config(TaxiConfig::default()).expect("the default config is valid")
    }

    /// An environment with Gymnasium's constructor arguments.
    pub fn with_config(config: TaxiConfig) -> Result<Self> {
        for (name, p) in [
            ("rainy_probability", config.rainy_probability),
            ("fickle_probability", config.fickle_probability),
        ] {
            if !(0.0..=1.0).contains(&p) {
                return Err(Error::invalid_argument(format!(
                    "Taxi: {name} must be in [0, 1], got {p}"
                )));
            }
        }
        let desc: Vec<Vec<u8>> = MAP.iter().map(|r| r.as_bytes().to_vec()).collect();
        let mut initial = vec![0.0; N_STATES];
        for (state, x) in initial.iter_mut().enumerate() {
            let (_, _, pass, dest) = Self::decode(state);
            if pass < 4 && pass != dest {
                *x = 1.0;
            }
        }
        let total: f64 = initial.iter().sum();
        initial.iter_mut().for_each(|x| *x /= total);
        let p = TransitionTable::build(N_STATES, N_ACTIONS, 0, |state, action| {
            let (row, col, pass, dest) = Self::decode(state);
            if config.is_rainy {
                rainy_transitions(&desc, &config, row, col, pass, dest, action)
            } else {
                vec![dry_transition(&desc, row, col, pass, dest, action)]
            }
        });
        Ok(Taxi {
            config,
            desc,
            p,
            initial_state_distrib: initial,
            s: None,
            last_action: None,
            fickle_step: false,
            rng: rng_from_seed(None),
            obs_space: Discrete::new(N_STATES as u64)?,
            act_space: Discrete::new(N_ACTIONS as u64)?,
        })
    }

    /// Gymnasium's `encode(taxi_row, taxi_col, pass_loc, dest_idx)`.
    pub fn encode(taxi_row: usize, taxi_col: usize, pass_loc: usize, dest_idx: usize) -> usize {
        ((taxi_row * 5 + taxi_col) * 5 + pass_loc) * 4 + dest_idx
    }

    /// Gymnasium's `decode(state)`: `(taxi_row, taxi_col, pass_loc, dest_idx)`; states of 500
    /// and above give a taxi row of 5 or more (Gymnasium asserts; [`Env::step`] never makes
    /// one).
    pub fn decode(state: usize) -> (usize, usize, usize, usize) {
        (state / 100, (state / 20) % 5, (state / 4) % 5, state % 4)
    }

    /// Gymnasium's `action_mask(state)`: 1 for the actions that change the state.
    pub fn action_mask(&self, state: usize) -> Vec<u8> {
        let (row, col, pass, dest) = Self::decode(state);
        let taxi = (row, col);
        vec![
            u8::from(row < MAX_ROW),
            u8::from(row > 0),
            u8::from(col < MAX_COL && self.desc[row + 1][2 * col + 2] == b':'),
            u8::from(col > 0 && self.desc[row + 1][2 * col] == b':'),
            u8::from(pass < 4 && taxi == LOCS[pass]),
            u8::from(pass == 4 && (taxi == LOCS[dest] || LOCS.contains(&taxi))),
        ]
    }

    /// The options this environment was built with.
    pub fn config(&self) -> TaxiConfig {
        self.config
    }

    /// Gymnasium's `P`, also the [`crate::toy::Mdp`] view. Its start state is 0 (Taxi starts
    /// from a distribution: see [`Taxi::initial_state_distribution`]).
    pub fn transition_table(&self) -> &TransitionTable {
        &self.p
    }

    /// Gymnasium's `initial_state_distrib`.
    pub fn initial_state_distribution(&self) -> &[f64] {
        &self.initial_state_distrib
    }

    /// The current state (`env.unwrapped.s`); `None` before the first reset.
    pub fn state(&self) -> Option<usize> {
        self.s
    }

    fn info(&self, prob: f64, state: usize) -> Info {
        Info::new().with("prob", InfoValue::Float(prob)).with(
            "action_mask",
            InfoValue::Value(Value::MultiBinary(self.action_mask(state))),
        )
    }

    /// Gymnasium's ansi text: the map with the taxi highlighted (yellow when empty, green with
    /// the passenger, an empty tile drawn `_`), the waiting passenger in bold blue, the
    /// destination in magenta; then the last action in parentheses or an empty line.
    fn ansi(&self, s: usize) -> String {
        let mut out: Vec<Vec<String>> = self
            .desc
            .iter()
            .map(|r| r.iter().map(|&c| (c as char).to_string()).collect())
            .collect();
        let (row, col, pass, dest) = Self::decode(s);
        if pass < 4 {
            let cell = &mut out[1 + row][2 * col + 1];
            *cell = format!("\x1b[43m{cell}\x1b[0m");
            let (pi, pj) = LOCS[pass];
            let cell = &mut out[1 + pi][2 * pj + 1];
            *cell = format!("\x1b[34;1m{cell}\x1b[0m");
        } else {
            let cell = &mut out[1 + row][2 * col + 1];
            let text = if cell == " " { "_" } else { cell.as_str() };
            *cell = format!("\x1b[42m{text}\x1b[0m");
        }
        let (di, dj) = LOCS[dest];
        let cell = &mut out[1 + di][2 * dj + 1];
        *cell = format!("\x1b[35m{cell}\x1b[0m");
        let mut text = out
            .iter()
            .map(|r| r.concat())
            .collect::<Vec<_>>()
            .join("\n");
        text.push('\n');
        match self.last_action {
            Some(a) => text.push_str(&format!("  ({})\n", ACTION_NAMES[a as usize])),
            None => text.push('\n'),
        }
        text
    }
}

impl Default for Taxi {
    fn default() -> Self {
        Self::new()
    }
}

/// Gymnasium's `_pickup`: `(new_pass_idx, reward)`.
fn pickup(taxi: (usize, usize), pass: usize, reward: f64) -> (usize, f64) {
    if pass < 4 && taxi == LOCS[pass] {
        (4, reward)
    } else {
        (pass, -10.0)
    }
}

/// Gymnasium's `_dropoff`: `(new_pass_idx, reward, terminated)`.
fn dropoff(taxi: (usize, usize), pass: usize, dest: usize, reward: f64) -> (usize, f64, bool) {
    if taxi == LOCS[dest] && pass == 4 {
        (dest, 20.0, true)
    } else if let (Some(i), 4) = (LOCS.iter().position(|&l| l == taxi), pass) {
        (i, reward, false)
    } else {
        (pass, -10.0, false)
    }
}

/// Gymnasium's `_build_dry_transitions`.
fn dry_transition(
    desc: &[Vec<u8>],
    row: usize,
    col: usize,
    pass: usize,
    dest: usize,
    action: usize,
) -> Outcome {
    let (mut new_row, mut new_col, mut new_pass) = (row, col, pass);
    let (mut reward, mut terminal) = (-1.0, false);
    match action {
        0 => new_row = (row + 1).min(MAX_ROW),
        1 => new_row = row.saturating_sub(1),
        _ => {}
    }
    if action == 2 && desc[1 + row][2 * col + 2] == b':' {
        new_col = (col + 1).min(MAX_COL);
    } else if action == 3 && desc[1 + row][2 * col] == b':' {
        new_col = col.saturating_sub(1);
    } else if action == 4 {
        (new_pass, reward) = pickup((row, col), new_pass, reward);
    } else if action == 5 {
        (new_pass, reward, terminal) = dropoff((row, col), new_pass, dest, reward);
    }
    Outcome {
        prob: 1.0,
        next: Taxi::encode(new_row, new_col, new_pass, dest),
        reward,
        terminal,
    }
}

/// Gymnasium's `_calc_new_position`: a sideways slip, blocked by walls.
fn slip_position(desc: &[Vec<u8>], row: usize, col: usize, (dr, dc): (i64, i64)) -> (usize, usize) {
    let new_row = (row as i64 + dr).clamp(0, MAX_ROW as i64) as usize;
    let new_col = (col as i64 + dc).clamp(0, MAX_COL as i64) as usize;
    if dc == 1 && desc[1 + new_row][2 * new_col] != b':' {
        return (row, col);
    }
    if dc == -1 && desc[1 + new_row][2 * new_col + 2] != b':' {
        return (row, col);
    }
    (new_row, new_col)
}

/// Gymnasium's `_build_rainy_transitions`.
fn rainy_transitions(
    desc: &[Vec<u8>],
    config: &TaxiConfig,
    row: usize,
    col: usize,
    pass: usize,
    dest: usize,
    action: usize,
) -> Vec<Outcome> {
    // (intended, left, right) moves per direction.
    const MOVES: [[(i64, i64); 3]; 4] = [
        [(1, 0), (0, 1), (0, -1)],
        [(-1, 0), (0, -1), (0, 1)],
        [(0, 1), (-1, 0), (1, 0)],
        [(0, -1), (1, 0), (-1, 0)],
    ];
    let (mut new_row, mut new_col, mut new_pass) = (row, col, pass);
    let (mut left, mut right) = ((row, col), (row, col));
    let (mut reward, mut terminal) = (-1.0, false);
    let can_move = (action == 0 && row < MAX_ROW)
        || (action == 1 && row > 0)
        || (action == 2 && desc[1 + row][2 * col + 2] == b':')
        || (action == 3 && desc[1 + row][2 * col] == b':');
    if can_move {
        let (dr, dc) = MOVES[action][0];
        new_row = (row as i64 + dr).clamp(0, MAX_ROW as i64) as usize;
        new_col = (col as i64 + dc).clamp(0, MAX_COL as i64) as usize;
        left = slip_position(desc, row, col, MOVES[action][1]);
        right = slip_position(desc, row, col, MOVES[action][2]);
    } else if action == 4 {
        (new_pass, reward) = pickup((row, col), new_pass, reward);
    } else if action == 5 {
        (new_pass, reward, terminal) = dropoff((row, col), new_pass, dest, reward);
    }
    let intended = Taxi::encode(new_row, new_col, new_pass, dest);
    if action <= 3 {
        let lateral = (1.0 - config.rainy_probability) / 2.0;
        let outcome = |prob, (r, c): (usize, usize)| Outcome {
            prob,
            next: Taxi::encode(r, c, new_pass, dest),
            reward: -1.0,
            terminal,
        };
        vec![
            Outcome {
                prob: config.rainy_probability,
                next: intended,
                reward: -1.0,
                terminal,
            },
            outcome(lateral, left),
            outcome(lateral, right),
        ]
    } else {
        vec![Outcome {
            prob: 1.0,
            next: intended,
            reward,
            terminal,
        }]
    }
}

impl Env for Taxi {
    type ObsSpace = Discrete;
    type ActSpace = Discrete;

    fn observation_space(&self) -> &Discrete {
        &self.obs_space
    }

    fn action_space(&self) -> &Discrete {
        &self.act_space
    }

    fn reset(&mut self, seed: Option<u64>) -> Result<(i64, Info)> {
        if seed.is_some() {
            self.rng = rng_from_seed(seed);
        }
        let s = categorical_sample(self.initial_state_distrib.iter().copied(), &mut self.rng);
        self.s = Some(s);
        self.last_action = None;
        self.fickle_step =
            self.config.fickle_passenger && self.rng.random_f64() < self.config.fickle_probability;
        Ok((s as i64, self.info(1.0, s)))
    }

    fn step(&mut self, action: &i64) -> Result<Step<i64>> {
        self.act_space.check_action(action)?;
        let prev = self.s.ok_or(Error::ResetNeeded)?;
        let o = self
            .p
            .sample(prev, *action as usize, &mut self.rng)
            .ok_or_else(|| Error::invalid_argument("Taxi: state out of the table"))?;
        self.last_action = Some(*action);
        let (prev_row, prev_col, prev_pass, prev_dest) = Self::decode(prev);
        let (row, col, pass, _) = Self::decode(o.next);
        let mut s = o.next;
        if self.config.fickle_passenger
            && self.fickle_step
            && prev_pass == 4
            && (row != prev_row || col != prev_col)
        {
            self.fickle_step = false;
            let others: Vec<usize> = (0..LOCS.len()).filter(|&i| i != prev_dest).collect();
            let dest = *self.rng.choice(&others).expect("three other locations");
            s = Self::encode(row, col, pass, dest);
        }
        self.s = Some(s);
        let mut step = Step::new(s as i64, o.reward, o.terminal, false);
        step.info = self.info(o.prob, s);
        Ok(step)
    }

    fn render_modes(&self) -> &[RenderMode] {
        Walker::render_modes()
    }

    fn render(&self, mode: RenderMode) -> Result<Frame> {
        render_ansi(self.s, mode, |s| self.ansi(s))
    }

    fn render_fps(&self) -> u32 {
        4
    }
}

mdp_via_table!(Taxi);
