//! Short RL runs on a tiny GPT: REINFORCE and a group baseline must teach it to write the
//! letter 'a' (reward = fraction of generated characters equal to 'a'; chance is about 1/6 of
//! the tokens, the rest being 'b', specials and `<eos>`).

mod support;

use support::{ab_tokenizer, fraction_of_a, tiny_gpt};

use tch::nn::VarStore;
use tokengym::seeding::rng_from_seed;
use tokengym_envs::text::{PromptSet, Tokenizer};
use tokengym_lm::decoding::SamplingConfig;
use tokengym_lm::model::Decoder;
use tokengym_lm::rl::{
    Baseline, FrozenDecoder, GroupBaseline, GroupConfig, GroupPolicyGradient, KlController,
    KlEstimator, OptimConfig, Ppo, PpoConfig, Reinforce, ReinforceConfig, Rollout, RolloutConfig,
};

const MAX_NEW: i64 = 6;
const LR: f64 = 3e-3;

fn setup(seed: i64) -> (VarStore, Decoder, Rollout) {
    let tok = ab_tokenizer();
    let (vs, gpt) = tiny_gpt(seed, tok.vocab_size() as i64);
    let reward = fraction_of_a();
    let prompts = PromptSet::from_texts(["a", "b", "ab", "ba", "bb"]).unwrap();
    let cfg = RolloutConfig {
        max_new_tokens: MAX_NEW,
        sampling: SamplingConfig::new(1.0).unwrap(),
        add_special_tokens: true,
        stop_at_eos: true,
    };
    let rollout = Rollout::new(tok, prompts, reward, cfg).unwrap();
    (vs, gpt, rollout)
}

/// Mean reward of 64 completions of the untrained model (its own RNG, so the training run is
/// unaffected).
fn untrained_reward(gpt: &Decoder, rollout: &Rollout) -> f64 {
    let batch = rollout
        .collect(gpt, 64, &mut rng_from_seed(Some(99)))
        .unwrap();
    batch.mean_reward()
}

fn mean(xs: &[f64]) -> f64 {
    xs.iter().sum::<f64>() / xs.len() as f64
}

#[test]
fn reinforce_learns_to_write_a() {
    let _torch = support::torch_rng_lock();
    let (vs, gpt, rollout) = setup(0);
    let start = untrained_reward(&gpt, &rollout);
    let cfg = ReinforceConfig {
        optim: OptimConfig {
            lr: LR,
            weight_decay: 0.0,
            max_grad_norm: Some(1.0),
        },
        baseline: Baseline::MovingAverage { decay: 0.8 },
    };
    let mut learner = Reinforce::new(&vs, &gpt, cfg).unwrap();
    let mut rng = rng_from_seed(Some(0));
    let mut history = Vec::new();
    for _ in 0..STEPS {
        let batch = rollout.collect(&gpt, 32, &mut rng).unwrap();
        let stats = learner.step(&gpt, &batch).unwrap();
        history.push(stats.mean_reward);
    }
    let end = mean(&history[history.len() - 5..]);
    assert!(start < 0.5, "untrained mean reward {start}");
    assert!(end > 0.8, "REINFORCE: mean reward {start:.3} -> {end:.3}");
}

const STEPS: usize = 40;

#[test]
fn group_baseline_with_kl_learns_to_write_a() {
    let _torch = support::torch_rng_lock();
    let (vs, gpt, rollout) = setup(1);
    let start = untrained_reward(&gpt, &rollout);
    let reference = FrozenDecoder::copy_of(&vs, gpt.config()).unwrap();
    let cfg = GroupConfig {
        group_size: 4,
        baseline: GroupBaseline::LeaveOneOut,
        scale_by_std: true,
        std_eps: 1e-4,
        kl_beta: 0.01,
        kl_estimator: KlEstimator::K3,
        optim: OptimConfig {
            lr: LR,
            weight_decay: 0.0,
            max_grad_norm: Some(1.0),
        },
    };
    let mut learner = GroupPolicyGradient::new(&vs, cfg).unwrap();
    let mut rng = rng_from_seed(Some(1));
    let mut history = Vec::new();
    for _ in 0..STEPS {
        let batch = rollout.collect_groups(&gpt, 8, 4, &mut rng).unwrap();
        let stats = learner.step(&gpt, Some(reference.model()), &batch).unwrap();
        assert!(stats.mean_kl >= 0.0, "k3 is never negative");
        history.push(stats.mean_reward);
    }
    let end = mean(&history[history.len() - 5..]);
    assert!(start < 0.5, "untrained mean reward {start}");
    assert!(
        end > 0.8,
        "group baseline: mean reward {start:.3} -> {end:.3}"
    );
}

#[test]
fn ppo_with_adaptive_kl_learns_to_write_a() {
    let _torch = support::torch_rng_lock();
    let (vs, gpt, rollout) = setup(2);
    let start = untrained_reward(&gpt, &rollout);
    let reference = FrozenDecoder::copy_of(&vs, gpt.config()).unwrap();
    let cfg = PpoConfig {
        epochs: 2,
        minibatch_size: 16,
        whiten_scores: true,
        kl: KlController::Adaptive {
            beta: 0.02,
            target: 6.0,
            horizon: 10_000.0,
        },
        optim: OptimConfig {
            lr: LR,
            weight_decay: 0.0,
            max_grad_norm: Some(1.0),
        },
        ..PpoConfig::default()
    };
    let mut learner = Ppo::new(&vs, &gpt, cfg).unwrap();
    let mut rng = rng_from_seed(Some(2));
    let mut history = Vec::new();
    for i in 0..PPO_STEPS {
        let batch = rollout.collect(&gpt, 32, &mut rng).unwrap();
        let beta = learner.beta();
        let stats = learner
            .step(&gpt, reference.model(), &batch, &mut rng)
            .unwrap();
        if i == 0 {
            assert!(
                stats.mean_kl.abs() < 1e-5,
                "the policy starts at the reference"
            );
            assert!(learner.beta() < beta, "KL below target lowers beta");
        }
        history.push(stats.mean_reward);
    }
    let end = mean(&history[history.len() - 5..]);
    assert!(start < 0.5, "untrained mean reward {start}");
    assert!(end > 0.8, "PPO: mean reward {start:.3} -> {end:.3}");
}

const PPO_STEPS: usize = 25;
