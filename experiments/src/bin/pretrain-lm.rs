//! `pretrain-lm`: teacher-forcing pre-training of a small GPT on a text corpus.
//!
//! ```text
//! pretrain-lm --train envs/data/corpus/train.txt --valid envs/data/corpus/valid.txt \
//!     --tokenizer char --steps 2000 --out runs/lm
//! pretrain-lm --out runs/lm --resume --steps 4000
//! pretrain-lm --model ~/models/gpt2 --train my.txt --valid my_valid.txt --steps 500 --out runs/ft
//! ```
//!
//! `--model DIR` continues training the model of a folder (a Hugging Face model folder of a
//! supported family, in f32, or one of our checkpoints) with its own tokenizer instead of a
//! fresh model; the checkpoints of a Hugging Face model are Hugging Face folders.
//!
//! Writes into the run folder: `config.json` (the run's settings), `tokenizer.json` (unless
//! the byte tokenizer is used), `metrics.csv` (step, train_loss, val_loss, val_ppl, lr,
//! tokens_per_second, one row per validation), `loss.png`, `checkpoint/` (model.safetensors,
//! config.json, tokenizer.json, trainer_state.json) and `summary.json` (final validation loss
//! and perplexity, the unigram baseline's perplexity, throughput and wall time).
//!
//! `--config FILE` is a JSON object with optional `"model"` (fields of `DecoderConfig`, without
//! `vocab_size`, which comes from the tokenizer) and `"trainer"` (fields of `TrainerConfig`)
//! sections; command-line flags override it.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use clap::Parser;
use indicatif::{ProgressBar, ProgressStyle};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tch::Kind;
use tokengym_agents::nn::DeviceChoice;
use tokengym_envs::text::{
    ByteTokenizer, CharTokenizer, DEFAULT_SPECIALS, Tokenizer, unknown_chars,
};
use tokengym_experiments::lm_memory::{available_bytes, check_rows_fit};
use tokengym_experiments::pretrain_output::{Row, plot_losses, read_metrics, write_metrics};
use tokengym_experiments::run_dir::{OutDir, remove_stale_temporaries, write_atomic, write_json};
use tokengym_lm::model::DecoderConfig;
use tokengym_lm::pretrain::{
    CheckpointTarget, FitEvent, TextDataset, TokenizerSource, Trainer, TrainerConfig,
    unigram_perplexity,
};
use tokengym_lm::pretrain::{TOKENIZER_FILE, TokenizerKind, read_state};

/// Pre-train a small GPT language model with teacher forcing.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// Training text, one example per line.
    #[arg(long, default_value = "envs/data/corpus/train.txt")]
    train: PathBuf,
    /// Validation text, one example per line.
    #[arg(long, default_value = "envs/data/corpus/valid.txt")]
    valid: PathBuf,
    /// `byte`, `char` (built from the training text) or the path of a tokenizer file.
    #[arg(long, default_value = "char")]
    tokenizer: String,
    /// Total optimizer steps of the run.
    #[arg(long)]
    steps: Option<u64>,
    /// Run folder.
    #[arg(long, default_value = "runs/lm")]
    out: PathBuf,
    /// JSON file with "model" and/or "trainer" sections.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Continue the run in --out from its checkpoint (with its config.json).
    #[arg(long)]
    resume: bool,
    /// Continue training the model of this folder (Hugging Face or ours) with its tokenizer,
    /// instead of a fresh model.
    #[arg(long, conflicts_with_all = ["resume", "tokenizer", "d_model", "n_layers", "n_heads"])]
    model: Option<PathBuf>,
    /// Replace an existing run in --out.
    #[arg(long, conflicts_with = "resume")]
    overwrite: bool,
    /// auto, cpu or cuda.
    #[arg(long)]
    device: Option<String>,
    /// Seed of the initialisation and the data order.
    #[arg(long)]
    seed: Option<u64>,
    /// Training context (tokens per row).
    #[arg(long)]
    context: Option<usize>,
    /// Rows per batch.
    #[arg(long)]
    batch_size: Option<usize>,
    /// Peak learning rate.
    #[arg(long)]
    lr: Option<f64>,
    /// Warm-up steps.
    #[arg(long)]
    warmup_steps: Option<u64>,
    /// Validate and checkpoint every this many steps.
    #[arg(long)]
    eval_every: Option<u64>,
    /// Width of the model.
    #[arg(long)]
    d_model: Option<i64>,
    /// Number of transformer blocks.
    #[arg(long)]
    n_layers: Option<i64>,
    /// Number of attention heads.
    #[arg(long)]
    n_heads: Option<i64>,
    /// libtorch CPU threads (default: libtorch's choice, one per core). Small models train
    /// fastest with 1 on a busy machine.
    #[arg(long)]
    threads: Option<i32>,
    /// No progress bar.
    #[arg(long)]
    quiet: bool,
}

