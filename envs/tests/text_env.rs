//! Text-generation environments: episode mechanics, masks, seeding, the checker, the registry,
//! and the bandit view.

use std::sync::Arc;
use tokengym::checker::{CheckOptions, check_env, check_registered};
use tokengym::render::{Frame, RenderMode};
use tokengym::space::{Space, Value};
use tokengym::{Env, Error, InfoValue, Kwargs, MakeOptions, Result};
use tokengym_envs::text::{
    ArithmeticReward, ByteTokenizer, CompletionBandit, FnReward, LexiconReward, PromptSet,
    RewardContext, RewardFn, TextGenConfig, TextGenEnv, Tokenizer,
};

const EOS: i64 = 257;

fn byte_tok() -> Arc<dyn Tokenizer> {
    Arc::new(ByteTokenizer::new())
}

fn env_with(prompts: PromptSet, reward: Arc<dyn RewardFn>, max_new_tokens: usize) -> TextGenEnv {
    let cfg = TextGenConfig {
        max_new_tokens,
        ..TextGenConfig::default()
    };
    TextGenEnv::new(byte_tok(), prompts, reward, cfg).unwrap()
}

fn arithmetic_env(max_new_tokens: usize) -> TextGenEnv {
    env_with(
        PromptSet::from_pairs([("12+7=", "19")]).unwrap(),
        Arc::new(ArithmeticReward),
        max_new_tokens,
    )
}

fn text(info: &tokengym::Info, key: &str) -> String {
    match info.get(key) {
        Some(InfoValue::Text(t)) => t.clone(),
        other => panic!("{key}: {other:?}"),
    }
}

#[test]
fn eos_terminates_and_pays_the_score_at_the_end() {
    let mut env = arithmetic_env(8);
    let (obs, info) = env.reset(Some(0)).unwrap();
    assert_eq!(
        obs,
        b"12+7=".iter().map(|&b| u32::from(b)).collect::<Vec<_>>()
    );
    assert_eq!(text(&info, "prompt"), "12+7=");
    let s1 = env.step(&i64::from(b'1')).unwrap();
    assert_eq!(
        (s1.reward, s1.terminated, s1.truncated),
        (0.0, false, false)
    );
    assert!(s1.info.is_empty());
    let s2 = env.step(&i64::from(b'9')).unwrap();
    assert_eq!(s2.reward, 0.0);
    let s3 = env.step(&EOS).unwrap();
    assert_eq!((s3.reward, s3.terminated, s3.truncated), (1.0, true, false));
    assert_eq!(s3.obs.len(), 5 + 3);
    assert_eq!(*s3.obs.last().unwrap(), EOS as u32);
    assert_eq!(text(&s3.info, "completion"), "19");
    assert_eq!(s3.info.get("finished"), Some(&InfoValue::Bool(true)));
    assert_eq!(s3.info.get("score"), Some(&InfoValue::Float(1.0)));
    assert_eq!(
        env.generated_tokens(),
        &[u32::from(b'1'), u32::from(b'9'), 257]
    );
    // The episode is over.
    assert!(matches!(env.step(&EOS), Err(Error::EpisodeEnded)));
}

#[test]
fn the_length_limit_truncates_and_scores_the_unfinished_completion() {
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = seen.clone();
    let reward = FnReward::new(move |ctx: &RewardContext<'_>| {
        log.lock().unwrap().push((
            ctx.completion.to_string(),
            ctx.finished,
            ctx.completion_ids.len(),
        ));
        ctx.completion_ids.len() as f64
    });
    let mut env = env_with(PromptSet::from_texts(["hi"]).unwrap(), Arc::new(reward), 3);
    env.reset(Some(1)).unwrap();
    let a = i64::from(b'a');
    assert!(!env.step(&a).unwrap().done());
    assert!(!env.step(&a).unwrap().done());
    let last = env.step(&a).unwrap();
    assert_eq!((last.terminated, last.truncated), (false, true));
    assert_eq!(last.reward, 3.0);
    assert_eq!(last.info.get("finished"), Some(&InfoValue::Bool(false)));
    // EOS on the last allowed position terminates (not truncates), and is not in the ids.
    env.reset(None).unwrap();
    env.step(&a).unwrap();
    env.step(&a).unwrap();
    let last = env.step(&EOS).unwrap();
    assert_eq!((last.terminated, last.truncated), (true, false));
    assert_eq!(last.reward, 2.0);
    assert_eq!(
        *seen.lock().unwrap(),
        vec![("aaa".to_string(), false, 3), ("aa".to_string(), true, 2)]
    );
}

