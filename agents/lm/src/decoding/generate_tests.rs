//! Tests of [`crate::decoding::generate`] on the toy models of [`crate::test_models`].

use tch::{Device, Kind, Tensor};
use tokengym::seeding::{EnvRng, rng_from_seed};

use crate::decoding::generate::*;
use crate::decoding::logits_processing::{SamplingConfig, apply_top_k, apply_top_p};
use crate::decoding::stop_tokens::StopTokens;
use crate::error::Error;
use crate::model::causal_lm::CausalLm;
use crate::test_models::ToyLm;

const V: i64 = 9;

/// Three left-padded prompts of lengths 3, 1 and 4.
fn prompts() -> (Tensor, Tensor) {
    let tokens = Tensor::from_slice(&[0i64, 4, 1, 7, 0, 0, 0, 3, 2, 5, 8, 6]).reshape([3, 4]);
    let mask = Tensor::from_slice(&[0i64, 1, 1, 1, 0, 0, 0, 1, 1, 1, 1, 1]).reshape([3, 4]);
    (tokens, mask)
}

fn run(lm: &ToyLm, cfg: &GenerateConfig, seed: u64) -> Generation {
    let (tokens, mask) = prompts();
    generate(
        lm,
        &tokens,
        Some(&mask),
        cfg,
        &mut rng_from_seed(Some(seed)),
    )
    .unwrap()
}

fn host_i(t: &Tensor) -> Vec<i64> {
    to_host_i64(t).unwrap()
}

fn sample_cfg(s: SamplingConfig) -> GenerateConfig {
    GenerateConfig::sample(8, s)
}

#[test]
fn top_k_one_and_tiny_temperature_equal_greedy() {
    let lm = ToyLm::random(V, 16, 2.0, 1);
    let greedy = run(&lm, &GenerateConfig::greedy(8), 0);
    let top1 = sample_cfg(SamplingConfig::new(1.0).unwrap().with_top_k(1).unwrap());
    let cold = sample_cfg(SamplingConfig::new(1e-4).unwrap());
    for seed in 0..5 {
        let g = run(&lm, &top1, seed);
        assert_eq!(
            host_i(&g.tokens),
            host_i(&greedy.tokens),
            "top-1, seed {seed}"
        );
        // A one-token distribution: every chosen token has probability 1.
        assert!(g.log_probs.abs().max().double_value(&[]) < 1e-6);
        let c = run(&lm, &cold, seed);
        assert_eq!(
            host_i(&c.tokens),
            host_i(&greedy.tokens),
            "T = 1e-4, seed {seed}"
        );
    }
}

#[test]
fn sampled_tokens_lie_in_the_top_k_set_and_the_nucleus() {
    let lm = ToyLm::random(V, 16, 1.0, 2);
    let (k, p) = (4, 0.6);
    let cfg = sample_cfg(
        SamplingConfig::new(1.0)
            .unwrap()
            .with_top_k(k)
            .unwrap()
            .with_top_p(p)
            .unwrap(),
    );
    let prompt = Tensor::from_slice(&[3i64, 1])
        .reshape([1, 2])
        .repeat([64, 1]);
    let g = generate(&lm, &prompt, None, &cfg, &mut rng_from_seed(Some(5))).unwrap();
    let full = Tensor::cat(&[&prompt, &g.tokens], 1);
    let logits = lm.logits(&full, None).unwrap();
    let n = g.tokens.size()[1];
    let mut distinct = std::collections::BTreeSet::new();
    for step in 0..n {
        let raw = logits.select(1, 1 + step);
        let chosen = g.tokens.select(1, step).unsqueeze(1);
        let rank = raw
            .gt_tensor(&raw.gather(1, &chosen, false))
            .sum_dim_intlist(1, false, Kind::Int64);
        assert!(
            host_i(&rank).iter().all(|&r| r < k),
            "outside the top-{k} set"
        );
        let nucleus = apply_top_p(&apply_top_k(&raw, k).unwrap(), p).unwrap();
        let at = to_host_f64(&nucleus.gather(1, &chosen, false)).unwrap();
        assert!(at.iter().all(|x| x.is_finite()), "outside the nucleus");
        distinct.extend(host_i(&chosen));
    }
    assert!(distinct.len() > 1, "sampling never varied");
}

