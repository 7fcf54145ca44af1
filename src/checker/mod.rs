//! `check_env`: does an environment follow the [`Env`] contract? (Gymnasium's
//! `gymnasium.utils.env_checker.check_env`.)
//!
//! [`check_env`] drives an environment through its whole API and returns a [`CheckReport`] of
//! named checks ([`CheckKind`]), each passed, failed (with a message) or skipped, plus
//! warnings. It never panics because of the environment: every call into it runs under
//! `catch_unwind`, and a panic becomes the failure of the check that made the call.
//!
//! Differences from Gymnasium, where Rust changes the picture:
//! - NaN or infinite observations and rewards are failures, not warnings.
//! - An action outside the action space must make `step` return an error ([`Env`]'s contract);
//!   Gymnasium does not check this.
//! - The flat API (`reset_flat` / `step_flat`) must agree with `reset` / `step`.
//! - Checks for Python-level mistakes (wrong return types, `seed()` methods, shared numpy
//!   buffers) have no Rust counterpart, and the RNG state cannot be inspected, so seeding is
//!   checked through observations only.
//!
//! ```
//! use tokengym::checker::{check_env, CheckOptions};
//! # use tokengym::{Env, Info, Result, Step};
//! # use tokengym::space::{BoxSpace, Discrete, Space};
//! # struct Flip { state: bool, obs: Discrete, act: Discrete }
//! # impl Env for Flip {
//! #     type ObsSpace = Discrete;
//! #     type ActSpace = Discrete;
//! #     fn observation_space(&self) -> &Discrete { &self.obs }
//! #     fn action_space(&self) -> &Discrete { &self.act }
//! #     fn reset(&mut self, _seed: Option<u64>) -> Result<(i64, Info)> {
//! #         self.state = false;
//! #         Ok((0, Info::new()))
//! #     }
//! #     fn step(&mut self, action: &i64) -> Result<Step<i64>> {
//! #         self.act.check_action(action)?;
//! #         self.state ^= *action == 1;
//! #         Ok(Step::new(self.state as i64, 0.0, false, false))
//! #     }
//! # }
//! let mut env = Flip { state: false, obs: Discrete::new(2)?, act: Discrete::new(2)? };
//! let report = check_env(&mut env, &CheckOptions::default());
//! assert!(report.is_ok(), "{report}");
//! # Ok::<(), tokengym::Error>(())
//! ```

mod checks;
mod compare;
mod invalid;
mod render;
mod report;

pub use report::{CheckError, CheckKind, CheckReport, CheckResult, Outcome};

use crate::env::Env;
use crate::error::Result;
use crate::registry::{MakeOptions, Registry};
use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind};

/// Settings for [`check_env`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckOptions {
    /// The seed for resets and for sampling actions (Gymnasium uses 123).
    pub seed: u64,
    /// Skip the determinism checks (set from [`EnvSpec::nondeterministic`]).
    ///
    /// [`EnvSpec::nondeterministic`]: crate::registry::EnvSpec::nondeterministic
    pub nondeterministic: bool,
    /// Skip the render checks.
    pub skip_render: bool,
    /// How many random steps the observation/reward rollout takes (resetting when an episode
    /// ends).
    pub rollout_steps: usize,
    /// How many steps the step-determinism check replays.
    pub determinism_steps: usize,
}

impl Default for CheckOptions {
    fn default() -> Self {
        CheckOptions {
            seed: 123,
            nondeterministic: false,
            skip_render: false,
            rollout_steps: 200,
            determinism_steps: 10,
        }
    }
}

