//! `check_env`: passes a correct environment and names the failure of each broken one.

use rand::{RngExt, SeedableRng};
use tokengym::checker::{CheckKind, CheckOptions, Outcome, check_env, check_registered_in};
use tokengym::env::unsupported_render_mode;
use tokengym::registry::{EnvSpec, Kwargs, Registry};
use tokengym::space::{BoxSpace, Discrete, Space};
use tokengym::{Env, EnvExt, EnvRng, Frame, Info, RenderMode, Result, RgbFrame, Step, Transition};

/// What is wrong with a [`Probe`].
#[derive(Clone, Copy, Debug, PartialEq)]
enum Fault {
    None,
    ObsOutsideSpace,
    NanObs,
    ResetIgnoresSeed,
    StepIgnoresSeed,
    NanReward,
    PanicOnInvalidAction,
    AcceptsInvalidAction,
    RgbAsText,
    RgbSizeChanges,
    RendersUndeclaredMode,
    BadStepFlat,
    PanicInReset,
}

/// A noisy walk in 2-D: action 0/1/2 moves x by -0.1/0/+0.1 plus seeded noise; the episode
/// terminates when |x| > 1. Renders an 8x4 RGB frame (not text). `fault` breaks one thing.
struct Probe {
    pos: [f32; 2],
    steps: u64,
    resets: u64,
    rng: EnvRng,
    unseeded: EnvRng,
    fault: Fault,
    obs_space: BoxSpace<f32, [f32; 2]>,
    act_space: Discrete,
}

impl Probe {
    fn new(fault: Fault) -> Self {
        Probe {
            pos: [0.0; 2],
            steps: 0,
            resets: 0,
            rng: EnvRng::seed_from_u64(0),
            unseeded: EnvRng::seed_from_u64(99),
            fault,
            obs_space: BoxSpace::new(vec![-10.0; 2], vec![10.0; 2], vec![2]).unwrap(),
            act_space: Discrete::new(3).unwrap(),
        }
    }

    fn obs(&self) -> [f32; 2] {
        match self.fault {
            Fault::ObsOutsideSpace => [self.pos[0], 20.0],
            _ => self.pos,
        }
    }
}

impl Env for Probe {
    type ObsSpace = BoxSpace<f32, [f32; 2]>;
    type ActSpace = Discrete;

    fn observation_space(&self) -> &Self::ObsSpace {
        &self.obs_space
    }
    fn action_space(&self) -> &Self::ActSpace {
        &self.act_space
    }

    fn reset(&mut self, seed: Option<u64>) -> Result<([f32; 2], Info)> {
        self.resets += 1;
        match (self.fault, seed) {
            (Fault::PanicInReset, _) => panic!("reset exploded"),
            (Fault::ResetIgnoresSeed, _) => self.rng = EnvRng::seed_from_u64(self.resets),
            (_, Some(s)) => self.rng = EnvRng::seed_from_u64(s),
            (_, None) => {}
        }
        self.pos = [
            self.rng.random_range(-0.05..0.05),
            self.rng.random_range(-0.05..0.05),
        ];
        self.steps = 0;
        if self.fault == Fault::NanObs {
            return Ok(([f32::NAN, 0.0], Info::new()));
        }
        Ok((self.obs(), Info::new()))
    }

    fn step(&mut self, action: &i64) -> Result<Step<[f32; 2]>> {
        let moves = [-0.1f32, 0.0, 0.1];
        let dx = match self.fault {
            // Indexes without checking: panics on an out-of-range action.
            Fault::PanicOnInvalidAction => moves[*action as usize],
            Fault::AcceptsInvalidAction => moves[(*action).clamp(0, 2) as usize],
            _ => {
                self.act_space.check_action(action)?;
                moves[*action as usize]
            }
        };
        let rng = if self.fault == Fault::StepIgnoresSeed {
            &mut self.unseeded
        } else {
            &mut self.rng
        };
        let noise: f32 = rng.random_range(-0.01..0.01);
        self.pos[0] += dx + noise;
        self.steps += 1;
        let reward = if self.fault == Fault::NanReward {
            f64::NAN
        } else {
            1.0
        };
        Ok(Step::new(
            self.obs(),
            reward,
            self.pos[0].abs() > 1.0,
            false,
        ))
    }

    fn render_modes(&self) -> &[RenderMode] {
        &[RenderMode::RgbArray]
    }

    fn render(&self, mode: RenderMode) -> Result<Frame> {
        if !self.render_modes().contains(&mode) && self.fault != Fault::RendersUndeclaredMode {
            return Err(unsupported_render_mode(mode, self.render_modes()));
        }
        let size = match self.fault {
            Fault::RgbSizeChanges => 8 + self.steps as usize,
            _ => 8,
        };
        match (mode, self.fault) {
            (RenderMode::Ansi, _) => Ok(Frame::Ansi(format!("x = {:.3}", self.pos[0]))),
            (RenderMode::RgbArray, Fault::RgbAsText) => Ok(Frame::Ansi("pixels".into())),
            (RenderMode::RgbArray, _) => Ok(Frame::Rgb(RgbFrame::filled(size, 4, [255, 0, 0]))),
        }
    }

