use super::*;
use crate::planning::{PlanningConfig, q_value, value_iteration};
use std::collections::BTreeMap;
use tokengym::agent::EpisodeRecorder;
use tokengym_envs::toy::gridworld::{DOWN, LEFT, RIGHT, UP};
use tokengym_envs::toy::{GridWorld, GridWorldConfig, Mdp, TerminalReward};

/// `S . G` in one row: no step reward, +1 for entering G.
fn chain() -> GridWorld {
    GridWorld::new(GridWorldConfig {
        map: "S.G".into(),
        terminal_rewards: BTreeMap::from([('G', 1.0)]),
        step_reward: 0.0,
        cliff_reward: 0.0,
        slip: 0.0,
        terminal_reward: TerminalReward::OnEntry,
    })
    .unwrap()
}

#[test]
fn q_learning_converges_to_q_star_on_a_chain() {
    let env = chain();
    let config = TdConfig {
        gamma: 0.9,
        epsilon: 1.0,
        ..TdConfig::new(TdMethod::QLearning, 5)
    };
    let mut agent = TdAgent::new(env.clone(), config).unwrap();
    agent.learn_episodes(2000, &mut ()).unwrap();
    let q = agent.q();
    // By hand: Q*(1, right) = 1; V*(1) = 1, V*(0) = 0.9.
    // Q*(0, right) = 0.9 * V*(1) = 0.9; bumping (up, down, left) stays: 0.9 * V*(0) = 0.81.
    // Q*(1, left) = 0.9 * V*(0) = 0.81; Q*(1, up/down) = 0.9 * V*(1) = 0.9.
    let want = [
        (0, RIGHT, 0.9),
        (0, LEFT, 0.81),
        (0, UP, 0.81),
        (0, DOWN, 0.81),
        (1, RIGHT, 1.0),
        (1, LEFT, 0.81),
        (1, UP, 0.9),
        (1, DOWN, 0.9),
        (2, RIGHT, 0.0),
    ];
    for (s, a, v) in want {
        let got = q.get(s, a as usize).unwrap();
        assert!((got - v).abs() < 1e-4, "Q({s}, {a}) = {got}, want {v}");
    }
    // The same numbers from the planner.
    let plan = value_iteration(&env, &PlanningConfig::with_gamma(0.9)).unwrap();
    for s in 0..2 {
        for a in 0..4 {
            let star = q_value(&env, &plan.values, 0.9, s, a);
            assert!((q.get(s, a).unwrap() - star).abs() < 1e-4);
        }
    }
}

fn greedy_cliff_path(method: TdMethod) -> (Vec<usize>, Vec<f64>) {
    let env = GridWorld::cliff_walking();
    let mut agent = TdAgent::new(env.clone(), TdConfig::new(method, 0)).unwrap();
    let episodes = agent.learn_episodes(500, &mut ()).unwrap();
    let policy = agent.q().greedy_policy();
    let path = env.follow(|s| policy[s], 100);
    (path, episodes.iter().map(|e| e.ret).collect())
}

/// Row 2 cells above the cliff (columns 1 to 10) are 25..=34.
fn hugs_the_cliff(path: &[usize]) -> bool {
    (25..=34).all(|s| path.contains(&s))
}

fn touches_the_cliff_edge(path: &[usize]) -> bool {
    path.iter().any(|s| (25..=34).contains(s))
}

#[test]
fn q_learning_walks_the_cliff_edge_sarsa_keeps_away() {
    let (q_path, q_returns) = greedy_cliff_path(TdMethod::QLearning);
    assert!(hugs_the_cliff(&q_path), "{q_path:?}");
    assert_eq!(q_path.len(), 14); // start, 12 cells of row 2, goal
    assert_eq!(q_path.last(), Some(&47));

    let (s_path, s_returns) = greedy_cliff_path(TdMethod::Sarsa);
    assert!(!touches_the_cliff_edge(&s_path), "{s_path:?}");
    assert_eq!(s_path.last(), Some(&47));

    let (e_path, _) = greedy_cliff_path(TdMethod::ExpectedSarsa);
    assert!(!touches_the_cliff_edge(&e_path), "{e_path:?}");
    assert_eq!(e_path.last(), Some(&47));

    // Sutton & Barto Fig. 6.4: SARSA's online returns beat Q-learning's.
    let late = |r: &[f64]| r[250..].iter().sum::<f64>() / 250.0;
    assert!(
        late(&s_returns) > late(&q_returns),
        "{} vs {}",
        late(&s_returns),
        late(&q_returns)
    );
}

