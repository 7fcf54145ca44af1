//! Value iteration: repeated Bellman optimality backups until the values stop moving.

use super::{Plan, PlanningConfig, greedy_action, greedy_policy};
use tokengym::Result;
use tokengym_envs::toy::Mdp;

/// Value iteration (in place, Gauss-Seidel sweeps): `V(s) <- max_a Q(s, a)` until the largest
/// change in a sweep is below `config.theta`, then the greedy policy.
///
/// ```
/// use tokengym_agents::planning::{value_iteration, PlanningConfig};
/// use tokengym_envs::toy::{GridWorld, Mdp};
/// let world = GridWorld::four_by_three_deterministic();
/// let plan = value_iteration(&world, &PlanningConfig::with_gamma(0.9))?;
/// assert!((plan.start_value(&world) - 0.9f64.powi(5)).abs() < 1e-9);
/// # Ok::<(), tokengym::Error>(())
/// ```
pub fn value_iteration(mdp: &impl Mdp, config: &PlanningConfig) -> Result<Plan> {
    config.validate()?;
    let mut values = vec![0.0; mdp.n_states()];
    let mut sweeps = 0;
    let mut converged = false;
    while sweeps < config.max_sweeps {
        sweeps += 1;
        let mut delta: f64 = 0.0;
        for s in 0..mdp.n_states() {
            let (_, best) = greedy_action(mdp, &values, config.gamma, s);
            delta = delta.max((best - values[s]).abs());
            values[s] = best;
        }
        if delta < config.theta {
            converged = true;
            break;
        }
    }
    let policy = greedy_policy(mdp, &values, config.gamma);
    Ok(Plan {
        values,
        policy,
        iterations: sweeps,
        converged,
    })
}
