//! RL for language models: rollouts, recomputed log-probs, KL, entropy, batch statistics, masks
//! and error paths on a tiny GPT over a two-letter alphabet (the learners: lm_rl_learners.rs).

mod support;

use support::{ab_prompts, ab_rollout, ab_tokenizer, fraction_of_a, tiny_gpt};

use std::sync::Arc;

use tch::{Device, Kind, Tensor};
use tokengym::seeding::rng_from_seed;
use tokengym_envs::text::{FnReward, Prompt, PromptSet, RewardFn};
use tokengym_lm::decoding::SamplingConfig;
use tokengym_lm::error::Error;
use tokengym_lm::rl::{
    FrozenDecoder, KlEstimator, LmOptimizer, OptimConfig, Reinforce, ReinforceConfig, Rollout,
    RolloutConfig, kl_per_token, response_log_probs, response_log_probs_and_entropy,
};

fn host_f32(t: &Tensor) -> Vec<f32> {
    Vec::<f32>::try_from(t.to_kind(Kind::Float).reshape([-1])).unwrap()
}

fn host_i64(t: &Tensor) -> Vec<i64> {
    Vec::<i64>::try_from(t.reshape([-1])).unwrap()
}

#[test]
fn rollout_batches_are_reproducible_per_seed() {
    let _torch = support::torch_rng_lock();
    let (_vs, gpt) = tiny_gpt(0, 6);
    let r = ab_rollout(SamplingConfig::new(1.0).unwrap(), true);
    let a = r.collect(&gpt, 12, &mut rng_from_seed(Some(7))).unwrap();
    let b = r.collect(&gpt, 12, &mut rng_from_seed(Some(7))).unwrap();
    let c = r.collect(&gpt, 12, &mut rng_from_seed(Some(8))).unwrap();
    assert_eq!(host_i64(&a.response), host_i64(&b.response));
    assert_eq!(a.completions, b.completions);
    assert_eq!(a.reward_values, b.reward_values);
    assert_eq!(a.prompt_indices, b.prompt_indices);
    assert_eq!(host_f32(&a.old_log_probs), host_f32(&b.old_log_probs));
    assert!(
        a.completions != c.completions || a.prompt_indices != c.prompt_indices,
        "another seed gives another batch"
    );
    assert_eq!(a.len(), 12);
    assert_eq!(a.query_ids.size()[0], 12);
    assert_eq!(a.rewards.size(), [12]);
}

#[test]
fn masks_zero_everything_after_eos() {
    let _torch = support::torch_rng_lock();
    let (_vs, gpt) = tiny_gpt(1, 6);
    let r = ab_rollout(SamplingConfig::new(1.0).unwrap(), false);
    let batch = r.collect(&gpt, 32, &mut rng_from_seed(Some(3))).unwrap();
    let n = batch.response.size()[1] as usize;
    let toks = host_i64(&batch.response);
    let mask = host_f32(&batch.response_mask);
    let lps = host_f32(&batch.old_log_probs);
    let mut saw_eos = false;
    for row in 0..batch.len() {
        let eos_at = (0..n).find(|&j| toks[row * n + j] == 3);
        assert_eq!(batch.finished[row], eos_at.is_some());
        let real = eos_at.map_or(n, |j| j + 1);
        for j in 0..n {
            let i = row * n + j;
            if j < real {
                assert_eq!(mask[i], 1.0);
                assert!(lps[i] <= 0.0);
            } else {
                saw_eos = true;
                assert_eq!(mask[i], 0.0, "row {row} col {j} after eos");
                assert_eq!(lps[i], 0.0);
                assert_eq!(toks[i], r.pad_token_id());
            }
        }
        // <bos> and <pad> decode to nothing; 'a', 'b' and <unk> to one character each.
        let visible = (0..real)
            .filter(|&j| matches!(toks[row * n + j], 0 | 1 | 5))
            .count();
        assert_eq!(batch.completions[row].chars().count(), visible);
    }
    assert!(
        saw_eos,
        "an untrained model emits <eos> somewhere in 32 rows"
    );
    // Recomputed log-probs are zero after EOS as well.
    let lp = tch::no_grad(|| batch.log_probs(&gpt)).unwrap();
    for (v, m) in host_f32(&lp).iter().zip(&mask) {
        if *m == 0.0 {
            assert_eq!(*v, 0.0);
        }
    }
}

