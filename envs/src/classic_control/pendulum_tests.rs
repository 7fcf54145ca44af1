//! Unit tests of [`Pendulum`](super::Pendulum).

use super::*;
use tokengym::Env;

fn ready() -> Pendulum {
    let mut env = Pendulum::new();
    env.reset(Some(0)).unwrap();
    env
}

#[test]
fn invalid_actions_are_errors_and_leave_the_state_alone() {
    let mut env = ready();
    let before = env.state();
    for a in [2.0001f32, -2.5, f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
        assert!(
            matches!(env.step(&[a]), Err(Error::InvalidAction { .. })),
            "{a}"
        );
    }
    assert_eq!(env.state(), before);
    assert_eq!(env.last_torque(), None);
    for a in [-2.0f32, 2.0, 0.0, -0.0] {
        assert!(env.step(&[a]).is_ok());
        assert_eq!(env.last_torque(), Some(a));
    }
}

#[test]
fn step_and_render_need_a_state() {
    let mut env = Pendulum::new();
    assert!(env.state().is_empty());
    assert!(matches!(env.step(&[0.0]), Err(Error::ResetNeeded)));
    assert!(matches!(
        env.render(RenderMode::RgbArray),
        Err(Error::ResetNeeded)
    ));
    env.set_state(&[0.0, 0.0]).unwrap();
    assert!(env.step(&[0.0]).is_ok());
}

#[test]
fn set_state_rejects_bad_vectors() {
    let mut env = ready();
    let before = env.state();
    for bad in [
        vec![0.0],
        vec![0.0; 3],
        vec![f64::NAN, 0.0],
        vec![0.0, f64::NEG_INFINITY],
    ] {
        assert!(
            matches!(env.set_state(&bad), Err(Error::InvalidState(_))),
            "{bad:?}"
        );
    }
    assert_eq!(env.state(), before);
}

#[test]
fn reset_is_seeded_and_bounded() {
    let mut a = Pendulum::new();
    let mut b = Pendulum::new();
    assert_eq!(a.reset(Some(5)).unwrap().0, b.reset(Some(5)).unwrap().0);
    assert_eq!(a.state(), b.state());
    let first = a.state();
    a.reset(None).unwrap();
    assert_ne!(a.state(), first, "reset(None) continues the random stream");
    for seed in 0..50 {
        a.reset(Some(seed)).unwrap();
        let [th, thdot] = [a.state()[0], a.state()[1]];
        assert!(th.abs() <= PI && thdot.abs() <= 1.0);
    }
    let cfg = PendulumConfig {
        x_init: 0.0,
        y_init: 0.0,
        ..Default::default()
    };
    let mut still = Pendulum::with_config(cfg).unwrap();
    let (obs, _) = still.reset(Some(1)).unwrap();
    assert_eq!(obs, [1.0, 0.0, 0.0]);
}

#[test]
fn upright_at_rest_costs_nothing_and_stays() {
    let mut env = ready();
    env.set_state(&[0.0, 0.0]).unwrap();
    let s = env.step(&[0.0]).unwrap();
    assert_eq!(s.reward, 0.0);
    assert!(!s.terminated && !s.truncated);
    assert_eq!(s.obs, [1.0, 0.0, 0.0]);
    // Hanging down at full speed with full torque: the worst cost.
    env.set_state(&[PI, 8.0]).unwrap();
    let s = env.step(&[2.0]).unwrap();
    let worst = -(PI * PI + 0.1 * 64.0 + 0.001 * 4.0);
    assert!((s.reward - worst).abs() < 1e-6, "{}", s.reward);
}

#[test]
fn speed_is_clipped_and_gravity_is_configurable() {
    let mut env = ready();
    env.set_state(&[0.0, 7.99]).unwrap();
    env.step(&[2.0]).unwrap();
    assert_eq!(env.state()[1], MAX_SPEED);
    env.set_state(&[0.0, -7.99]).unwrap();
    env.step(&[-2.0]).unwrap();
    assert_eq!(env.state()[1], -MAX_SPEED);
    let fall = |g: f64| {
        let mut env = Pendulum::with_config(PendulumConfig {
            g,
            ..Default::default()
        })
        .unwrap();
        env.set_state(&[0.5, 0.0]).unwrap();
        env.step(&[0.0]).unwrap();
        env.state()[1]
    };
    assert!(fall(10.0) > 0.0 && fall(-10.0) < 0.0 && fall(0.0) == 0.0);
    assert!(fall(10.0) > fall(9.81));
}