#[test]
fn prompts_are_reproducible_per_seed() {
    let prompts = PromptSet::arithmetic(3, 200, 99).unwrap();
    let mut env = env_with(prompts, Arc::new(ArithmeticReward), 4);
    let run = |env: &mut TextGenEnv, seed| {
        let mut out = vec![env.reset(Some(seed)).unwrap().0];
        for _ in 0..5 {
            out.push(env.reset(None).unwrap().0);
        }
        out
    };
    let a = run(&mut env, 11);
    assert_eq!(a, run(&mut env, 11));
    assert_ne!(a, run(&mut env, 12));
    assert!(
        a.iter().any(|p| *p != a[0]),
        "reset(None) draws new prompts"
    );
    let (obs, info) = env.reset_with_prompt(5).unwrap();
    assert_eq!(info.get("prompt_index"), Some(&InfoValue::Int(5)));
    let p5 = env.prompts().get(5).unwrap().text.clone();
    assert_eq!(obs, env.tokenizer().encode(&p5).unwrap());
    assert!(env.reset_with_prompt(200).is_err());
}

#[test]
fn invalid_tokens_are_errors_and_change_nothing() {
    let mut env = arithmetic_env(4);
    assert!(matches!(env.step(&EOS), Err(Error::ResetNeeded)));
    env.reset(Some(0)).unwrap();
    for bad in [259, -1, i64::MAX] {
        let err = env.step(&bad).unwrap_err();
        assert!(matches!(err, Error::InvalidAction { .. }), "{err}");
    }
    assert!(env.generated_tokens().is_empty());
    assert_eq!(env.step(&i64::from(b'1')).unwrap().obs.len(), 6);
}

#[test]
fn the_mask_is_enforced_and_exposed() {
    let digits_and_eos = (b'0'..=b'9').map(u32::from).chain([257]);
    let mut env = arithmetic_env(4)
        .with_allowed_tokens(digits_and_eos)
        .unwrap();
    let mask = env.action_mask().unwrap();
    assert_eq!(mask.len(), 259);
    assert!(mask[usize::from(b'7')] && mask[257] && !mask[usize::from(b'a')]);
    assert!(env.is_allowed(257) && !env.is_allowed(u32::from(b'x')) && !env.is_allowed(999));
    let (_, info) = env.reset(Some(0)).unwrap();
    match info.get("action_mask") {
        Some(InfoValue::Floats(m)) => {
            assert_eq!(m.len(), 259);
            assert_eq!(m.iter().sum::<f64>(), 11.0);
        }
        other => panic!("{other:?}"),
    }
    let err = env.step(&i64::from(b'x')).unwrap_err();
    assert!(err.to_string().contains("mask"), "{err}");
    assert!(env.generated_tokens().is_empty());
    env.step(&i64::from(b'1')).unwrap();
    // A policy can sample from the mask.
    let mut rng = <tokengym::EnvRng as rand::SeedableRng>::seed_from_u64(0);
    let mask = env.action_mask().unwrap().to_vec();
    for _ in 0..20 {
        let a = env.action_space().sample_masked(&mut rng, &mask).unwrap();
        assert!(env.is_allowed(a as u32));
    }
    // Bad masks.
    assert!(arithmetic_env(4).with_action_mask(vec![true; 3]).is_err());
    assert!(
        arithmetic_env(4)
            .with_action_mask(vec![false; 259])
            .is_err()
    );
    assert!(arithmetic_env(4).with_allowed_tokens([259]).is_err());
}

