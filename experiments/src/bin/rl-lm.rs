//! `rl-lm`: reinforcement-learning fine-tuning of a `pretrain-lm` checkpoint.
//!
//! ```text
//! rl-lm --checkpoint runs/lm/checkpoint --task sentiment --algo ppo --steps 100 --batch 16 \
//!     --out runs/rl-lm --threads 1
//! rl-lm --checkpoint runs/lm/checkpoint --task arithmetic --algo group --group-size 4 \
//!     --batch 16 --kl-beta 0.05
//! ```
//!
//! Tasks: `sentiment` (sentiment prompts of the corpus, reward = lexicon score of the
//! completion), `arithmetic` (`a+b=` prompts, reward 1 for the right leading integer) and
//! `preference` (sentiment prompts, reward = a Bradley–Terry reward model: trained first on
//! preference pairs of the starting model's own completions judged by the lexicon plus template
//! pairs, see `tokengym_experiments::lm_preference`, and saved to `OUT/reward_model`; or loaded
//! with `--reward-model DIR`). `--reward classifier:DIR[:LABEL]` replaces the reward of
//! `sentiment` or `arithmetic` with a Hugging Face classifier's probability of a label.
//! Algorithms: `reinforce` (`--baseline` none, moving-average or learned, no KL term in the
//! loss), `group`
//! (GRPO-style group-mean baseline, `--batch / --group-size` prompts per step, KL penalty
//! `--kl-beta`), `ppo` (per-token KL penalty, fixed `--kl-beta` or adaptive towards
//! `--target-kl`).
//!
//! Training is the library's loop, `tokengym_lm::rl::FineTuner` (an `Agent` trained for
//! `--steps` updates); this binary chooses the task, builds the tuner, evaluates before and
//! after, and writes the outputs. Each step collects a batch, updates the model and appends a
//! row to `metrics.csv` (step,
//! mean_reward, kl, entropy, ref_perplexity, mean_response_len, loss, wall_seconds), measured
//! on the batch before the update (`tokengym_lm::rl::batch_stats`): `kl` is the mean
//! per-sequence KL estimate `sum_t (log pi - log pi_ref)` against the frozen starting model,
//! `entropy` the mean per-token entropy of the sampling distribution, `ref_perplexity` the
//! starting model's perplexity on the responses. `reward.png`, `kl.png`, `entropy.png` and
//! `length.png` draw them.
//!
//! Before and after training the same seeded evaluation batches are sampled and scored: 128
//! fresh prompts of the task (for arithmetic, problems the policy never trains on;
//! `mean_reward_start` / `mean_reward_end`,
//! `kl_end`, `entropy_*`, `ref_perplexity_start` / `ref_perplexity_end` in `summary.json`; for
//! `preference` also their lexicon score, `lexicon_reward_start` / `_end`) and up to 128
//! training prompts (`train_prompts_reward_start` / `_end`). The completions of the first
//! evaluation prompts go to `samples.txt`. The same arguments and seed give the same numbers on
//! one machine. The tuned model is saved to `OUT/checkpoint` (atomically, loadable by
//! `generate`). A non-finite loss or gradient stops the run before the weights change: the last
//! good model (from before the failed step) is saved to `OUT/checkpoint` and the run fails
//! with one `error:` line.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::{Parser, ValueEnum};
use serde_json::json;
use tokengym::seeding::rng_from_seed;
use tokengym::{Agent, Budget};
use tokengym_agents::nn::DeviceChoice;
use tokengym_envs::text::{
    ArithmeticReward, LexiconReward, PromptSet, RewardContext, RewardFn, Tokenizer,
};
use tokengym_experiments::cli::DtypeArg;
use tokengym_experiments::lm_memory::{available_bytes, check_rows_fit};
use tokengym_experiments::lm_preference::{PreferenceSetup, train_reward_model};
use tokengym_experiments::rl_lm_output::{StepLog, write_samples};
use tokengym_experiments::run_dir::{OutDir, write_json};
use tokengym_lm::classifier::ClassifierReward;
use tokengym_lm::decoding::SamplingConfig;
use tokengym_lm::model::Decoder;
use tokengym_lm::pretrain::TOKENIZER_FILE;
use tokengym_lm::pretrain::load_checkpoint_as;
use tokengym_lm::rl::{
    Algorithm, Baseline, FineTuneConfig, FineTuner, GroupConfig, KlController, OptimConfig,
    PpoConfig, ReinforceConfig, RewardModel, Rollout, RolloutBatch, RolloutConfig, batch_stats,
};

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
enum Task {
    /// Sentiment prompts, lexicon reward.
    Sentiment,
    /// Arithmetic prompts, exact-answer reward.
    Arithmetic,
    /// Sentiment prompts, reward = a Bradley–Terry reward model trained first (from the
    /// checkpoint's weights) on preference pairs, or loaded with --reward-model.
    Preference,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
enum BaselineArg {
    /// No baseline.
    None,
    /// Moving average of batch mean rewards (decay 0.9).
    MovingAverage,
    /// A value head predicting each prompt's reward (loss weight 0.5).
    Learned,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
enum RmReward {
    /// The score itself (unbounded).
    Raw,
    /// sigmoid(score), in (0, 1).
    Sigmoid,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
enum Algo {
    /// REINFORCE with a moving-average baseline.
    Reinforce,
    /// PPO with a value head and a per-token KL penalty.
    Ppo,
    /// Group baseline (GRPO): several completions per prompt.
    Group,
}

/// Fine-tune a language model checkpoint with reinforcement learning.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// A pretrain-lm checkpoint folder or a Hugging Face model folder (GPT-2, GPT-Neo, Llama,
    /// Qwen2, Qwen3); a Hugging Face model is saved back as one.
    #[arg(long, visible_alias = "model")]
    checkpoint: PathBuf,
    /// Parameter dtype of the tuned model (and its frozen reference): f32, f16 or bf16
    /// (default: as the weights are stored; f32 is the safe choice for training a bf16 folder).
    #[arg(long, value_enum)]
    dtype: Option<DtypeArg>,
    /// The task (prompts and reward).
    #[arg(long, value_enum, default_value = "sentiment")]
    task: Task,
    /// The learning algorithm.
    #[arg(long, value_enum, default_value = "ppo")]
    algo: Algo,
    /// Training prompts (drawn with the seed; evaluation uses other prompts).
    #[arg(long, default_value_t = 256)]
    prompts: usize,
    /// Largest operand of --task arithmetic prompts.
    #[arg(long, default_value_t = 20)]
    max_operand: u32,
    /// Update steps.
    #[arg(long, default_value_t = 50)]
    steps: usize,
    /// Completions per step.
    #[arg(long, default_value_t = 16)]
    batch: usize,
    /// Reward baseline of --algo reinforce [default: moving-average].
    #[arg(long, value_enum)]
    baseline: Option<BaselineArg>,
    /// Completions per prompt for --algo group (must divide --batch).
    #[arg(long, default_value_t = 4)]
    group_size: usize,
    /// KL coefficient (initial one when --target-kl is set).
    #[arg(long, default_value_t = 0.05)]
    kl_beta: f64,
    /// Entropy bonus coefficient of --algo ppo (0 = none).
    #[arg(long, default_value_t = 0.0)]
    ent_coef: f64,
    /// Adaptive KL target per sequence (--algo ppo only).
    #[arg(long)]
    target_kl: Option<f64>,
    /// Reward-model training steps for --task preference.
    #[arg(long, default_value_t = 150)]
    rm_steps: usize,
    /// Prompts whose 4 completions (best vs worst by the lexicon) make the reward model's
    /// training pairs, for --task preference.
    #[arg(long, default_value_t = 256)]
    rm_groups: usize,
    /// Template preference pairs added to the reward model's training pairs.
    #[arg(long, default_value_t = 256)]
    rm_templates: usize,
    /// A reward model saved by an earlier --task preference run (OUT/reward_model), used
    /// instead of training one.
    #[arg(long)]
    reward_model: Option<PathBuf>,
    /// The reward instead of the task's own (--task sentiment or arithmetic):
    /// `classifier:DIR[:LABEL]`, the probability a Hugging Face sequence classifier (BERT,
    /// DistilBERT, RoBERTa folder) gives LABEL (an id2label name or index; default its last
    /// label, POSITIVE for the usual sentiment classifiers) for prompt + completion, as in
    /// TRL's sentiment example.
    #[arg(long, value_name = "SPEC")]
    reward: Option<String>,
    /// Reward of --task preference: the raw reward-model score, or its sigmoid (the
    /// Bradley–Terry probability of beating a completion scored 0, in (0, 1)).
    #[arg(long, value_enum, default_value = "sigmoid")]
    rm_reward: RmReward,
    /// Learning rate.
    #[arg(long, default_value_t = 1e-4)]
    lr: f64,
    /// Sampling temperature of the rollouts.
    #[arg(long, default_value_t = 1.0)]
    temperature: f64,
    /// Most new tokens per completion.
    #[arg(long, default_value_t = 16)]
    max_new_tokens: i64,
    /// Seed of prompts, sampling and minibatches.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Output folder (never the folder of --checkpoint or --reward-model).
    #[arg(long, default_value = "runs/rl-lm")]
    out: PathBuf,
    /// Replace an earlier run in --out (its checkpoint, reward model, metrics, summary,
    /// samples and plots) instead of refusing.
    #[arg(long)]
    overwrite: bool,
    /// libtorch CPU threads (default: libtorch's choice).
    #[arg(long)]
    threads: Option<i32>,
    /// auto, cpu or cuda.
    #[arg(long, default_value = "cpu")]
    device: String,
    /// No per-step progress lines.
    #[arg(long)]
    quiet: bool,
}

fn main() {
    tokengym_experiments::cli::run_main(env!("CARGO_BIN_NAME"), run);
}

/// Most prompts of the evaluation batch, and prompts of the samples file.
const EVAL_ROWS: usize = 128;
const SAMPLE_ROWS: usize = 6;

fn check_args(a: &Args) -> Result<()> {
    if a.steps == 0 || a.batch == 0 || a.prompts == 0 {
        bail!("--steps, --batch and --prompts must be at least 1");
    }
    if a.max_new_tokens < 1 {
        bail!(
            "--max-new-tokens must be at least 1, got {}",
            a.max_new_tokens
        );
    }
    if !(a.kl_beta.is_finite() && a.kl_beta >= 0.0) {
        bail!("--kl-beta must be finite and >= 0, got {}", a.kl_beta);
    }
    if !(a.ent_coef.is_finite() && a.ent_coef >= 0.0) {
        bail!("--ent-coef must be finite and >= 0, got {}", a.ent_coef);
    }
    if let Some(spec) = &a.reward {
        classifier_spec(spec)?;
        if a.task == Task::Preference {
            bail!(
                "--reward applies to --task sentiment and arithmetic (preference has its reward model)"
            );
        }
    }
    if a.ent_coef > 0.0 && a.algo != Algo::Ppo {
        bail!("--ent-coef only applies to --algo ppo");
    }
    if !(a.lr.is_finite() && a.lr > 0.0) {
        bail!("--lr must be finite and > 0, got {}", a.lr);
    }
    if let Some(t) = a.target_kl {
        if a.algo != Algo::Ppo {
            bail!("--target-kl only applies to --algo ppo");
        }
        if !(t.is_finite() && t > 0.0) {
            bail!("--target-kl must be finite and > 0, got {t}");
        }
    }
    if a.algo == Algo::Group && (a.group_size < 2 || !a.batch.is_multiple_of(a.group_size)) {
        bail!(
            "--algo group needs --group-size >= 2 dividing --batch (got group size {} and batch {})",
            a.group_size,
            a.batch
        );
    }
    if let Some(n) = a.threads
        && n < 1
    {
        bail!("--threads must be at least 1, got {n}");
    }
    if a.baseline.is_some() && a.algo != Algo::Reinforce {
        bail!("--baseline only applies to --algo reinforce");
    }
    if a.reward_model.is_some() && a.task != Task::Preference {
        bail!("--reward-model only applies to --task preference");
    }
    Ok(())
}

/// What a run writes into `--out` (and `--overwrite` replaces).
const OUTPUTS: &[&str] = &[
    "checkpoint",
    "reward_model",
    "metrics.csv",
    "summary.json",
    "samples.txt",
    "reward.png",
    "kl.png",
    "entropy.png",
    "length.png",
];

/// The run folder, refusing an earlier run (without --overwrite) and any overlap with the
/// models the run reads (always).
/// The classifier folder and label of `--reward classifier:DIR[:LABEL]`.
fn classifier_spec(spec: &str) -> Result<(PathBuf, Option<String>)> {
    let Some(rest) = spec.strip_prefix("classifier:") else {
        bail!("--reward {spec:?} is not a reward; give classifier:DIR[:LABEL]");
    };
    let whole = PathBuf::from(rest);
    if whole.is_dir() {
        return Ok((whole, None));
    }
    if let Some((dir, label)) = rest.rsplit_once(':')
        && Path::new(dir).is_dir()
        && !label.is_empty()
    {
        return Ok((PathBuf::from(dir), Some(label.to_owned())));
    }
    bail!("--reward {spec:?}: no classifier folder {rest} (give classifier:DIR[:LABEL])");
}

fn out_dir(args: &Args) -> Result<OutDir> {
    let mut out = OutDir::new(&args.out, OUTPUTS).reads(&args.checkpoint, "--checkpoint");
    if let Some(rm) = &args.reward_model {
        out = out.reads(rm, "--reward-model");
    }
    if let Some(spec) = &args.reward {
        out = out.reads(&classifier_spec(spec)?.0, "--reward");
    }
    out.check(args.overwrite)?;
    Ok(out)
}

fn run(args: Args) -> Result<()> {
    check_args(&args)?;
    let out_dir = out_dir(&args)?;
    if let Some(n) = args.threads {
        tch::set_num_threads(n);
    }
    let device = args.device.parse::<DeviceChoice>()?.resolve()?;
    tch::manual_seed(args.seed as i64);
    let ckpt = load_checkpoint_as(&args.checkpoint, device, args.dtype.map(DtypeArg::kind))?;
    if device == tch::Device::Cpu {
        let available = available_bytes();
        check_rows_fit(ckpt.model.config(), args.batch, "--batch", available)?;
    }
    let (vs, model) = (ckpt.vs, ckpt.model);
    let (prompts, eval_prompts) = task_prompts(&args)?;
    let tokenizer: Arc<dyn Tokenizer> = Arc::from(ckpt.tokenizer);
    let mut rm_info = serde_json::Value::Null;
    let reward: Arc<dyn RewardFn> = match args.task {
        Task::Preference => {
            let (rm, info) = reward_model(&args, &model, tokenizer.clone(), device, &out_dir)?;
            rm_info = info;
            rm
        }
        _ if args.reward.is_some() => {
            let (dir, label) = classifier_spec(args.reward.as_deref().unwrap_or_default())?;
            Arc::new(
                ClassifierReward::load(&dir, label.as_deref(), device)
                    .with_context(|| format!("--reward classifier {}", dir.display()))?,
            )
        }
        Task::Sentiment => Arc::new(LexiconReward::default()),
        Task::Arithmetic => Arc::new(ArithmeticReward),
    };
    // The run can start: only now is an earlier run in --out replaced (a reward model trained
    // for this run has replaced it already, just before it was saved).
    if args.task != Task::Preference || args.reward_model.is_some() {
        out_dir.clear()?;
    }
    let rollout_cfg = RolloutConfig {
        max_new_tokens: args.max_new_tokens,
        sampling: SamplingConfig::new(args.temperature)?,
        add_special_tokens: true,
        stop_at_eos: !tokenizer.stop_ids().is_empty(),
    };
    let rollout = Rollout::new(tokenizer.clone(), prompts, reward.clone(), rollout_cfg)?;
    let eval_rollout = Rollout::new(tokenizer.clone(), eval_prompts, reward, rollout_cfg)?;
    let optim = OptimConfig {
        lr: args.lr,
        ..OptimConfig::default()
    };
    let algorithm = match args.algo {
        Algo::Reinforce => Algorithm::Reinforce(ReinforceConfig {
            optim,
            baseline: match args.baseline.unwrap_or(BaselineArg::MovingAverage) {
                BaselineArg::None => Baseline::None,
                BaselineArg::MovingAverage => Baseline::MovingAverage { decay: 0.9 },
                BaselineArg::Learned => Baseline::Learned { vf_coef: 0.5 },
            },
        }),
        Algo::Group => Algorithm::Group(GroupConfig {
            group_size: args.group_size,
            kl_beta: args.kl_beta,
            optim,
            ..GroupConfig::default()
        }),
        Algo::Ppo => Algorithm::Ppo(PpoConfig {
            kl: match args.target_kl {
                Some(target) => KlController::Adaptive {
                    beta: args.kl_beta,
                    target,
                    horizon: 10_000.0,
                },
                None => KlController::Fixed { beta: args.kl_beta },
            },
            optim,
            ent_coef: args.ent_coef,
            minibatch_size: args.batch.min(16),
            ..PpoConfig::default()
        }),
    };
    let config = FineTuneConfig {
        algorithm,
        batch_size: args.batch,
        seed: args.seed,
    };
    let mut tuner = FineTuner::new(vs, model, Some(args.checkpoint.clone()), rollout, config)?;
    let n_prompts = eval_rollout.prompts().len();
    let eval_idx: Vec<usize> = (0..n_prompts).collect();
    let sample_idx: Vec<usize> = (0..SAMPLE_ROWS.min(n_prompts)).collect();
    let eval_seed = args.seed.wrapping_add(77);
    let train_idx: Vec<usize> = (0..tuner.rollout().prompts().len().min(EVAL_ROWS)).collect();
    let evaluate = |tuner: &FineTuner, rollout: &Rollout, rows: &[usize]| {
        tch::no_grad(|| {
            rollout.collect_for(tuner.model(), rows, &mut rng_from_seed(Some(eval_seed)))
        })
    };
    let start = evaluate(&tuner, &eval_rollout, &eval_idx)?;
    let start_train = evaluate(&tuner, tuner.rollout(), &train_idx)?;
    let before = evaluate(&tuner, &eval_rollout, &sample_idx)?;

    let t0 = Instant::now();
    let mut log = StepLog::new(&args.out, args.quiet);
    let ckpt_dir = args.out.join("checkpoint");
    if let Err(e) = tuner.learn(Budget::Updates(args.steps as u64), &mut log) {
        // The tuner put the weights from before the failed update back: save those, with the
        // metrics of the updates that did run.
        let step = tuner.progress().updates + 1;
        let flushed = log.flush();
        tuner.save(&ckpt_dir)?;
        flushed?;
        bail!(
            "step {step} failed: {e}; the last good model is in {}",
            ckpt_dir.display()
        );
    }
    log.flush()?;
    tuner.save(&ckpt_dir)?;
    let end = evaluate(&tuner, &eval_rollout, &eval_idx)?;
    let end_train = evaluate(&tuner, tuner.rollout(), &train_idx)?;
    let after = evaluate(&tuner, &eval_rollout, &sample_idx)?;
    let curves = &log.curves;
    let start_stats = batch_stats(tuner.reference(), tuner.reference(), &start)?;
    let end_stats = batch_stats(tuner.model(), tuner.reference(), &end)?;
    write_samples(&args.out.join("samples.txt"), &before, &after)?;
    curves.plot(&args.out)?;
    let lexicon = |b: &RolloutBatch| -> Result<Option<f64>> {
        if args.task != Task::Preference {
            return Ok(None);
        }
        let judge = LexiconReward::default();
        let mut total = 0.0;
        for (p, c) in b.prompts.iter().zip(&b.completions) {
            total += judge.score(&RewardContext::new(p, c))?;
        }
        Ok(Some(total / b.len() as f64))
    };
    let summary = json!({
        "task": format!("{:?}", args.task).to_lowercase(),
        "algo": format!("{:?}", args.algo).to_lowercase(),
        "seed": args.seed,
        "steps": args.steps,
        "batch": args.batch,
        "lr": args.lr,
        "kl_beta": args.kl_beta,
        "target_kl": args.target_kl,
        "temperature": args.temperature,
        "mean_reward_start": start.mean_reward(),
        "mean_reward_end": end.mean_reward(),
        "eval_prompts": end.len(),
        "train_prompts_reward_start": start_train.mean_reward(),
        "train_prompts_reward_end": end_train.mean_reward(),
        "kl_end": end_stats.kl,
        "entropy_start": start_stats.entropy,
        "entropy_end": end_stats.entropy,
        "ref_perplexity_start": start_stats.reference_perplexity,
        "ref_perplexity_end": end_stats.reference_perplexity,
        "response_len_start": start_stats.mean_response_len,
        "response_len_end": end_stats.mean_response_len,
        "lexicon_reward_start": lexicon(&start)?,
        "lexicon_reward_end": lexicon(&end)?,
        "reward_model": rm_info,
        "train_reward_first": curves.reward.first(),
        "train_reward_last": curves.reward.last(),
        "wall_seconds": t0.elapsed().as_secs_f64(),
    });
    write_json(&args.out.join("summary.json"), &summary)?;
    println!(
        "mean reward {:.4} -> {:.4}, KL {:.4}, reference perplexity {:.3} -> {:.3}; outputs in {}",
        start.mean_reward(),
        end.mean_reward(),
        end_stats.kl,
        start_stats.reference_perplexity,
        end_stats.reference_perplexity,
        args.out.display()
    );
    Ok(())
}

/// The task's training prompts (`--prompts` of them) and its evaluation prompts: a fresh
/// seeded draw of [`EVAL_ROWS`] prompts from the same distribution. For arithmetic, problems
/// among the training prompts are left out, so accuracy is measured on problems the policy never
/// practised; sentiment prompts are openers like `the movie was` from a small set, and
/// leaving the trained ones out would keep only the rarest, so they stay.
fn task_prompts(args: &Args) -> Result<(PromptSet, PromptSet)> {
    let draw = |seed: u64, count: usize| -> Result<PromptSet> {
        Ok(match args.task {
            Task::Arithmetic => PromptSet::arithmetic(seed, count, args.max_operand)?,
            Task::Sentiment | Task::Preference => PromptSet::sentiment(seed, count, 3)?,
        })
    };
    let train = draw(args.seed + 1000, args.prompts)
        .with_context(|| format!("--prompts {}", args.prompts))?;
    let seen: std::collections::HashSet<&str> = train.iter().map(|p| p.text.as_str()).collect();
    let fresh = draw(args.seed + 9000, 4 * EVAL_ROWS)?;
    let held_out: Vec<_> = fresh
        .iter()
        .filter(|p| args.task != Task::Arithmetic || !seen.contains(p.text.as_str()))
        .take(EVAL_ROWS)
        .cloned()
        .collect();
    if held_out.is_empty() {
        bail!(
            "no evaluation prompt is left outside the {} training prompts: use fewer --prompts",
            args.prompts
        );
    }
    Ok((train, PromptSet::new(held_out)?))
}

/// The reward model of `--task preference`: loaded from `--reward-model`, or trained by the
/// preference pipeline and saved to `OUT/reward_model` (with the checkpoint's tokenizer; the
/// outputs of an earlier run in `out_dir` are cleared just before). Returns it with what
/// `summary.json` records about it.
fn reward_model(
    args: &Args,
    policy: &Decoder,
    tokenizer: Arc<dyn Tokenizer>,
    device: tch::Device,
    out_dir: &OutDir,
) -> Result<(Arc<dyn RewardFn>, serde_json::Value)> {
    if let Some(dir) = &args.reward_model {
        let rm = RewardModel::load(dir, device)
            .with_context(|| format!("cannot load the reward model {}", dir.display()))?;
        if rm.tokenizer().vocab_size() != tokenizer.vocab_size() {
            bail!(
                "the reward model's tokenizer has {} ids, the checkpoint's {}",
                rm.tokenizer().vocab_size(),
                tokenizer.vocab_size()
            );
        }
        let rm = rm.with_sigmoid_reward(args.rm_reward == RmReward::Sigmoid);
        return Ok((Arc::new(rm), json!({ "loaded_from": dir })));
    }
    let setup = PreferenceSetup {
        rm_steps: args.rm_steps,
        groups: args.rm_groups,
        group_size: 4,
        templates: args.rm_templates,
        seed: args.seed,
        max_new_tokens: args.max_new_tokens,
        temperature: args.temperature,
    };
    let trained = train_reward_model(&args.checkpoint, policy, tokenizer, &setup, device)
        .context("training the reward model (--rm-groups, --rm-templates, --rm-steps)")?;
    out_dir.clear()?;
    let dir = args.out.join("reward_model");
    trained.model.save(&dir)?;
    let tok = args.checkpoint.join(TOKENIZER_FILE);
    if tok.is_file() {
        fs::copy(&tok, dir.join(TOKENIZER_FILE))
            .with_context(|| format!("cannot copy {}", tok.display()))?;
    }
    if !args.quiet {
        println!(
            "reward model: {} training pairs, held-out accuracy {} on {} sampled pairs, \
             {:.3} on template pairs; saved to {}",
            trained.train_pairs,
            trained
                .held_out_accuracy
                .map_or_else(|| "n/a".to_owned(), |a| format!("{a:.3}")),
            trained.held_out_pairs,
            trained.template_accuracy,
            dir.display()
        );
    }
    let info = json!({
        "train_pairs": trained.train_pairs,
        "held_out_pairs": trained.held_out_pairs,
        "held_out_accuracy": trained.held_out_accuracy,
        "template_accuracy": trained.template_accuracy,
        "steps": args.rm_steps,
        "reward": format!("{:?}", args.rm_reward).to_lowercase(),
    });
    let rm = trained
        .model
        .with_sigmoid_reward(args.rm_reward == RmReward::Sigmoid);
    Ok((Arc::new(rm), info))
}