fn recompute_gap(sampling: SamplingConfig, recompute_with: SamplingConfig) -> f64 {
    let (_vs, gpt) = tiny_gpt(2, 6);
    let r = ab_rollout(sampling, true);
    let batch = r.collect(&gpt, 16, &mut rng_from_seed(Some(11))).unwrap();
    let lp = tch::no_grad(|| {
        response_log_probs(
            &gpt,
            &batch.query_ids,
            &batch.query_mask,
            &batch.response,
            &batch.response_mask,
            &recompute_with,
        )
    })
    .unwrap();
    lp.f_sub(&batch.old_log_probs)
        .unwrap()
        .abs()
        .max()
        .double_value(&[])
}

#[test]
fn recomputed_log_probs_match_generation_under_the_same_temperature() {
    let _torch = support::torch_rng_lock();
    let t07 = SamplingConfig::new(0.7).unwrap();
    assert!(recompute_gap(t07, t07) < 1e-4);
    let t15 = SamplingConfig::new(1.5).unwrap();
    assert!(recompute_gap(t15, t15) < 1e-4);
    let rep = SamplingConfig::new(0.8)
        .unwrap()
        .with_repetition_penalty(1.3)
        .unwrap();
    assert!(recompute_gap(rep, rep) < 1e-4);
    // The classic bug: recomputing at T = 1 what was sampled at T = 0.7.
    assert!(recompute_gap(t07, SamplingConfig::default()) > 1e-2);
}

#[test]
fn kl_of_the_policy_to_its_frozen_copy_is_zero() {
    let _torch = support::torch_rng_lock();
    let (vs, gpt) = tiny_gpt(4, 6);
    let frozen = FrozenDecoder::copy_of(&vs, gpt.config()).unwrap();
    let r = ab_rollout(SamplingConfig::new(0.9).unwrap(), true);
    let batch = r.collect(&gpt, 8, &mut rng_from_seed(Some(1))).unwrap();
    let args = (
        &batch.query_ids,
        &batch.query_mask,
        &batch.response,
        &batch.response_mask,
    );
    let lp = response_log_probs(&gpt, args.0, args.1, args.2, args.3, &batch.sampling).unwrap();
    let lp_ref = tch::no_grad(|| {
        response_log_probs(
            frozen.model(),
            args.0,
            args.1,
            args.2,
            args.3,
            &batch.sampling,
        )
    })
    .unwrap();
    for est in [KlEstimator::K3, KlEstimator::LogRatio] {
        let kl = kl_per_token(&lp, &lp_ref, &batch.response_mask, est).unwrap();
        assert!(kl.abs().max().double_value(&[]) < 1e-6);
    }
}

#[test]
fn mismatched_vocab_and_too_long_prompts_are_clear_errors() {
    let _torch = support::torch_rng_lock();
    // The tokenizer has 6 tokens, the model only 4.
    let (_vs, small) = tiny_gpt(0, 4);
    let r = ab_rollout(SamplingConfig::default(), false);
    let err = r
        .collect(&small, 2, &mut rng_from_seed(Some(0)))
        .unwrap_err();
    assert!(
        matches!(err, Error::InvalidArgument(ref m) if m.contains("vocabulary")),
        "{err}"
    );

    let (_vs, gpt) = tiny_gpt(0, 6);
    let long = PromptSet::from_texts(["ab".repeat(13)]).unwrap();
    let cfg = RolloutConfig {
        max_new_tokens: 8,
        ..RolloutConfig::default()
    };
    let r = Rollout::new(ab_tokenizer(), long, fraction_of_a(), cfg).unwrap();
    let err = r.collect(&gpt, 1, &mut rng_from_seed(Some(0))).unwrap_err();
    assert!(
        matches!(err, Error::InvalidArgument(ref m) if m.contains("context")),
        "{err}"
    );

    // An empty prompt set cannot be built; an empty prompt without <bos> is refused.
    assert!(PromptSet::new(vec![]).is_err());
    let empty = PromptSet::new(vec![Prompt::new("")]).unwrap();
    assert!(Rollout::new(ab_tokenizer(), empty.clone(), fraction_of_a(), cfg).is_err());
    let with_bos = RolloutConfig {
        add_special_tokens: true,
        ..cfg
    };
    assert!(Rollout::new(ab_tokenizer(), empty, fraction_of_a(), with_bos).is_ok());
    let zero = RolloutConfig {
        max_new_tokens: 0,
        ..cfg
    };
    assert!(Rollout::new(ab_tokenizer(), ab_prompts(), fraction_of_a(), zero).is_err());
    assert!(r.collect(&gpt, 0, &mut rng_from_seed(Some(0))).is_err());
}