#[test]
fn construction_and_reset_errors_are_clear() {
    let prompts = || PromptSet::from_texts(["a rather long prompt", "hi"]).unwrap();
    let reward: Arc<dyn RewardFn> = Arc::new(LexiconReward::default());
    // Vocabulary mismatch.
    let cfg = TextGenConfig {
        vocab_size: Some(512),
        ..TextGenConfig::default()
    };
    let err = TextGenEnv::new(byte_tok(), prompts(), reward.clone(), cfg)
        .unwrap_err()
        .to_string();
    assert!(err.contains("259") && err.contains("512"), "{err}");
    // No end-of-sequence token, unless given.
    let bare: Arc<dyn Tokenizer> =
        Arc::new(ByteTokenizer::with_specials(Vec::<&str>::new()).unwrap());
    let err = TextGenEnv::new(
        bare.clone(),
        prompts(),
        reward.clone(),
        TextGenConfig::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("eos"), "{err}");
    let cfg = TextGenConfig {
        eos_token: Some(u32::from(b'\n')),
        ..TextGenConfig::default()
    };
    let mut env = TextGenEnv::new(bare.clone(), prompts(), reward.clone(), cfg).unwrap();
    env.reset(Some(0)).unwrap();
    assert!(env.step(&i64::from(b'\n')).unwrap().terminated);
    let cfg = TextGenConfig {
        eos_token: Some(256),
        ..TextGenConfig::default()
    };
    assert!(TextGenEnv::new(bare.clone(), prompts(), reward.clone(), cfg).is_err());
    let cfg = TextGenConfig {
        add_bos: true,
        ..TextGenConfig::default()
    };
    assert!(TextGenEnv::new(bare, prompts(), reward.clone(), cfg).is_err());
    let cfg = TextGenConfig {
        max_new_tokens: 0,
        ..TextGenConfig::default()
    };
    assert!(TextGenEnv::new(byte_tok(), prompts(), reward.clone(), cfg).is_err());
    // A prompt longer than max_prompt_len is an error at reset, naming it.
    let cfg = TextGenConfig {
        max_prompt_len: Some(4),
        ..TextGenConfig::default()
    };
    let mut env = TextGenEnv::new(byte_tok(), prompts(), reward, cfg).unwrap();
    assert_eq!(env.observation_space().max_len(), 4 + 32);
    env.reset_with_prompt(1).unwrap();
    let err = env.reset_with_prompt(0).unwrap_err().to_string();
    assert!(
        err.contains("a rather long prompt") && err.contains("max_prompt_len"),
        "{err}"
    );
    // The failed reset ended the previous episode.
    assert!(matches!(
        env.step(&i64::from(b'a')),
        Err(Error::ResetNeeded)
    ));
    env.reset_with_prompt(1).unwrap();
}

#[test]
fn bos_and_default_prompt_length() {
    let cfg = TextGenConfig {
        add_bos: true,
        max_new_tokens: 2,
        ..TextGenConfig::default()
    };
    let prompts = PromptSet::from_texts(["abc", "a"]).unwrap();
    let mut env =
        TextGenEnv::new(byte_tok(), prompts, Arc::new(LexiconReward::default()), cfg).unwrap();
    assert_eq!(env.max_prompt_len(), 4);
    assert_eq!(env.observation_space().max_len(), 6);
    let (obs, _) = env.reset_with_prompt(0).unwrap();
    assert_eq!(obs, vec![256, 97, 98, 99]);
    assert_eq!(env.prompt_tokens(), &[256, 97, 98, 99]);
}

struct Shaped;
impl RewardFn for Shaped {
    fn score(&self, ctx: &RewardContext<'_>) -> Result<f64> {
        Ok(if ctx.finished { 100.0 } else { -100.0 })
    }
    fn per_token(&self, ctx: &RewardContext<'_>, new: &str) -> Result<f64> {
        assert!(ctx.completion.ends_with(new));
        Ok(if new == "!" { 1.0 } else { 0.0 })
    }
    fn shapes_per_token(&self) -> bool {
        true
    }
}

#[test]
fn per_token_shaping_is_paid_every_step() {
    let mut env = env_with(PromptSet::from_texts(["p"]).unwrap(), Arc::new(Shaped), 5);
    env.reset(Some(0)).unwrap();
    let r: Vec<f64> = [b'!', b'a', b'!']
        .iter()
        .map(|&b| env.step(&i64::from(b)).unwrap().reward)
        .collect();
    assert_eq!(r, vec![1.0, 0.0, 1.0]);
    assert_eq!(env.step(&EOS).unwrap().reward, 100.0);
}

