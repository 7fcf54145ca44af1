//! The built-in ids: registered with Gymnasium's specs, made with its default wrappers, and
//! passing every check of `check_env`.

use rand::SeedableRng;
use tokengym::checker::{CheckOptions, check_env, check_registered};
use tokengym::registry::{self, MakeOptions};
use tokengym::space::{Space, Value};
use tokengym::{Env, EnvExt, EnvRng, Error};
use tokengym_envs::classic_control::{
    Acrobot, CartPole, ContinuousMountainCar, MountainCar, Pendulum,
};

const IDS: [&str; 5] = [
    "CartPole-v1",
    "MountainCar-v0",
    "MountainCarContinuous-v0",
    "Acrobot-v1",
    "Pendulum-v1",
];

#[test]
fn builtins_have_gymnasium_specs() {
    tokengym_envs::register_envs().unwrap();
    let expect = [
        ("CartPole-v0", 200, Some(195.0)),
        ("CartPole-v1", 500, Some(475.0)),
        ("MountainCar-v0", 200, Some(-110.0)),
        ("MountainCarContinuous-v0", 999, Some(90.0)),
        ("Acrobot-v1", 500, Some(-100.0)),
        ("Pendulum-v1", 200, None),
    ];
    for (id, steps, threshold) in expect {
        let spec = registry::spec(id).unwrap();
        assert_eq!(spec.max_episode_steps, Some(steps), "{id}");
        assert_eq!(spec.reward_threshold, threshold, "{id}");
    }
    // Registering twice is harmless.
    tokengym_envs::register_envs().unwrap();
}

#[test]
fn check_env_passes_every_builtin() {
    tokengym_envs::register_envs().unwrap();
    for id in IDS {
        let report = check_registered(id, &CheckOptions::default()).unwrap();
        assert!(report.is_ok(), "{id}: {report}");
    }
    // The typed environments pass too.
    let opts = CheckOptions::default();
    assert!(check_env(&mut CartPole::new(), &opts).is_ok());
    assert!(check_env(&mut MountainCar::new(), &opts).is_ok());
    assert!(check_env(&mut ContinuousMountainCar::new(), &opts).is_ok());
    assert!(check_env(&mut Acrobot::new(), &opts).is_ok());
    assert!(check_env(&mut Pendulum::new(), &opts).is_ok());
}

#[test]
fn make_applies_the_time_limit_and_order_enforcing() {
    let mut env = tokengym_envs::make("Pendulum-v1").unwrap();
    assert!(matches!(
        env.step(&Value::BoxF32(vec![0.0])),
        Err(Error::ResetNeeded)
    ));
    env.reset(Some(3)).unwrap();
    let mut steps = 0;
    loop {
        let s = env.step(&Value::BoxF32(vec![0.0])).unwrap();
        steps += 1;
        if s.done() {
            assert!(s.truncated && !s.terminated);
            break;
        }
    }
    assert_eq!(steps, 200);

    let mut short =
        tokengym_envs::make_with("CartPole-v1", &MakeOptions::new().max_episode_steps(3)).unwrap();
    short.reset(Some(0)).unwrap();
    let flags: Vec<bool> = (0..3)
        .map(|_| short.step(&Value::Discrete(0)).unwrap().truncated)
        .collect();
    assert_eq!(flags, [false, false, true]);
}

#[test]
fn made_envs_follow_the_typed_env_step_for_step() {
    for id in IDS {
        let mut made = tokengym_envs::make(id).unwrap();
        let mut typed: tokengym::AnyEnv = match id {
            "CartPole-v1" => CartPole::new().boxed(),
            "MountainCar-v0" => MountainCar::new().boxed(),
            "MountainCarContinuous-v0" => ContinuousMountainCar::new().boxed(),
            "Acrobot-v1" => Acrobot::new().boxed(),
            _ => Pendulum::new().boxed(),
        };
        let (a, _) = made.reset(Some(11)).unwrap();
        let (b, _) = typed.reset(Some(11)).unwrap();
        assert_eq!(a, b, "{id}: same seed, same reset");
        let mut rng = EnvRng::seed_from_u64(5);
        for _ in 0..50 {
            let action = made.action_space().sample(&mut rng);
            let (s, t) = (made.step(&action).unwrap(), typed.step(&action).unwrap());
            let done = s.done();
            assert_eq!(
                (s.obs, s.reward, s.terminated),
                (t.obs, t.reward, t.terminated),
                "{id}"
            );
            if done {
                break;
            }
        }
    }
}

#[test]
fn kwargs_reach_the_environment_and_unknown_ones_are_errors() {
    let opts = MakeOptions::new().kwarg("sutton_barto_reward", true);
    let mut env = tokengym_envs::make_with("CartPole-v1", &opts).unwrap();
    env.reset(Some(0)).unwrap();
    assert_eq!(env.step(&Value::Discrete(0)).unwrap().reward, 0.0);

    let err = tokengym_envs::make_with(
        "CartPole-v1",
        &MakeOptions::new().kwarg("sutton_barto", true),
    )
    .err()
    .unwrap();
    assert!(err.to_string().contains("sutton_barto_reward"), "{err}");
    let err = tokengym_envs::make_with(
        "Acrobot-v1",
        &MakeOptions::new().kwarg("book_or_nips", "book2"),
    )
    .err()
    .unwrap();
    assert!(err.to_string().contains("book_or_nips"), "{err}");
    let err = tokengym_envs::make_with("Pendulum-v1", &MakeOptions::new().kwarg("g", "strong"))
        .err()
        .unwrap();
    assert!(err.to_string().contains('g'), "{err}");
}

#[test]
fn unknown_ids_name_the_closest_builtins() {
    let err = tokengym_envs::make("CartPole-v9").err().unwrap();
    match &err {
        Error::UnknownEnv { suggestions, .. } => assert_eq!(suggestions[0], "CartPole-v1"),
        other => panic!("unexpected error {other}"),
    }
    let msg = tokengym_envs::make("mountaincar")
        .err()
        .unwrap()
        .to_string();
    assert!(msg.contains("MountainCar-v0"), "{msg}");
}

#[test]
fn invalid_actions_through_make_are_errors() {
    let mut env = tokengym_envs::make("MountainCarContinuous-v0").unwrap();
    env.reset(Some(0)).unwrap();
    for bad in [
        Value::BoxF32(vec![f32::NAN]),
        Value::BoxF32(vec![0.0, 0.0]),
        Value::Discrete(1),
    ] {
        assert!(env.step(&bad).is_err(), "{bad:?} accepted");
    }
    let mut env = tokengym_envs::make("CartPole-v1").unwrap();
    env.reset(Some(0)).unwrap();
    assert!(matches!(
        env.step(&Value::Discrete(2)),
        Err(Error::InvalidAction { .. })
    ));
}
