//! # tokengym-experiments
//!
//! The command-line programs of tokengym and the pieces they share: hand-written baseline
//! policies ([`heuristics`]) and atomic run-directory output ([`run_dir`]).
//!
//! Training runs are described by a [`run_config::RunConfig`] (TOML: the built-in presets and
//! each run's `config.toml`), log their progress with [`metrics::MetricsLog`] (`metrics.csv`,
//! `summary.json`), and are drawn by [`curves::plot_runs`] (mean and min–max band over seeds).
//! Language-model fine-tuning (`rl-lm`) trains its reward models with [`lm_preference`], writes
//! its curves, samples and tuned model with [`rl_lm_output`], and its runs are drawn over seeds
//! by [`lm_curves::plot_lm_runs`].
//!
//! ```
//! use tokengym::Env;
//! use tokengym_experiments::heuristics::heuristic_policy;
//! let mut env = tokengym_envs::make("CartPole-v1")?;
//! let mut policy = heuristic_policy("CartPole-v1").expect("CartPole has a heuristic");
//! let eval = tokengym::policy::evaluate(&mut policy, &mut env, 2, 0)?;
//! assert_eq!(eval.returns, vec![500.0, 500.0]);
//! # Ok::<(), tokengym::Error>(())
//! ```

#![warn(missing_docs)]

pub mod cli;
pub mod curves;
pub mod heuristics;
pub mod lm_curves;
pub mod lm_memory;
pub mod lm_preference;
pub mod metrics;
pub mod plot;
pub mod pretrain_output;
pub mod report;
pub mod resume;
pub mod rl_lm_output;
pub mod run_config;
pub mod run_dir;
pub mod seed_bands;
pub mod training;

/// The Rust examples of README.md, compiled and run as doc tests (here, because this crate
/// depends on every other one).
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
