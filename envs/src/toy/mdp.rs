//! `Mdp`: a finite Markov decision process whose transition model is known, so planners
//! (value iteration, policy iteration) can use it without stepping an environment.

/// One possible result of taking an action in a state.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Outcome {
    /// Probability of this outcome (the outcomes of one state-action pair sum to 1).
    pub prob: f64,
    /// The state reached.
    pub next: usize,
    /// The reward paid for the transition.
    pub reward: f64,
    /// Whether the episode ends with this transition (no value is bootstrapped from `next`).
    pub terminal: bool,
}

/// A finite MDP with states `0..n_states()` and actions `0..n_actions()`.
///
/// A state whose [`Mdp::transitions`] are empty for every action is one the episode never
/// continues from (a terminal or an unreachable state): its value is 0.
pub trait Mdp {
    /// Number of states.
    fn n_states(&self) -> usize;

    /// Number of actions (the same in every state).
    fn n_actions(&self) -> usize;

    /// The outcomes of taking `action` in `state`; empty when the episode cannot be in `state`
    /// (terminal or unreachable) or either index is out of range.
    fn transitions(&self, state: usize, action: usize) -> &[Outcome];

    /// The state every episode starts in.
    fn start_state(&self) -> usize;

    /// Whether no action is possible in `state` (all transition lists are empty).
    fn is_absorbing(&self, state: usize) -> bool {
        (0..self.n_actions()).all(|a| self.transitions(state, a).is_empty())
    }
}
