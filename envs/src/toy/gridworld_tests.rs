use super::*;

fn sum_probs(w: &GridWorld, s: usize, a: usize) -> f64 {
    w.transitions(s, a).iter().map(|o| o.prob).sum()
}

#[test]
fn four_by_three_layout_and_slip_model() {
    let w = GridWorld::four_by_three_stochastic();
    assert_eq!((w.rows(), w.cols(), w.n_states()), (3, 4, 12));
    assert_eq!(w.start_state(), 8); // (1,1) bottom-left
    assert!(w.is_wall(5)); // (2,2)
    assert!(w.is_terminal_cell(3) && w.is_terminal_cell(7));
    for s in 0..12 {
        for a in 0..4 {
            let p = sum_probs(&w, s, a);
            assert!(
                w.is_wall(s) && p == 0.0 || (p - 1.0).abs() < 1e-12,
                "s={s} a={a} p={p}"
            );
        }
    }
    // From (3,1) (state 10) going up: 0.8 to (3,2), 0.1 right to (4,1), 0.1 left to (2,1).
    let mut t: Vec<(usize, f64)> = w
        .transitions(10, 0)
        .iter()
        .map(|o| (o.next, o.prob))
        .collect();
    t.sort_by_key(|x| x.0);
    assert_eq!(t.len(), 3);
    assert_eq!((t[0].0, t[1].0, t[2].0), (6, 9, 11));
    assert!((t[0].1 - 0.8).abs() < 1e-12 && (t[1].1 - 0.1).abs() < 1e-12);
    // From the start going left: 0.8 bump + 0.1 down bump merge to 0.9 staying, 0.1 up.
    let stay = w
        .transitions(8, LEFT as usize)
        .iter()
        .find(|o| o.next == 8)
        .map(|o| o.prob);
    assert!((stay.unwrap_or(0.0) - 0.9).abs() < 1e-12);
    // Moving into the wall stays in place.
    let o = GridWorld::four_by_three_deterministic();
    assert_eq!(o.transitions(4, RIGHT as usize)[0].next, 4);
}

#[test]
fn exit_terminals_pay_on_the_next_action() {
    let mut w = GridWorld::four_by_three_deterministic();
    w.reset(Some(0)).unwrap();
    let mut last = None;
    for a in [UP, UP, RIGHT, RIGHT, RIGHT] {
        let s = w.step(&a).unwrap();
        assert_eq!((s.reward, s.terminated), (0.0, false));
        last = Some(s.obs);
    }
    assert_eq!(last, Some(3));
    let exit = w.step(&DOWN).unwrap();
    assert_eq!((exit.obs, exit.reward, exit.terminated), (3, 1.0, true));
    assert!(matches!(w.step(&UP), Err(Error::EpisodeEnded)));
}

#[test]
fn cliff_walking_rules() {
    let mut w = GridWorld::cliff_walking();
    assert_eq!(w.n_states(), 48);
    let (s0, _) = w.reset(Some(1)).unwrap();
    assert_eq!(s0, 36);
    let up = w.step(&UP).unwrap();
    assert_eq!((up.obs, up.reward), (24, -1.0));
    // Walk along row 2 to the right edge, then down into the goal.
    for _ in 0..11 {
        w.step(&RIGHT).unwrap();
    }
    let goal = w.step(&DOWN).unwrap();
    assert_eq!((goal.obs, goal.reward, goal.terminated), (47, -1.0, true));
    // Cliff: -100, back to start, not terminal.
    w.reset(None).unwrap();
    w.step(&UP).unwrap();
    w.step(&RIGHT).unwrap();
    let fall = w.step(&DOWN).unwrap();
    assert_eq!(
        (fall.obs, fall.reward, fall.terminated),
        (36, -100.0, false)
    );
}

#[test]
fn invalid_actions_and_order_are_errors() {
    let mut w = GridWorld::cliff_walking();
    assert!(matches!(w.step(&0), Err(Error::ResetNeeded)));
    w.reset(Some(0)).unwrap();
    assert!(matches!(w.step(&4), Err(Error::InvalidAction { .. })));
    assert!(w.step(&-1).is_err());
    assert!(w.render(RenderMode::RgbArray).is_err());
}

