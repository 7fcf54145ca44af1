use super::*;
use tokengym::Env;

fn ready() -> Acrobot {
    let mut env = Acrobot::new();
    env.reset(Some(0)).unwrap();
    env
}

#[test]
fn invalid_actions_are_errors_and_leave_the_state_alone() {
    let mut env = ready();
    let before = env.state();
    for a in [-1, 3, i64::MIN, i64::MAX] {
        assert!(
            matches!(env.step(&a), Err(Error::InvalidAction { .. })),
            "{a}"
        );
    }
    assert_eq!(env.state(), before);
    for a in 0..3 {
        assert!(env.step(&a).is_ok());
    }
}

#[test]
fn step_and_render_need_a_state() {
    let mut env = Acrobot::new();
    assert!(env.state().is_empty());
    assert!(matches!(env.step(&1), Err(Error::ResetNeeded)));
    assert!(matches!(
        env.render(RenderMode::Ansi),
        Err(Error::ResetNeeded)
    ));
    env.set_state(&[0.0; 4]).unwrap();
    assert!(env.step(&1).is_ok());
}

#[test]
fn set_state_rejects_bad_vectors() {
    let mut env = ready();
    let before = env.state();
    for bad in [
        vec![0.0; 3],
        vec![0.0; 5],
        vec![],
        vec![0.0, f64::NAN, 0.0, 0.0],
        vec![0.0, 0.0, f64::INFINITY, 0.0],
    ] {
        assert!(
            matches!(env.set_state(&bad), Err(Error::InvalidState(_))),
            "{bad:?}"
        );
    }
    assert_eq!(env.state(), before);
    env.set_state(&[0.5, -0.25, 1.0, -2.0]).unwrap();
    assert_eq!(env.state(), vec![0.5, -0.25, 1.0, -2.0]);
}

#[test]
fn reset_is_seeded_float32_and_bounded() {
    let mut a = Acrobot::new();
    let mut b = Acrobot::new();
    let (oa, _) = a.reset(Some(42)).unwrap();
    let (ob, _) = b.reset(Some(42)).unwrap();
    assert_eq!(oa, ob);
    assert_eq!(a.state(), b.state());
    let (next, _) = a.reset(None).unwrap();
    assert_ne!(next, oa, "reset(None) continues the random stream");
    let (other, _) = b.reset(Some(43)).unwrap();
    assert_ne!(other, oa);
    for x in a.state() {
        assert!((-0.1..=0.1).contains(&x));
        assert_eq!(x as f32 as f64, x);
    }
    // Stepping is deterministic: a copy follows the same trajectory.
    let mut c = a.clone();
    for act in [0, 2, 1, 1, 0] {
        assert_eq!(a.step(&act).unwrap(), c.step(&act).unwrap());
    }
}

#[test]
fn upright_arm_terminates_with_zero_reward_and_can_continue() {
    let mut env = ready();
    env.set_state(&[PI, 0.0, 0.0, 0.0]).unwrap();
    let step = env.step(&1).unwrap();
    assert!(step.terminated && !step.truncated);
    assert_eq!(step.reward, 0.0);
    let step = ready().step(&1).unwrap();
    assert!(!step.terminated);
    assert_eq!(step.reward, -1.0);
    // Like Gymnasium, the simulation goes on after the goal.
    assert!(env.step(&0).is_ok());
}

#[test]
fn angles_wrap_and_velocities_are_bounded() {
    let mut env = ready();
    env.set_state(&[3.1, -3.1, 4.0 * PI, -9.0 * PI]).unwrap();
    for _ in 0..50 {
        let s = env.step(&2).unwrap();
        let st = env.state();
        assert!(st[0].abs() <= PI && st[1].abs() <= PI, "{st:?}");
        assert!(
            st[2].abs() <= MAX_VEL_1 && st[3].abs() <= MAX_VEL_2,
            "{st:?}"
        );
        assert!(s.obs.iter().all(|x| x.is_finite()));
    }
    assert_eq!(wrap(3.0 * PI, -PI, PI), 3.0 * PI - 2.0 * PI);
    assert_eq!(wrap(-PI, -PI, PI), -PI);
    assert!(bound(f64::NAN, -1.0, 1.0).is_nan());
    assert_eq!(bound(5.0, -1.0, 1.0), 1.0);
}

