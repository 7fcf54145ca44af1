//! RL learners for language models on a tiny GPT over a two-letter alphabet: REINFORCE's
//! baselines, PPO's entropy bonus, the learned baseline, the group learner's checks, and the
//! learners on CUDA when there is one.

mod support;

use support::{ab_prompts, ab_rollout, ab_tokenizer, tiny_config, tiny_gpt};

use std::sync::Arc;

use tch::Device;
use tch::nn::VarStore;
use tokengym::seeding::rng_from_seed;
use tokengym_envs::text::FnReward;
use tokengym_lm::decoding::SamplingConfig;
use tokengym_lm::error::Error;
use tokengym_lm::model::Decoder;
use tokengym_lm::rl::{
    FrozenDecoder, OptimConfig, Reinforce, ReinforceConfig, Rollout, RolloutConfig,
};

#[test]
fn reinforce_baseline_is_a_moving_average_of_batch_means() {
    let _torch = support::torch_rng_lock();
    use tokengym_lm::rl::Baseline;
    let (vs, gpt) = tiny_gpt(8, 6);
    let r = ab_rollout(SamplingConfig::default(), true);
    let mut rng = rng_from_seed(Some(5));
    let cfg = ReinforceConfig {
        baseline: Baseline::MovingAverage { decay: 0.5 },
        ..ReinforceConfig::default()
    };
    let mut learner = Reinforce::new(&vs, &gpt, cfg).unwrap();
    assert_eq!(learner.baseline(), None);
    let b1 = r.collect(&gpt, 8, &mut rng).unwrap();
    let s1 = learner.step(&gpt, &b1).unwrap();
    assert_eq!(s1.baseline, b1.mean_reward());
    assert_eq!(learner.baseline(), Some(b1.mean_reward()));
    let b2 = r.collect(&gpt, 8, &mut rng).unwrap();
    let s2 = learner.step(&gpt, &b2).unwrap();
    assert_eq!(s2.baseline, b1.mean_reward());
    let want = 0.5 * b1.mean_reward() + 0.5 * b2.mean_reward();
    assert!((learner.baseline().unwrap() - want).abs() < 1e-12);
    assert!(s2.grad_norm.is_finite() && s2.mean_response_len > 0.0);

    let none = ReinforceConfig {
        baseline: Baseline::None,
        ..ReinforceConfig::default()
    };
    let mut plain = Reinforce::new(&vs, &gpt, none).unwrap();
    assert_eq!(plain.step(&gpt, &b2).unwrap().baseline, 0.0);
    assert_eq!(plain.baseline(), None);
    let bad = ReinforceConfig {
        baseline: Baseline::MovingAverage { decay: 1.0 },
        ..ReinforceConfig::default()
    };
    assert!(Reinforce::new(&vs, &gpt, bad).is_err());
}

