//! The qualitative result of Sutton & Barto's Figure 2.2 on a small testbed (fast in debug
//! builds): ε-greedy (ε = 0.1) beats greedy, and greedy gets stuck on a suboptimal arm in most
//! runs.

use tokengym_agents::bandit::BanditAgentConfig;
use tokengym_agents::bandit::testbed::{AgentCurves, TestbedConfig, run_testbed};

#[test]
fn epsilon_greedy_beats_greedy_on_the_10_armed_testbed() {
    let agents: Vec<BanditAgentConfig> = ["greedy", "eps:0.1"]
        .iter()
        .map(|s| s.parse().unwrap())
        .collect();
    let config = TestbedConfig {
        runs: 200,
        steps: 500,
        seed: 0,
        ..TestbedConfig::default()
    };
    let result = run_testbed(&config, &agents).unwrap();
    let (greedy, eps) = (&result.agents[0], &result.agents[1]);
    // "At the end": averaged over the last 50 steps to smooth the per-step noise of 200 runs.
    let end = |c: &[f64]| AgentCurves::tail_mean(c, 50);
    let (greedy_reward, eps_reward) = (end(&greedy.mean_reward), end(&eps.mean_reward));
    let (greedy_opt, eps_opt) = (end(&greedy.optimal_fraction), end(&eps.optimal_fraction));
    assert!(
        eps_reward > greedy_reward + 0.1,
        "average reward: eps=0.1 {eps_reward:.3} vs greedy {greedy_reward:.3}"
    );
    assert!(
        eps_opt > greedy_opt + 0.2,
        "% optimal: eps=0.1 {eps_opt:.3} vs greedy {greedy_opt:.3}"
    );
    assert!(
        (0.2..0.5).contains(&greedy_opt),
        "greedy % optimal {greedy_opt:.3}"
    );
    // Both start from chance: about 1/10 optimal on the first pull.
    assert!(greedy.optimal_fraction[0] < 0.25 && eps.optimal_fraction[0] < 0.25);
}
