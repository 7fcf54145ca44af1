//! Replays Gymnasium 1.4.0 trajectories of `Acrobot-v1` and `Pendulum-v1` (and their option
//! variants: `book_or_nips = "nips"`, `g = 9.81`) and requires bit-identical observations,
//! rewards, flags and states.

mod common;

use common::{assert_replays, box_action, config, discrete_action, load};
use tokengym::Env;
use tokengym_envs::StateVector;
use tokengym_envs::classic_control::{Acrobot, AcrobotDynamics, Pendulum};

#[test]
fn acrobot_replays_gymnasium_bit_for_bit() {
    assert_replays(
        "Acrobot-v1",
        |ep| Acrobot::with_config(config(ep)?),
        discrete_action,
    );
}

#[test]
fn pendulum_replays_gymnasium_bit_for_bit() {
    assert_replays(
        "Pendulum-v1",
        |ep| Pendulum::with_config(config(ep)?),
        box_action::<1>,
    );
}

/// The fixtures exercise what they claim to: both Acrobot dynamics, the goal, Pendulum's speed
/// clip and a non-default gravity (so the replay tests above cover those code paths).
#[test]
fn fixtures_cover_the_option_variants() {
    let acrobot = load("Acrobot-v1");
    let mut nips_goal = false;
    let mut book_goal = false;
    for ep in &acrobot.episodes {
        let cfg: tokengym_envs::classic_control::AcrobotConfig = config(ep).unwrap();
        let goal = ep.steps.iter().any(|s| s.terminated);
        match cfg.book_or_nips {
            AcrobotDynamics::Nips => nips_goal |= goal,
            AcrobotDynamics::Book => book_goal |= goal,
        }
    }
    assert!(
        nips_goal && book_goal,
        "both dynamics should reach the goal"
    );

    let pendulum = load("Pendulum-v1");
    let clipped = pendulum
        .episodes
        .iter()
        .flat_map(|e| &e.steps)
        .any(|s| s.state[1].abs() == 8.0);
    assert!(clipped, "no step hits the speed clip");
    let g981 = pendulum.episodes.iter().any(|e| {
        let cfg: tokengym_envs::classic_control::PendulumConfig = config(e).unwrap();
        cfg.g == 9.81
    });
    assert!(g981, "no episode with g = 9.81");
}

/// The observation after `set_state` of a fixture's initial state equals Gymnasium's reset
/// observation (Acrobot's initial state is float32-valued, as Gymnasium stores it).
#[test]
fn initial_observations_match_gymnasium() {
    for ep in &load("Acrobot-v1").episodes {
        let mut env = Acrobot::with_config(config(ep).unwrap()).unwrap();
        env.set_state(&ep.initial_state).unwrap();
        // A zero-length replay: the observation of the state itself, via a render-free path.
        let obs: Vec<f64> = [
            ep.initial_state[0].cos() as f32,
            ep.initial_state[0].sin() as f32,
            ep.initial_state[1].cos() as f32,
            ep.initial_state[1].sin() as f32,
            ep.initial_state[2] as f32,
            ep.initial_state[3] as f32,
        ]
        .iter()
        .map(|&x| x as f64)
        .collect();
        assert_eq!(obs, ep.initial_obs, "{}", ep.name);
        assert!(
            ep.initial_state.iter().all(|&x| (x as f32) as f64 == x),
            "{}: Gymnasium's Acrobot reset state is float32",
            ep.name
        );
        // Our own reset also produces float32-valued states in [-0.1, 0.1].
        env.reset(Some(ep.seed)).unwrap();
        for x in env.state() {
            assert_eq!((x as f32) as f64, x);
            assert!((-0.1..=0.1).contains(&x));
        }
    }
}