#[test]
fn log_probs_match_the_processed_distribution() {
    let lm = ToyLm::random(V, 16, 1.5, 3);
    let s = SamplingConfig {
        temperature: 0.7,
        top_k: Some(6),
        top_p: Some(0.9),
        repetition_penalty: 1.3,
    };
    let g = run(&lm, &sample_cfg(s), 11);
    let (tokens, mask) = prompts();
    let n = g.tokens.size()[1];
    let full = Tensor::cat(&[&tokens, &g.tokens], 1);
    let full_mask = Tensor::cat(&[mask, g.tokens.ones_like()], 1);
    let logits = lm.logits(&full, Some(&full_mask)).unwrap();
    for step in 0..n {
        let at = 4 + step;
        let processed = s
            .process(
                &logits.select(1, at - 1),
                Some(&full.narrow(1, 0, at)),
                Some(&full_mask.narrow(1, 0, at)),
                None,
            )
            .unwrap();
        let expect = processed
            .log_softmax(-1, Kind::Float)
            .gather(1, &g.tokens.narrow(1, step, 1), false)
            .squeeze_dim(1);
        let got = g.log_probs.select(1, step);
        assert!(got.allclose(&expect, 1e-5, 1e-5, false), "step {step}");
    }
    // Greedy: the raw softmax.
    let g = run(&lm, &GenerateConfig::greedy(3), 0);
    let logits = lm.logits(&tokens, Some(&prompts().1)).unwrap().select(1, 3);
    let expect = logits.log_softmax(-1, Kind::Float).max_dim(1, false).0;
    assert!(
        g.log_probs
            .select(1, 0)
            .allclose(&expect, 1e-5, 1e-5, false)
    );
}

#[test]
fn cache_and_no_cache_generate_identical_tokens() {
    let lm = ToyLm::random(V, 16, 1.0, 4);
    let sampling = SamplingConfig::new(1.2)
        .unwrap()
        .with_repetition_penalty(1.5)
        .unwrap();
    for strategy in [Strategy::Greedy, Strategy::Sample(sampling)] {
        let cfg = GenerateConfig {
            eos_token_ids: StopTokens::from(Some(2)),
            strategy,
            ..GenerateConfig::greedy(10)
        };
        let cached = run(&lm, &cfg, 9);
        let plain = run(
            &lm,
            &GenerateConfig {
                use_cache: false,
                ..cfg
            },
            9,
        );
        assert_eq!(host_i(&cached.tokens), host_i(&plain.tokens));
        assert!(
            cached
                .log_probs
                .allclose(&plain.log_probs, 1e-6, 1e-6, false)
        );
        assert_eq!(cached.lengths, plain.lengths);
    }
}

#[test]
fn seeded_sampling_is_reproducible() {
    let lm = ToyLm::random(V, 16, 0.5, 5);
    let cfg = sample_cfg(SamplingConfig::default());
    let a = run(&lm, &cfg, 42);
    let b = run(&lm, &cfg, 42);
    let c = run(&lm, &cfg, 43);
    assert_eq!(host_i(&a.tokens), host_i(&b.tokens));
    assert!(a.log_probs.equal(&b.log_probs));
    assert_ne!(host_i(&a.tokens), host_i(&c.tokens));
}