#[test]
fn reward_errors_leave_the_episode_unchanged() {
    let reward = FnReward::fallible(|ctx| {
        if ctx.completion.contains('x') {
            Err(Error::invalid_argument("no x"))
        } else if ctx.completion.contains('n') {
            Ok(f64::NAN)
        } else {
            Ok(1.0)
        }
    });
    let mut env = env_with(PromptSet::from_texts(["p"]).unwrap(), Arc::new(reward), 1);
    env.reset(Some(0)).unwrap();
    assert!(env.step(&i64::from(b'x')).is_err());
    let err = env.step(&i64::from(b'n')).unwrap_err();
    assert!(matches!(err, Error::NonFinite { .. }), "{err}");
    assert!(env.generated_tokens().is_empty());
    assert_eq!(env.step(&i64::from(b'o')).unwrap().reward, 1.0);
}

#[test]
fn flat_api_and_render() {
    let mut env = arithmetic_env(4);
    assert!(env.render(RenderMode::Ansi).is_err());
    let dim = env.observation_space().flatdim();
    let mut flat = vec![0.0f32; dim];
    env.reset_flat(Some(2), &mut flat).unwrap();
    assert_eq!(&flat[..6], &[49.0, 50.0, 43.0, 55.0, 61.0, -1.0]);
    let t = env.step_flat(&i64::from(b'1'), &mut flat).unwrap();
    assert!(!t.done());
    assert_eq!(flat[5], 49.0);
    env.step(&i64::from(b'9')).unwrap();
    let Frame::Ansi(frame) = env.render(RenderMode::Ansi).unwrap() else {
        panic!("not text")
    };
    assert!(
        frame.contains("\"12+7=\"") && frame.contains("\"19\""),
        "{frame}"
    );
    assert!(env.render(RenderMode::RgbArray).is_err());
    env.step(&EOS).unwrap();
    let Frame::Ansi(frame) = env.render(RenderMode::Ansi).unwrap() else {
        panic!("not text")
    };
    assert!(frame.contains("<eos>"), "{frame}");
}

#[test]
fn check_env_passes() {
    let mut sentiment = env_with(
        PromptSet::sentiment(0, 100, 3).unwrap(),
        Arc::new(LexiconReward::default()),
        24,
    );
    let report = check_env(&mut sentiment, &CheckOptions::default());
    assert!(report.is_ok(), "{report}");
    let mut arithmetic = env_with(
        PromptSet::arithmetic(0, 100, 99).unwrap(),
        Arc::new(ArithmeticReward),
        4,
    );
    let report = check_env(&mut arithmetic, &CheckOptions::default());
    assert!(report.is_ok(), "{report}");
    let mut bandit = CompletionBandit::new(arithmetic).unwrap();
    let report = check_env(&mut bandit, &CheckOptions::default());
    assert!(report.is_ok(), "{report}");
}

#[test]
fn registry_make_works() {
    for (id, max_new) in [("TextGen-Sentiment-v0", 24), ("TextGen-Arithmetic-v0", 4)] {
        let mut env = tokengym_envs::make(id).unwrap();
        let (obs, _) = env.reset(Some(0)).unwrap();
        assert!(matches!(obs, Value::Tokens(_)), "{id}");
        let mut steps = 0;
        loop {
            steps += 1;
            let s = env.step(&Value::Discrete(i64::from(b'1'))).unwrap();
            if s.done() {
                assert!(s.truncated, "{id}");
                break;
            }
        }
        assert_eq!(steps, max_new, "{id}");
        tokengym_envs::register_envs().unwrap();
        let report = check_registered(id, &CheckOptions::default()).unwrap();
        assert!(report.is_ok(), "{id}: {report}");
    }
    let opts = MakeOptions::new().kwargs(
        Kwargs::new()
            .with("max_new_tokens", 2i64)
            .with("prompt_seed", 5i64)
            .with("num_prompts", 10i64)
            .with("max_operand", 9i64),
    );
    let mut env = tokengym_envs::make_with("TextGen-Arithmetic-v0", &opts).unwrap();
    let (obs, info) = env.reset(Some(0)).unwrap();
    let Value::Tokens(obs) = obs else { panic!() };
    assert!(obs.len() <= 4, "operands below 10: {info:?}");
    env.step(&Value::Discrete(i64::from(b'1'))).unwrap();
    assert!(
        env.step(&Value::Discrete(i64::from(b'1')))
            .unwrap()
            .truncated
    );
    let bad = MakeOptions::new().kwarg("max_new_tokenz", 3i64);
    assert!(tokengym_envs::make_with("TextGen-Sentiment-v0", &bad).is_err());
}