#[test]
fn stochastic_steps_follow_the_model_and_seeds_repeat() {
    let mut w = GridWorld::four_by_three_stochastic();
    let run = |w: &mut GridWorld, seed| {
        let mut counts = [0usize; 12];
        w.reset(Some(seed)).unwrap();
        for _ in 0..4000 {
            w.reset(None).unwrap();
            // From the start, UP: 0.8 up to state 4, 0.1 right to 9, 0.1 left (bump) stays at 8.
            counts[w.step(&UP).unwrap().obs as usize] += 1;
        }
        counts
    };
    let a = run(&mut w, 7);
    assert_eq!(a, run(&mut w, 7));
    let up = a[4] as f64 / 4000.0;
    assert!((up - 0.8).abs() < 0.03, "{a:?}");
    assert!((a[9] as f64 / 4000.0 - 0.1).abs() < 0.02, "{a:?}");
}

fn base_ref() -> &'static GridWorldConfig {
    static BASE: std::sync::OnceLock<GridWorldConfig> = std::sync::OnceLock::new();
    BASE.get_or_init(|| GridWorld::four_by_three_stochastic().config().clone())
}

#[test]
fn bad_configs_are_rejected() {
    let base = GridWorld::four_by_three_stochastic().config().clone();
    let with = |f: &dyn Fn(&mut GridWorldConfig)| {
        let mut c = base.clone();
        f(&mut c);
        GridWorld::new(c)
    };
    assert!(with(&|c| c.slip = 1.5).is_err());
    assert!(with(&|c| c.slip = f64::NAN).is_err());
    assert!(with(&|c| c.step_reward = f64::INFINITY).is_err());
    assert!(with(&|c| c.map = "...+\n.#\nS...".into()).is_err());
    assert!(with(&|c| c.map = "...+\n.#.-\n....".into()).is_err());
    assert!(with(&|c| c.map = "S..+\n.#.-\nS...".into()).is_err());
    assert!(with(&|c| c.map = "...X\n.#.-\nS...".into()).is_err());
    assert!(with(&|c| c.map = String::new()).is_err());
    assert!(with(&|_| ()).is_ok());
    assert!(GridWorld::four_by_three(-0.1, 0.0).is_err());
    assert!(GridWorld::four_by_three(0.1, f64::NAN).is_err());
    assert_eq!(
        GridWorld::four_by_three(0.2, -0.04).unwrap().config(),
        base_ref()
    );
}

#[test]
fn renders_agent_policy_values_and_path() {
    let mut w = GridWorld::cliff_walking();
    w.reset(Some(0)).unwrap();
    let Frame::Ansi(text) = w.render(RenderMode::Ansi).unwrap() else {
        panic!("expected text");
    };
    assert_eq!(text.lines().nth(3), Some("@CCCCCCCCCCG"));
    let policy = vec![RIGHT as usize; 48];
    assert!(w.render_policy(&policy).starts_with(">>>>"));
    let path = w.follow(|s| if s == 36 { UP as usize } else { RIGHT as usize }, 100);
    assert_eq!(path.len(), 13); // start, up, 11 moves right (then it bumps at the edge)
    assert_eq!(w.render_path(&path).lines().nth(2), Some("************"));
    let g = GridWorld::four_by_three_deterministic();
    let values = g.render_values(&[0.5; 12], 2);
    assert_eq!(values.lines().nth(1), Some("  0.50      #   0.50   0.50"));
}

#[test]
fn registered_ids_make_grid_worlds() {
    use tokengym::registry::{KwArg, MakeOptions};
    use tokengym::space::Value;
    let mut env = crate::make("CliffWalking-v0").unwrap();
    let (obs, _) = env.reset(Some(0)).unwrap();
    assert_eq!(obs, Value::Discrete(36));
    let step = env.step(&Value::Discrete(RIGHT)).unwrap();
    assert_eq!(step.reward, -100.0);
    let mut options = MakeOptions::default();
    options.kwargs.insert("slip".to_string(), KwArg::Float(0.0));
    let mut env = crate::make_with("GridWorld4x3-v0", &options).unwrap();
    env.reset(Some(0)).unwrap();
    let step = env.step(&Value::Discrete(UP)).unwrap();
    assert_eq!((step.obs, step.reward), (Value::Discrete(4), -0.04));
    options.kwargs.insert("slip".to_string(), KwArg::Float(2.0));
    assert!(crate::make_with("GridWorld4x3-v0", &options).is_err());
}

#[test]
fn passes_the_env_checker() {
    let mut env = GridWorld::four_by_three_stochastic();
    let report = tokengym::check_env(&mut env, &Default::default());
    assert!(report.is_ok(), "{report}");
}