#[test]
fn greedy_decoding_applies_the_repetition_penalty() {
    // After 3 the model prefers 3 again (logit 2) over 2 (logit 1); penalised by 4, the
    // repeated 3 falls to 0.5 and 2 wins, as transformers' greedy search with
    // repetition_penalty=4 picks.
    let lm = ToyLm::repeating();
    let prompt = Tensor::from_slice(&[3i64]).reshape([1, 1]);
    let go = |cfg: &GenerateConfig| {
        let g = generate(&lm, &prompt, None, cfg, &mut rng_from_seed(Some(0))).unwrap();
        host_i(&g.tokens)
    };
    assert_eq!(go(&GenerateConfig::greedy(2)), [3, 3]);
    let penalised = GenerateConfig {
        repetition_penalty: 4.0,
        ..GenerateConfig::greedy(2)
    };
    assert_eq!(go(&penalised), [2, 0]);
    for bad in [0.5, f64::NAN] {
        let cfg = GenerateConfig {
            repetition_penalty: bad,
            ..GenerateConfig::greedy(2)
        };
        assert!(generate(&lm, &prompt, None, &cfg, &mut rng_from_seed(Some(0))).is_err());
    }
    let both = GenerateConfig {
        repetition_penalty: 2.0,
        ..GenerateConfig::sample(2, SamplingConfig::default())
    };
    assert!(generate(&lm, &prompt, None, &both, &mut rng_from_seed(Some(0))).is_err());
}

#[test]
fn rows_stop_at_eos_and_are_padded_after() {
    // 0 -> 1 -> 2 (EOS); 3 -> 3 -> ... never ends.
    let hot = |t: usize| {
        (0..4)
            .map(|i| if i == t { 5.0 } else { 0.0 })
            .collect::<Vec<f32>>()
    };
    let lm = ToyLm::bigram(vec![hot(1), hot(2), hot(0), hot(3)], 12);
    let cfg = GenerateConfig {
        eos_token_ids: StopTokens::from(Some(2)),
        pad_token_id: 0,
        ..GenerateConfig::greedy(4)
    };
    let prompts = Tensor::from_slice(&[0i64, 3]).reshape([2, 1]);
    let g = generate(&lm, &prompts, None, &cfg, &mut rng_from_seed(Some(0))).unwrap();
    assert_eq!(host_i(&g.tokens), [1, 2, 0, 0, 3, 3, 3, 3]);
    assert_eq!(
        to_host_f64(&g.mask).unwrap(),
        [1., 1., 0., 0., 1., 1., 1., 1.]
    );
    assert_eq!(g.lengths, [2, 4]);
    let lp = to_host_f64(&g.log_probs).unwrap();
    assert!(lp[..2].iter().all(|&x| x < 0.0) && lp[2..4] == [0.0, 0.0]);
    // All rows done: the loop ends before max_new_tokens.
    let both = Tensor::from_slice(&[0i64, 1]).reshape([2, 1]);
    let g = generate(&lm, &both, None, &cfg, &mut rng_from_seed(Some(0))).unwrap();
    assert_eq!(host_i(&g.tokens), [1, 2, 2, 0]);
    assert_eq!(g.lengths, [2, 1]);
}

#[test]
fn constrained_generation_only_emits_allowed_tokens() {
    let lm = ToyLm::random(V, 16, 2.0, 6);
    let allowed =
        Tensor::from_slice(&[false, false, false, false, true, true, false, false, false]);
    for cfg in [
        GenerateConfig::greedy(6),
        sample_cfg(SamplingConfig::default()),
    ] {
        let (tokens, mask) = prompts();
        let g = generate_constrained(
            &lm,
            &tokens,
            Some(&mask),
            &allowed,
            &cfg,
            &mut rng_from_seed(Some(1)),
        )
        .unwrap();
        assert!(host_i(&g.tokens).iter().all(|t| [4, 5].contains(t)));
    }
    let wrong_vocab = Tensor::from_slice(&[true; 8]);
    let (tokens, mask) = prompts();
    let err = generate_constrained(
        &lm,
        &tokens,
        Some(&mask),
        &wrong_vocab,
        &GenerateConfig::greedy(2),
        &mut rng_from_seed(Some(1)),
    );
    assert!(matches!(err, Err(Error::Shape(_))));
    // A row with no allowed token is an error, not NaN log-probabilities.
    let mut none_for_row_1 = vec![true; 3 * V as usize];
    none_for_row_1[V as usize..2 * V as usize].fill(false);
    let per_row = Tensor::from_slice(&none_for_row_1).reshape([3, V]);
    for cfg in [
        GenerateConfig::greedy(2),
        sample_cfg(SamplingConfig::default()),
    ] {
        let err = generate_constrained(
            &lm,
            &tokens,
            Some(&mask),
            &per_row,
            &cfg,
            &mut rng_from_seed(Some(1)),
        );
        assert!(matches!(err, Err(Error::InvalidArgument(_))), "{cfg:?}");
    }
}

