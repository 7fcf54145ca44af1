//! Tabular reinforcement learning: a Q table with epsilon-greedy selection and one-step TD
//! control (Q-learning, SARSA, expected SARSA).

mod q_table;
mod td;

pub use q_table::QTable;
pub use td::{TdAgent, TdConfig, TdMethod};