#[test]
fn numpy_arithmetic_helpers() {
    // libm pow and x*x round these squares differently; NumPy uses pow.
    let x = -0.10461916518392655_f64;
    assert_eq!(numpy_square(x), 0.010945169723781711);
    assert_eq!(x * x, 0.01094516972378171);
    let u = f32::from_bits(0x3f11_5800); // 0.5677490234375
    assert_eq!(sq32(u).to_bits(), 0x3ea5_099d); // powf; u * u gives ..9c
    assert_eq!((u * u).to_bits(), 0x3ea5_099c);
    assert_eq!(py_mod(-1.0, 2.0 * PI), 2.0 * PI - 1.0);
    assert_eq!(py_mod(1.0, -2.0), -1.0);
    assert!(py_mod(-0.0, 2.0 * PI).is_sign_positive());
    assert!(py_mod(4.0, -2.0).is_sign_negative());
    assert_eq!(angle_normalize(PI), -PI);
    assert_eq!(angle_normalize(0.25), 0.25);
    assert!((angle_normalize(3.0 * PI + 0.5) - (-PI + 0.5)).abs() < 1e-12);
}

#[test]
fn step_errors_on_non_finite_results() {
    let mut env = ready();
    let wild = [0.0, 1e200];
    env.set_state(&wild).unwrap();
    assert!(matches!(env.step(&[0.0]), Err(Error::NonFinite { .. })));
    assert_eq!(env.state(), wild);
}

#[test]
fn config_is_validated() {
    let cfg: PendulumConfig = serde_json::from_str(r#"{"g": 9.81}"#).unwrap();
    assert_eq!(cfg.g, 9.81);
    assert_eq!(cfg.x_init, PI);
    assert!(serde_json::from_str::<PendulumConfig>(r#"{"gravity": 9.81}"#).is_err());
    assert!(
        Pendulum::with_config(PendulumConfig {
            g: -3.0,
            ..Default::default()
        })
        .is_ok()
    );
    for bad in [
        PendulumConfig {
            g: f64::NAN,
            ..Default::default()
        },
        PendulumConfig {
            x_init: -1.0,
            ..Default::default()
        },
        PendulumConfig {
            y_init: f64::INFINITY,
            ..Default::default()
        },
    ] {
        assert!(matches!(
            Pendulum::with_config(bad),
            Err(Error::InvalidArgument(_))
        ));
    }
}

#[test]
fn renders_the_rod_and_the_torque_arrow() {
    let mut env = ready();
    env.set_state(&[0.0, 0.0]).unwrap();
    let rgb = |env: &Pendulum| match env.render(RenderMode::RgbArray).unwrap() {
        Frame::Rgb(f) => f,
        Frame::Ansi(_) => panic!("expected pixels"),
    };
    let f = rgb(&env);
    assert_eq!((f.width(), f.height()), (SCREEN_DIM, SCREEN_DIM));
    let scale = SCREEN_DIM as f64 / 4.4;
    // Upright: the rod is above the axle (smaller row index), nothing below it.
    assert_eq!(
        f.pixel(250, (250.0 - 0.6 * scale) as usize),
        Some(ROD_COLOUR)
    );
    assert_eq!(f.pixel(250, (250.0 + 0.6 * scale) as usize), Some([255; 3]));
    assert_eq!(f.pixel(250, 250), Some([0, 0, 0]), "axle");
    let dark = |f: &tokengym::RgbFrame| f.data().chunks(3).filter(|p| p == &[0, 0, 0]).count();
    let no_arrow = dark(&f);
    env.step(&[1.5]).unwrap();
    assert!(dark(&rgb(&env)) > no_arrow + 100, "torque arrow");
    let Frame::Ansi(text) = env.render(RenderMode::Ansi).unwrap() else {
        panic!("expected text");
    };
    assert!(text.contains("torque=+1.5000") && text.contains('@') && text.contains('O'));
    env.reset(Some(3)).unwrap();
    let Frame::Ansi(text) = env.render(RenderMode::Ansi).unwrap() else {
        panic!("expected text");
    };
    assert!(text.contains("torque=none") && text.contains("theta="));
    assert_eq!(env.render_fps(), 30);
}
