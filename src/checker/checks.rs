//! The individual checks on spaces, `reset`, `step` and the flat API.

use super::compare::{Tolerance, infos_equal, numbers_equal, values_equal};
use super::invalid::invalid_values;
use super::report::{CheckReport, Outcome};
use super::{CheckOptions, guarded, panic_message, short};
use crate::env::{ActOf, Env};
use crate::info::Info;
use crate::seeding::EnvRng;
use crate::space::{AnySpace, BoxElement, BoxSpace, Space, Value};
use rand::SeedableRng;
use std::panic::{AssertUnwindSafe, catch_unwind};

/// How many samples the space checks draw.
const SPACE_SAMPLES: usize = 16;

/// Checks a space (see [`super::CheckKind::ActionSpace`]); adds Gymnasium's warnings.
pub(crate) fn space<S: Space>(
    space: &S,
    role: &str,
    seed: u64,
    report: &mut CheckReport,
) -> Outcome {
    let run = || -> Result<AnySpace, String> {
        let any = space.to_any();
        if space.flatdim() == 0 {
            return Err(format!("the {role} space {any} has flatdim 0"));
        }
        let mut rng = EnvRng::seed_from_u64(seed);
        for _ in 0..SPACE_SAMPLES {
            let v = space.sample(&mut rng);
            if !space.contains(&v) {
                return Err(format!(
                    "{role} space {any}: sample {} is not contained in the space",
                    short(format!("{v:?}"))
                ));
            }
            let flat = space
                .flatten(&v)
                .map_err(|e| format!("{role} space {any}: a sample cannot be flattened: {e}"))?;
            if flat.len() != space.flatdim() {
                return Err(format!(
                    "{role} space {any}: flatten gave {} numbers, flatdim is {}",
                    flat.len(),
                    space.flatdim()
                ));
            }
            let value = space.to_value(&v);
            let back = space.from_value(&value).map_err(|e| {
                format!("{role} space {any}: from_value(to_value(sample)) failed: {e}")
            })?;
            if back != v || !any.contains(&value) {
                return Err(format!(
                    "{role} space {any}: sample {} does not survive the conversion to Value",
                    short(format!("{v:?}"))
                ));
            }
        }
        let json = serde_json::to_string(&any)
            .map_err(|e| format!("{role} space {any} does not serialize: {e}"))?;
        let back: AnySpace = serde_json::from_str(&json)
            .map_err(|e| format!("{role} space {any} does not deserialize from {json}: {e}"))?;
        if back != any {
            return Err(format!(
                "{role} space {any} changes in a serde round trip (got {back})"
            ));
        }
        Ok(any)
    };
    match catch_unwind(AssertUnwindSafe(run)) {
        Ok(Ok(any)) => {
            space_warnings(&any, role, report);
            Outcome::Passed
        }
        Ok(Err(msg)) => Outcome::Failed(msg),
        Err(p) => Outcome::Failed(format!(
            "the {role} space panicked: {}",
            panic_message(p.as_ref())
        )),
    }
}

/// Gymnasium's warnings about Box spaces: infinite bounds, equal bounds, unnormalized actions.
fn space_warnings(space: &AnySpace, role: &str, report: &mut CheckReport) {
    match space {
        AnySpace::BoxF32(b) => box_warnings(b, role, report),
        AnySpace::BoxF64(b) => box_warnings(b, role, report),
        AnySpace::Tuple(t) => t
            .spaces()
            .iter()
            .for_each(|s| space_warnings(s, role, report)),
        AnySpace::Dict(d) => d
            .spaces()
            .values()
            .for_each(|s| space_warnings(s, role, report)),
        _ => {}
    }
}

fn box_warnings<T: BoxElement>(b: &BoxSpace<T>, role: &str, report: &mut CheckReport) {
    let low: Vec<f64> = b.low().iter().map(|x| x.to_f64()).collect();
    let high: Vec<f64> = b.high().iter().map(|x| x.to_f64()).collect();
    if low.contains(&f64::NEG_INFINITY) {
        report.warn(format!(
            "a Box {role} space has a lower bound of -infinity; this is probably too low"
        ));
    }
    if high.contains(&f64::INFINITY) {
        report.warn(format!(
            "a Box {role} space has an upper bound of +infinity; this is probably too high"
        ));
    }
    if low.iter().zip(&high).any(|(l, h)| l == h) {
        report.warn(format!(
            "a Box {role} space has equal lower and upper bounds"
        ));
    }
    let unnormalized = low
        .iter()
        .zip(&high)
        .any(|(&l, &h)| (l != 0.0 && l.abs() != h.abs()) || l < -1.0 || h > 1.0);
    if role == "action" && b.shape().len() == 1 && unnormalized {
        report.warn(
            "for Box action spaces a symmetric, normalized range ([-1, 1] or [0, 1]) is \
             recommended"
                .to_string(),
        );
    }
}

