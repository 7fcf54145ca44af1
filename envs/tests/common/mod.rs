//! Gymnasium reference fixtures and the replay harness shared by the replay tests.
//!
//! A fixture (`tests/fixtures/classic_control/<env id>.json`, written by
//! `tests/fixtures/gen_classic_control.py`) holds seeded Gymnasium 1.4.0 episodes: the state after
//! `reset`, then for every step the action, observation, reward, flags and the state after it.
//! [`replay`] puts each initial state into our environment with [`StateVector::set_state`],
//! replays the actions and requires bit-identical results.

#![allow(dead_code)]

use serde::Deserialize;
use std::fmt;
use tokengym::space::Space;
use tokengym::{ActOf, Env};
use tokengym_envs::StateVector;

/// Where the fixtures live.
pub const FIXTURE_DIR: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../tests/fixtures/classic_control/"
);

/// One fixture file: all reference episodes of one environment id.
#[derive(Debug, Deserialize)]
pub struct Fixture {
    /// Gymnasium id, e.g. `CartPole-v1`.
    pub env_id: String,
    /// The `TimeLimit` that `gymnasium.make` applied.
    pub max_episode_steps: usize,
    /// Version of Gymnasium that produced the file.
    pub gymnasium_version: String,
    /// The episodes.
    pub episodes: Vec<Episode>,
}

/// One seeded episode.
#[derive(Debug, Deserialize)]
pub struct Episode {
    /// Short description (`random_seed0`, `pump_goal`, ...).
    pub name: String,
    /// The environment's options (our config's field names).
    pub kwargs: serde_json::Value,
    /// The reset seed.
    pub seed: u64,
    /// `env.unwrapped.state` after reset.
    pub initial_state: Vec<f64>,
    /// The observation returned by reset (float32 values widened to f64).
    pub initial_obs: Vec<f64>,
    /// The steps.
    pub steps: Vec<StepRecord>,
}

/// One recorded step.
#[derive(Debug, Deserialize)]
pub struct StepRecord {
    /// The action: an integer (discrete) or a list of float32 values widened to f64.
    pub action: serde_json::Value,
    /// The observation (float32 values widened to f64).
    pub obs: Vec<f64>,
    /// The reward.
    pub reward: f64,
    /// Gymnasium's `terminated`.
    pub terminated: bool,
    /// Gymnasium's `truncated` (from the `TimeLimit` wrapper).
    pub truncated: bool,
    /// `env.unwrapped.state` after the step.
    pub state: Vec<f64>,
}

/// Loads the fixture of `env_id`.
pub fn load(env_id: &str) -> Fixture {
    let path = format!("{FIXTURE_DIR}{env_id}.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read fixture {path}: {e}"));
    let fixture: Fixture =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("malformed fixture {path}: {e}"));
    assert_eq!(fixture.env_id, env_id, "fixture {path} is for another id");
    fixture
}

/// A discrete action from a fixture.
pub fn discrete_action(v: &serde_json::Value) -> i64 {
    v.as_i64()
        .unwrap_or_else(|| panic!("expected an integer action, got {v}"))
}

/// A float32 box action of `N` elements from a fixture.
pub fn box_action<const N: usize>(v: &serde_json::Value) -> [f32; N] {
    let xs: Vec<f64> = serde_json::from_value(v.clone())
        .unwrap_or_else(|e| panic!("expected a list of numbers as action, got {v}: {e}"));
    assert_eq!(xs.len(), N, "action {v} should have {N} elements");
    std::array::from_fn(|i| {
        let x = xs[i] as f32;
        assert_eq!(x as f64, xs[i], "action element {} is not a float32", xs[i]);
        x
    })
}

/// The first difference between our environment and the fixture.
#[derive(Debug)]
pub struct Mismatch {
    /// Environment id.
    pub env_id: String,
    /// Episode name.
    pub episode: String,
    /// Step index (0-based); `None` for setup.
    pub step: Option<usize>,
    /// What differed, with expected and actual values.
    pub what: String,
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.step {
            Some(i) => write!(
                f,
                "{} / episode {:?} / step {}: {}",
                self.env_id, self.episode, i, self.what
            ),
            None => write!(
                f,
                "{} / episode {:?} / setup: {}",
                self.env_id, self.episode, self.what
            ),
        }
    }
}

fn cmp_f64(what: &str, expected: &[f64], got: &[f64]) -> Result<(), String> {
    if expected.len() != got.len() {
        return Err(format!(
            "{what}: expected {} values {expected:?}, got {} values {got:?}",
            expected.len(),
            got.len()
        ));
    }
    for (i, (&e, &g)) in expected.iter().zip(got).enumerate() {
        // Exact equality (both NaN counts as equal).
        if !(e == g || (e.is_nan() && g.is_nan())) {
            return Err(format!(
                "{what}[{i}]: expected {e:?} (bits {:#018x}), got {g:?} (bits {:#018x}); \
                 expected {expected:?}, got {got:?}",
                e.to_bits(),
                g.to_bits()
            ));
        }
    }
    Ok(())
}

