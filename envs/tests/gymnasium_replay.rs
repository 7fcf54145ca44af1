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
