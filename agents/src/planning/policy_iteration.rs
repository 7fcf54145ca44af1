//! Policy iteration: evaluate the current policy, improve it greedily, repeat until stable.

use super::{Plan, PlanningConfig, greedy_action, q_value};
use tokengym::Result;
use tokengym_envs::toy::Mdp;

/// Policy iteration (Sutton & Barto §4.3).
///
/// The first policy is greedy with respect to `V = 0` (the best immediate reward). Each policy
/// is evaluated with in-place sweeps until the largest change is below `config.theta` or
/// `config.max_sweeps` sweeps have run: with `gamma = 1` a policy that never ends has no finite
/// value, and the sweep limit leaves it with a very negative one, which the next improvement
/// abandons. An action replaces the current one only when it is better by more than `1e-12`,
/// so ties cannot make the policy cycle.
pub fn policy_iteration(mdp: &impl Mdp, config: &PlanningConfig) -> Result<Plan> {
    config.validate()?;
    let n = mdp.n_states();
    let mut values = vec![0.0; n];
    let mut policy: Vec<usize> = (0..n)
        .map(|s| greedy_action(mdp, &values, config.gamma, s).0)
        .collect();
    let mut improvements = 0;
    loop {
        let evaluated = evaluate_policy(mdp, &policy, &mut values, config);
        improvements += 1;
        let mut stable = true;
        for (s, action) in policy.iter_mut().enumerate() {
            let current = q_value(mdp, &values, config.gamma, s, *action);
            let (best, q) = greedy_action(mdp, &values, config.gamma, s);
            if q > current + 1e-12 {
                *action = best;
                stable = false;
            }
        }
        if stable || improvements >= config.max_sweeps {
            return Ok(Plan {
                values,
                policy,
                iterations: improvements,
                converged: stable && evaluated,
            });
        }
    }
}

/// Iterative policy evaluation of a deterministic `policy`, starting from `values`; returns
/// whether it converged within the sweep limit.
pub(super) fn evaluate_policy(
    mdp: &impl Mdp,
    policy: &[usize],
    values: &mut [f64],
    config: &PlanningConfig,
) -> bool {
    for _ in 0..config.max_sweeps {
        let mut delta: f64 = 0.0;
        for s in 0..mdp.n_states() {
            let v = q_value(mdp, values, config.gamma, s, policy[s]);
            delta = delta.max((v - values[s]).abs());
            values[s] = v;
        }
        if delta < config.theta {
            return true;
        }
    }
    false
}
