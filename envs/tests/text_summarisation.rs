//! The summarisation prompt set (`data/summarisation/example.jsonl`) read from disk and scored
//! with `RougeReward`, directly and as the reward of a `CompletionBandit`; a malformed file's
//! error names the file and the line.

use std::sync::Arc;
use tokengym::Env;
use tokengym_envs::text::rouge::RougeMetric;
use tokengym_envs::text::{
    ByteTokenizer, CompletionBandit, PromptSet, RewardContext, RewardFn, RougeReward,
    TextGenConfig, TextGenEnv,
};

fn example() -> PromptSet {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/data/summarisation/example.jsonl"
    );
    PromptSet::from_jsonl(path).expect("the example set reads")
}

#[test]
fn example_set_scores_its_references() {
    let set = example();
    assert_eq!(set.len(), 8);
    for metric in [RougeMetric::ROUGE1, RougeMetric::ROUGE2, RougeMetric::L] {
        let reward = RougeReward::new(metric, true).unwrap();
        for prompt in &set {
            assert!(prompt.text.starts_with("Summarise") && prompt.text.ends_with("Summary:"));
            let reference = prompt
                .target
                .as_deref()
                .expect("every example has a reference");
            let ctx = RewardContext::new(&prompt.text, reference).with_target(reference);
            assert_eq!(reward.score(&ctx).unwrap(), 1.0);
            let ctx = RewardContext::new(&prompt.text, " zebra xylophone").with_target(reference);
            assert_eq!(reward.score(&ctx).unwrap(), 0.0);
        }
    }
    // Another paragraph's reference is a partial match at best.
    let reward = RougeReward::new(RougeMetric::ROUGE1, false).unwrap();
    let (a, b) = (set.get(0).unwrap(), set.get(1).unwrap());
    let ctx = RewardContext::new(&a.text, b.target.as_deref().unwrap())
        .with_target(a.target.as_deref().unwrap());
    let s = reward.score(&ctx).unwrap();
    assert!(s > 0.0 && s < 0.5, "{s}");
}

/// The environment hands each prompt's reference to the reward: a completion equal to the
/// drawn prompt's reference earns 1, another prompt's reference less, and a set without
/// references makes the step an error rather than a reward.
#[test]
fn bandit_rewards_the_drawn_prompts_reference() {
    let cfg = TextGenConfig {
        max_new_tokens: 200,
        ..TextGenConfig::default()
    };
    let reward = Arc::new(RougeReward::new(RougeMetric::L, true).unwrap());
    let env = TextGenEnv::new(
        Arc::new(ByteTokenizer::new()),
        example(),
        reward.clone(),
        cfg.clone(),
    )
    .unwrap();
    let mut bandit = CompletionBandit::new(env).unwrap();
    for seed in 0..8 {
        bandit.reset(Some(seed)).unwrap();
        let prompt = bandit.inner().prompt().unwrap().clone();
        let reference = prompt.target.unwrap();
        assert_eq!(bandit.step_text(&reference).unwrap().reward, 1.0);
        let other = (bandit.inner().prompt_index() + 1) % 8;
        let other_ref = example().get(other).unwrap().target.clone().unwrap();
        bandit.reset(Some(seed)).unwrap();
        assert!(bandit.step_text(&other_ref).unwrap().reward < 1.0);
    }
    let no_refs = PromptSet::parse_jsonl(r#"{"prompt": "Summarise: rain."}"#, "x").unwrap();
    let env = TextGenEnv::new(Arc::new(ByteTokenizer::new()), no_refs, reward, cfg).unwrap();
    let mut bandit = CompletionBandit::new(env).unwrap();
    bandit.reset(Some(0)).unwrap();
    let err = bandit.step_text("it rained").unwrap_err();
    assert!(err.to_string().contains("RougeReward"), "{err}");
}

#[test]
fn a_missing_reference_is_an_error() {
    let set = PromptSet::parse_jsonl(r#"{"document": "text without a summary"}"#, "x").unwrap();
    let prompt = set.get(0).unwrap();
    let ctx = RewardContext {
        target: prompt.target.as_deref(),
        ..RewardContext::new(&prompt.text, "a summary")
    };
    let err = RougeReward::new(RougeMetric::L, false)
        .unwrap()
        .score(&ctx)
        .unwrap_err();
    assert!(
        matches!(err, tokengym::Error::InvalidArgument(_)),
        "{err:?}"
    );
    assert!(err.to_string().contains("text without a summary"), "{err}");
}

#[test]
fn malformed_file_names_file_and_line() {
    let dir = std::env::temp_dir().join(format!("tokengym-jsonl-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("broken.jsonl");
    std::fs::write(
        &path,
        "{\"prompt\": \"one\", \"reference\": \"1\"}\n\n{\"prompt\": \"two\", \"reference\": 2}\n",
    )
    .unwrap();
    let err = PromptSet::from_jsonl(&path).unwrap_err().to_string();
    let want = format!("{}:3:", path.display());
    assert!(
        err.contains(&want) && err.contains("\"reference\""),
        "{err}"
    );
    let missing = PromptSet::from_jsonl(dir.join("missing.jsonl")).unwrap_err();
    assert!(matches!(missing, tokengym::Error::Io { .. }), "{missing:?}");
    std::fs::remove_dir_all(&dir).unwrap();
}