/// Everything needed to rerun or resume a run (`config.json`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RunConfig {
    train: PathBuf,
    valid: PathBuf,
    /// `byte`, `file` (the run folder's tokenizer.json) or `hf_folder` (the tokenizer files of
    /// the Hugging Face model the run started from, kept in every checkpoint).
    tokenizer: TokenizerKind,
    model: DecoderConfig,
    trainer: TrainerConfig,
}

fn main() {
    tokengym_experiments::cli::run_main(env!("CARGO_BIN_NAME"), run);
}

/// What a run writes into its folder (and `--overwrite` replaces).
const OUTPUTS: &[&str] = &[
    "checkpoint",
    "config.json",
    TOKENIZER_FILE,
    "metrics.csv",
    "summary.json",
    "loss.png",
];

/// An error naming the characters of the `what` text (line breaks aside) that the tokenizer
/// cannot represent: they would silently train and score as `<unk>`.
/// The checks every new run passes before anything is written: at least one step, valid
/// settings, batches that fit in memory, and texts the tokenizer can encode.
fn check_can_start(
    c: &RunConfig,
    tok: &dyn Tokenizer,
    train_text: &str,
    valid: &Path,
) -> Result<()> {
    if c.trainer.steps == 0 {
        bail!("the run's steps must be at least 1 (give --steps)");
    }
    c.trainer.validate()?;
    c.model.validate()?;
    check_batch_fits(c)?;
    check_known_chars(tok, train_text, "training")?;
    check_known_chars(tok, &read_text(valid, "validation")?, "validation")
}

fn check_known_chars(tok: &dyn Tokenizer, text: &str, what: &str) -> Result<()> {
    let mut distinct: Vec<char> = text.chars().filter(|c| !matches!(c, '\n' | '\r')).collect();
    distinct.sort_unstable();
    distinct.dedup();
    let unknown = unknown_chars(tok, &distinct.into_iter().collect::<String>())?;
    if !unknown.is_empty() {
        let shown: Vec<String> = unknown.iter().take(10).map(|c| format!("{c:?}")).collect();
        bail!(
            "the {what} text has {} character(s) the tokenizer does not know: {}{} (they would \
             become <unk>; use --tokenizer byte or a tokenizer that has them)",
            unknown.len(),
            shown.join(", "),
            if unknown.len() > 10 { ", ..." } else { "" }
        );
    }
    Ok(())
}

/// An error when a batch of `batch_size` rows of the model cannot fit in this machine's memory
/// (checked on the CPU only): a size far too large must be refused, not abort the process.
fn check_batch_fits(config: &RunConfig) -> Result<()> {
    let device = config.trainer.device.parse::<DeviceChoice>()?.resolve()?;
    if device == tch::Device::Cpu {
        let rows = config.trainer.batch_size;
        check_rows_fit(&config.model, rows, "--batch-size", available_bytes())?;
    }
    Ok(())
}

fn read_text(path: &Path, what: &str) -> Result<String> {
    std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the {what} text {}", path.display()))
}

/// The run's tokenizer, and whether it is the byte tokenizer.
fn build_tokenizer(spec: &str, train_text: &str) -> Result<(Box<dyn Tokenizer>, TokenizerKind)> {
    match spec {
        "byte" => Ok((Box::new(ByteTokenizer::new()), TokenizerKind::Byte)),
        "char" => Ok((
            Box::new(CharTokenizer::from_corpus(train_text, &DEFAULT_SPECIALS)?),
            TokenizerKind::File,
        )),
        path => {
            let p = Path::new(path);
            if !p.is_file() {
                bail!("--tokenizer must be byte, char or a tokenizer file; {path} is none of them");
            }
            Ok((tokengym_envs::text::load_tokenizer(p)?, TokenizerKind::File))
        }
    }
}

