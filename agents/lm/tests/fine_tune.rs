//! The library fine-tuning loop ([`FineTuner`]) as an [`Agent`]: it learns (the reward of a
//! tiny GPT rises), counts its budget in updates, completions or tokens, reports every
//! completion and update to callbacks, acts on any prompt, saves a checkpoint that loads
//! back, and leaves the last good weights in place when an update fails.

mod support;

use support::{ab_tokenizer, fraction_of_a, tiny_gpt};

use std::ops::ControlFlow;
use std::path::PathBuf;
use std::sync::Arc;

use tch::Device;
use tokengym::{Agent, Budget, Callback, EpisodeStats, Progress};
use tokengym_envs::text::{FnReward, PromptSet, RewardFn, Tokenizer};
use tokengym_lm::decoding::SamplingConfig;
use tokengym_lm::rl::{
    Algorithm, Baseline, FINE_TUNE_PROGRESS_FILE, FineTuneConfig, FineTuner, GroupConfig,
    KlController, OptimConfig, PpoConfig, ReinforceConfig, Rollout, RolloutConfig,
};
use tokengym_lm::{CausalLm, Error};

/// A tiny GPT over the characters `a`, `b` and the specials, and prompts completed with
/// `reward` (default: the fraction of `a`s).
fn tuner_with(algorithm: Algorithm, reward: Arc<dyn RewardFn>, seed: i64) -> FineTuner {
    let tok = ab_tokenizer();
    let (vs, gpt) = tiny_gpt(seed, tok.vocab_size() as i64);
    let rollout = Rollout::new(
        tok,
        PromptSet::from_texts(["a", "b", "ab", "ba", "bb"]).unwrap(),
        reward,
        RolloutConfig {
            max_new_tokens: 6,
            sampling: SamplingConfig::new(1.0).unwrap(),
            add_special_tokens: true,
            stop_at_eos: true,
        },
    )
    .unwrap();
    let config = FineTuneConfig {
        algorithm,
        batch_size: 32,
        seed: seed as u64,
    };
    FineTuner::new(vs, gpt, None, rollout, config).unwrap()
}

fn optim() -> OptimConfig {
    OptimConfig {
        lr: 3e-3,
        weight_decay: 0.0,
        max_grad_norm: Some(1.0),
    }
}

fn group() -> Algorithm {
    Algorithm::Group(GroupConfig {
        group_size: 4,
        kl_beta: 0.05,
        optim: optim(),
        ..GroupConfig::default()
    })
}

fn reinforce() -> Algorithm {
    Algorithm::Reinforce(ReinforceConfig {
        optim: optim(),
        baseline: Baseline::MovingAverage { decay: 0.8 },
    })
}

/// Records what the tuner reports.
#[derive(Default)]
struct Record {
    episodes: Vec<EpisodeStats>,
    updates: Vec<Vec<(String, f64)>>,
}

impl Callback for Record {
    fn on_episode_end(&mut self, stats: &EpisodeStats) -> ControlFlow<()> {
        self.episodes.push(*stats);
        ControlFlow::Continue(())
    }
    fn on_update(&mut self, metrics: &[(&str, f64)]) -> ControlFlow<()> {
        self.updates
            .push(metrics.iter().map(|(k, v)| (k.to_string(), *v)).collect());
        ControlFlow::Continue(())
    }
}

fn metric(update: &[(String, f64)], name: &str) -> f64 {
    update
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| *v)
        .unwrap_or_else(|| panic!("no {name} in {update:?}"))
}