/// The first non-finite float inside a value, as a message.
fn non_finite(value: &Value) -> Option<String> {
    match value {
        Value::BoxF32(v) => v
            .iter()
            .position(|x| !x.is_finite())
            .map(|i| format!("element {i} is {}", v[i])),
        Value::BoxF64(v) => v
            .iter()
            .position(|x| !x.is_finite())
            .map(|i| format!("element {i} is {}", v[i])),
        Value::Tuple(parts) => parts
            .iter()
            .enumerate()
            .find_map(|(i, p)| non_finite(p).map(|m| format!("part {i}: {m}"))),
        Value::Dict(parts) => parts
            .iter()
            .find_map(|(k, p)| non_finite(p).map(|m| format!("key {k:?}: {m}"))),
        _ => None,
    }
}

/// Checks that an observation is finite and inside the observation space.
pub(crate) fn observation<E: Env + ?Sized>(
    env: &E,
    obs: &<E::ObsSpace as Space>::Value,
    origin: &str,
) -> Result<(), String> {
    let space = env.observation_space();
    let value = space.to_value(obs);
    if let Some(msg) = non_finite(&value) {
        return Err(format!(
            "the observation from {origin} is not finite: {msg} (observation {})",
            short(value.to_string())
        ));
    }
    if !space.contains(obs) {
        return Err(format!(
            "the observation from {origin} is outside the observation space {}: {}",
            space.to_any(),
            short(value.to_string())
        ));
    }
    Ok(())
}

/// [`super::CheckKind::ResetObservation`]; also says whether both `reset` calls returned (the
/// other checks need a working `reset`).
pub(crate) fn reset_observation<E: Env + ?Sized>(
    env: &mut E,
    opts: &CheckOptions,
) -> (Outcome, bool) {
    let mut resets_work = false;
    let mut run = || -> Result<(), String> {
        let (obs, _) = guarded("reset(None)", || env.reset(None))?;
        let origin = format!("reset(Some({}))", opts.seed);
        let (seeded, _) = guarded(&origin, || env.reset(Some(opts.seed)))?;
        resets_work = true;
        observation(env, &obs, "reset(None)")?;
        observation(env, &seeded, &origin)
    };
    let outcome = Outcome::from_result(run());
    (outcome, resets_work)
}

/// [`super::CheckKind::ResetDeterminism`], after Gymnasium's `check_reset_seed_determinism`.
pub(crate) fn reset_determinism<E: Env + ?Sized>(
    env: &mut E,
    opts: &CheckOptions,
    report: &mut CheckReport,
) -> Outcome {
    if opts.nondeterministic {
        return Outcome::Skipped("the environment is declared non-deterministic".into());
    }
    let seed = opts.seed;
    let mut reset = |s: Option<u64>| -> Result<Value, String> {
        let what = format!("reset({s:?})");
        let (obs, _) = guarded(&what, || env.reset(s))?;
        Ok(env.observation_space().to_value(&obs))
    };
    let mut run = || -> Result<Vec<String>, String> {
        let obs1 = reset(Some(seed))?;
        let obs2 = reset(None)?;
        let obs3 = reset(Some(seed))?;
        let obs4 = reset(None)?;
        let mut warnings = Vec::new();
        let pairs = [
            (&obs1, &obs3, format!("reset(Some({seed}))")),
            (
                &obs2,
                &obs4,
                format!("reset(None) after reset(Some({seed}))"),
            ),
        ];
        for (a, b, what) in pairs {
            if !values_equal(a, b, Tolerance::Close) {
                return Err(format!(
                    "{what} is not deterministic: {} the first time, {} the second",
                    short(a.to_string()),
                    short(b.to_string())
                ));
            }
            if !values_equal(a, b, Tolerance::Exact) {
                warnings.push(format!(
                    "{what} gives observations that are close but not equal"
                ));
            }
        }
        Ok(warnings)
    };
    match run() {
        Ok(warnings) => {
            warnings.into_iter().for_each(|w| report.warn(w));
            Outcome::Passed
        }
        Err(msg) => Outcome::Failed(msg),
    }
}