/// Merges `overrides` (a JSON object) into `base` (a JSON object).
fn merge(base: &mut Value, overrides: &Value, what: &str) -> Result<()> {
    let (Some(base), Some(over)) = (base.as_object_mut(), overrides.as_object()) else {
        bail!("the {what} section of the config file must be a JSON object");
    };
    for (k, v) in over {
        base.insert(k.clone(), v.clone());
    }
    Ok(())
}

/// The `"model"` section of `--config` (if any) and the trainer settings (the config's
/// `"trainer"` section over the defaults, then the flags).
fn config_sections(args: &Args) -> Result<(Option<Value>, TrainerConfig)> {
    let file: Value = match &args.config {
        Some(path) => serde_json::from_str(&read_text(path, "config")?)
            .with_context(|| format!("{} is not valid JSON", path.display()))?,
        None => Value::Object(Default::default()),
    };
    let Some(obj) = file.as_object() else {
        bail!("the config file must be a JSON object");
    };
    if let Some(k) = obj.keys().find(|k| *k != "model" && *k != "trainer") {
        bail!("unknown config section {k:?}: expected \"model\" and/or \"trainer\"");
    }
    let mut trainer = serde_json::to_value(TrainerConfig::default())?;
    if let Some(t) = obj.get("trainer") {
        merge(&mut trainer, t, "trainer")?;
    }
    let mut trainer: TrainerConfig = serde_json::from_value(trainer)
        .context("invalid \"trainer\" section in the config file")?;
    if let Some(v) = args.context {
        trainer.context = v;
    }
    if let Some(v) = args.batch_size {
        trainer.batch_size = v;
    }
    if let Some(v) = args.lr {
        trainer.lr = v;
    }
    if let Some(v) = args.warmup_steps {
        trainer.warmup_steps = v;
    }
    if let Some(v) = args.eval_every {
        trainer.eval_every = v;
    }
    apply_common(args, &mut trainer);
    Ok((obj.get("model").cloned(), trainer))
}

fn fresh_config(args: &Args, vocab: usize, tokenizer: TokenizerKind) -> Result<RunConfig> {
    let (section, trainer) = config_sections(args)?;
    let mut model = serde_json::to_value(DecoderConfig::tiny(vocab as i64))?;
    if let Some(m) = &section {
        if m.get("vocab_size").is_some() {
            bail!("the model's vocab_size comes from the tokenizer; remove it from the config");
        }
        merge(&mut model, m, "model")?;
    }
    let mut model: DecoderConfig =
        serde_json::from_value(model).context("invalid \"model\" section in the config file")?;
    if let Some(v) = args.d_model {
        model.d_model = v;
    }
    if let Some(v) = args.n_layers {
        model.n_layers = v;
    }
    if let Some(v) = args.n_heads {
        model.n_heads = v;
    }
    if trainer.context as i64 > model.context_len {
        model.context_len = trainer.context as i64;
    }
    Ok(RunConfig {
        train: args.train.clone(),
        valid: args.valid.clone(),
        tokenizer,
        model,
        trainer,
    })
}

/// The run that continues training the model of folder `dir` (`--model`): its config, trainer,
/// tokenizer and the source its checkpoints take the tokenizer from.
fn pretrained_run(
    args: &Args,
    dir: &Path,
) -> Result<(RunConfig, Trainer, Box<dyn Tokenizer>, TokenizerSource)> {
    let (section, trainer_cfg) = config_sections(args)?;
    if section.is_some() {
        bail!(
            "--model takes the model from {}; remove the \"model\" section from the config file",
            dir.display()
        );
    }
    let (trainer, tokenizer, source) =
        Trainer::from_pretrained(dir, trainer_cfg.clone(), Some(Kind::Float))?;
    let config = RunConfig {
        train: args.train.clone(),
        valid: args.valid.clone(),
        tokenizer: source.kind(),
        model: trainer.model().config().clone(),
        trainer: trainer_cfg,
    };
    Ok((config, trainer, tokenizer, source))
}

fn apply_common(args: &Args, trainer: &mut TrainerConfig) {
    if let Some(v) = args.steps {
        trainer.steps = v;
    }
    if let Some(v) = &args.device {
        trainer.device = v.clone();
    }
    if let Some(v) = args.seed {
        trainer.seed = v;
    }
}