#[test]
fn ppo_entropy_bonus_raises_the_policy_entropy() {
    let _torch = support::torch_rng_lock();
    use tokengym_lm::rl::{KlController, Ppo, PpoConfig, batch_stats};
    // The same start and the same constant reward: only the entropy bonus differs.
    let entropy_after = |ent_coef: f64| -> (f64, f64) {
        let (vs, gpt) = tiny_gpt(12, 6);
        let frozen = FrozenDecoder::copy_of(&vs, gpt.config()).unwrap();
        let r = Rollout::new(
            ab_tokenizer(),
            ab_prompts(),
            Arc::new(FnReward::new(|_| 0.0)),
            RolloutConfig {
                max_new_tokens: 6,
                sampling: SamplingConfig::default(),
                add_special_tokens: true,
                stop_at_eos: false,
            },
        )
        .unwrap();
        let cfg = PpoConfig {
            ent_coef,
            kl: KlController::Fixed { beta: 0.0 },
            optim: OptimConfig {
                lr: 3e-3,
                ..OptimConfig::default()
            },
            ..PpoConfig::default()
        };
        let mut learner = Ppo::new(&vs, &gpt, cfg).unwrap();
        let eval = r
            .collect_for(&gpt, &[0, 1, 2, 3, 4], &mut rng_from_seed(Some(9)))
            .unwrap();
        let before = batch_stats(&gpt, frozen.model(), &eval).unwrap().entropy;
        let mut rng = rng_from_seed(Some(4));
        for _ in 0..8 {
            let batch = r.collect(&gpt, 16, &mut rng).unwrap();
            learner
                .step(&gpt, frozen.model(), &batch, &mut rng)
                .unwrap();
        }
        let after = batch_stats(&gpt, frozen.model(), &eval).unwrap().entropy;
        (before, after)
    };
    let (start, plain) = entropy_after(0.0);
    let (start_b, bonus) = entropy_after(0.5);
    assert_eq!(start, start_b);
    // The untrained model is near the maximum (ln 6): the bonus keeps it there, while the
    // PPO updates alone lower it.
    assert!(
        bonus > plain + 0.05 && bonus > start - 0.01,
        "entropy {start:.3} -> {plain:.3} without the bonus, -> {bonus:.3} with it"
    );
    assert!(bonus <= (6f64).ln() + 1e-9);
    let bad = PpoConfig {
        ent_coef: -1.0,
        ..PpoConfig::default()
    };
    let (vs, gpt) = tiny_gpt(12, 6);
    assert!(Ppo::new(&vs, &gpt, bad).is_err());
}

#[test]
fn learned_baseline_predicts_each_prompts_reward() {
    let _torch = support::torch_rng_lock();
    use tokengym_lm::rl::Baseline;
    let (vs, gpt) = tiny_gpt(10, 6);
    // The reward depends on the prompt only: 1 after a prompt starting with 'a', else 0.
    let by_prompt = Arc::new(FnReward::new(|ctx| {
        f64::from(u8::from(ctx.prompt.starts_with('a')))
    }));
    let r = Rollout::new(
        ab_tokenizer(),
        ab_prompts(),
        by_prompt,
        RolloutConfig {
            max_new_tokens: 4,
            sampling: SamplingConfig::default(),
            add_special_tokens: true,
            stop_at_eos: true,
        },
    )
    .unwrap();
    let cfg = ReinforceConfig {
        optim: OptimConfig {
            lr: 3e-3,
            ..OptimConfig::default()
        },
        baseline: Baseline::Learned { vf_coef: 1.0 },
    };
    let mut learner = Reinforce::new(&vs, &gpt, cfg).unwrap();
    assert!(learner.value_head().is_some());
    assert!(vs.variables().contains_key("value_head.weight"));
    let mut rng = rng_from_seed(Some(6));
    let mut first_error = None;
    let mut last_error = 0.0;
    for _ in 0..60 {
        let batch = r.collect(&gpt, 10, &mut rng).unwrap();
        let stats = learner.step(&gpt, &batch).unwrap();
        assert!(stats.loss.is_finite());
        // |mean baseline - mean reward| shrinks as the head learns.
        let err = (stats.baseline - stats.mean_reward).abs();
        first_error.get_or_insert(err);
        last_error = err;
    }
    // The head's values separate the prompts: V("ab") near 1, V("ba") near 0.
    let batch = r
        .collect_for(&gpt, &[2, 3], &mut rng_from_seed(Some(1)))
        .unwrap();
    let (hidden, _) = tch::no_grad(|| {
        gpt.hidden_states(&batch.query_ids, Some(&batch.query_mask), false)
            .unwrap()
    });
    let v = tch::no_grad(|| {
        learner
            .value_head()
            .unwrap()
            .forward(&hidden.select(1, -1))
            .unwrap()
    });
    let (va, vb) = (v.double_value(&[0]), v.double_value(&[1]));
    assert!(va > 0.7 && vb < 0.3, "V(ab) = {va}, V(ba) = {vb}");
    assert!(
        last_error < first_error.unwrap() + 1e-9,
        "{first_error:?} -> {last_error}"
    );
    let bad = ReinforceConfig {
        baseline: Baseline::Learned { vf_coef: 0.0 },
        ..ReinforceConfig::default()
    };
    assert!(Reinforce::new(&vs, &gpt, bad).is_err());
}