    fn step_flat(&mut self, action: &i64, obs_out: &mut [f32]) -> Result<Transition> {
        let (obs, t) = self.step(action)?.split();
        self.obs_space.flatten_into(&obs, obs_out)?;
        if self.fault == Fault::BadStepFlat {
            obs_out.fill(0.5);
        }
        Ok(t)
    }
}

fn check(fault: Fault) -> tokengym::checker::CheckReport {
    check_env(&mut Probe::new(fault), &CheckOptions::default())
}

#[test]
fn a_correct_env_passes_every_check() {
    let report = check(Fault::None);
    assert!(report.is_ok(), "{}", report.details());
    for kind in CheckKind::ALL {
        assert!(report.passed(kind), "{kind}: {:?}", report.outcome(kind));
    }
    // A [-10, 10] observation box and a Discrete action space: nothing to warn about.
    assert!(report.warnings().is_empty(), "{:?}", report.warnings());
    assert!(
        report
            .to_string()
            .starts_with("check_env: all 11 checks passed")
    );
    assert!(report.into_result().is_ok());
}

#[test]
fn a_correct_env_passes_as_an_any_env() {
    let mut env = Probe::new(Fault::None).boxed();
    let report = check_env(&mut env, &CheckOptions::default());
    assert!(report.is_ok(), "{}", report.details());
    assert!(report.passed(CheckKind::InvalidAction));
}

/// Checks `fault` and asserts that `kind` failed with a message containing `needle`.
fn expect_failure(fault: Fault, kind: CheckKind, needle: &str) {
    let report = check(fault);
    match report.outcome(kind) {
        Some(Outcome::Failed(msg)) => assert!(
            msg.contains(needle),
            "{fault:?}: {kind} failed with {msg:?}, expected it to mention {needle:?}"
        ),
        other => panic!(
            "{fault:?}: expected {kind} to fail, got {other:?}\n{}",
            report.details()
        ),
    }
    assert!(!report.is_ok());
    assert!(report.to_string().contains(&format!("failed {kind}:")));
    let err = report.into_result().unwrap_err();
    assert!(err.failures.iter().any(|(k, _)| *k == kind));
}

#[test]
fn observation_outside_the_space_fails() {
    expect_failure(
        Fault::ObsOutsideSpace,
        CheckKind::ResetObservation,
        "outside the observation space",
    );
    expect_failure(
        Fault::ObsOutsideSpace,
        CheckKind::StepObservation,
        "outside the observation space",
    );
}

#[test]
fn nan_observation_fails() {
    expect_failure(
        Fault::NanObs,
        CheckKind::ResetObservation,
        "is not finite: element 0 is NaN",
    );
}

#[test]
fn reset_that_ignores_its_seed_fails() {
    expect_failure(
        Fault::ResetIgnoresSeed,
        CheckKind::ResetDeterminism,
        "reset(Some(123)) is not deterministic",
    );
}

#[test]
fn step_that_ignores_the_seed_fails() {
    let report = check(Fault::StepIgnoresSeed);
    assert!(
        report.passed(CheckKind::ResetDeterminism),
        "{}",
        report.details()
    );
    expect_failure(
        Fault::StepIgnoresSeed,
        CheckKind::StepDeterminism,
        "different observations",
    );
    assert!(matches!(
        report.outcome(CheckKind::FlatApi),
        Some(Outcome::Skipped(_))
    ));
}

#[test]
fn nan_reward_fails() {
    expect_failure(
        Fault::NanReward,
        CheckKind::StepReward,
        "step 0 returned the reward NaN",
    );
}

#[test]
fn panic_on_invalid_action_is_caught_and_fails() {
    expect_failure(
        Fault::PanicOnInvalidAction,
        CheckKind::InvalidAction,
        "step panicked on the invalid action 3",
    );
}

#[test]
fn accepting_an_invalid_action_fails() {
    expect_failure(
        Fault::AcceptsInvalidAction,
        CheckKind::InvalidAction,
        "step accepted the action 3",
    );
}

#[test]
fn wrong_rgb_frames_fail() {
    expect_failure(
        Fault::RgbAsText,
        CheckKind::Render,
        "render(rgb_array) after reset returned a text frame",
    );
    expect_failure(
        Fault::RgbSizeChanges,
        CheckKind::Render,
        "changed size from 8x4 after reset to 9x4",
    );
}

#[test]
fn rendering_an_undeclared_mode_fails() {
    expect_failure(
        Fault::RendersUndeclaredMode,
        CheckKind::UnsupportedRenderMode,
        "render(ansi) succeeded",
    );
}

#[test]
fn a_step_flat_that_disagrees_with_step_fails() {
    expect_failure(
        Fault::BadStepFlat,
        CheckKind::FlatApi,
        "step_flat wrote [0.5, 0.5]",
    );
}