#[test]
fn non_finite_losses_and_rewards_are_clear_errors() {
    let _torch = support::torch_rng_lock();
    let (vs, gpt) = tiny_gpt(5, 6);
    let mut opt = LmOptimizer::new(&vs, OptimConfig::default()).unwrap();
    let before = host_f32(&vs.trainable_variables()[0]);
    let nan = Tensor::from(f64::NAN);
    assert!(matches!(opt.step(&nan), Err(Error::NonFinite(_))));
    assert_eq!(host_f32(&vs.trainable_variables()[0]), before);

    let r = ab_rollout(SamplingConfig::default(), true);
    let mut batch = r.collect(&gpt, 4, &mut rng_from_seed(Some(2))).unwrap();
    batch.rewards = Tensor::from_slice(&[f32::NAN, 0.0, 1.0, 0.5]);
    let mut learner = Reinforce::new(&vs, &gpt, ReinforceConfig::default()).unwrap();
    let err = learner.step(&gpt, &batch).unwrap_err();
    assert!(matches!(err, Error::NonFinite(_)), "{err}");
    assert_eq!(host_f32(&vs.trainable_variables()[0]), before);

    let bad: Arc<dyn RewardFn> = Arc::new(FnReward::new(|_| f64::INFINITY));
    let cfg = RolloutConfig {
        max_new_tokens: 4,
        ..RolloutConfig::default()
    };
    let r = Rollout::new(ab_tokenizer(), ab_prompts(), bad, cfg).unwrap();
    let err = r.collect(&gpt, 2, &mut rng_from_seed(Some(0))).unwrap_err();
    assert!(matches!(err, Error::NonFinite(_)), "{err}");
}

#[test]
fn hidden_states_feed_the_lm_head_and_the_value_head() {
    let _torch = support::torch_rng_lock();
    use tokengym_lm::model::CausalLm;
    use tokengym_lm::rl::ValueHead;
    let (vs, gpt) = tiny_gpt(6, 6);
    let toks = Tensor::from_slice(&[4i64, 0, 1, 2, 0, 1]).reshape([2, 3]);
    let mask = Tensor::from_slice(&[0i64, 1, 1, 1, 1, 1]).reshape([2, 3]);
    let (hidden, logits) = tch::no_grad(|| gpt.hidden_states(&toks, Some(&mask), false)).unwrap();
    assert_eq!(hidden.size(), [2, 3, 32]);
    let direct = tch::no_grad(|| gpt.logits(&toks, Some(&mask))).unwrap();
    assert!(logits.allclose(&direct, 1e-6, 1e-6, false));
    let head = ValueHead::new(&(vs.root() / "value_head"), 32).unwrap();
    let (values, _) = head.values_and_logits(&gpt, &toks, &mask, 2, 1).unwrap();
    assert_eq!(values.size(), [2, 1]);
    assert!(
        head.forward(&Tensor::zeros([2, 5], (Kind::Float, Device::Cpu)))
            .is_err()
    );
}

#[test]
fn groups_are_consecutive_and_rewards_see_ids_targets_and_eos() {
    let _torch = support::torch_rng_lock();
    let (_vs, gpt) = tiny_gpt(7, 6);
    let set = PromptSet::from_pairs([("a", "x"), ("b", "y"), ("ab", "z")]).unwrap();
    // 1 when the reward context is consistent: target of the prompt, no <eos> in the ids,
    // prompt ids start with <bos>.
    let check: Arc<dyn RewardFn> = Arc::new(FnReward::new(|ctx| {
        let want = match ctx.prompt {
            "a" => "x",
            "b" => "y",
            _ => "z",
        };
        let ok = ctx.target == Some(want)
            && !ctx.completion_ids.contains(&3)
            && ctx.prompt_ids.first() == Some(&2)
            && ctx.prompt_ids.len() == ctx.prompt.len() + 1;
        f64::from(u8::from(ok)) + if ctx.finished { 10.0 } else { 0.0 }
    }));
    let cfg = RolloutConfig {
        max_new_tokens: 6,
        add_special_tokens: true,
        ..RolloutConfig::default()
    };
    let r = Rollout::new(ab_tokenizer(), set, check, cfg).unwrap();
    let batch = r
        .collect_groups(&gpt, 5, 3, &mut rng_from_seed(Some(4)))
        .unwrap();
    assert_eq!(batch.len(), 15);
    for g in batch.prompt_indices.chunks(3) {
        assert!(g.iter().all(|&i| i == g[0]));
    }
    for (row, &rew) in batch.reward_values.iter().enumerate() {
        assert_eq!(
            rew.rem_euclid(10.0),
            1.0,
            "row {row}: inconsistent reward context"
        );
        assert_eq!(rew >= 10.0, batch.finished[row]);
    }
    assert!(
        r.collect_groups(&gpt, 2, 0, &mut rng_from_seed(Some(0)))
            .is_err()
    );
}