#[test]
fn far_out_states_neither_hang_nor_poison_the_state() {
    let mut env = ready();
    env.set_state(&[1e300, -1e300, 0.0, 0.0]).unwrap();
    env.step(&1).unwrap();
    let st = env.state();
    assert!(st[0].abs() <= PI && st[1].abs() <= PI, "{st:?}");
    let wild = [0.0, 0.0, 1e300, -1e300];
    env.set_state(&wild).unwrap();
    assert!(matches!(env.step(&1), Err(Error::NonFinite { .. })));
    assert_eq!(env.state(), wild);
}

#[test]
fn nips_and_noise_change_the_dynamics() {
    let start = [0.3, -0.2, 1.0, -1.5];
    let run = |cfg: AcrobotConfig| {
        let mut env = Acrobot::with_config(cfg).unwrap();
        env.reset(Some(9)).unwrap();
        env.set_state(&start).unwrap();
        env.step(&2).unwrap();
        env.state()
    };
    let book = run(AcrobotConfig::default());
    let nips = run(AcrobotConfig {
        book_or_nips: AcrobotDynamics::Nips,
        ..Default::default()
    });
    let noisy = AcrobotConfig {
        torque_noise_max: 0.5,
        ..Default::default()
    };
    assert_ne!(book, nips);
    assert_ne!(book, run(noisy));
    assert_eq!(run(noisy), run(noisy), "noise is seeded");
}

#[test]
fn config_is_validated() {
    let cfg: AcrobotConfig = serde_json::from_str(r#"{"book_or_nips": "nips"}"#).unwrap();
    assert_eq!(cfg.book_or_nips, AcrobotDynamics::Nips);
    assert!(serde_json::from_str::<AcrobotConfig>(r#"{"book_or_nips": "paper"}"#).is_err());
    assert!(serde_json::from_str::<AcrobotConfig>(r#"{"dt": 0.1}"#).is_err());
    for bad in [
        AcrobotConfig {
            torque_noise_max: -0.1,
            ..Default::default()
        },
        AcrobotConfig {
            torque_noise_max: f64::NAN,
            ..Default::default()
        },
        AcrobotConfig {
            reset_low: 0.2,
            reset_high: 0.1,
            ..Default::default()
        },
    ] {
        assert!(matches!(
            Acrobot::with_config(bad),
            Err(Error::InvalidArgument(_))
        ));
    }
}

#[test]
fn renders_the_arm_and_the_bar() {
    let mut env = ready();
    env.set_state(&[0.0; 4]).unwrap();
    let Frame::Rgb(f) = env.render(RenderMode::RgbArray).unwrap() else {
        panic!("expected pixels");
    };
    assert_eq!((f.width(), f.height()), (SCREEN_DIM, SCREEN_DIM));
    let scale = SCREEN_DIM as f64 / 4.4;
    // Hanging straight down: both links below the centre; the bar above it.
    let below = |m: f64| (250.0 + m * scale) as usize;
    assert_eq!(f.pixel(250, below(0.5)), Some([0, 204, 204]));
    assert_eq!(f.pixel(250, below(1.5)), Some([0, 204, 204]));
    assert_eq!(f.pixel(250, below(1.0)), Some([204, 204, 0]));
    assert_eq!(f.pixel(250, below(-1.0)), Some([0, 0, 0]));
    assert_eq!(f.pixel(250, below(-0.5)), Some([255, 255, 255]));
    assert_eq!(f.pixel(50, below(0.5)), Some([255, 255, 255]));
    let Frame::Ansi(text) = env.render(RenderMode::Ansi).unwrap() else {
        panic!("expected text");
    };
    assert!(text.contains("theta1=+0.0000") && text.contains("tip height=-2.0000"));
    assert!(text.contains('O') && text.contains('*') && text.contains("---"));
    assert!(!text.contains("GOAL"));
    assert_eq!(env.render_fps(), 15);
}