#[test]
fn group_learner_needs_whole_groups_and_a_reference_for_kl() {
    let _torch = support::torch_rng_lock();
    use tokengym_lm::rl::{GroupConfig, GroupPolicyGradient};
    let (vs, gpt) = tiny_gpt(9, 6);
    let r = ab_rollout(SamplingConfig::default(), true);
    let batch = r
        .collect_groups(&gpt, 2, 3, &mut rng_from_seed(Some(6)))
        .unwrap();
    let with_kl = GroupConfig {
        group_size: 3,
        kl_beta: 0.1,
        ..GroupConfig::default()
    };
    let mut learner = GroupPolicyGradient::new(&vs, with_kl).unwrap();
    let err = learner.step(&gpt, None::<&Decoder>, &batch).unwrap_err();
    assert!(
        matches!(err, Error::InvalidArgument(ref m) if m.contains("reference")),
        "{err}"
    );
    let fours = GroupConfig {
        group_size: 4,
        ..GroupConfig::default()
    };
    let mut learner = GroupPolicyGradient::new(&vs, fours).unwrap();
    assert!(learner.step(&gpt, None::<&Decoder>, &batch).is_err());
    let frozen = FrozenDecoder::copy_of(&vs, gpt.config()).unwrap();
    let mut learner = GroupPolicyGradient::new(&vs, with_kl).unwrap();
    let stats = learner.step(&gpt, Some(frozen.model()), &batch).unwrap();
    assert!(
        stats.mean_kl.abs() < 1e-6,
        "first step: policy equals reference"
    );
}

/// The whole pipeline on a GPU where one is usable (skipped otherwise, unless
/// `TOKENGYM_REQUIRE_CUDA=1` makes a missing GPU a failure): tensors of the rollout (CPU) meet
/// the model's device in every learner.
#[test]
fn learners_run_on_cuda_when_available() {
    let _torch = support::torch_rng_lock();
    use tokengym_lm::rl::{GroupConfig, GroupPolicyGradient, Ppo, PpoConfig};
    if !tch::Cuda::is_available() {
        let required = std::env::var_os("TOKENGYM_REQUIRE_CUDA").is_some_and(|v| v != "0");
        assert!(
            !required,
            "TOKENGYM_REQUIRE_CUDA is set but CUDA is not usable"
        );
        return;
    }
    tch::manual_seed(0);
    let vs = VarStore::new(Device::Cuda(0));
    let gpt = Decoder::new(&vs.root(), tiny_config(6)).unwrap();
    let frozen = FrozenDecoder::copy_of(&vs, gpt.config()).unwrap();
    let r = ab_rollout(SamplingConfig::new(0.8).unwrap(), true);
    let mut rng = rng_from_seed(Some(0));
    let batch = r.collect_groups(&gpt, 4, 4, &mut rng).unwrap();
    let lp = tch::no_grad(|| batch.log_probs(&gpt)).unwrap();
    assert_eq!(lp.device(), Device::Cuda(0));
    let gap = lp
        .to_device(Device::Cpu)
        .f_sub(&batch.old_log_probs)
        .unwrap()
        .abs()
        .max()
        .double_value(&[]);
    assert!(
        gap < 1e-3,
        "recomputed vs generated log-probs on CUDA: {gap}"
    );
    let mut reinforce = Reinforce::new(&vs, &gpt, ReinforceConfig::default()).unwrap();
    assert!(reinforce.step(&gpt, &batch).unwrap().loss.is_finite());
    let mut group = GroupPolicyGradient::new(
        &vs,
        GroupConfig {
            kl_beta: 0.05,
            ..GroupConfig::default()
        },
    )
    .unwrap();
    assert!(
        group
            .step(&gpt, Some(frozen.model()), &batch)
            .unwrap()
            .mean_kl
            >= 0.0
    );
    let mut ppo = Ppo::new(&vs, &gpt, PpoConfig::default()).unwrap();
    let stats = ppo.step(&gpt, frozen.model(), &batch, &mut rng).unwrap();
    assert!(stats.policy_loss.is_finite() && stats.value_loss.is_finite());
}