#[test]
fn top_k_and_top_p_recompute_exactly_for_the_generating_model() {
    let _torch = support::torch_rng_lock();
    let s = SamplingConfig::new(0.9)
        .unwrap()
        .with_top_k(4)
        .unwrap()
        .with_top_p(0.95)
        .unwrap();
    assert!(recompute_gap(s, s) < 1e-4);
}

#[test]
fn entropy_is_that_of_the_processed_distribution_and_zero_after_eos() {
    let _torch = support::torch_rng_lock();
    let (_vs, gpt) = tiny_gpt(6, 6);
    let t = SamplingConfig::new(0.8).unwrap();
    let r = ab_rollout(t, true);
    let batch = r.collect(&gpt, 8, &mut rng_from_seed(Some(2))).unwrap();
    let args = (
        &batch.query_ids,
        &batch.query_mask,
        &batch.response,
        &batch.response_mask,
    );
    let (lp, ent) =
        response_log_probs_and_entropy(&gpt, args.0, args.1, args.2, args.3, &t).unwrap();
    let lp_only = response_log_probs(&gpt, args.0, args.1, args.2, args.3, &t).unwrap();
    assert!(lp.f_sub(&lp_only).unwrap().abs().max().double_value(&[]) < 1e-6);
    // Reference: the entropy of softmax(logits / T) at each response position, by hand.
    let tokens = Tensor::cat(&[&batch.query_ids, &batch.response], 1);
    let mask = Tensor::cat(
        &[
            &batch.query_mask.to_kind(Kind::Int64),
            &batch.response_mask.to_kind(Kind::Int64),
        ],
        1,
    );
    let (qt, n) = (batch.query_ids.size()[1], batch.response.size()[1]);
    use tokengym_lm::model::CausalLm;
    let logits = tch::no_grad(|| gpt.logits(&tokens, Some(&mask)).unwrap());
    let x = logits.narrow(1, qt - 1, n) / 0.8;
    let p = x.softmax(-1, Kind::Double);
    let manual = -(&p * p.log()).sum_dim_intlist(-1, false, Kind::Double)
        * batch.response_mask.to_kind(Kind::Double);
    let gap = ent.to_kind(Kind::Double).f_sub(&manual).unwrap();
    assert!(gap.abs().max().double_value(&[]) < 1e-4);
    let ent_sum = ent.sum(Kind::Double).double_value(&[]);
    assert!(ent_sum > 0.0);
    let after_eos = ent
        .masked_select(&batch.response_mask.eq(0))
        .abs()
        .sum(Kind::Double);
    assert_eq!(after_eos.double_value(&[]), 0.0);
    // Top-k 1 leaves a single candidate: zero entropy everywhere.
    let k1 = SamplingConfig::new(1.0).unwrap().with_top_k(1).unwrap();
    let (_, ent1) =
        response_log_probs_and_entropy(&gpt, args.0, args.1, args.2, args.3, &k1).unwrap();
    assert!(ent1.abs().max().double_value(&[]) < 1e-6);
}

#[test]
fn batch_stats_measure_kl_entropy_and_reference_perplexity() {
    let _torch = support::torch_rng_lock();
    use tokengym_lm::rl::batch_stats;
    let (vs, gpt) = tiny_gpt(8, 6);
    let frozen = FrozenDecoder::copy_of(&vs, gpt.config()).unwrap();
    let (_other_vs, other) = tiny_gpt(9, 6);
    let t = SamplingConfig::new(0.8).unwrap();
    let batch = ab_rollout(t, true)
        .collect(&gpt, 8, &mut rng_from_seed(Some(3)))
        .unwrap();
    let same = batch_stats(&gpt, frozen.model(), &batch).unwrap();
    assert!(same.kl.abs() < 1e-5, "{same:?}");
    assert!(same.entropy > 0.0 && same.entropy <= (6f64).ln() + 1e-9);
    let tokens = batch.response_mask.sum(Kind::Double).double_value(&[]);
    assert!((same.mean_response_len - tokens / 8.0).abs() < 1e-12);
    // Perplexity under the reference's raw distribution (T = 1), not the sampling one.
    let raw = response_log_probs(
        frozen.model(),
        &batch.query_ids,
        &batch.query_mask,
        &batch.response,
        &batch.response_mask,
        &SamplingConfig::default(),
    )
    .unwrap();
    let ppl = (-raw.sum(Kind::Double).double_value(&[]) / tokens).exp();
    assert!((same.reference_perplexity - ppl).abs() < 1e-6 * ppl);
    // Another model as the reference: a nonzero KL, the same policy entropy.
    let diff = batch_stats(&gpt, &other, &batch).unwrap();
    assert!(diff.kl.abs() > 1e-3);
    assert!((diff.entropy - same.entropy).abs() < 1e-9);
    assert_ne!(diff.reference_perplexity, same.reference_perplexity);
}