fn run(args: Args) -> Result<()> {
    if let Some(n) = args.threads {
        if n < 1 {
            bail!("--threads must be at least 1, got {n}");
        }
        tch::set_num_threads(n);
    }
    if args.steps == Some(0) {
        bail!("--steps must be at least 1 (it is the run's total number of optimizer steps)");
    }
    let out = args.out.clone();
    let mut out_dir = OutDir::new(&out, OUTPUTS)
        .reads(&args.train, "--train")
        .reads(&args.valid, "--valid");
    if let Some(file) = tok_spec_file(&args.tokenizer) {
        out_dir = out_dir.reads(file, "--tokenizer");
    }
    if let Some(file) = &args.config {
        out_dir = out_dir.reads(file, "--config");
    }
    if let Some(dir) = &args.model {
        out_dir = out_dir.reads(dir, "--model");
    }
    let ckpt_dir = out.join("checkpoint");
    let config_path = out.join("config.json");
    let tok_path = out.join(TOKENIZER_FILE);
    let (config, tokenizer, mut trainer, mut rows);
    // The Hugging Face folder the checkpoints take their tokenizer files from: the --model
    // folder for a new run, the run's own checkpoint when resuming.
    let mut hf_source = ckpt_dir.clone();
    if args.resume {
        let text = read_text(&config_path, "run config")
            .context("--resume needs a run folder written by pretrain-lm")?;
        let mut c: RunConfig = serde_json::from_str(&text)
            .with_context(|| format!("{} is not a valid run config", config_path.display()))?;
        apply_common(&args, &mut c.trainer);
        let state = read_state(&ckpt_dir)?
            .ok_or_else(|| anyhow!("{} has no trainer state", ckpt_dir.display()))?;
        check_batch_fits(&c)?;
        let (t, tok) = Trainer::resume(&ckpt_dir, c.trainer.clone())?;
        rows = read_metrics(&out.join("metrics.csv"), state.step)?;
        for dir in [&out, &ckpt_dir] {
            remove_stale_temporaries(dir)
                .with_context(|| format!("cleaning temporary files in {}", dir.display()))?;
        }
        config = c;
        tokenizer = tok;
        trainer = t;
    } else {
        if ckpt_dir.exists() && !args.overwrite {
            bail!(
                "{} already holds a run; pass --resume to continue it or --overwrite to replace it",
                out.display()
            );
        }
        let train_text = read_text(&args.train, "training")?;
        if let Some(dir) = &args.model {
            out_dir.check(args.overwrite)?;
            let (c, t, tok, source) = pretrained_run(&args, dir)?;
            check_can_start(&c, tok.as_ref(), &train_text, &args.valid)?;
            // Only now that the run can start are the outputs of an earlier one replaced.
            out_dir.clear()?;
            match source {
                TokenizerSource::File(src) => {
                    write_atomic(&tok_path, read_text(&src, "tokenizer")?.as_bytes())?;
                }
                TokenizerSource::HfFolder(src) => hf_source = src,
                TokenizerSource::Byte => {}
            }
            rows = Vec::new();
            config = c;
            tokenizer = tok;
            trainer = t;
        } else {
            let (tok, kind) = build_tokenizer(&args.tokenizer, &train_text)?;
            out_dir.check(args.overwrite)?;
            let c = fresh_config(&args, tok.vocab_size(), kind)?;
            check_can_start(&c, tok.as_ref(), &train_text, &args.valid)?;
            trainer = Trainer::new(c.model.clone(), c.trainer.clone())?;
            // Only now that the run can start are the outputs of an earlier one replaced.
            out_dir.clear()?;
            if kind == TokenizerKind::File {
                let json = match tok_spec_file(&args.tokenizer) {
                    Some(src) => read_text(src, "tokenizer")?,
                    None => {
                        let ct = CharTokenizer::from_corpus(&train_text, &DEFAULT_SPECIALS)?;
                        ct.to_json()?
                    }
                };
                write_atomic(&tok_path, json.as_bytes())?;
            }
            rows = Vec::new();
            config = c;
            tokenizer = tok;
        }
    }
    write_json(&config_path, &config)?;
    let train_text = read_text(&config.train, "training")?;
    let valid_text = read_text(&config.valid, "validation")?;
    let ctx = config.trainer.context;
    let layout = config.trainer.layout;
    let train = TextDataset::from_text(&train_text, tokenizer.as_ref(), ctx, layout)
        .context("training data")?;
    let valid = TextDataset::from_text(&valid_text, tokenizer.as_ref(), ctx, layout)
        .context("validation data")?;
    let unigram = unigram_perplexity(&train, &valid, config.model.vocab_size as usize)?;
    let source = match config.tokenizer {
        TokenizerKind::Byte => TokenizerSource::Byte,
        TokenizerKind::File => TokenizerSource::File(tok_path.clone()),
        TokenizerKind::HfFolder => TokenizerSource::HfFolder(hf_source),
    };
    let target = CheckpointTarget {
        dir: ckpt_dir.clone(),
        tokenizer: source,
    };
    let params: i64 = trainer
        .var_store()
        .trainable_variables()
        .iter()
        .map(|t| t.numel() as i64)
        .sum();
    if !args.quiet {
        eprintln!(
            "{params} parameters, vocabulary {}, {} training / {} validation rows of {ctx} tokens, \
             device {:?}, unigram baseline perplexity {unigram:.3}",
            config.model.vocab_size,
            train.len(),
            valid.len(),
            trainer.device()
        );
    }
    let bar = if args.quiet {
        ProgressBar::hidden()
    } else {
        let bar = ProgressBar::new(config.trainer.steps);
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} {msg}",
            )
            .map_err(|e| anyhow!("{e}"))?,
        );
        bar.set_position(trainer.step());
        bar
    };
    let metrics_path = out.join("metrics.csv");
    let plot_path = out.join("loss.png");
    let mut step_losses: Vec<(u64, f64)> = Vec::new();
    let mut on_event = |event: &FitEvent| -> tokengym_lm::Result<()> {
        match *event {
            FitEvent::Step(s) => {
                step_losses.push((s.step + 1, s.loss));
                bar.set_position(s.step + 1);
                if s.step % 10 == 0 {
                    bar.set_message(format!("loss {:.3} lr {:.2e}", s.loss, s.lr));
                }
            }
            FitEvent::Eval {
                step,
                train_loss,
                eval,
                lr,
                tokens_per_second,
            } => {
                rows.retain(|r| r.step < step);
                rows.push(Row {
                    step,
                    train_loss,
                    val_loss: eval.loss,
                    val_ppl: eval.perplexity,
                    lr,
                    tokens_per_second,
                });
                let line = format!(
                    "step {step}: train loss {train_loss:.4}, validation loss {:.4} (perplexity \
                     {:.3}), {tokens_per_second:.0} tokens/s",
                    eval.loss, eval.perplexity
                );
                // A hidden bar (--quiet, or stderr not a terminal) prints nothing itself.
                if !bar.is_hidden() {
                    bar.println(line);
                } else if !args.quiet {
                    eprintln!("{line}");
                }
                write_metrics(&metrics_path, &rows)
                    .map_err(|e| tokengym_lm::Error::InvalidArgument(format!("{e:#}")))?;
            }
        }
        Ok(())
    };
    let report = trainer.fit(&train, &valid, Some(&target), &mut on_event)?;
    bar.finish_and_clear();
    plot_losses(&plot_path, &rows, &step_losses)?;
    let beats = report.final_eval.perplexity < unigram;
    let summary = serde_json::json!({
        "steps": report.final_step,
        "steps_this_call": report.steps_run,
        "final_train_loss": report.final_train_loss,
        "final_val_loss": report.final_eval.loss,
        "final_val_ppl": report.final_eval.perplexity,
        "val_tokens": report.final_eval.tokens,
        "unigram_ppl": unigram,
        "beats_unigram": beats,
        "tokens_per_second": report.tokens_per_second,
        "wall_seconds": report.wall_seconds,
        "parameters": params,
        "vocab_size": config.model.vocab_size,
        "device": format!("{:?}", trainer.device()),
    });
    write_json(&out.join("summary.json"), &summary)?;
    println!(
        "step {}: validation loss {:.4}, perplexity {:.3} vs unigram baseline {:.3} ({}); {:.0} \
         tokens/s, {:.1} s",
        report.final_step,
        report.final_eval.loss,
        report.final_eval.perplexity,
        unigram,
        if beats {
            "beats the unigram baseline"
        } else {
            "does NOT beat the unigram baseline"
        },
        report.tokens_per_second,
        report.wall_seconds
    );
    Ok(())
}

/// The tokenizer file named by `--tokenizer`, if it names one.
fn tok_spec_file(spec: &str) -> Option<&Path> {
    (spec != "byte" && spec != "char").then(|| Path::new(spec))
}
