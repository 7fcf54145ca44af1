//! The host-side PPO and REINFORCE losses and the action distributions against PyTorch:
//! `fixtures/pg_losses.json` and `fixtures/reinforce_losses.json` were written by
//! `fixtures/gen_pg_losses.py` (torch 2.13, float32 autograd); no Python is needed here.

use serde::Deserialize;
use tokengym_agents::common::OutputGrads;
use tokengym_agents::nn::{ActionDist, ActionHead};
use tokengym_agents::ppo::{PpoBatch, PpoLoss};
use tokengym_agents::reinforce::{ReinforceBatch, ReinforceLoss, ValueTargets, reward_to_go};

/// Absolute tolerance (gradients are O(1/n), losses O(1)).
const ATOL: f32 = 2e-6;
/// Relative tolerance (float32 with a different order of operations than PyTorch's).
const RTOL: f32 = 1e-5;

fn close(what: &str, case: &str, got: f32, want: f32) {
    let tol = ATOL + RTOL * want.abs();
    assert!(
        (got - want).abs() <= tol,
        "{case}: {what}: got {got}, PyTorch {want} (diff {:e}, tol {tol:e})",
        (got - want).abs()
    );
}

fn all_close(what: &str, case: &str, got: &[f32], want: &[f32]) {
    assert_eq!(got.len(), want.len(), "{case}: {what}: length");
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        close(&format!("{what}[{i}]"), case, g, w);
    }
}

#[derive(Deserialize)]
struct PpoFile {
    cases: Vec<PpoCase>,
}

#[derive(Deserialize)]
struct PpoCase {
    name: String,
    head: ActionHead,
    settings: PpoSettings,
    inputs: PpoInputs,
    expected: PpoExpected,
}

#[derive(Deserialize)]
struct PpoSettings {
    clip_range: f32,
    clip_range_vf: Option<f32>,
    ent_coef: f32,
    vf_coef: f32,
    normalize_advantage: bool,
}

#[derive(Deserialize)]
struct PpoInputs {
    policy_out: Vec<f32>,
    log_std: Vec<f32>,
    values: Vec<f32>,
    actions: Vec<f32>,
    old_log_probs: Vec<f32>,
    advantages: Vec<f32>,
    returns: Vec<f32>,
    old_values: Vec<f32>,
}

#[derive(Deserialize)]
struct PpoExpected {
    log_probs: Vec<f32>,
    entropy: Vec<f32>,
    policy_loss: f32,
    value_loss: f32,
    entropy_loss: f32,
    total: f32,
    approx_kl: f32,
    clip_fraction: f32,
    d_policy: Vec<f32>,
    d_values: Vec<f32>,
    d_log_std: Vec<f32>,
}

#[derive(Deserialize)]
struct ReinforceFile {
    cases: Vec<ReinforceCase>,
    reward_to_go: Vec<RewardToGoCase>,
}

#[derive(Deserialize)]
struct ReinforceCase {
    name: String,
    head: ActionHead,
    settings: ReinforceSettings,
    inputs: ReinforceInputs,
    expected: ReinforceExpected,
}

#[derive(Deserialize)]
struct ReinforceSettings {
    ent_coef: f32,
    vf_coef: f32,
    normalize_weights: bool,
}

#[derive(Deserialize)]
struct ReinforceInputs {
    policy_out: Vec<f32>,
    log_std: Vec<f32>,
    actions: Vec<f32>,
    weights: Vec<f32>,
    values: Option<Vec<f32>>,
    returns: Option<Vec<f32>>,
}

#[derive(Deserialize)]
struct ReinforceExpected {
    log_probs: Vec<f32>,
    entropy: Vec<f32>,
    policy_loss: f32,
    value_loss: f32,
    entropy_loss: f32,
    total: f32,
    d_policy: Vec<f32>,
    d_values: Vec<f32>,
    d_log_std: Vec<f32>,
}

#[derive(Deserialize)]
struct RewardToGoCase {
    name: String,
    gamma: f32,
    rewards: Vec<f32>,
    episode_ends: Vec<bool>,
    expected: Vec<f32>,
}

fn ppo_cases() -> Vec<PpoCase> {
    let text = include_str!("fixtures/pg_losses.json");
    serde_json::from_str::<PpoFile>(text).unwrap().cases
}

fn reinforce_file() -> ReinforceFile {
    serde_json::from_str(include_str!("fixtures/reinforce_losses.json")).unwrap()
}

/// Checks the per-row log-probabilities and entropies of `ActionDist` against
/// `torch.distributions`.
fn check_dist(
    name: &str,
    dist: &ActionDist,
    inp: (&[f32], &[f32], &[f32]),
    lp: &[f32],
    ent: &[f32],
) {
    let (out, log_std, actions) = inp;
    let mut got = vec![0.0; lp.len()];
    dist.log_prob(out, log_std, actions, &mut got).unwrap();
    all_close("log_prob", name, &got, lp);
    dist.entropy(out, log_std, &mut got).unwrap();
    all_close("entropy", name, &got, ent);
}