/// Checks that `env` follows the [`Env`] contract; see [`CheckKind`] for what is checked.
///
/// The environment is reset and stepped many times; it is left in an arbitrary state. Works on
/// typed environments and on [`AnyEnv`](crate::AnyEnv)s alike.
pub fn check_env<E: Env + ?Sized>(env: &mut E, options: &CheckOptions) -> CheckReport {
    let mut report = CheckReport::default();
    let seed = options.seed;

    let outcome = match catch_unwind(AssertUnwindSafe(|| env.action_space().clone())) {
        Ok(space) => checks::space(&space, "action", seed, &mut report),
        Err(p) => Outcome::Failed(format!("action_space() panicked: {}", panic_message(&*p))),
    };
    report.push(CheckKind::ActionSpace, outcome);
    let outcome = match catch_unwind(AssertUnwindSafe(|| env.observation_space().clone())) {
        Ok(space) => checks::space(&space, "observation", seed, &mut report),
        Err(p) => Outcome::Failed(format!(
            "observation_space() panicked: {}",
            panic_message(&*p)
        )),
    };
    report.push(CheckKind::ObservationSpace, outcome);

    let (outcome, resets_work) =
        catch_unwind(AssertUnwindSafe(|| checks::reset_observation(env, options))).unwrap_or_else(
            |p| {
                let msg = format!("the check panicked: {}", panic_message(&*p));
                (Outcome::Failed(msg), false)
            },
        );
    report.push(CheckKind::ResetObservation, outcome);
    if resets_work {
        // Environment calls are guarded one by one; this also catches a panic anywhere else
        // (e.g. in a space's own methods fed a value the environment produced), so that the
        // checker reports it instead of unwinding into the caller.
        let run = catch_unwind(AssertUnwindSafe(|| {
            run_env_checks(env, options, &mut report)
        }));
        if let Err(p) = run {
            let msg = panic_message(&*p);
            let unfinished: Vec<CheckKind> = CheckKind::ALL
                .into_iter()
                .skip_while(|k| *k != CheckKind::ResetObservation)
                .skip(1)
                .filter(|k| report.outcome(*k).is_none())
                .collect();
            for (i, kind) in unfinished.into_iter().enumerate() {
                let outcome = if i == 0 {
                    Outcome::Failed(format!("the check panicked: {msg}"))
                } else {
                    Outcome::Skipped("an earlier check panicked".into())
                };
                report.push(kind, outcome);
            }
        }
    } else {
        let why = "reset() fails (see reset_observation)";
        let later = CheckKind::ALL
            .into_iter()
            .skip_while(|k| *k != CheckKind::ResetObservation)
            .skip(1);
        for kind in later {
            report.push(kind, Outcome::Skipped(why.into()));
        }
    }
    report
}

/// The checks that need a working `reset`.
fn run_env_checks<E: Env + ?Sized>(env: &mut E, options: &CheckOptions, report: &mut CheckReport) {
    let outcome = checks::reset_determinism(env, options, report);
    report.push(CheckKind::ResetDeterminism, outcome);

    let (obs, reward) = checks::rollout(env, options);
    report.push(CheckKind::StepObservation, obs);
    report.push(CheckKind::StepReward, reward);
    let outcome = checks::step_determinism(env, options, report);
    report.push(CheckKind::StepDeterminism, outcome);

    let outcome = if report.failed(CheckKind::ResetDeterminism)
        || report.failed(CheckKind::StepDeterminism)
    {
        Outcome::Skipped("comparing the flat API needs deterministic reset and step".into())
    } else if options.nondeterministic {
        Outcome::Skipped("the environment is declared non-deterministic".into())
    } else {
        checks::flat_api(env, options)
    };
    report.push(CheckKind::FlatApi, outcome);

    let outcome = checks::invalid_action(env, options);
    report.push(CheckKind::InvalidAction, outcome);

    if options.skip_render {
        let why = || Outcome::Skipped("render checks were skipped by the options".into());
        report.push(CheckKind::Render, why());
        report.push(CheckKind::UnsupportedRenderMode, why());
    } else {
        let outcome = render::declared_modes(env, options, report);
        report.push(CheckKind::Render, outcome);
        let outcome = render::undeclared_modes(env, options);
        report.push(CheckKind::UnsupportedRenderMode, outcome);
    }
}

/// Makes `id` from `registry` (without the `PassiveEnvChecker` wrapper, so the checks see the
/// environment's own behaviour) and checks it; the spec's `nondeterministic` flag is honoured.
pub fn check_registered_in(
    registry: &Registry,
    id: &str,
    options: &CheckOptions,
) -> Result<CheckReport> {
    let spec = registry.spec(id)?;
    let mut options = options.clone();
    options.nondeterministic |= spec.nondeterministic;
    let mut env = registry.make_with(id, &MakeOptions::new().disable_env_checker(true))?;
    Ok(check_env(&mut env, &options))
}

/// [`check_registered_in`] on the global registry.
pub fn check_registered(id: &str, options: &CheckOptions) -> Result<CheckReport> {
    check_registered_in(&crate::registry::snapshot(), id, options)
}

/// Runs `f`, turning an error or a panic into a message that names `what`.
pub(crate) fn guarded<T>(what: &str, f: impl FnOnce() -> Result<T>) -> Result<T, String> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(format!("{what} returned an error: {e}")),
        Err(p) => Err(format!("{what} panicked: {}", panic_message(&*p))),
    }
}

/// The message of a panic payload.
pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "(non-string panic payload)".to_string()
    }
}

/// Shortens a formatted value for a one-line message.
pub(crate) fn short(s: String) -> String {
    const MAX: usize = 160;
    if s.chars().count() <= MAX {
        s
    } else {
        let mut cut: String = s.chars().take(MAX).collect();
        cut.push_str("...");
        cut
    }
}