#[test]
fn the_loop_learns_and_reports_every_completion_and_update() {
    let _torch = support::torch_rng_lock();
    let mut tuner = tuner_with(reinforce(), fraction_of_a(), 0);
    let mut record = Record::default();
    let summary = tuner.learn(Budget::Updates(40), &mut record).unwrap();
    assert_eq!(summary.progress.updates, 40);
    assert_eq!(summary.progress.episodes, 40 * 32);
    assert!(!summary.stopped_by_callback);
    assert_eq!(record.episodes.len(), 40 * 32);
    assert_eq!(record.updates.len(), 40);
    // Steps are the generated tokens: every completion's length, summed.
    let tokens: u64 = record.episodes.iter().map(|e| e.len).sum();
    assert_eq!(summary.progress.steps, tokens);
    assert!(record.episodes.iter().all(|e| (1..=6).contains(&e.len)));
    for (i, u) in record.updates.iter().enumerate() {
        assert_eq!(metric(u, "step"), (i + 1) as f64);
        for name in [
            "kl",
            "entropy",
            "ref_perplexity",
            "mean_response_len",
            "loss",
        ] {
            assert!(metric(u, name).is_finite(), "{name}");
        }
    }
    // The first update's batch comes from the starting model: KL 0 to itself.
    assert!(metric(&record.updates[0], "kl").abs() < 1e-5);
    let first: f64 = record.updates[..5]
        .iter()
        .map(|u| metric(u, "mean_reward"))
        .sum::<f64>()
        / 5.0;
    let last: f64 = record.updates[35..]
        .iter()
        .map(|u| metric(u, "mean_reward"))
        .sum::<f64>()
        / 5.0;
    assert!(last > first + 0.2, "reward {first} -> {last}");
    // Budgets are totals, in any unit it counts; a callback can stop it.
    let again = tuner.learn(Budget::Updates(40), &mut ()).unwrap();
    assert_eq!(again.progress.updates, 40);
    let more = tuner.learn(Budget::Episodes(41 * 32), &mut ()).unwrap();
    assert_eq!(more.progress.updates, 41);
    let steps = tuner.progress().steps;
    let more = tuner.learn(Budget::Steps(steps + 1), &mut ()).unwrap();
    assert_eq!(more.progress.updates, 42);
    struct StopNow;
    impl Callback for StopNow {
        fn on_update(&mut self, _: &[(&str, f64)]) -> ControlFlow<()> {
            ControlFlow::Break(())
        }
    }
    let stopped = tuner.learn(Budget::Updates(100), &mut StopNow).unwrap();
    assert!(stopped.stopped_by_callback);
    assert_eq!(stopped.progress.updates, 43);
    assert!(
        tuner
            .learn_until(Budget::Updates(50), Budget::Steps(50), &mut ())
            .is_err()
    );
}

#[test]
fn every_algorithm_runs_through_the_same_loop() {
    let _torch = support::torch_rng_lock();
    for algorithm in [
        group(),
        Algorithm::Ppo(PpoConfig {
            kl: KlController::Fixed { beta: 0.05 },
            optim: optim(),
            ..PpoConfig::default()
        }),
    ] {
        let mut tuner = tuner_with(algorithm, fraction_of_a(), 1);
        let s = tuner.learn(Budget::Updates(3), &mut ()).unwrap();
        assert_eq!((s.progress.updates, s.progress.episodes), (3, 96));
        assert_eq!(tuner.kl_beta().is_some(), algorithm.name() == "ppo");
    }
    // A group that does not divide the batch is refused up front.
    let bad = Algorithm::Group(GroupConfig {
        group_size: 5,
        optim: optim(),
        ..GroupConfig::default()
    });
    let tok = ab_tokenizer();
    let (vs, gpt) = tiny_gpt(0, tok.vocab_size() as i64);
    let rollout = Rollout::new(
        tok,
        PromptSet::from_texts(["a"]).unwrap(),
        fraction_of_a(),
        RolloutConfig {
            add_special_tokens: true,
            max_new_tokens: 4,
            ..RolloutConfig::default()
        },
    )
    .unwrap();
    let config = FineTuneConfig {
        algorithm: bad,
        batch_size: 32,
        seed: 0,
    };
    let err = FineTuner::new(vs, gpt, None, rollout, config).unwrap_err();
    assert!(err.to_string().contains("group size"), "{err}");
}

