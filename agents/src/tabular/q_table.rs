//! `QTable`: action values for every state-action pair of a finite MDP, with greedy and
//! epsilon-greedy action selection.

use rand::{Rng, RngExt};
use serde::{Deserialize, Serialize};
use tokengym::{Error, Result};

/// `Q(s, a)` for `n_states x n_actions` pairs, stored row by row.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "QTableRepr", into = "QTableRepr")]
pub struct QTable {
    n_states: usize,
    n_actions: usize,
    values: Vec<f64>,
}

#[derive(Serialize, Deserialize)]
struct QTableRepr {
    n_states: usize,
    n_actions: usize,
    values: Vec<f64>,
}

impl TryFrom<QTableRepr> for QTable {
    type Error = Error;
    fn try_from(r: QTableRepr) -> Result<Self> {
        let mut table = QTable::new(r.n_states, r.n_actions, 0.0)?;
        if r.values.len() != table.values.len() {
            return Err(Error::shape(
                "Q table values",
                table.values.len(),
                r.values.len(),
            ));
        }
        if r.values.iter().any(|v| !v.is_finite()) {
            return Err(Error::NonFinite {
                what: "Q table".into(),
                detail: "a value is NaN or infinite".into(),
            });
        }
        table.values = r.values;
        Ok(table)
    }
}

impl From<QTable> for QTableRepr {
    fn from(t: QTable) -> Self {
        QTableRepr {
            n_states: t.n_states,
            n_actions: t.n_actions,
            values: t.values,
        }
    }
}

impl QTable {
    /// A table with every value `initial`; both sizes must be positive.
    pub fn new(n_states: usize, n_actions: usize, initial: f64) -> Result<Self> {
        if n_states == 0 || n_actions == 0 {
            return Err(Error::invalid_argument(format!(
                "QTable needs at least one state and one action, got {n_states} x {n_actions}"
            )));
        }
        if !initial.is_finite() {
            return Err(Error::invalid_argument(
                "QTable: initial value must be finite",
            ));
        }
        let len = n_states.checked_mul(n_actions).ok_or_else(|| {
            Error::invalid_argument(format!("QTable of {n_states} x {n_actions} is too large"))
        })?;
        Ok(QTable {
            n_states,
            n_actions,
            values: vec![initial; len],
        })
    }

    /// Number of states.
    pub fn n_states(&self) -> usize {
        self.n_states
    }

    /// Number of actions.
    pub fn n_actions(&self) -> usize {
        self.n_actions
    }

    /// The values of `state`'s actions (empty for a state out of range).
    pub fn row(&self, state: usize) -> &[f64] {
        if state >= self.n_states {
            return &[];
        }
        &self.values[state * self.n_actions..(state + 1) * self.n_actions]
    }

    /// `Q(state, action)`, `None` out of range.
    pub fn get(&self, state: usize, action: usize) -> Option<f64> {
        self.row(state).get(action).copied()
    }

    /// A mutable reference to `Q(state, action)`, `None` out of range.
    pub fn get_mut(&mut self, state: usize, action: usize) -> Option<&mut f64> {
        if state >= self.n_states || action >= self.n_actions {
            return None;
        }
        self.values.get_mut(state * self.n_actions + action)
    }

    /// `max_a Q(state, a)` (0 for a state out of range).
    pub fn max(&self, state: usize) -> f64 {
        let row = self.row(state);
        if row.is_empty() {
            return 0.0;
        }
        row.iter().copied().fold(f64::NEG_INFINITY, f64::max)
    }

    /// The mean of `Q(state, .)` (0 for a state out of range).
    pub fn mean(&self, state: usize) -> f64 {
        let row = self.row(state);
        if row.is_empty() {
            return 0.0;
        }
        row.iter().sum::<f64>() / row.len() as f64
    }

    /// The first action with the largest value (deterministic).
    pub fn argmax(&self, state: usize) -> usize {
        let mut best = 0;
        for (a, &q) in self.row(state).iter().enumerate() {
            if q > self.row(state)[best] {
                best = a;
            }
        }
        best
    }

    /// A greedy action, ties broken uniformly at random.
    pub fn greedy<R: Rng + ?Sized>(&self, state: usize, rng: &mut R) -> usize {
        let row = self.row(state);
        let max = self.max(state);
        let ties = row.iter().filter(|&&q| q == max).count();
        if ties <= 1 {
            return self.argmax(state);
        }
        let pick = rng.random_range(0..ties);
        row.iter()
            .enumerate()
            .filter(|(_, q)| **q == max)
            .nth(pick)
            .map_or(0, |(a, _)| a)
    }

    /// With probability `epsilon` a uniformly random action, otherwise [`QTable::greedy`].
    pub fn epsilon_greedy<R: Rng + ?Sized>(
        &self,
        state: usize,
        epsilon: f64,
        rng: &mut R,
    ) -> usize {
        if epsilon > 0.0 && rng.random::<f64>() < epsilon {
            rng.random_range(0..self.n_actions)
        } else {
            self.greedy(state, rng)
        }
    }

    /// `sum_a pi(a|state) Q(state, a)` for the epsilon-greedy policy: `(1 - epsilon) * max +
    /// epsilon * mean` (however ties are broken, every greedy action has the maximal value).
    pub fn epsilon_greedy_expectation(&self, state: usize, epsilon: f64) -> f64 {
        (1.0 - epsilon) * self.max(state) + epsilon * self.mean(state)
    }

    /// The first greedy action of every state.
    pub fn greedy_policy(&self) -> Vec<usize> {
        (0..self.n_states).map(|s| self.argmax(s)).collect()
    }

    /// `max_a Q(s, a)` for every state.
    pub fn state_values(&self) -> Vec<f64> {
        (0..self.n_states).map(|s| self.max(s)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use tokengym::EnvRng;

    #[test]
    fn greedy_breaks_ties_at_random_and_epsilon_explores() {
        let mut q = QTable::new(2, 3, 0.0).unwrap();
        *q.get_mut(0, 1).unwrap() = 1.0;
        *q.get_mut(0, 2).unwrap() = 1.0;
        let mut rng = EnvRng::seed_from_u64(3);
        let mut counts = [0; 3];
        for _ in 0..1000 {
            counts[q.greedy(0, &mut rng)] += 1;
        }
        assert_eq!(counts[0], 0);
        assert!(counts[1] > 400 && counts[2] > 400, "{counts:?}");
        assert_eq!(q.argmax(0), 1);
        let explored = (0..1000)
            .filter(|_| q.epsilon_greedy(0, 0.3, &mut rng) == 0)
            .count();
        assert!((50..150).contains(&explored), "{explored}"); // about 0.3 / 3 of the time
        assert!((q.epsilon_greedy_expectation(0, 0.3) - (0.7 + 0.3 * 2.0 / 3.0)).abs() < 1e-12);
        assert_eq!(q.max(0), 1.0);
        assert_eq!(q.max(9), 0.0);
        assert_eq!(q.get(0, 3), None);
    }

    #[test]
    fn serde_round_trip_is_validated() {
        let mut q = QTable::new(2, 2, 0.5).unwrap();
        *q.get_mut(1, 1).unwrap() = -3.25;
        let json = serde_json::to_string(&q).unwrap();
        assert_eq!(serde_json::from_str::<QTable>(&json).unwrap(), q);
        let bad = r#"{"n_states":2,"n_actions":2,"values":[0.0]}"#;
        assert!(serde_json::from_str::<QTable>(bad).is_err());
        assert!(QTable::new(0, 2, 0.0).is_err());
        assert!(QTable::new(2, 2, f64::NAN).is_err());
    }
}
