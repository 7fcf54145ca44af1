//! Toy text: Gymnasium 1.4's `toy_text` environments, draw for draw.
//!
//! - [`FrozenLake`] (`FrozenLake-v1`, `FrozenLake8x8-v1`) and [`generate_random_map`]
//! - [`CliffWalking`] (`CliffWalking-v1`, `CliffWalkingSlippery-v1`)
//! - [`Taxi`] (`Taxi-v4`, with `is_rainy` and `fickle_passenger`)
//! - [`Blackjack`] (`Blackjack-v1`; no `P`: its state is the hands)
//!
//! Every environment keeps Gymnasium's transition table `P` (state → action → outcomes) as a
//! [`TransitionTable`], samples it with Gymnasium's `categorical_sample` (one `random()` draw
//! per reset and per step, from the environment's NumPy-identical generator), reports
//! `info["prob"]` and exposes the table to planners through the [`Mdp`] trait. The same seed
//! therefore gives Gymnasium's episodes, `info` included.
//!
//! Unlike the course grid worlds of [`crate::toy`], whose absorbing states have no outcomes,
//! Gymnasium's `P` gives terminal states of FrozenLake a self-loop `(1.0, s, 0, true)`; the
//! [`Mdp`] view returns `P` as it is (the loop is terminal, so planners bootstrap nothing
//! from it).

/// Renders `ansi(s)` for [`RenderMode::Ansi`] once reset (`s` is the position); errors otherwise.
pub(crate) fn render_ansi(
    s: Option<usize>,
    mode: RenderMode,
    ansi: impl FnOnce(usize) -> String,
) -> Result<Frame> {
    match (mode, s) {
        (RenderMode::Ansi, Some(s)) => Ok(Frame::Ansi(ansi(s))),
        (RenderMode::Ansi, None) => Err(Error::RenderNeedsReset),
        (other, _) => Err(tokengym::env::unsupported_render_mode(other, RENDER_MODES)),
    }
}

/// `impl Mdp for $env` through its `transition_table()`.
macro_rules! mdp_via_table {
    ($env:ty) => {
        impl $crate::toy::Mdp for $env {
            fn n_states(&self) -> usize {
                self.transition_table().n_states()
            }
            fn n_actions(&self) -> usize {
                self.transition_table().n_actions()
            }
            fn transitions(&self, state: usize, action: usize) -> &[$crate::toy::Outcome] {
                self.transition_table().transitions(state, action)
            }
            fn start_state(&self) -> usize {
                self.transition_table().start_state()
            }
        }
    };
}

pub mod blackjack;
pub mod cliff_walking;
pub mod frozen_lake;
pub mod taxi;

pub use blackjack::{Blackjack, BlackjackConfig};
pub use cliff_walking::{CliffWalking, CliffWalkingConfig};
pub use frozen_lake::{FrozenLake, FrozenLakeConfig, generate_random_map, is_valid_map};
pub use taxi::{Taxi, TaxiConfig};

use crate::toy::{Mdp, Outcome};
use tokengym::seeding::rng_from_seed;
use tokengym::space::{Discrete, Space};
use tokengym::{EnvRng, Error, Frame, Info, InfoValue, RenderMode, Result, Step};

/// Gymnasium's `categorical_sample`: one `random()` draw `u`, then the first index whose
/// running sum (`np.cumsum`, left to right) exceeds `u`; index 0 when none does (`np.argmax`
/// of an all-false array).
pub fn categorical_sample(probs: impl IntoIterator<Item = f64>, rng: &mut EnvRng) -> usize {
    let u = rng.random_f64();
    let mut sum = 0.0;
    for (i, p) in probs.into_iter().enumerate() {
        sum += p;
        if sum > u {
            return i;
        }
    }
    0
}

/// Gymnasium's `utils.colorize(text, "red", highlight=True)`: a red background.
pub(crate) fn highlight_red(text: &str) -> String {
    format!("\x1b[41m{text}\x1b[0m")
}

/// Gymnasium's `env.unwrapped.P`: for every state and action, the list of
/// `(prob, next_state, reward, terminated)` outcomes, in Gymnasium's order.
#[derive(Clone, Debug, PartialEq)]
pub struct TransitionTable {
    n_states: usize,
    n_actions: usize,
    start: usize,
    outcomes: Vec<Vec<Outcome>>,
}