#[test]
fn bandit_view_scores_whole_completions() {
    let mut bandit = CompletionBandit::new(arithmetic_env(4)).unwrap();
    assert_eq!(bandit.action_space().max_len(), 4);
    assert!(matches!(bandit.step(&vec![]), Err(Error::ResetNeeded)));
    bandit.reset(Some(0)).unwrap();
    // Tokens after the first <eos> are ignored.
    let s = bandit.step(&vec![49, 57, 257, 65]).unwrap();
    assert_eq!((s.reward, s.terminated, s.truncated), (1.0, true, false));
    assert_eq!(s.obs.len(), 5 + 3);
    assert_eq!(s.info.get("finished"), Some(&InfoValue::Bool(true)));
    assert!(matches!(bandit.step(&vec![49]), Err(Error::EpisodeEnded)));
    // An unfinished completion is scored too.
    bandit.reset(None).unwrap();
    let s = bandit.step(&vec![49, 57]).unwrap();
    assert_eq!((s.reward, s.terminated), (1.0, true));
    assert_eq!(s.info.get("finished"), Some(&InfoValue::Bool(false)));
    bandit.reset(None).unwrap();
    assert_eq!(bandit.step(&vec![]).unwrap().reward, 0.0);
    // Text, too long, out of range.
    bandit.reset(None).unwrap();
    assert!(bandit.step(&vec![1; 5]).is_err());
    assert!(bandit.step(&vec![300]).is_err());
    assert!(bandit.step_text("1234").is_err());
    assert_eq!(bandit.step_text("18").unwrap().reward, 0.0);
    // The mask applies to every token up to <eos>.
    let masked = arithmetic_env(4)
        .with_allowed_tokens((b'0'..=b'9').map(u32::from).chain([257]))
        .unwrap();
    let mut bandit = CompletionBandit::new(masked).unwrap();
    bandit.reset(Some(0)).unwrap();
    assert!(bandit.step(&vec![49, 65]).is_err());
    assert_eq!(bandit.step(&vec![49, 57, 257, 65]).unwrap().reward, 1.0);
}

#[test]
fn bandit_rewinds_after_a_reward_error() {
    let reward = FnReward::fallible(|ctx| {
        if ctx.completion.contains('x') {
            Err(Error::invalid_argument("no x"))
        } else {
            Ok(ctx.completion.len() as f64)
        }
    });
    let mut bandit = CompletionBandit::new(env_with(
        PromptSet::from_texts(["p"]).unwrap(),
        Arc::new(reward),
        4,
    ))
    .unwrap();
    bandit.reset(Some(0)).unwrap();
    assert!(bandit.step(&vec![97, 120]).is_err());
    assert!(bandit.inner().generated_tokens().is_empty());
    assert_eq!(bandit.step(&vec![97, 97]).unwrap().reward, 2.0);
}

