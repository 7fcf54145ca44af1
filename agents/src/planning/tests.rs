use super::*;
use tokengym_envs::toy::GridWorld;

/// State index of Russell & Norvig's 1-based (column, row), row 1 at the bottom of the 4x3 world.
fn rn(col: usize, row: usize) -> usize {
    (3 - row) * 4 + (col - 1)
}

fn close(got: f64, want: f64, tol: f64) {
    assert!((got - want).abs() < tol, "got {got}, want {want}");
}

#[test]
fn value_iteration_deterministic_four_by_three() {
    let world = GridWorld::four_by_three_deterministic();
    let plan = value_iteration(&world, &PlanningConfig::with_gamma(0.9)).unwrap();
    assert!(plan.converged);
    let v = &plan.values;
    close(v[rn(4, 3)], 1.0, 1e-9);
    close(v[rn(3, 3)], 0.9, 1e-3);
    close(v[rn(2, 3)], 0.81, 1e-3);
    close(v[rn(3, 2)], 0.81, 1e-3);
    close(v[rn(1, 1)], 0.59049, 1e-3);
    close(plan.start_value(&world), 0.9f64.powi(5), 1e-9);
    // The greedy path from the start reaches +1 in five moves.
    let path = world.follow(|s| plan.policy[s], 20);
    assert_eq!(path.len(), 6);
    assert_eq!(path.last(), Some(&rn(4, 3)));
}

/// Russell & Norvig, AIMA 3rd ed., Fig. 17.3 (utilities of the 4x3 world, gamma = 1).
const FIG_17_3: [(usize, usize, f64); 9] = [
    (1, 3, 0.812),
    (2, 3, 0.868),
    (3, 3, 0.918),
    (1, 2, 0.762),
    (3, 2, 0.660),
    (1, 1, 0.705),
    (2, 1, 0.655),
    (3, 1, 0.611),
    (4, 1, 0.388),
];

#[test]
fn value_iteration_matches_russell_norvig_figure_17_3() {
    let world = GridWorld::four_by_three_stochastic();
    let plan = value_iteration(&world, &PlanningConfig::with_gamma(1.0)).unwrap();
    assert!(plan.converged);
    for (col, row, want) in FIG_17_3 {
        close(plan.values[rn(col, row)], want, 1e-3);
    }
    close(plan.values[rn(4, 2)], -1.0, 1e-9);
    // AIMA Fig. 17.2(a): from (3,1) the optimal policy goes left (the long way round), and
    // from (3,2) up; from (4,1) left.
    assert_eq!(plan.policy[rn(3, 1)], 3);
    assert_eq!(plan.policy[rn(3, 2)], 0);
    assert_eq!(plan.policy[rn(4, 1)], 3);
}

#[test]
fn policy_iteration_agrees_with_value_iteration() {
    for (world, gamma) in [
        (GridWorld::four_by_three_deterministic(), 0.9),
        (GridWorld::four_by_three_stochastic(), 1.0),
        (GridWorld::four_by_three_stochastic(), 0.9),
        (GridWorld::cliff_walking(), 1.0),
    ] {
        let config = PlanningConfig::with_gamma(gamma);
        let vi = value_iteration(&world, &config).unwrap();
        let pi = policy_iteration(&world, &config).unwrap();
        assert!(pi.converged);
        for s in 0..world.n_states() {
            close(pi.values[s], vi.values[s], 1e-3);
        }
        // Same greedy policy wherever the choice is not a tie.
        for s in 0..world.n_states() {
            let q_vi = q_value(&world, &vi.values, gamma, s, vi.policy[s]);
            let q_pi = q_value(&world, &vi.values, gamma, s, pi.policy[s]);
            close(q_pi, q_vi, 1e-6);
        }
        // Ties (e.g. up-first or right-first in the deterministic 4x3 world) may pick different
        // but equally long paths.
        assert_eq!(
            world.follow(|s| vi.policy[s], 100).len(),
            world.follow(|s| pi.policy[s], 100).len()
        );
    }
    let cliff = GridWorld::cliff_walking();
    let plan = value_iteration(&cliff, &PlanningConfig::with_gamma(1.0)).unwrap();
    close(plan.start_value(&cliff), -13.0, 1e-9); // up, 11 right, down
}

#[test]
fn bad_settings_are_errors_and_sweep_limits_are_reported() {
    let world = GridWorld::four_by_three_stochastic();
    for config in [
        PlanningConfig {
            gamma: 1.5,
            ..Default::default()
        },
        PlanningConfig {
            gamma: f64::NAN,
            ..Default::default()
        },
        PlanningConfig {
            theta: 0.0,
            ..Default::default()
        },
        PlanningConfig {
            max_sweeps: 0,
            ..Default::default()
        },
    ] {
        assert!(value_iteration(&world, &config).is_err());
        assert!(policy_iteration(&world, &config).is_err());
    }
    let short = PlanningConfig {
        max_sweeps: 2,
        ..PlanningConfig::with_gamma(1.0)
    };
    assert!(!value_iteration(&world, &short).unwrap().converged);
}
