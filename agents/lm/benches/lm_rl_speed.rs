//! Throughput of RL fine-tuning of a GPT-2-shaped language model (one CPU thread by default):
//! the tokengym side of `benches/compare_trl.py` (TRL's PPOTrainer on the same model shape).
//!
//! The model has GPT-2's layout (learned absolute positions, GELU-tanh, tied embeddings,
//! biases, no dropout): `d_model` 128, 4 layers, 4 heads, context 128, a vocabulary of 256 ids
//! (a character tokenizer of 252 characters plus `<bos>`, `<eos>`, `<pad>`, `<unk>`). Prompts
//! are 16 random characters of the alphabet (16 tokens, so no padding), completions a fixed
//! number of new tokens (no stop at `<eos>`), sampled at temperature 1.
//!
//! Measured, after warm-up iterations:
//!
//! - **rollout**: new tokens per second sampled by [`Rollout::collect`] (KV cache, sampling,
//!   decoding) with a constant reward, i.e. generation alone;
//! - **PPO iteration**: `Rollout::collect` scored by a [`RewardModel`] of the same shape (a
//!   Bradley–Terry scalar head on a GPT; random weights: only the cost matters here), then
//!   [`Ppo::step`] against a [`FrozenDecoder`] reference: the policy/value and reference forward
//!   passes, GAE, then `epochs` passes of minibatch updates (AdamW, no gradient clipping, like
//!   TRL's PPO loop). Reported as episodes (completions) per second, with the time split into
//!   generation, reward model, and `Ppo::step`; the no-grad scoring inside `Ppo::step` (one
//!   policy+value forward and one reference forward over the whole batch) is timed separately
//!   on the same batch so that the update phase alone can be given as `step - scoring`.
//!
//! The reward model runs through the library's [`RewardFn`] interface, which scores one
//! completion at a time (one forward pass per completion, from its decoded text); that is the
//! path `rl-lm --task preference` uses.
//!
//! ```text
//! cargo bench -p tokengym-agents --bench lm_rl_speed -- [--batch 16] [--prompt-len 16]
//!     [--new-tokens 32] [--epochs 4] [--minibatch 16] [--warmup 2] [--iters 8]
//!     [--rollout-reps 10] [--threads 1] [--json]
//! ```
//!
//! `--json` adds one final line holding every number as a JSON object (what
//! `benches/compare_trl.py` reads). `LM_BENCH_DEVICE=cuda` runs on the first GPU.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use rand::RngExt;
use serde_json::json;
use tch::nn::VarStore;
use tch::{Device, Kind, Tensor};
use tokengym::seeding::rng_from_seed;
use tokengym_envs::text::{CharTokenizer, PromptSet, RewardContext, RewardFn, Tokenizer};
use tokengym_lm::decoding::SamplingConfig;
use tokengym_lm::error::{Error, Result};
use tokengym_lm::model::{CausalLm, Decoder, DecoderConfig, PositionEncoding};
use tokengym_lm::rl::{
    FrozenDecoder, KlController, OptimConfig, Ppo, PpoConfig, RewardModel, Rollout, RolloutConfig,
};

/// The benchmark's sizes (command-line flags).
#[derive(Debug, Clone)]
struct Args {
    batch: usize,
    prompt_len: usize,
    new_tokens: i64,
    epochs: usize,
    minibatch: usize,
    warmup: usize,
    iters: usize,
    rollout_reps: usize,
    threads: i32,
    json: bool,
}

impl Default for Args {
    fn default() -> Self {
        Self {
            batch: 16,
            prompt_len: 16,
            new_tokens: 32,
            epochs: 4,
            minibatch: 16,
            warmup: 2,
            iters: 8,
            rollout_reps: 10,
            threads: 1,
            json: false,
        }
    }
}

fn parse_args() -> Result<Args> {
    let mut a = Args::default();
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        // `cargo bench` passes `--bench` to every bench binary.
        if flag == "--bench" {
            continue;
        }
        if flag == "--json" {
            a.json = true;
            continue;
        }
        let value = it
            .next()
            .ok_or_else(|| Error::InvalidArgument(format!("{flag} needs a value")))?;
        let num = |v: &str| {
            v.parse::<usize>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| Error::InvalidArgument(format!("{flag} wants a positive integer")))
        };
        match flag.as_str() {
            "--batch" => a.batch = num(&value)?,
            "--prompt-len" => a.prompt_len = num(&value)?,
            "--new-tokens" => a.new_tokens = num(&value)? as i64,
            "--epochs" => a.epochs = num(&value)?,
            "--minibatch" => a.minibatch = num(&value)?,
            "--warmup" => a.warmup = num(&value)?,
            "--iters" => a.iters = num(&value)?,
            "--rollout-reps" => a.rollout_reps = num(&value)?,
            "--threads" => a.threads = num(&value)? as i32,
            _ => return Err(Error::InvalidArgument(format!("unknown flag {flag}"))),
        }
    }
    Ok(a)
}

/// Model vocabulary: 252 characters + `<bos>`, `<eos>`, `<pad>`, `<unk>`.
const VOCAB: i64 = 256;
const CONTEXT: i64 = 128;

