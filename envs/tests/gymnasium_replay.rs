//! Replays Gymnasium 1.4.0 trajectories (`tests/fixtures/classic_control/`) through our
//! classic-control environments and requires bit-identical results.

mod common;

use common::load;

/// Every fixture parses, and its numbers are what the harness expects (float32 observations,
/// states of constant length, seeds and flags consistent with the time limit).
#[test]
fn fixtures_are_well_formed() {
    for (id, max_steps, state_len, obs_len) in [
        ("CartPole-v1", 500, 4, 4),
        ("MountainCar-v0", 200, 2, 2),
        ("MountainCarContinuous-v0", 999, 2, 2),
        ("Acrobot-v1", 500, 4, 6),
        ("Pendulum-v1", 200, 2, 3),
    ] {
        let f = load(id);
        assert_eq!(f.gymnasium_version, "1.4.0");
        assert_eq!(f.max_episode_steps, max_steps, "{id}");
        assert!(f.episodes.len() >= 5, "{id}: too few episodes");
        for ep in &f.episodes {
            assert_eq!(ep.initial_state.len(), state_len, "{id} {}", ep.name);
            assert_eq!(ep.initial_obs.len(), obs_len, "{id} {}", ep.name);
            assert!(!ep.steps.is_empty(), "{id} {}", ep.name);
            for (i, s) in ep.steps.iter().enumerate() {
                assert_eq!(s.state.len(), state_len, "{id} {} step {i}", ep.name);
                assert_eq!(s.obs.len(), obs_len, "{id} {} step {i}", ep.name);
                assert!(
                    s.obs.iter().all(|&x| (x as f32) as f64 == x),
                    "{id} {} step {i}: observation is not float32",
                    ep.name
                );
                assert_eq!(s.truncated, i + 1 == max_steps, "{id} {} step {i}", ep.name);
            }
        }
    }
}

#[test]
fn cartpole_matches_gymnasium() {
    use tokengym_envs::classic_control::CartPole;
    common::assert_replays(
        "CartPole-v1",
        |ep| Ok(CartPole::with_config(common::config(ep)?)),
        common::discrete_action,
    );
}

#[test]
fn mountain_car_matches_gymnasium() {
    use tokengym_envs::classic_control::MountainCar;
    common::assert_replays(
        "MountainCar-v0",
        |ep| MountainCar::with_config(common::config(ep)?),
        common::discrete_action,
    );
}

#[test]
fn continuous_mountain_car_matches_gymnasium() {
    use tokengym_envs::classic_control::ContinuousMountainCar;
    common::assert_replays(
        "MountainCarContinuous-v0",
        |ep| ContinuousMountainCar::with_config(common::config(ep)?),
        common::box_action::<1>,
    );
}

/// The harness itself notices a one-ulp difference, a wrong reward, a wrong flag and a wrong
/// state, and reports the step where it happened.
#[test]
fn harness_detects_single_differences() {
    use tokengym_envs::classic_control::CartPole;
    let make = |ep: &common::Episode| Ok(CartPole::with_config(common::config(ep)?));
    let replay = |f: &common::Fixture| common::replay(f, make, common::discrete_action);
    assert!(replay(&load("CartPole-v1")).is_ok());

    let mut f = load("CartPole-v1");
    let x = f.episodes[0].steps[3].obs[1] as f32;
    f.episodes[0].steps[3].obs[1] = f32::from_bits(x.to_bits() + 1) as f64;
    let m = replay(&f).unwrap_err();
    assert_eq!((m.episode.as_str(), m.step), ("random_seed0", Some(3)));
    assert!(m.to_string().contains("obs[1]"), "{m}");

    let mut f = load("CartPole-v1");
    f.episodes[1].steps[5].reward = 0.0;
    assert!(replay(&f).unwrap_err().to_string().contains("reward"));

    let mut f = load("CartPole-v1");
    f.episodes[2].steps[0].terminated = true;
    assert!(replay(&f).unwrap_err().to_string().contains("terminated"));

    let mut f = load("CartPole-v1");
    let s = &mut f.episodes[2].steps[7].state[3];
    *s = f64::from_bits(s.to_bits() + 1);
    let m = replay(&f).unwrap_err();
    assert_eq!(m.step, Some(7));
    assert!(m.to_string().contains("state[3]"), "{m}");

    let mut f = load("CartPole-v1");
    f.max_episode_steps = 5;
    assert!(replay(&f).unwrap_err().to_string().contains("truncated"));
}
