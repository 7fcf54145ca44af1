//! What `check_env` returns: named checks with their outcomes, and warnings.

use std::fmt;

/// The checks [`check_env`](super::check_env) runs, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum CheckKind {
    /// The action space is usable: `flatdim > 0`, samples are members and flatten to `flatdim`
    /// numbers, values survive `to_value`/`from_value`, the space survives a serde round trip.
    ActionSpace,
    /// The same for the observation space.
    ObservationSpace,
    /// `reset(None)` and `reset(Some(seed))` succeed and return finite observations inside the
    /// observation space.
    ResetObservation,
    /// `reset(Some(seed))` twice gives the same observation, and so does `reset(None)` right
    /// after each (Gymnasium's `check_reset_seed_determinism`).
    ResetDeterminism,
    /// Stepping with sampled actions succeeds and returns finite observations inside the
    /// observation space.
    StepObservation,
    /// Every reward is finite.
    StepReward,
    /// The same seed and the same actions give the same observations, rewards, flags and infos;
    /// the first step does not truncate (Gymnasium's `check_step_determinism`).
    StepDeterminism,
    /// `reset_flat` / `step_flat` write what `flatten(reset(..))` / `flatten(step(..))` give, and
    /// reject a buffer of the wrong length with an error.
    FlatApi,
    /// An action outside the action space (out of range, NaN) makes `step` return an error
    /// rather than succeed or panic.
    InvalidAction,
    /// Every declared render mode returns its kind of frame (text for `ansi`; a non-empty RGB
    /// frame of constant size for `rgb_array`), and `render_fps() > 0`.
    Render,
    /// A render mode the environment does not declare returns an error.
    UnsupportedRenderMode,
}

impl CheckKind {
    /// Every check, in the order they run.
    pub const ALL: [CheckKind; 11] = [
        CheckKind::ActionSpace,
        CheckKind::ObservationSpace,
        CheckKind::ResetObservation,
        CheckKind::ResetDeterminism,
        CheckKind::StepObservation,
        CheckKind::StepReward,
        CheckKind::StepDeterminism,
        CheckKind::FlatApi,
        CheckKind::InvalidAction,
        CheckKind::Render,
        CheckKind::UnsupportedRenderMode,
    ];

    /// The check's snake_case name (`reset_determinism`, ...).
    pub fn name(&self) -> &'static str {
        match self {
            CheckKind::ActionSpace => "action_space",
            CheckKind::ObservationSpace => "observation_space",
            CheckKind::ResetObservation => "reset_observation",
            CheckKind::ResetDeterminism => "reset_determinism",
            CheckKind::StepObservation => "step_observation",
            CheckKind::StepReward => "step_reward",
            CheckKind::StepDeterminism => "step_determinism",
            CheckKind::FlatApi => "flat_api",
            CheckKind::InvalidAction => "invalid_action",
            CheckKind::Render => "render",
            CheckKind::UnsupportedRenderMode => "unsupported_render_mode",
        }
    }
}

impl fmt::Display for CheckKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How one check went.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The environment passed.
    Passed,
    /// The environment failed; the message says how.
    Failed(String),
    /// The check did not apply (e.g. no render modes, declared non-deterministic); the message
    /// says why.
    Skipped(String),
}

impl Outcome {
    pub(crate) fn from_result(r: Result<(), String>) -> Self {
        match r {
            Ok(()) => Outcome::Passed,
            Err(msg) => Outcome::Failed(msg),
        }
    }
}

/// One check and its outcome.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckResult {
    /// Which check.
    pub kind: CheckKind,
    /// How it went.
    pub outcome: Outcome,
}

/// The result of [`check_env`](super::check_env): every check with its outcome, plus warnings
/// (problems Gymnasium's checker only warns about, e.g. unbounded Box spaces).
///
/// `Display` prints one line per failure (or a one-line summary when everything passed);
/// [`CheckReport::details`] prints everything.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CheckReport {
    results: Vec<CheckResult>,
    warnings: Vec<String>,
}

impl CheckReport {
    pub(crate) fn push(&mut self, kind: CheckKind, outcome: Outcome) {
        self.results.push(CheckResult { kind, outcome });
    }

    pub(crate) fn warn(&mut self, warning: String) {
        if !self.warnings.contains(&warning) {
            self.warnings.push(warning);
        }
    }

    /// Whether no check failed.
    pub fn is_ok(&self) -> bool {
        self.failures().next().is_none()
    }

    /// Every check with its outcome, in the order they ran.
    pub fn results(&self) -> &[CheckResult] {
        &self.results
    }