/// The 252 characters: printable ASCII, printable Latin-1, then U+0100.. (one token each, so a
/// decoded completion re-encodes to the same number of tokens).
fn alphabet() -> Vec<char> {
    let ascii = ' '..='~';
    let latin1 = '\u{A1}'..='\u{FF}';
    let extended = '\u{100}'..='\u{17F}';
    ascii.chain(latin1).chain(extended).take(252).collect()
}

fn tokenizer() -> Result<CharTokenizer> {
    let corpus: String = alphabet().into_iter().collect();
    let tok = CharTokenizer::from_corpus(&corpus, &["<bos>", "<eos>", "<pad>"])?;
    if tok.vocab_size() as i64 != VOCAB {
        return Err(Error::InvalidArgument(format!(
            "bench tokenizer has {} ids, expected {VOCAB}",
            tok.vocab_size()
        )));
    }
    Ok(tok)
}

/// GPT-2's layout at the benchmark's size.
fn gpt2_tiny() -> DecoderConfig {
    DecoderConfig {
        context_len: CONTEXT,
        position: PositionEncoding::Learned,
        ..DecoderConfig::tiny(VOCAB)
    }
}

/// `count` prompts of `len` random characters of the alphabet.
fn prompts(len: usize, count: usize) -> Result<PromptSet> {
    let chars = alphabet();
    let mut rng = rng_from_seed(Some(7));
    let texts: Vec<String> = (0..count)
        .map(|_| {
            (0..len)
                .map(|_| chars[rng.random_range(0..chars.len())])
                .collect()
        })
        .collect();
    Ok(PromptSet::from_texts(texts)?)
}

/// A reward of 0 for every completion: the rollout measurement times generation alone.
struct ZeroReward;

impl RewardFn for ZeroReward {
    fn score(&self, _ctx: &RewardContext<'_>) -> tokengym::Result<f64> {
        Ok(0.0)
    }
}

/// A reward function that adds up the time spent in the wrapped one.
struct Timed<R> {
    inner: R,
    nanos: AtomicU64,
}

impl<R: RewardFn> RewardFn for Timed<R> {
    fn score(&self, ctx: &RewardContext<'_>) -> tokengym::Result<f64> {
        let start = Instant::now();
        let r = self.inner.score(ctx);
        self.nanos
            .fetch_add(start.elapsed().as_nanos() as u64, Ordering::Relaxed);
        r
    }
}

impl<R> Timed<R> {
    fn take_secs(&self) -> f64 {
        self.nanos.swap(0, Ordering::Relaxed) as f64 * 1e-9
    }
}

fn sync(device: Device) {
    if let Device::Cuda(i) = device {
        tch::Cuda::synchronize(i as i64);
    }
}

fn n_params(vs: &VarStore) -> i64 {
    vs.trainable_variables()
        .iter()
        .map(Tensor::numel)
        .sum::<usize>() as i64
}