#[test]
fn bad_inputs_are_errors() {
    let lm = ToyLm::random(V, 6, 1.0, 7);
    let mut rng = rng_from_seed(Some(0));
    let (tokens, mask) = prompts();
    let fails = |t: &Tensor, m: Option<&Tensor>, cfg: &GenerateConfig, rng: &mut EnvRng| {
        generate(&lm, t, m, cfg, rng).is_err()
    };
    // 4 + 3 > 6; prompt alone longer than the context.
    assert!(fails(
        &tokens,
        Some(&mask),
        &GenerateConfig::greedy(3),
        &mut rng
    ));
    assert!(fails(
        &Tensor::zeros([1, 7], (Kind::Int64, Device::Cpu)),
        None,
        &GenerateConfig::greedy(0),
        &mut rng
    ));
    assert!(!fails(
        &tokens,
        Some(&mask),
        &GenerateConfig::greedy(2),
        &mut rng
    ));
    let bad_sampling = [
        SamplingConfig {
            top_p: Some(0.0),
            ..SamplingConfig::default()
        },
        SamplingConfig {
            top_k: Some(0),
            ..SamplingConfig::default()
        },
        SamplingConfig {
            temperature: 0.0,
            ..SamplingConfig::default()
        },
    ];
    for s in bad_sampling {
        assert!(
            fails(
                &tokens,
                Some(&mask),
                &GenerateConfig::sample(1, s),
                &mut rng
            ),
            "{s:?}"
        );
    }
    let cfg = GenerateConfig::greedy(1);
    let out_of_vocab = Tensor::from_slice(&[1i64, 9]).reshape([1, 2]);
    assert!(fails(&out_of_vocab, None, &cfg, &mut rng));
    let right_padded = Tensor::from_slice(&[1i64, 0]).reshape([1, 2]);
    assert!(fails(
        &out_of_vocab.clamp_max(1),
        Some(&right_padded),
        &cfg,
        &mut rng
    ));
    assert!(fails(&tokens, Some(&right_padded), &cfg, &mut rng));
    let bad_eos = GenerateConfig {
        eos_token_ids: StopTokens::from(Some(V)),
        ..cfg
    };
    assert!(fails(&tokens, Some(&mask), &bad_eos, &mut rng));
    assert!(fails(
        &Tensor::zeros([2], (Kind::Int64, Device::Cpu)),
        None,
        &cfg,
        &mut rng
    ));
}

#[test]
fn configs_round_trip_through_json_and_reject_unknown_fields() {
    let cfg = GenerateConfig {
        eos_token_ids: StopTokens::from(Some(3)),
        ..GenerateConfig::sample(
            5,
            SamplingConfig::new(0.8).unwrap().with_top_p(0.9).unwrap(),
        )
    };
    let json = serde_json::to_string(&cfg).unwrap();
    assert!(json.contains("\"sample\""), "{json}");
    let back: GenerateConfig = serde_json::from_str(&json).unwrap();
    assert_eq!(back, cfg);
    let greedy: GenerateConfig = serde_json::from_str(r#"{"strategy": "greedy"}"#).unwrap();
    assert_eq!(greedy, GenerateConfig::default());
    assert!(serde_json::from_str::<GenerateConfig>(r#"{"max_tokens": 3}"#).is_err());
    assert!(serde_json::from_str::<SamplingConfig>(r#"{"temp": 3}"#).is_err());
}
