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

/// The observation of each fixture's initial state equals Gymnasium's reset observation, and
/// Acrobot's initial states are float32-valued (Gymnasium stores them so; our reset does too).
#[test]
fn initial_observations_match_gymnasium() {
    let widen = |obs: &[f32]| obs.iter().map(|&x| f64::from(x)).collect::<Vec<_>>();
    for ep in &load("Acrobot-v1").episodes {
        let mut env = Acrobot::with_config(config(ep).unwrap()).unwrap();
        env.set_state(&ep.initial_state).unwrap();
        assert_eq!(widen(&env.observation()), ep.initial_obs, "{}", ep.name);
        assert!(
            ep.initial_state.iter().all(|&x| (x as f32) as f64 == x),
            "{}: Gymnasium's Acrobot reset state is float32",
            ep.name
        );
        let (obs, _) = env.reset(Some(ep.seed)).unwrap();
        assert_eq!(obs, env.observation());
        for x in env.state() {
            assert_eq!((x as f32) as f64, x);
            assert!((-0.1..=0.1).contains(&x));
        }
    }
    for ep in &load("Pendulum-v1").episodes {
        let mut env = Pendulum::with_config(config(ep).unwrap()).unwrap();
        env.set_state(&ep.initial_state).unwrap();
        assert_eq!(widen(&env.observation()), ep.initial_obs, "{}", ep.name);
    }
}

/// `reset_flat`/`step_flat` (what vector environments call) give the same numbers as the typed
/// calls.
#[test]
fn flat_calls_agree_with_typed_calls() {
    let mut typed = Pendulum::new();
    let mut flat = Pendulum::new();
    let mut buf = [0.0f32; 3];
    let (obs, _) = typed.reset(Some(11)).unwrap();
    flat.reset_flat(Some(11), &mut buf).unwrap();
    assert_eq!(obs, buf);
    for a in [0.5f32, -2.0, 1.25] {
        let s = typed.step(&[a]).unwrap();
        let t = flat.step_flat(&[a], &mut buf).unwrap();
        assert_eq!((s.obs, s.reward), (buf, t.reward));
    }
    let mut typed = Acrobot::new();
    let mut flat = Acrobot::new();
    let mut buf = [0.0f32; 6];
    let (obs, _) = typed.reset(Some(11)).unwrap();
    flat.reset_flat(Some(11), &mut buf).unwrap();
    assert_eq!(obs, buf);
    for a in [0, 2, 2, 1] {
        let s = typed.step(&a).unwrap();
        let t = flat.step_flat(&a, &mut buf).unwrap();
        assert_eq!(
            (s.obs, s.reward, s.terminated),
            (buf, t.reward, t.terminated)
        );
    }
}

mod robustness {
    use proptest::prelude::*;
    use tokengym::{Env, Error};
    use tokengym_envs::StateVector;
    use tokengym_envs::classic_control::{Acrobot, Pendulum};

    fn finite() -> impl Strategy<Value = f64> {
        prop_oneof![-10.0..10.0f64, -1e300..1e300f64, Just(0.0), Just(f64::MAX)]
    }

    proptest! {
        /// From any finite state, any action either steps to a finite observation inside the
        /// angle/velocity bounds or is refused with an error: no panic, no endless wrap loop.
        #[test]
        fn acrobot_never_panics(state in prop::array::uniform4(finite()), action in any::<i64>()) {
            let mut env = Acrobot::new();
            env.set_state(&state).unwrap();
            match env.step(&action) {
                Ok(step) => {
                    prop_assert!((0..3).contains(&action));
                    prop_assert!(step.obs.iter().all(|x| x.is_finite()));
                    let s = env.state();
                    prop_assert!(s[0].abs() <= std::f64::consts::PI);
                    prop_assert!(s[1].abs() <= std::f64::consts::PI);
                }
                Err(Error::InvalidAction { .. }) => prop_assert!(!(0..3).contains(&action)),
                Err(Error::NonFinite { .. }) => prop_assert_eq!(env.state(), state.to_vec()),
                Err(e) => prop_assert!(false, "unexpected error {e}"),
            }
        }

        /// Same for the pendulum, with arbitrary `f32` torques (NaN and infinities included).
        #[test]
        fn pendulum_never_panics(state in prop::array::uniform2(finite()), u in any::<f32>()) {
            let mut env = Pendulum::new();
            env.set_state(&state).unwrap();
            let valid = (-2.0..=2.0).contains(&u);
            match env.step(&[u]) {
                Ok(step) => {
                    prop_assert!(valid);
                    prop_assert!(step.reward.is_finite() && step.reward <= 0.0);
                    prop_assert!(env.state()[1].abs() <= 8.0);
                }
                Err(Error::InvalidAction { .. }) => prop_assert!(!valid),
                Err(Error::NonFinite { .. }) => prop_assert_eq!(env.state(), state.to_vec()),
                Err(e) => prop_assert!(false, "unexpected error {e}"),
            }
        }
    }
}