#[test]
fn ppo_loss_matches_pytorch_autograd() {
    let cases = ppo_cases();
    assert!(cases.len() >= 10);
    let mut saw = (false, false, false, false); // categorical, gaussian, vf clipping, n == 1
    for case in &cases {
        let (name, s, inp, exp) = (&case.name, &case.settings, &case.inputs, &case.expected);
        let dist = ActionDist::new(case.head).unwrap();
        check_dist(
            name,
            &dist,
            (&inp.policy_out, &inp.log_std, &inp.actions),
            &exp.log_probs,
            &exp.entropy,
        );
        let loss = PpoLoss {
            clip_range: s.clip_range,
            clip_range_vf: s.clip_range_vf,
            ent_coef: s.ent_coef,
            vf_coef: s.vf_coef,
            normalize_advantage: s.normalize_advantage,
        };
        let batch = PpoBatch {
            policy_out: &inp.policy_out,
            log_std: &inp.log_std,
            values: &inp.values,
            actions: &inp.actions,
            old_log_probs: &inp.old_log_probs,
            advantages: &inp.advantages,
            returns: &inp.returns,
            old_values: &inp.old_values,
        };
        let mut d_policy = vec![f32::NAN; inp.policy_out.len()];
        let mut d_values = vec![f32::NAN; inp.values.len()];
        let mut d_log_std = vec![f32::NAN; inp.log_std.len()];
        let grads = OutputGrads {
            d_policy: &mut d_policy,
            d_values: &mut d_values,
            d_log_std: &mut d_log_std,
        };
        let stats = loss.compute(&dist, &batch, grads).unwrap();
        close("policy_loss", name, stats.policy_loss, exp.policy_loss);
        close("value_loss", name, stats.value_loss, exp.value_loss);
        close("entropy_loss", name, stats.entropy_loss, exp.entropy_loss);
        close("total", name, stats.total, exp.total);
        close("approx_kl", name, stats.approx_kl, exp.approx_kl);
        assert_eq!(
            stats.clip_fraction, exp.clip_fraction,
            "{name}: clip_fraction"
        );
        all_close("d_policy", name, &d_policy, &exp.d_policy);
        all_close("d_values", name, &d_values, &exp.d_values);
        all_close("d_log_std", name, &d_log_std, &exp.d_log_std);
        match case.head {
            ActionHead::Categorical { .. } => saw.0 = true,
            ActionHead::Gaussian { .. } => saw.1 = true,
        }
        saw.2 |= s.clip_range_vf.is_some();
        saw.3 |= inp.values.len() == 1;
    }
    assert_eq!(saw, (true, true, true, true), "fixture coverage");
}

#[test]
fn ppo_first_epoch_ties_give_the_full_gradient() {
    // With ratio 1 everywhere both surrogates tie; PyTorch splits min's gradient 1/2 + 1/2, so
    // the policy gradient is the plain -mean(A ∇log π). A nonzero gradient proves the halves add.
    let case = ppo_cases()
        .into_iter()
        .find(|c| c.name == "cat3_b7_ratio_one_ties")
        .unwrap();
    assert_eq!(case.expected.clip_fraction, 0.0);
    assert!(case.expected.d_policy.iter().any(|g| g.abs() > 1e-3));
}

#[test]
fn reinforce_loss_matches_pytorch_autograd() {
    let file = reinforce_file();
    assert!(file.cases.len() >= 4);
    for case in &file.cases {
        let (name, s, inp, exp) = (&case.name, &case.settings, &case.inputs, &case.expected);
        let dist = ActionDist::new(case.head).unwrap();
        check_dist(
            name,
            &dist,
            (&inp.policy_out, &inp.log_std, &inp.actions),
            &exp.log_probs,
            &exp.entropy,
        );
        let loss = ReinforceLoss {
            ent_coef: s.ent_coef,
            vf_coef: s.vf_coef,
            normalize_weights: s.normalize_weights,
        };
        let critic = match (&inp.values, &inp.returns) {
            (Some(values), Some(returns)) => Some(ValueTargets { values, returns }),
            _ => None,
        };
        let batch = ReinforceBatch {
            policy_out: &inp.policy_out,
            log_std: &inp.log_std,
            actions: &inp.actions,
            weights: &inp.weights,
            critic,
        };
        let n = inp.weights.len();
        let mut d_policy = vec![f32::NAN; inp.policy_out.len()];
        let mut d_values = vec![f32::NAN; n];
        let mut d_log_std = vec![f32::NAN; inp.log_std.len()];
        let grads = OutputGrads {
            d_policy: &mut d_policy,
            d_values: &mut d_values,
            d_log_std: &mut d_log_std,
        };
        let stats = loss.compute(&dist, &batch, grads).unwrap();
        close("policy_loss", name, stats.policy_loss, exp.policy_loss);
        close("value_loss", name, stats.value_loss, exp.value_loss);
        close("entropy_loss", name, stats.entropy_loss, exp.entropy_loss);
        close("total", name, stats.total, exp.total);
        all_close("d_policy", name, &d_policy, &exp.d_policy);
        all_close("d_values", name, &d_values, &exp.d_values);
        all_close("d_log_std", name, &d_log_std, &exp.d_log_std);
    }
}

#[test]
fn reward_to_go_matches_reference() {
    for case in reinforce_file().reward_to_go {
        let mut out = vec![f32::NAN; case.rewards.len()];
        reward_to_go(&case.rewards, &case.episode_ends, case.gamma, &mut out).unwrap();
        all_close("reward_to_go", &case.name, &out, &case.expected);
    }
}
