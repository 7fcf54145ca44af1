//! `reset(Some(seed))` gives Gymnasium 1.4's starting observation and state for the same seed,
//! and the unseeded `reset(None)` after it continues NumPy's stream as Gymnasium does
//! (`tests/fixtures/numpy_seeding/classic_control_resets.json`, recorded by
//! `tests/fixtures/gen_numpy_seeding.py`). Bit for bit, for seeds from 0 to 2^64 - 1.

use serde_json::Value as Json;
use tokengym::{Env, ObsOf};
use tokengym_envs::StateVector;
use tokengym_envs::classic_control::{
    Acrobot, CartPole, ContinuousMountainCar, MountainCar, Pendulum,
};

fn fixture() -> Json {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/fixtures/numpy_seeding/classic_control_resets.json"
    );
    let text = std::fs::read_to_string(path).expect("fixture exists");
    serde_json::from_str(&text).expect("fixture is JSON")
}

fn floats(v: &Json) -> Vec<f64> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_f64().expect("float"))
        .collect()
}

fn bits(xs: &[f64]) -> Vec<u64> {
    xs.iter().map(|x| x.to_bits()).collect()
}

fn obs_bits(obs: &[f32]) -> Vec<u64> {
    obs.iter().map(|&x| f64::from(x).to_bits()).collect()
}

/// Checks every case of `env_id` against an environment built by `make`.
fn check<E>(env_id: &str, mut make: impl FnMut() -> E)
where
    E: Env + StateVector,
    ObsOf<E>: AsRef<[f32]>,
{
    let data = fixture();
    let env_data = data["envs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["env_id"] == env_id)
        .unwrap_or_else(|| panic!("{env_id} in the fixture"));
    let cases = env_data["cases"].as_array().unwrap();
    assert!(cases.len() >= 10, "{env_id}: too few cases");
    // One environment for all seeds, as Gymnasium's run was: a seed re-seeds it completely.
    let mut env = make();
    for case in cases {
        let seed: u64 = case["seed"].as_str().unwrap().parse().unwrap();
        let (obs, _) = env.reset(Some(seed)).unwrap();
        assert_eq!(
            obs_bits(obs.as_ref()),
            bits(&floats(&case["obs"])),
            "{env_id} seed {seed} obs"
        );
        assert_eq!(
            bits(&env.state()),
            bits(&floats(&case["state"])),
            "{env_id} seed {seed} state"
        );
        let (next, _) = env.reset(None).unwrap();
        assert_eq!(
            obs_bits(next.as_ref()),
            bits(&floats(&case["next_obs"])),
            "{env_id} seed {seed}: the unseeded reset after it"
        );
        assert_eq!(
            bits(&env.state()),
            bits(&floats(&case["next_state"])),
            "{env_id} seed {seed}: state after the unseeded reset"
        );
    }
}

#[test]
fn cartpole_resets_like_gymnasium() {
    check("CartPole-v1", CartPole::new);
}

#[test]
fn mountain_car_resets_like_gymnasium() {
    check("MountainCar-v0", MountainCar::new);
}

#[test]
fn continuous_mountain_car_resets_like_gymnasium() {
    check("MountainCarContinuous-v0", ContinuousMountainCar::new);
}

#[test]
fn acrobot_resets_like_gymnasium() {
    check("Acrobot-v1", Acrobot::new);
}

#[test]
fn pendulum_resets_like_gymnasium() {
    check("Pendulum-v1", Pendulum::new);
}
