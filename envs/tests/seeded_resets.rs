//! `reset(Some(seed))` gives Gymnasium 1.4's starting observation and state for the same seed,
//! and the unseeded `reset(None)` after it continues NumPy's stream as Gymnasium does
//! (`tests/fixtures/numpy_seeding/classic_control_resets.json`, recorded by
//! `tests/fixtures/gen_numpy_seeding.py`). Bit for bit, for seeds from 0 to 2^64 - 1; and
//! `reset_with_options` with Gymnasium's reset options, through the typed and the type-erased
//! API.

use serde_json::Value as Json;
use tokengym::space::Value;
use tokengym::{Env, ObsOf, ResetOptions};
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

fn env_fixture(data: &Json, env_id: &str) -> Json {
    let envs = data["envs"].as_array().unwrap();
    let found = envs.iter().find(|e| e["env_id"] == env_id);
    found
        .unwrap_or_else(|| panic!("{env_id} in the fixture"))
        .clone()
}

fn options(v: &Json) -> ResetOptions {
    let map = v.as_object().expect("options object");
    map.iter().fold(ResetOptions::new(), |o, (k, x)| {
        o.with(k.as_str(), x.as_f64().expect("number"))
    })
}

fn seed_of(case: &Json) -> u64 {
    case["seed"].as_str().unwrap().parse().unwrap()
}

/// Checks every case of `env_id` against an environment built by `make`.
fn check<E>(env_id: &str, mut make: impl FnMut() -> E)
where
    E: Env + StateVector,
    ObsOf<E>: AsRef<[f32]>,
{
    let env_data = env_fixture(&fixture(), env_id);
    let cases = env_data["cases"].as_array().unwrap();
    assert!(cases.len() >= 10, "{env_id}: too few cases");
    // One environment for all seeds, as Gymnasium's run was: a seed re-seeds it completely.
    let mut env = make();
    for case in cases {
        let seed = seed_of(case);
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
    let with_options = env_data["with_options"].as_array().unwrap();
    assert!(!with_options.is_empty());
    for case in with_options {
        let (seed, opts) = (seed_of(case), options(&case["options"]));
        let what = format!("{env_id} seed {seed} options {}", case["options"]);
        let (obs, _) = env.reset_with_options(Some(seed), &opts).unwrap();
        assert_eq!(
            obs_bits(obs.as_ref()),
            bits(&floats(&case["obs"])),
            "{what}"
        );
        assert_eq!(bits(&env.state()), bits(&floats(&case["state"])), "{what}");
        let (next, _) = env.reset(None).unwrap();
        let want = bits(&floats(&case["next_obs"]));
        assert_eq!(obs_bits(next.as_ref()), want, "{what}: next reset");
    }
}

#[test]
fn reset_options_work_through_the_type_erased_api() {
    let data = fixture();
    for env_id in ["CartPole-v1", "Acrobot-v1", "Pendulum-v1", "MountainCar-v0"] {
        let mut env = tokengym_envs::make(env_id).unwrap();
        for case in env_fixture(&data, env_id)["with_options"]
            .as_array()
            .unwrap()
        {
            let (seed, opts) = (seed_of(case), options(&case["options"]));
            let (obs, _) = env.reset_with_options(Some(seed), &opts).unwrap();
            let Value::BoxF32(obs) = obs else {
                panic!("{env_id}: a Box observation")
            };
            assert_eq!(
                obs_bits(&obs),
                bits(&floats(&case["obs"])),
                "{env_id} seed {seed}"
            );
        }
    }
}

#[test]
fn bad_reset_options_are_errors() {
    let mut cartpole = tokengym_envs::make("CartPole-v1").unwrap();
    let unknown = ResetOptions::new().with("lo", -0.1);
    let err = cartpole.reset_with_options(Some(0), &unknown).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("lo") && msg.contains("high, low"), "{msg}");
    let inverted = ResetOptions::new().with("low", 0.2).with("high", 0.1);
    assert!(cartpole.reset_with_options(Some(0), &inverted).is_err());
    let not_a_number = ResetOptions::new().with("low", "small");
    assert!(cartpole.reset_with_options(Some(0), &not_a_number).is_err());
    let mut pendulum = Pendulum::new();
    let negative = ResetOptions::new().with("x_init", -1.0);
    assert!(pendulum.reset_with_options(Some(0), &negative).is_err());
    let wrong = ResetOptions::new().with("low", -1.0);
    assert!(pendulum.reset_with_options(Some(0), &wrong).is_err());
    // An environment without options refuses any, and accepts none.
    let mut bandit = tokengym_envs::make("Bandit-v0").unwrap();
    let err = bandit.reset_with_options(Some(0), &wrong).unwrap_err();
    assert!(err.to_string().contains("takes no reset options"), "{err}");
    assert!(
        bandit
            .reset_with_options(Some(0), &ResetOptions::new())
            .is_ok()
    );
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

#[test]
fn seeded_vector_resets_match_gymnasiums_sync_vector_env() {
    use tokengym::vector::VecEnv;
    let data = fixture();
    let cases = data["sync_vector"].as_array().unwrap();
    assert!(!cases.is_empty());
    for case in cases {
        let env_id = case["env_id"].as_str().unwrap();
        let n = case["num_envs"].as_u64().unwrap() as usize;
        let seed = seed_of(case);
        let opts = tokengym::MakeOptions::default();
        let mut venv = tokengym_envs::make_vec(env_id, n, &opts).unwrap();
        let obs = venv.reset(Some(seed)).unwrap().obs().clone();
        for (i, want) in case["obs"].as_array().unwrap().iter().enumerate() {
            let row: Vec<f32> = obs.row(i).to_vec();
            assert_eq!(
                obs_bits(&row),
                bits(&floats(want)),
                "{env_id} seed {seed} row {i}"
            );
        }
    }
}