    /// The outcome of one check, if it ran.
    pub fn outcome(&self, kind: CheckKind) -> Option<&Outcome> {
        self.results
            .iter()
            .find(|r| r.kind == kind)
            .map(|r| &r.outcome)
    }

    /// Whether `kind` ran and failed.
    pub fn failed(&self, kind: CheckKind) -> bool {
        matches!(self.outcome(kind), Some(Outcome::Failed(_)))
    }

    /// Whether `kind` ran and passed.
    pub fn passed(&self, kind: CheckKind) -> bool {
        matches!(self.outcome(kind), Some(Outcome::Passed))
    }

    /// The failed checks with their messages.
    pub fn failures(&self) -> impl Iterator<Item = (CheckKind, &str)> {
        self.results.iter().filter_map(|r| match &r.outcome {
            Outcome::Failed(msg) => Some((r.kind, msg.as_str())),
            _ => None,
        })
    }

    /// The kinds of the failed checks.
    pub fn failed_kinds(&self) -> Vec<CheckKind> {
        self.failures().map(|(k, _)| k).collect()
    }

    /// Warnings: things that are legal but probably not intended.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// `Ok(self)` if every check passed, otherwise a [`CheckError`] listing all failures.
    pub fn into_result(self) -> Result<CheckReport, CheckError> {
        if self.is_ok() {
            Ok(self)
        } else {
            Err(CheckError {
                failures: self.failures().map(|(k, m)| (k, m.to_string())).collect(),
            })
        }
    }

    /// Every check (passed, failed, skipped) and every warning, one per line.
    pub fn details(&self) -> String {
        let mut out = String::new();
        for r in &self.results {
            let line = match &r.outcome {
                Outcome::Passed => format!("ok      {}", r.kind),
                Outcome::Failed(msg) => format!("FAILED  {}: {msg}", r.kind),
                Outcome::Skipped(why) => format!("skipped {}: {why}", r.kind),
            };
            out.push_str(&line);
            out.push('\n');
        }
        for w in &self.warnings {
            out.push_str("warning: ");
            out.push_str(w);
            out.push('\n');
        }
        out
    }
}

impl fmt::Display for CheckReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_ok() {
            let skipped = self
                .results
                .iter()
                .filter(|r| matches!(r.outcome, Outcome::Skipped(_)))
                .count();
            return write!(
                f,
                "check_env: all {} checks passed ({skipped} skipped, {} warnings)",
                self.results.len() - skipped,
                self.warnings.len()
            );
        }
        for (i, (kind, msg)) in self.failures().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "check_env failed {kind}: {msg}")?;
        }
        Ok(())
    }
}

/// The error of [`CheckReport::into_result`]: every failed check with its message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckError {
    /// The failed checks and their messages, in the order they ran.
    pub failures: Vec<(CheckKind, String)>,
}

impl fmt::Display for CheckError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "environment failed {} check(s)", self.failures.len())?;
        for (kind, msg) in &self.failures {
            write!(f, "; {kind}: {msg}")?;
        }
        Ok(())
    }
}

impl std::error::Error for CheckError {}

/// For code that returns [`crate::Result`]: the failures become one
/// [`crate::Error::InvalidArgument`] message.
impl From<CheckError> for crate::Error {
    fn from(e: CheckError) -> Self {
        crate::Error::InvalidArgument(format!("check_env: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_and_result() {
        let mut report = CheckReport::default();
        report.push(CheckKind::ActionSpace, Outcome::Passed);
        report.push(CheckKind::Render, Outcome::Skipped("no modes".into()));
        report.warn("w".into());
        report.warn("w".into());
        assert!(report.is_ok());
        assert_eq!(
            report.to_string(),
            "check_env: all 1 checks passed (1 skipped, 1 warnings)"
        );
        report.push(CheckKind::StepReward, Outcome::Failed("NaN".into()));
        report.push(CheckKind::FlatApi, Outcome::Failed("bad".into()));
        assert!(!report.is_ok());
        assert!(report.failed(CheckKind::StepReward) && report.passed(CheckKind::ActionSpace));
        assert_eq!(
            report.to_string(),
            "check_env failed step_reward: NaN\ncheck_env failed flat_api: bad"
        );
        assert!(report.details().contains("skipped render: no modes\n"));
        let err = report.into_result().unwrap_err();
        assert_eq!(err.failures.len(), 2);
        assert_eq!(
            err.to_string(),
            "environment failed 2 check(s); step_reward: NaN; flat_api: bad"
        );
    }
}