#[test]
fn learning_is_reproducible_and_callbacks_stop_it() {
    let run = || {
        let env = GridWorld::cliff_walking();
        let mut agent = TdAgent::new(env.clone(), TdConfig::new(TdMethod::Sarsa, 9)).unwrap();
        agent.learn_episodes(30, &mut ()).unwrap();
        agent.q().clone()
    };
    assert_eq!(run(), run());

    let env = GridWorld::cliff_walking();
    let mut agent = TdAgent::new(env.clone(), TdConfig::new(TdMethod::QLearning, 1)).unwrap();
    let mut recorder = EpisodeRecorder::stop_at_mean_return(f64::NEG_INFINITY, 3);
    agent.learn_episodes(100, &mut recorder).unwrap();
    assert_eq!(recorder.episodes.len(), 3);

    // Agent::learn counts steps, in total.
    struct Count(u64);
    impl Callback for Count {
        fn on_step(&mut self, _e: &StepEvent) -> std::ops::ControlFlow<()> {
            self.0 += 1;
            std::ops::ControlFlow::Continue(())
        }
    }
    let mut count = Count(0);
    let before = agent.progress().steps;
    agent
        .learn(Budget::Steps(before + 250), &mut count)
        .unwrap();
    assert_eq!(count.0, 250);
    assert_eq!(agent.progress().steps, before + 250);
}

#[test]
fn save_load_round_trip_and_errors() {
    let env = GridWorld::cliff_walking();
    let mut agent = TdAgent::new(env.clone(), TdConfig::new(TdMethod::QLearning, 2)).unwrap();
    agent.learn_episodes(20, &mut ()).unwrap();
    let dir = std::env::temp_dir().join(format!("tg-td-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("q.json");
    agent.save(&path).unwrap();
    let mut fresh = TdAgent::new(env.clone(), TdConfig::new(TdMethod::Sarsa, 3)).unwrap();
    fresh.restore(&path).unwrap();
    assert_eq!(fresh.progress(), agent.progress());
    assert_eq!(fresh.q(), agent.q());
    assert_eq!(fresh.config().method, TdMethod::QLearning);
    for s in [36, 24, 12] {
        assert_eq!(
            fresh.act(&(s as i64), true).unwrap(),
            agent.q().argmax(s) as i64
        );
    }
    // A table of another size, garbage, a missing file: errors.
    let small = chain();
    let mut other = TdAgent::new(small.clone(), TdConfig::new(TdMethod::Sarsa, 3)).unwrap();
    assert!(other.restore(&path).is_err());
    std::fs::write(dir.join("bad.json"), "{").unwrap();
    assert!(fresh.restore(&dir.join("bad.json")).is_err());
    assert!(fresh.restore(&dir.join("missing.json")).is_err());
    assert!(fresh.act(&48, true).is_err());
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(env.n_states() == 48);
}

#[test]
fn bad_hyperparameters_are_rejected() {
    let env = chain();
    for config in [
        TdConfig {
            alpha: 0.0,
            ..TdConfig::new(TdMethod::Sarsa, 0)
        },
        TdConfig {
            alpha: f64::NAN,
            ..TdConfig::new(TdMethod::Sarsa, 0)
        },
        TdConfig {
            gamma: 1.1,
            ..TdConfig::new(TdMethod::Sarsa, 0)
        },
        TdConfig {
            epsilon: -0.1,
            ..TdConfig::new(TdMethod::Sarsa, 0)
        },
        TdConfig {
            initial_q: f64::INFINITY,
            ..TdConfig::new(TdMethod::Sarsa, 0)
        },
    ] {
        assert!(TdAgent::new(env.clone(), config).is_err());
    }
}