#[test]
fn prompt_files_parse_and_report_errors() {
    let dir = std::env::temp_dir().join(format!("tokengym-prompts-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let good = dir.join("good.tsv");
    std::fs::write(&good, "12+7=\t19\n\nthe movie was\n").unwrap();
    let set = PromptSet::from_file(&good).unwrap();
    assert_eq!(set.len(), 2);
    assert_eq!(set.get(0).unwrap().target.as_deref(), Some("19"));
    assert_eq!(set.get(1).unwrap().target, None);
    let cases: [(&str, &[u8], &str); 4] = [
        ("tabs.tsv", b"a\tb\tc\n", "line 1"),
        ("empty.tsv", b"\n\n", "no prompts"),
        ("latin1.tsv", b"caf\xe9\n", "UTF-8"),
        ("noprompt.tsv", b"ok\n\tt\n", "line 2"),
    ];
    for (name, bytes, needle) in cases {
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        let err = PromptSet::from_file(&path).unwrap_err().to_string();
        assert!(err.contains(name) && err.contains(needle), "{name}: {err}");
    }
    let err = PromptSet::from_file(dir.join("missing.tsv")).unwrap_err();
    assert!(matches!(err, Error::Io { .. }), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn works_with_a_hugging_face_bpe_tokenizer() {
    let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/text/tiny_bpe/tokenizer.json");
    let tok: Arc<dyn Tokenizer> = Arc::from(tokengym_envs::text::load_tokenizer(&path).unwrap());
    let eos = tok.special_tokens().eos.unwrap();
    let cfg = TextGenConfig {
        max_new_tokens: 6,
        vocab_size: Some(512),
        ..TextGenConfig::default()
    };
    let prompts = PromptSet::arithmetic(1, 20, 99).unwrap();
    let mut env = TextGenEnv::new(tok.clone(), prompts, Arc::new(ArithmeticReward), cfg).unwrap();
    let (obs, _) = env.reset(Some(3)).unwrap();
    let prompt = env.prompt().unwrap().clone();
    assert_eq!(obs, tok.encode(&prompt.text).unwrap());
    let answer = tok.encode(prompt.target.as_deref().unwrap()).unwrap();
    let mut last = None;
    for &t in answer.iter().chain([&eos]) {
        last = Some(env.step(&i64::from(t)).unwrap());
    }
    let last = last.unwrap();
    assert!(last.terminated);
    assert_eq!(last.reward, 1.0, "{prompt:?}");
    let report = check_env(&mut env, &CheckOptions::default());
    assert!(report.is_ok(), "{report}");
}

#[test]
fn vector_envs_batch_text_envs() {
    use tokengym::vector::{SyncVecEnv, VecEnv};
    let mut envs = SyncVecEnv::from_fn(3, |_| Ok(arithmetic_env(2))).unwrap();
    assert_eq!(envs.obs_dim(), 5 + 2);
    let first = envs.reset(Some(0)).unwrap();
    let row: Vec<f32> = first.obs_row(0).unwrap().to_vec();
    assert_eq!(row, vec![49.0, 50.0, 43.0, 55.0, 61.0, -1.0, -1.0]);
    envs.step(&[49, 49, EOS]).unwrap();
    let step = envs.step(&[57, 56, 49]).unwrap();
    // Envs 0 and 1 hit the limit ("19" right, "18" wrong); env 2 ended on the first step and
    // was reset (next-step autoreset), so its second action starts a new episode.
    assert_eq!(step.truncated(), &[true, true, false]);
    assert_eq!(&step.rewards()[..2], &[1.0, 0.0]);
}

#[test]
fn bandit_sums_the_shaping_and_the_score() {
    let env = env_with(PromptSet::from_texts(["p"]).unwrap(), Arc::new(Shaped), 5);
    let mut bandit = CompletionBandit::new(env).unwrap();
    bandit.reset(Some(0)).unwrap();
    let s = bandit.step(&vec![33, 97, 33, 257]).unwrap();
    assert_eq!(s.reward, 1.0 + 0.0 + 1.0 + 100.0);
    bandit.reset(None).unwrap();
    // Unfinished: shaping of the two tokens, then the unfinished score.
    assert_eq!(bandit.step(&vec![33, 33]).unwrap().reward, 2.0 - 100.0);
}

#[test]
fn sentiment_kwargs_shape_the_prompts() {
    let opts = MakeOptions::new().kwargs(
        Kwargs::new()
            .with("prompt_words", 1i64)
            .with("num_prompts", 5i64)
            .with("max_new_tokens", 3i64),
    );
    let mut env = tokengym_envs::make_with("TextGen-Sentiment-v0", &opts).unwrap();
    for seed in 0..5 {
        let (_, info) = env.reset(Some(seed)).unwrap();
        let prompt = text(&info, "prompt");
        assert_eq!(prompt.split_whitespace().count(), 1, "{prompt}");
    }
    let words = |s: &str| i64::from(s.as_bytes()[0]);
    env.step(&Value::Discrete(words("g"))).unwrap();
    env.step(&Value::Discrete(words("o"))).unwrap();
    let last = env.step(&Value::Discrete(words("t"))).unwrap();
    assert!(last.truncated);
    assert_eq!(last.reward, 0.5); // "got": no sentiment word
    let bad = MakeOptions::new().kwarg("num_prompts", 0i64);
    assert!(tokengym_envs::make_with("TextGen-Sentiment-v0", &bad).is_err());
}