fn main() -> Result<()> {
    let args = parse_args()?;
    if args.prompt_len as i64 + args.new_tokens > CONTEXT {
        return Err(Error::InvalidArgument(format!(
            "prompt length + new tokens must fit the context of {CONTEXT}"
        )));
    }
    tch::set_num_threads(args.threads);
    tch::manual_seed(0);
    let device = match std::env::var("LM_BENCH_DEVICE").as_deref() {
        Ok("cuda") => Device::Cuda(0),
        _ => Device::Cpu,
    };
    let tok: Arc<dyn Tokenizer> = Arc::new(tokenizer()?);
    let cfg = gpt2_tiny();
    let prompt_set = prompts(args.prompt_len, 64)?;
    let sampling = SamplingConfig::new(1.0)?;
    let rollout_cfg = RolloutConfig {
        max_new_tokens: args.new_tokens,
        sampling,
        add_special_tokens: false,
        stop_at_eos: false,
    };
    let (b, n) = (args.batch, args.new_tokens);
    println!(
        "lm_rl_speed on {device:?}, {} torch thread(s): GPT-2 layout d{} L{} H{} ctx {} vocab {}, \
         batch {b}, prompt {} tokens, {n} new tokens",
        tch::get_num_threads(),
        cfg.d_model,
        cfg.n_layers,
        cfg.n_heads,
        cfg.context_len,
        cfg.vocab_size,
        args.prompt_len
    );

    let vs = VarStore::new(device);
    let policy = Decoder::new(&vs.root(), cfg.clone())?;
    let policy_params = n_params(&vs);
    let mut rng = rng_from_seed(Some(0));

    // (a) Rollout tokens/s: generation with a constant reward.
    let gen_rollout = Rollout::new(
        tok.clone(),
        prompt_set.clone(),
        Arc::new(ZeroReward),
        rollout_cfg,
    )?;
    for _ in 0..args.warmup {
        gen_rollout.collect(&policy, b, &mut rng)?;
    }
    sync(device);
    let start = Instant::now();
    for _ in 0..args.rollout_reps {
        let batch = gen_rollout.collect(&policy, b, &mut rng)?;
        if batch.response.size() != [b as i64, n] {
            return Err(Error::Shape(format!(
                "expected {b}x{n} responses, got {:?}",
                batch.response.size()
            )));
        }
    }
    sync(device);
    let rollout_secs = start.elapsed().as_secs_f64();
    let rollout_tps = (b as i64 * n) as f64 * args.rollout_reps as f64 / rollout_secs;
    println!(
        "rollout: {rollout_tps:.0} new tokens/s ({:.1} ms per batch of {b} x {n})",
        rollout_secs * 1e3 / args.rollout_reps as f64
    );

    // (b) Full PPO iterations with a reward model of the same shape.
    let rm_vs = VarStore::new(device);
    let rm_gpt = Decoder::new(&rm_vs.root(), cfg.clone())?;
    let reward = Arc::new(Timed {
        inner: RewardModel::new(rm_vs, rm_gpt, tok.clone())?,
        nanos: AtomicU64::new(0),
    });
    let rollout = Rollout::new(tok.clone(), prompt_set, reward.clone(), rollout_cfg)?;
    let reference = FrozenDecoder::copy_of(&vs, &cfg)?;
    let ppo_cfg = PpoConfig {
        epochs: args.epochs,
        minibatch_size: args.minibatch,
        kl: KlController::Fixed { beta: 0.05 },
        optim: OptimConfig {
            lr: 3e-6,
            weight_decay: 0.0,
            max_grad_norm: None,
        },
        ..PpoConfig::default()
    };
    let mut ppo = Ppo::new(&vs, &policy, ppo_cfg)?;
    let mut totals = [0.0f64; 4]; // iteration, collect, reward, step
    let mut last_batch = None;
    for it in 0..args.warmup + args.iters {
        sync(device);
        let t0 = Instant::now();
        let batch = rollout.collect(&policy, b, &mut rng)?;
        sync(device);
        let t1 = Instant::now();
        let stats = ppo.step(&policy, reference.model(), &batch, &mut rng)?;
        sync(device);
        let t2 = Instant::now();
        let reward_secs = reward.take_secs();
        if !stats.policy_loss.is_finite() {
            return Err(Error::InvalidArgument("non-finite PPO loss".to_owned()));
        }
        if it >= args.warmup {
            totals[0] += (t2 - t0).as_secs_f64();
            totals[1] += (t1 - t0).as_secs_f64();
            totals[2] += reward_secs;
            totals[3] += (t2 - t1).as_secs_f64();
        }
        last_batch = Some(batch);
    }
    let iters = args.iters as f64;
    let [iter_s, collect_s, reward_s, step_s] = totals.map(|t| t / iters);
    let gen_s = collect_s - reward_s;

    // The no-grad scoring that opens `Ppo::step`, timed alone on the last batch.
    let batch = last_batch.ok_or_else(|| Error::InvalidArgument("no PPO iteration".to_owned()))?;
    let (tokens, mask) = batch.full_sequence()?;
    let t = batch.query_ids.size()[1];
    let score_once = || -> Result<()> {
        tch::no_grad(|| -> Result<()> {
            let (values, logits) = ppo
                .value_head()
                .values_and_logits(&policy, &tokens, &mask, t, n)?;
            let ref_logits = reference.model().logits(&tokens, Some(&mask))?;
            let _ = (
                values.f_sum(Kind::Float)?,
                logits.f_log_softmax(-1, Kind::Float)?,
                ref_logits.f_log_softmax(-1, Kind::Float)?,
            );
            Ok(())
        })
    };
    score_once()?;
    sync(device);
    let start = Instant::now();
    for _ in 0..args.iters {
        score_once()?;
    }
    sync(device);
    let scoring_s = start.elapsed().as_secs_f64() / iters;
    let update_s = step_s - scoring_s;
    let eps = b as f64 / iter_s;
    println!(
        "PPO iteration: {eps:.2} episodes/s ({:.1} ms per iteration of {b} episodes, {} epochs, \
         minibatch {})",
        iter_s * 1e3,
        args.epochs,
        args.minibatch
    );
    println!(
        "  generation {:.1} ms, reward model {:.1} ms, Ppo::step {:.1} ms (of which no-grad \
         scoring ~{:.1} ms, update ~{:.1} ms)",
        gen_s * 1e3,
        reward_s * 1e3,
        step_s * 1e3,
        scoring_s * 1e3,
        update_s * 1e3
    );
    if args.json {
        let out = json!({
            "bench": "lm_rl_speed",
            "device": format!("{device:?}"),
            "threads": tch::get_num_threads(),
            "batch": b,
            "prompt_len": args.prompt_len,
            "new_tokens": n,
            "epochs": args.epochs,
            "minibatch": args.minibatch,
            "warmup": args.warmup,
            "iters": args.iters,
            "policy_params": policy_params,
            "rollout_tokens_per_s": rollout_tps,
            "ppo_episodes_per_s": eps,
            "ppo_iteration_s": iter_s,
            "generation_s": gen_s,
            "reward_s": reward_s,
            "ppo_step_s": step_s,
            "scoring_s": scoring_s,
            "update_s": update_s,
        });
        println!("{out}");
    }
    Ok(())
}