#[test]
fn a_panicking_reset_is_a_failure_not_a_crash() {
    let report = check(Fault::PanicInReset);
    expect_failure(
        Fault::PanicInReset,
        CheckKind::ResetObservation,
        "reset(None) panicked: reset exploded",
    );
    // Everything that needs reset is skipped rather than failed again.
    assert_eq!(report.failed_kinds(), vec![CheckKind::ResetObservation]);
    assert!(matches!(
        report.outcome(CheckKind::StepObservation),
        Some(Outcome::Skipped(_))
    ));
}

#[test]
fn registered_envs_are_checked_with_their_spec() -> Result<()> {
    let mut reg = Registry::new();
    let good = |_: &Kwargs| Ok(Probe::new(Fault::None));
    let noisy = |_: &Kwargs| Ok(Probe::new(Fault::StepIgnoresSeed));
    reg.register(EnvSpec::new("Probe-v0")?.with_max_episode_steps(50), good)?;
    reg.register(EnvSpec::new("Noisy-v0")?, noisy)?;
    reg.register(EnvSpec::new("Noisy-v1")?.with_nondeterministic(true), noisy)?;

    let report = check_registered_in(&reg, "Probe-v0", &CheckOptions::default())?;
    assert!(report.is_ok(), "{}", report.details());
    let report = check_registered_in(&reg, "Noisy-v0", &CheckOptions::default())?;
    assert_eq!(report.failed_kinds(), vec![CheckKind::StepDeterminism]);
    // Declared non-deterministic: the determinism checks are skipped, everything else passes.
    let report = check_registered_in(&reg, "Noisy-v1", &CheckOptions::default())?;
    assert!(report.is_ok(), "{}", report.details());
    assert!(matches!(
        report.outcome(CheckKind::StepDeterminism),
        Some(Outcome::Skipped(_))
    ));
    assert!(check_registered_in(&reg, "Nope-v0", &CheckOptions::default()).is_err());
    Ok(())
}

/// Unbounded Box spaces and an unnormalized Box action space give Gymnasium's warnings.
struct Unbounded {
    obs: BoxSpace<f64>,
    act: BoxSpace<f32>,
}

impl Env for Unbounded {
    type ObsSpace = BoxSpace<f64>;
    type ActSpace = BoxSpace<f32>;
    fn observation_space(&self) -> &Self::ObsSpace {
        &self.obs
    }
    fn action_space(&self) -> &Self::ActSpace {
        &self.act
    }
    fn reset(&mut self, _seed: Option<u64>) -> Result<(Vec<f64>, Info)> {
        Ok((vec![0.0], Info::new()))
    }
    fn step(&mut self, action: &Vec<f32>) -> Result<Step<Vec<f64>>> {
        self.act.check_action(action)?;
        Ok(Step::new(vec![f64::from(action[0])], 0.0, false, false))
    }
}

#[test]
fn box_spaces_get_gymnasiums_warnings_and_nan_actions_are_tried() {
    let mut env = Unbounded {
        obs: BoxSpace::uniform(f64::NEG_INFINITY, f64::INFINITY, vec![1]).unwrap(),
        act: BoxSpace::uniform(-2.0, 2.0, vec![1]).unwrap(),
    };
    let report = check_env(&mut env, &CheckOptions::default());
    assert!(report.is_ok(), "{}", report.details());
    let warnings = report.warnings().join("\n");
    assert!(
        warnings.contains("observation space has a lower bound of -infinity"),
        "{warnings}"
    );
    assert!(
        warnings.contains("observation space has an upper bound of +infinity"),
        "{warnings}"
    );
    assert!(
        warnings.contains("symmetric, normalized range"),
        "{warnings}"
    );
    assert!(report.passed(CheckKind::InvalidAction));
    assert!(matches!(
        report.outcome(CheckKind::Render),
        Some(Outcome::Skipped(_))
    ));
}

/// An observation space whose own arithmetic could overflow on the value the environment returns:
/// the checker reports the bad observation instead of panicking.
#[test]
fn extreme_space_values_are_reported_not_panicked() {
    use tokengym::space::MultiDiscrete;
    struct Extreme {
        obs: MultiDiscrete,
        act: tokengym::space::Discrete,
    }
    impl Env for Extreme {
        type ObsSpace = MultiDiscrete;
        type ActSpace = tokengym::space::Discrete;
        fn observation_space(&self) -> &MultiDiscrete {
            &self.obs
        }
        fn action_space(&self) -> &Self::ActSpace {
            &self.act
        }
        fn reset(&mut self, _seed: Option<u64>) -> tokengym::Result<(Vec<i64>, Info)> {
            Ok((vec![i64::MAX], Info::new()))
        }
        fn step(&mut self, _a: &i64) -> tokengym::Result<tokengym::Step<Vec<i64>>> {
            Ok(tokengym::Step::new(vec![i64::MAX], 0.0, true, false))
        }
    }
    let mut env = Extreme {
        obs: MultiDiscrete::with_start(vec![1], vec![i64::MIN]).unwrap(),
        act: tokengym::space::Discrete::new(1).unwrap(),
    };
    let report = check_env(&mut env, &CheckOptions::default());
    assert!(!report.is_ok());
    assert!(report.failed(CheckKind::ResetObservation), "{report}");
}