fn temp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tg-fine-tune-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[test]
fn acting_saving_and_restoring() {
    let _torch = support::torch_rng_lock();
    let mut tuner = tuner_with(reinforce(), fraction_of_a(), 2);
    tuner.learn(Budget::Updates(5), &mut ()).unwrap();
    // Greedy completions are deterministic; sampling does not disturb training.
    let a = tuner.act("ab", true).unwrap();
    assert_eq!(tuner.act("ab", true).unwrap(), a);
    assert!(a.token_ids.len() <= 6 && a.text.chars().count() == a.token_ids.len());
    let sampled = tuner.act("b", false).unwrap();
    assert!(sampled.token_ids.len() <= 6);
    assert!(
        tuner.act(&"a".repeat(40), true).is_err(),
        "longer than the context"
    );

    let dir = temp_dir("save");
    tuner.save(&dir).unwrap();
    let (_, loaded) = tokengym_lm::model::load_decoder(&dir, Device::Cpu, None).unwrap();
    let toks = tch::Tensor::from_slice(&[0i64, 1, 2, 1]).reshape([1, 4]);
    let want = tch::no_grad(|| tuner.model().logits(&toks, None)).unwrap();
    let got = tch::no_grad(|| loaded.logits(&toks, None)).unwrap();
    assert!(want.allclose(&got, 0.0, 0.0, false));
    // Another tuner of the same architecture takes the weights and answers the same.
    let mut other = tuner_with(reinforce(), fraction_of_a(), 3);
    assert_ne!(other.act("ab", true).unwrap(), a, "a different start");
    assert_eq!(other.progress(), Progress::default());
    other.restore(&dir).unwrap();
    assert_eq!(other.act("ab", true).unwrap(), a);
    assert_eq!(other.progress(), tuner.progress(), "budgets stay totals");
    assert_eq!(
        other
            .learn(Budget::Updates(5), &mut ())
            .unwrap()
            .progress
            .updates,
        5,
        "nothing left to do"
    );
    assert!(other.restore(&dir.join("missing")).is_err());
    // A progress file of another algorithm, or a malformed one, is refused and changes nothing.
    let progress_file = dir.join(FINE_TUNE_PROGRESS_FILE);
    let mut group = tuner_with(group(), fraction_of_a(), 4);
    let before = group.act("ab", true).unwrap();
    let err = group.restore(&dir).unwrap_err().to_string();
    assert!(err.contains("reinforce") && err.contains("group"), "{err}");
    assert_eq!(group.act("ab", true).unwrap(), before);
    std::fs::write(&progress_file, "{\"progress\": 3}").unwrap();
    let err = other.restore(&dir).unwrap_err().to_string();
    assert!(err.contains(FINE_TUNE_PROGRESS_FILE), "{err}");
    // A pre-trained checkpoint (no progress file) keeps the tuner's progress.
    std::fs::remove_file(&progress_file).unwrap();
    other.restore(&dir).unwrap();
    assert_eq!(other.progress(), tuner.progress());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_failed_update_leaves_the_last_good_weights() {
    let _torch = support::torch_rng_lock();
    // From the second batch on, rewards of ±1e300: finite as f64 (the rollout accepts them)
    // but infinite in the loss, which the optimizer refuses. The error comes back, the update
    // is not counted, and the weights are those after the first update.
    let calls = std::sync::atomic::AtomicUsize::new(0);
    let reward: Arc<dyn RewardFn> = Arc::new(FnReward::new(move |ctx| {
        let call = calls.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if call >= 32 {
            if call.is_multiple_of(2) {
                1e300
            } else {
                -1e300
            }
        } else {
            ctx.completion.len() as f64
        }
    }));
    let mut tuner = tuner_with(reinforce(), reward, 4);
    tuner.learn(Budget::Updates(1), &mut ()).unwrap();
    let toks = tch::Tensor::from_slice(&[0i64, 1, 2]).reshape([1, 3]);
    let after_first = tch::no_grad(|| tuner.model().logits(&toks, None)).unwrap();
    let err = tuner.learn(Budget::Updates(2), &mut ()).unwrap_err();
    assert!(matches!(err, Error::NonFinite(_)), "{err}");
    assert_eq!(tuner.progress().updates, 1);
    let now = tch::no_grad(|| tuner.model().logits(&toks, None)).unwrap();
    assert!(now.allclose(&after_first, 0.0, 0.0, false));
}
