//! What the language-model integration tests share: the lock around libtorch's global RNG, and
//! the tiny model, tokenizer, prompts and reward most RL tests run on.

// Each test binary uses some of these.
#![allow(dead_code)]

use std::sync::{Arc, Mutex, MutexGuard};

use tch::Device;
use tch::nn::VarStore;
use tokengym_envs::text::{CharTokenizer, FnReward, PromptSet, RewardFn, Tokenizer};
use tokengym_lm::decoding::SamplingConfig;
use tokengym_lm::model::{Decoder, DecoderConfig};
use tokengym_lm::rl::{Rollout, RolloutConfig};

/// Serialises the tests of one test binary around libtorch's global RNG.
///
/// `tch::manual_seed` and every parameter initialisation (a GPT, a value head, a reward head)
/// use one process-wide generator, and the tests of a binary run on parallel threads: without
/// this lock, a test's "seeded" weights depend on what the other tests drew meanwhile, and a
/// learning test passes or fails by chance. Every test of a binary that touches the generator
/// holds the guard for its whole run (they take about a second together).
pub fn torch_rng_lock() -> MutexGuard<'static, ()> {
    static TORCH_RNG: Mutex<()> = Mutex::new(());
    // A test that failed while holding the lock leaves nothing half-done behind.
    TORCH_RNG
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The tokenizer of the tiny models: `a`=0, `b`=1, `<bos>`=2, `<eos>`=3, `<pad>`=4, `<unk>`=5.
pub fn ab_tokenizer() -> Arc<dyn Tokenizer> {
    Arc::new(CharTokenizer::from_corpus("ab", &["<bos>", "<eos>", "<pad>"]).unwrap())
}

/// A tiny GPT's settings: `d_model` 32, 2 layers, 2 heads, context 32.
pub fn tiny_config(vocab: i64) -> DecoderConfig {
    let mut cfg = DecoderConfig::tiny(vocab);
    (cfg.d_model, cfg.n_layers, cfg.n_heads, cfg.context_len) = (32, 2, 2, 32);
    cfg
}

/// A tiny GPT initialised after `tch::manual_seed(seed)` (hold [`torch_rng_lock`]).
pub fn tiny_gpt(seed: i64, vocab: i64) -> (VarStore, Decoder) {
    tch::manual_seed(seed);
    let vs = VarStore::new(Device::Cpu);
    let gpt = Decoder::new(&vs.root(), tiny_config(vocab)).unwrap();
    (vs, gpt)
}

/// The reward the tests teach: the fraction of a completion's characters that are `a`.
pub fn fraction_of_a() -> Arc<dyn RewardFn> {
    Arc::new(FnReward::new(|ctx| {
        let n = ctx.completion.chars().count();
        if n == 0 {
            0.0
        } else {
            ctx.completion.chars().filter(|&c| c == 'a').count() as f64 / n as f64
        }
    }))
}

/// Five prompts over `a` and `b`.
pub fn ab_prompts() -> PromptSet {
    PromptSet::from_texts(["a", "b", "ab", "ba", "bbb"]).unwrap()
}

/// [`ab_prompts`] completed with up to 8 tokens and scored by [`fraction_of_a`].
pub fn ab_rollout(sampling: SamplingConfig, add_special_tokens: bool) -> Rollout {
    let cfg = RolloutConfig {
        max_new_tokens: 8,
        sampling,
        add_special_tokens,
        stop_at_eos: true,
    };
    Rollout::new(ab_tokenizer(), ab_prompts(), fraction_of_a(), cfg).unwrap()
}

/// A JSON matrix of integers (rows of equal length) as an int64 tensor `[B, T]`.
pub fn int_matrix(v: &serde_json::Value) -> tch::Tensor {
    let rows: Vec<Vec<i64>> = serde_json::from_value(v.clone()).unwrap();
    let (b, t) = (rows.len() as i64, rows[0].len() as i64);
    tch::Tensor::from_slice(&rows.concat()).reshape([b, t])
}

/// [`int_matrix`], or `None` for JSON `null` (no attention mask).
pub fn optional_mask(v: &serde_json::Value) -> Option<tch::Tensor> {
    (!v.is_null()).then(|| int_matrix(v))
}