fn cmp_obs(expected: &[f64], got: &[f32]) -> Result<(), String> {
    if expected.len() != got.len() {
        return Err(format!("obs: expected {expected:?}, got {got:?}"));
    }
    for (i, (&e, &g)) in expected.iter().zip(got).enumerate() {
        let e32 = e as f32;
        if e32 as f64 != e && !e.is_nan() {
            return Err(format!("fixture obs[{i}] = {e:?} is not a float32 value"));
        }
        if e32.to_bits() != g.to_bits() {
            return Err(format!(
                "obs[{i}]: expected {e32:?} (bits {:#010x}), got {g:?} (bits {:#010x}); \
                 expected {expected:?}, got {got:?}",
                e32.to_bits(),
                g.to_bits()
            ));
        }
    }
    Ok(())
}

/// Replays every episode of `fixture`; returns the number of steps compared.
///
/// For each episode: `make(episode)` builds our environment with the episode's options, then
/// `reset(Some(seed))`, `set_state(initial_state)`, and for every recorded step
/// `step(action(record.action))`. Observations must match bit for bit (`f32::to_bits`), rewards
/// and states exactly, `terminated` exactly, and `truncated` must equal our `truncated` OR the
/// step count reaching `max_episode_steps` (the fixture was recorded through Gymnasium's
/// `TimeLimit` wrapper, which the harness stands in for).
pub fn replay<E, M, A>(fixture: &Fixture, make: M, action: A) -> Result<usize, Mismatch>
where
    E: Env + StateVector,
    M: Fn(&Episode) -> tokengym::Result<E>,
    A: Fn(&serde_json::Value) -> ActOf<E>,
{
    let mut total = 0;
    for ep in &fixture.episodes {
        let fail = |step: Option<usize>, what: String| Mismatch {
            env_id: fixture.env_id.clone(),
            episode: ep.name.clone(),
            step,
            what,
        };
        let mut env = make(ep).map_err(|e| fail(None, format!("construction failed: {e}")))?;
        env.reset(Some(ep.seed))
            .map_err(|e| fail(None, format!("reset failed: {e}")))?;
        env.set_state(&ep.initial_state)
            .map_err(|e| fail(None, format!("set_state failed: {e}")))?;
        cmp_f64("initial state", &ep.initial_state, &env.state()).map_err(|w| fail(None, w))?;
        for (i, rec) in ep.steps.iter().enumerate() {
            let a = action(&rec.action);
            let step = env
                .step(&a)
                .map_err(|e| fail(Some(i), format!("step({a:?}) failed: {e}")))?;
            let obs = env
                .observation_space()
                .flatten(&step.obs)
                .map_err(|e| fail(Some(i), format!("cannot flatten observation: {e}")))?;
            cmp_obs(&rec.obs, &obs).map_err(|w| fail(Some(i), w))?;
            if !(rec.reward == step.reward) {
                return Err(fail(
                    Some(i),
                    format!(
                        "reward: expected {:?} (bits {:#018x}), got {:?} (bits {:#018x})",
                        rec.reward,
                        rec.reward.to_bits(),
                        step.reward,
                        step.reward.to_bits()
                    ),
                ));
            }
            if rec.terminated != step.terminated {
                return Err(fail(
                    Some(i),
                    format!(
                        "terminated: expected {}, got {}",
                        rec.terminated, step.terminated
                    ),
                ));
            }
            let truncated = step.truncated || i + 1 >= fixture.max_episode_steps;
            if rec.truncated != truncated {
                return Err(fail(
                    Some(i),
                    format!("truncated: expected {}, got {truncated}", rec.truncated),
                ));
            }
            cmp_f64("state", &rec.state, &env.state()).map_err(|w| fail(Some(i), w))?;
            total += 1;
        }
    }
    Ok(total)
}

/// Runs [`replay`] and panics with the first mismatch; asserts that every episode was replayed.
pub fn assert_replays<E, M, A>(env_id: &str, make: M, action: A)
where
    E: Env + StateVector,
    M: Fn(&Episode) -> tokengym::Result<E>,
    A: Fn(&serde_json::Value) -> ActOf<E>,
{
    let fixture = load(env_id);
    let expected: usize = fixture.episodes.iter().map(|e| e.steps.len()).sum();
    match replay(&fixture, make, action) {
        Ok(n) => assert_eq!(n, expected, "{env_id}: not every step was replayed"),
        Err(m) => panic!("Gymnasium replay mismatch: {m}"),
    }
}

/// Deserializes an episode's options into an environment config struct.
pub fn config<C: serde::de::DeserializeOwned>(ep: &Episode) -> tokengym::Result<C> {
    serde_json::from_value(ep.kwargs.clone()).map_err(|e| {
        tokengym::Error::invalid_argument(format!("options {} of {:?}: {e}", ep.kwargs, ep.name))
    })
}