impl TransitionTable {
    /// A table from a function giving the outcomes of `(state, action)`; `start` is what
    /// [`Mdp::start_state`] reports.
    pub(crate) fn build(
        n_states: usize,
        n_actions: usize,
        start: usize,
        mut outcomes_of: impl FnMut(usize, usize) -> Vec<Outcome>,
    ) -> Self {
        let mut outcomes = Vec::with_capacity(n_states * n_actions);
        for s in 0..n_states {
            for a in 0..n_actions {
                outcomes.push(outcomes_of(s, a));
            }
        }
        TransitionTable {
            n_states,
            n_actions,
            start,
            outcomes,
        }
    }

    /// Samples one outcome of `(state, action)` as Gymnasium's `step` does (`None` only for
    /// indices out of range).
    pub(crate) fn sample(&self, state: usize, action: usize, rng: &mut EnvRng) -> Option<Outcome> {
        let list = self.get(state, action)?;
        let i = categorical_sample(list.iter().map(|o| o.prob), rng);
        list.get(i).copied()
    }

    fn get(&self, state: usize, action: usize) -> Option<&[Outcome]> {
        if state >= self.n_states || action >= self.n_actions {
            return None;
        }
        self.outcomes
            .get(state * self.n_actions + action)
            .map(Vec::as_slice)
    }
}

impl Mdp for TransitionTable {
    fn n_states(&self) -> usize {
        self.n_states
    }
    fn n_actions(&self) -> usize {
        self.n_actions
    }
    fn transitions(&self, state: usize, action: usize) -> &[Outcome] {
        self.get(state, action).unwrap_or(&[])
    }
    fn start_state(&self) -> usize {
        self.start
    }
}

const RENDER_MODES: &[RenderMode] = &[RenderMode::Ansi];

/// What every toy-text walker keeps between steps: Gymnasium's `s`, `lastaction` and
/// `np_random`, and the reset/step/render logic they share.
#[derive(Clone, Debug)]
pub(crate) struct Walker {
    pub(crate) s: Option<usize>,
    pub(crate) last_action: Option<i64>,
    rng: EnvRng,
}

impl Walker {
    pub(crate) fn new() -> Self {
        Walker {
            s: None,
            last_action: None,
            rng: rng_from_seed(None),
        }
    }

    /// Gymnasium's `reset`: re-seed when given a seed, sample the initial distribution, return
    /// `{"prob": 1}` (an int, as Gymnasium's).
    pub(crate) fn reset(
        &mut self,
        seed: Option<u64>,
        initial: impl IntoIterator<Item = f64>,
    ) -> (i64, Info) {
        if seed.is_some() {
            self.rng = rng_from_seed(seed);
        }
        let s = categorical_sample(initial, &mut self.rng);
        self.s = Some(s);
        self.last_action = None;
        (s as i64, Info::new().with("prob", InfoValue::Int(1)))
    }

    /// Gymnasium's `step`: sample `P[s][a]`, move, report `{"prob": p}`.
    pub(crate) fn step(
        &mut self,
        table: &TransitionTable,
        actions: &Discrete,
        action: &i64,
    ) -> Result<Step<i64>> {
        actions.check_action(action)?;
        let s = self.s.ok_or(Error::ResetNeeded)?;
        let o = table
            .sample(s, *action as usize, &mut self.rng)
            .ok_or_else(|| Error::invalid_argument("toy text: state out of the table"))?;
        self.s = Some(o.next);
        self.last_action = Some(*action);
        let mut step = Step::new(o.next as i64, o.reward, o.terminal, false);
        step.info.insert("prob", InfoValue::Float(o.prob));
        Ok(step)
    }

    /// Ansi only, after a reset.
    pub(crate) fn render(
        &self,
        mode: RenderMode,
        ansi: impl FnOnce(usize) -> String,
    ) -> Result<Frame> {
        render_ansi(self.s, mode, ansi)
    }

    pub(crate) fn render_modes() -> &'static [RenderMode] {
        RENDER_MODES
    }
}