/// [`super::CheckKind::StepObservation`] and [`super::CheckKind::StepReward`]: a rollout with
/// sampled actions.
pub(crate) fn rollout<E: Env + ?Sized>(env: &mut E, opts: &CheckOptions) -> (Outcome, Outcome) {
    let mut rng = EnvRng::seed_from_u64(opts.seed);
    if let Err(msg) = guarded("reset", || env.reset(Some(opts.seed))) {
        let why = format!("reset failed: {msg}");
        return (Outcome::Skipped(why.clone()), Outcome::Skipped(why));
    }
    let mut obs_result = Ok(());
    let mut reward_result = Ok(());
    let mut steps_done = 0;
    for t in 0..opts.rollout_steps {
        let action = env.action_space().sample(&mut rng);
        let step = match guarded("step", || env.step(&action)) {
            Ok(step) => step,
            Err(msg) => {
                obs_result = Err(format!(
                    "step {t} with the sampled action {} (inside the action space): {msg}",
                    short(format!("{action:?}"))
                ));
                break;
            }
        };
        steps_done += 1;
        if obs_result.is_ok() {
            obs_result = observation(env, &step.obs, &format!("step {t}"));
        }
        if reward_result.is_ok() && !step.reward.is_finite() {
            reward_result = Err(format!("step {t} returned the reward {}", step.reward));
        }
        if step.done()
            && let Err(msg) = guarded("reset(None)", || env.reset(None))
        {
            obs_result = obs_result.and(Err(format!(
                "reset(None) after the episode ended at step {t}: {msg}"
            )));
            break;
        }
    }
    let reward = if steps_done == 0 {
        Outcome::Skipped("no step succeeded".into())
    } else {
        Outcome::from_result(reward_result)
    };
    (Outcome::from_result(obs_result), reward)
}

/// One recorded step: observation, reward, terminated, truncated, info.
type Record = (Value, f64, bool, bool, Info);

/// Resets with `seed` and plays `actions` until the episode ends.
fn play<E: Env + ?Sized>(
    env: &mut E,
    seed: u64,
    actions: &[ActOf<E>],
) -> Result<Vec<Record>, String> {
    guarded("reset", || env.reset(Some(seed)))?;
    let mut out = Vec::with_capacity(actions.len());
    for (t, action) in actions.iter().enumerate() {
        let s = guarded(&format!("step {t}"), || env.step(action))?;
        let done = s.done();
        out.push((
            env.observation_space().to_value(&s.obs),
            s.reward,
            s.terminated,
            s.truncated,
            s.info,
        ));
        if done {
            break;
        }
    }
    Ok(out)
}

/// [`super::CheckKind::StepDeterminism`], after Gymnasium's `check_step_determinism`.
pub(crate) fn step_determinism<E: Env + ?Sized>(
    env: &mut E,
    opts: &CheckOptions,
    report: &mut CheckReport,
) -> Outcome {
    if opts.nondeterministic {
        return Outcome::Skipped("the environment is declared non-deterministic".into());
    }
    let mut rng = EnvRng::seed_from_u64(opts.seed);
    let actions: Vec<ActOf<E>> = (0..opts.determinism_steps.max(1))
        .map(|_| env.action_space().sample(&mut rng))
        .collect();
    let mut run = || -> Result<(), String> {
        let first = play(env, opts.seed, &actions)?;
        let second = play(env, opts.seed, &actions)?;
        if first.first().is_some_and(|r| r.3) {
            return Err("the environment truncates after 1 step".into());
        }
        if first.len() != second.len() {
            return Err(format!(
                "the same seed and actions end the episode after {} steps, then after {}",
                first.len(),
                second.len()
            ));
        }
        for (t, (a, b)) in first.iter().zip(&second).enumerate() {
            let differs = |what: &str, x: String, y: String| {
                Err(format!(
                    "step {t}: the same seed and actions give different {what}: {} then {}",
                    short(x),
                    short(y)
                ))
            };
            if !values_equal(&a.0, &b.0, Tolerance::Close) {
                return differs("observations", a.0.to_string(), b.0.to_string());
            }
            if !numbers_equal(a.1, b.1, Tolerance::Close) {
                return differs("rewards", a.1.to_string(), b.1.to_string());
            }
            if (a.2, a.3) != (b.2, b.3) {
                return differs(
                    "terminated/truncated flags",
                    format!("{:?}", (a.2, a.3)),
                    format!("{:?}", (b.2, b.3)),
                );
            }
            if !infos_equal(&a.4, &b.4, Tolerance::Close) {
                return differs("infos", format!("{:?}", a.4), format!("{:?}", b.4));
            }
            if !values_equal(&a.0, &b.0, Tolerance::Exact)
                || !numbers_equal(a.1, b.1, Tolerance::Exact)
                || !infos_equal(&a.4, &b.4, Tolerance::Exact)
            {
                report.warn(format!(
                    "step {t}: repeated steps give results that are close but not equal"
                ));
            }
        }
        Ok(())
    };
    Outcome::from_result(run())
}

/// [`super::CheckKind::FlatApi`].
pub(crate) fn flat_api<E: Env + ?Sized>(env: &mut E, opts: &CheckOptions) -> Outcome {
    let seed = opts.seed;
    let mut rng = EnvRng::seed_from_u64(seed);
    let action = env.action_space().sample(&mut rng);
    let n = env.observation_space().flatdim();
    let mut run = || -> Result<(), String> {
        let flatten = |env: &E, obs| {
            env.observation_space()
                .flatten(obs)
                .map_err(|e| format!("cannot flatten an observation: {e}"))
        };
        let mismatch = |what: &str, flat: &[f32], expected: &[f32]| -> Result<(), String> {
            let same = flat.len() == expected.len()
                && flat
                    .iter()
                    .zip(expected)
                    .all(|(&a, &b)| numbers_equal(a.into(), b.into(), Tolerance::Close));
            if same {
                Ok(())
            } else {
                Err(format!(
                    "{what} wrote {} but flatten gives {}",
                    short(format!("{flat:?}")),
                    short(format!("{expected:?}"))
                ))
            }
        };
        let mut buf = vec![0.0f32; n];

        let (obs, _) = guarded("reset", || env.reset(Some(seed)))?;
        let expected = flatten(env, &obs)?;
        guarded("reset_flat", || env.reset_flat(Some(seed), &mut buf))?;
        mismatch("reset_flat", &buf, &expected)?;

        guarded("reset", || env.reset(Some(seed)))?;
        let step = guarded("step", || env.step(&action))?;
        let expected = flatten(env, &step.obs)?;
        guarded("reset_flat", || env.reset_flat(Some(seed), &mut buf))?;
        let t = guarded("step_flat", || env.step_flat(&action, &mut buf))?;
        mismatch("step_flat", &buf, &expected)?;
        if !numbers_equal(t.reward, step.reward, Tolerance::Close)
            || (t.terminated, t.truncated) != (step.terminated, step.truncated)
        {
            return Err(format!(
                "step_flat returned reward {} terminated {} truncated {}, step returned {} {} {}",
                t.reward, t.terminated, t.truncated, step.reward, step.terminated, step.truncated
            ));
        }

        let mut wrong = vec![0.0f32; n + 1];
        match catch_unwind(AssertUnwindSafe(|| env.reset_flat(Some(seed), &mut wrong))) {
            Ok(Err(_)) => Ok(()),
            Ok(Ok(_)) => Err(format!(
                "reset_flat accepted a buffer of length {} (flatdim is {n})",
                n + 1
            )),
            Err(p) => Err(format!(
                "reset_flat panicked on a buffer of the wrong length: {}",
                panic_message(p.as_ref())
            )),
        }
    };
    Outcome::from_result(run())
}

/// [`super::CheckKind::InvalidAction`].
pub(crate) fn invalid_action<E: Env + ?Sized>(env: &mut E, opts: &CheckOptions) -> Outcome {
    let mut rng = EnvRng::seed_from_u64(opts.seed);
    let space = env.action_space().to_any();
    let mut tried = 0;
    for bad in invalid_values(&space, &mut rng) {
        let Ok(action) = env.action_space().from_value(&bad) else {
            continue;
        };
        if env.action_space().contains(&action) {
            continue;
        }
        if let Err(msg) = guarded("reset", || env.reset(Some(opts.seed))) {
            return Outcome::Skipped(format!("reset failed: {msg}"));
        }
        tried += 1;
        match catch_unwind(AssertUnwindSafe(|| env.step(&action))) {
            Ok(Err(_)) => {}
            Ok(Ok(_)) => {
                return Outcome::Failed(format!(
                    "step accepted the action {bad}, which is outside the action space {space}; \
                     it must return an error (e.g. Error::InvalidAction)"
                ));
            }
            Err(p) => {
                return Outcome::Failed(format!(
                    "step panicked on the invalid action {bad} (action space {space}): {}; it \
                     must return an error instead",
                    panic_message(p.as_ref())
                ));
            }
        }
    }
    if tried == 0 {
        Outcome::Skipped(format!(
            "no out-of-space action can be built for the action space {space}"
        ))
    } else {
        Outcome::Passed
    }
}
