//! `generate`: text generation, scoring and multiple choice with a trained language model.
//!
//! ```text
//! generate --checkpoint runs/lm/checkpoint --prompt "the movie was" --prompt "12+7="
//! generate --checkpoint runs/lm/checkpoint --prompt "the movie was" --strategy sample \
//!     --temperature 0.8 --top-k 20 --seed 3 --show-logprobs
//! generate --checkpoint runs/lm/checkpoint --prompt "12+7=" --strategy beam --num-beams 4
//! generate --checkpoint runs/lm/checkpoint --score "the movie was great."
//! generate --checkpoint runs/lm/checkpoint --prompt "12+7=" --choices 19,20,21
//! generate --model ~/models/Qwen2.5-0.5B-Instruct --dtype bf16 --chat --prompt "Who are you?"
//! ```
//!
//! The checkpoint (`--checkpoint` or `--model`) is a `pretrain-lm` checkpoint folder or a Hugging
//! Face model folder (GPT-2, GPT-Neo, Llama, Qwen2, Qwen3: `config.json`, `model.safetensors` or
//! shards, `tokenizer.json`, `tokenizer_config.json`, ...). Prompts and scored texts are encoded
//! as the checkpoint's tokenizer encodes a prompt: our checkpoints start with `<bos>` when the
//! tokenizer has one (as the training lines did), a Hugging Face folder's tokenizer adds what
//! `transformers` adds. `--chat` renders each prompt as a user message with the folder's chat
//! template first. Generation stops at the tokenizer's stop tokens (`generation_config.json`'s
//! `eos_token_id` list for a Hugging Face folder).

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::{Parser, ValueEnum};
use rand::SeedableRng;
use tch::Tensor;
use tokengym::seeding::EnvRng;
use tokengym_agents::nn::DeviceChoice;
use tokengym_envs::text::{ChatMessage, Tokenizer, unknown_chars};
use tokengym_experiments::cli::DtypeArg;
use tokengym_experiments::lm_memory::{available_bytes, check_rows_fit};
use tokengym_lm::decoding::SamplingConfig;
use tokengym_lm::decoding::{BeamSearchConfig, beam_search};
use tokengym_lm::decoding::{GenerateConfig, generate, generate_constrained};
use tokengym_lm::decoding::{StopTokens, left_pad, multiple_choice, nats_to_bits, token_log_probs};
use tokengym_lm::model::{CausalLm, Decoder};
use tokengym_lm::pretrain::load_checkpoint_as;

#[derive(Clone, Copy, Debug, ValueEnum)]
enum StrategyArg {
    /// Always the most likely token.
    Greedy,
    /// Draw from the (processed) distribution.
    Sample,
    /// Beam search.
    Beam,
}

/// Generate text with, score text under, or answer multiple-choice questions with a language
/// model checkpoint.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// A pretrain-lm checkpoint folder or a Hugging Face model folder.
    #[arg(long, visible_alias = "model")]
    checkpoint: PathBuf,
    /// Parameter dtype: f32, f16 or bf16 (default: as the weights are stored).
    #[arg(long, value_enum)]
    dtype: Option<DtypeArg>,
    /// Render each --prompt as a user message with the tokenizer's chat template (with the
    /// assistant's generation prompt) before encoding it.
    #[arg(long)]
    chat: bool,
    /// Prompts to complete (or the question of --choices); repeat the flag or list several.
    #[arg(long, num_args = 1..)]
    prompt: Vec<String>,
    /// Most new tokens per completion, at least 1 (capped to what the context holds).
    #[arg(long, default_value_t = 32)]
    max_new_tokens: i64,
    /// Decoding strategy.
    #[arg(long, value_enum, default_value = "greedy")]
    strategy: StrategyArg,
    /// Sampling temperature of --strategy sample [default: 1].
    #[arg(long)]
    temperature: Option<f64>,
    /// Sample among the k most likely tokens only (--strategy sample).
    #[arg(long)]
    top_k: Option<i64>,
    /// Nucleus sampling threshold (--strategy sample).
    #[arg(long)]
    top_p: Option<f64>,
    /// Repetition penalty, with every strategy as transformers applies it (1 = off)
    /// [default: 1].
    #[arg(long)]
    repetition_penalty: Option<f64>,
    /// Beams for --strategy beam, at most the vocabulary size [default: 4].
    #[arg(long)]
    num_beams: Option<usize>,
    /// Length-penalty exponent for --strategy beam [default: 1].
    #[arg(long)]
    length_penalty: Option<f64>,
    /// Seed of --strategy sample [default: 0].
    #[arg(long)]
    seed: Option<u64>,
    /// auto, cpu or cuda.
    #[arg(long, default_value = "cpu")]
    device: String,
    /// Print every generated (or scored) token with its log-probability.
    #[arg(long)]
    show_logprobs: bool,
    /// Texts to score: perplexity and per-token surprisal.
    #[arg(long, num_args = 1..)]
    score: Vec<String>,
    /// libtorch CPU threads (default: libtorch's choice).
    #[arg(long)]
    threads: Option<i32>,
    /// Comma-separated answers to rank as continuations of each --prompt.
    #[arg(long, value_delimiter = ',')]
    choices: Vec<String>,
}

fn main() {
    tokengym_experiments::cli::run_main(env!("CARGO_BIN_NAME"), run);
}

/// The ids of `text` as the tokenizer encodes a prompt (see the module docs).
fn encode(tok: &dyn Tokenizer, text: &str) -> Result<Vec<i64>> {
    let ids = tok.encode_prompt(text)?;
    Ok(ids.into_iter().map(i64::from).collect())
}

/// `text` as a user message through the tokenizer's chat template, encoded (the template
/// writes the special tokens).
fn encode_chat(tok: &dyn Tokenizer, text: &str) -> Result<Vec<i64>> {
    let template = tok
        .chat_template()
        .context("--chat: the checkpoint's tokenizer has no chat template")?;
    let rendered = template.render(&[ChatMessage::new("user", text)], true, None)?;
    let ids = tok.encode(&rendered)?;
    Ok(ids.into_iter().map(i64::from).collect())
}

/// How a token is shown in `--show-logprobs` lines.
fn show_token(tok: &dyn Tokenizer, id: i64) -> String {
    let text = u32::try_from(id)
        .ok()
        .and_then(|i| tok.id_to_token(i))
        .unwrap_or_else(|| format!("#{id}"));
    format!("{text:?}")
}

/// The text of `ids`; ids the tokenizer does not have (a model vocabulary padded beyond the
/// tokenizer's, reachable by beam search) are shown as `<#id>`.
fn decode(tok: &dyn Tokenizer, ids: &[i64]) -> Result<String> {
    let vocab = tok.vocab_size() as i64;
    let mut text = String::new();
    let mut run: Vec<u32> = Vec::new();
    for &id in ids {
        if (0..vocab).contains(&id) {
            run.push(id as u32);
        } else {
            text.push_str(&tok.decode(&run)?);
            run.clear();
            text.push_str(&format!("<#{id}>"));
        }
    }
    text.push_str(&tok.decode(&run)?);
    Ok(text)
}

/// Flags of one decoding strategy given with another are errors (they would do nothing), as is
/// a length of zero new tokens.
fn check_strategy_flags(args: &Args) -> Result<()> {
    if args.max_new_tokens < 1 {
        bail!(
            "--max-new-tokens must be at least 1, got {}",
            args.max_new_tokens
        );
    }
    let sample_only = [
        ("--temperature", args.temperature.is_some()),
        ("--top-k", args.top_k.is_some()),
        ("--top-p", args.top_p.is_some()),
        ("--seed", args.seed.is_some()),
    ];
    let beam_only = [
        ("--num-beams", args.num_beams.is_some()),
        ("--length-penalty", args.length_penalty.is_some()),
    ];
    let (strategy, misplaced) = match args.strategy {
        StrategyArg::Greedy => ("greedy", sample_only.iter().chain(&beam_only).find(|f| f.1)),
        StrategyArg::Sample => ("sample", beam_only.iter().find(|f| f.1)),
        StrategyArg::Beam => ("beam", sample_only.iter().find(|f| f.1)),
    };
    if let Some((flag, _)) = misplaced {
        let wanted = if beam_only.iter().any(|f| f.0 == *flag) {
            "beam"
        } else {
            "sample"
        };
        bail!(
            "{flag} has no effect with --strategy {strategy}{}; add --strategy {wanted}",
            if matches!(args.strategy, StrategyArg::Greedy) {
                " (the default)"
            } else {
                ""
            }
        );
    }
    if args.num_beams == Some(0) {
        bail!("--num-beams must be at least 1");
    }
    if args.show_logprobs && matches!(args.strategy, StrategyArg::Beam) && !args.prompt.is_empty() {
        bail!("--show-logprobs is not shown for beam search (each beam prints its log-prob)");
    }
    Ok(())
}

/// An error naming the characters of `text` (given with `flag`) that the tokenizer cannot
/// represent, instead of letting them silently become `<unk>`.
fn check_known_chars(tok: &dyn Tokenizer, flag: &str, text: &str) -> Result<()> {
    let unknown = unknown_chars(tok, text)?;
    if !unknown.is_empty() {
        let list: Vec<String> = unknown.iter().map(|c| format!("{c:?}")).collect();
        bail!(
            "{flag} {text:?} has characters the tokenizer does not know: {} (they would become <unk>)",
            list.join(", ")
        );
    }
    Ok(())
}

fn run(args: Args) -> Result<()> {
    check_strategy_flags(&args)?;
    if let Some(n) = args.threads {
        if n < 1 {
            bail!("--threads must be at least 1, got {n}");
        }
        tch::set_num_threads(n);
    }
    let device = args.device.parse::<DeviceChoice>()?.resolve()?;
    if args.prompt.is_empty() && args.score.is_empty() {
        bail!("nothing to do: give --prompt and/or --score");
    }
    if !args.choices.is_empty() && args.prompt.is_empty() {
        bail!("--choices needs a --prompt (the question)");
    }
    if args.chat && args.prompt.is_empty() {
        bail!("--chat needs a --prompt");
    }
    let ckpt = load_checkpoint_as(&args.checkpoint, device, args.dtype.map(DtypeArg::kind))?;
    let (model, tok) = (&ckpt.model, ckpt.tokenizer.as_ref());
    for (flag, texts) in [
        ("--prompt", &args.prompt),
        ("--score", &args.score),
        ("--choices", &args.choices),
    ] {
        for text in texts {
            check_known_chars(tok, flag, text)?;
        }
    }
    for text in &args.score {
        score(model, tok, text, args.show_logprobs)?;
    }
    if args.prompt.is_empty() {
        return Ok(());
    }
    let prompts: Vec<Vec<i64>> = args
        .prompt
        .iter()
        .map(|p| {
            if args.chat {
                encode_chat(tok, p)
            } else {
                encode(tok, p)
            }
        })
        .collect::<Result<_>>()?;
    if prompts.iter().any(Vec::is_empty) {
        bail!("a prompt is empty and the tokenizer adds no <bos> token to start it");
    }
    if !args.choices.is_empty() {
        return choices(model, tok, &args, &prompts);
    }
    let longest = prompts.iter().map(Vec::len).max().unwrap_or(0) as i64;
    let room = model.context_len() - longest;
    if room < 1 {
        bail!(
            "the longest prompt has {longest} tokens, the model's context is {}",
            model.context_len()
        );
    }
    let max_new = args.max_new_tokens.min(room);
    if max_new < args.max_new_tokens {
        eprintln!("note: --max-new-tokens capped at {max_new} by the model's context");
    }
    let views: Vec<&[i64]> = prompts.iter().map(Vec::as_slice).collect();
    let pad = tok.special_tokens().pad.map_or(0, i64::from);
    let (tokens, mask) = left_pad(&views, pad)?;
    let stop: Vec<i64> = tok.stop_ids().into_iter().map(i64::from).collect();
    let eos = StopTokens::from_ids(&stop)?;
    match args.strategy {
        StrategyArg::Beam => {
            let num_beams = args.num_beams.unwrap_or(4);
            let vocab = tok.vocab_size().min(model.vocab_size() as usize);
            if num_beams > vocab {
                bail!(
                    "--num-beams {num_beams} exceeds the vocabulary of {vocab} tokens (each beam \
                     needs a different token)"
                );
            }
            if device == tch::Device::Cpu {
                let rows = prompts.len().saturating_mul(num_beams);
                check_rows_fit(model.config(), rows, "--num-beams", available_bytes())?;
            }
            let cfg = BeamSearchConfig {
                num_beams,
                max_new_tokens: max_new,
                length_penalty: args.length_penalty.unwrap_or(1.0),
                repetition_penalty: args.repetition_penalty.unwrap_or(1.0),
                eos_token_ids: eos,
                pad_token_id: pad,
                ..BeamSearchConfig::default()
            };
            let results = beam_search(model, &tokens, Some(&mask), &cfg)?;
            for (prompt, hyps) in args.prompt.iter().zip(results) {
                println!("prompt: {prompt:?}");
                for (rank, h) in hyps.iter().enumerate() {
                    println!(
                        "  beam {rank}: {:?} (score {:.4}, log-prob {:.4})",
                        decode(tok, &h.tokens)?,
                        h.score,
                        h.sum_log_prob
                    );
                }
            }
        }
        strategy => {
            let mut cfg = GenerateConfig {
                repetition_penalty: args.repetition_penalty.unwrap_or(1.0),
                ..GenerateConfig::greedy(max_new)
            };
            if matches!(strategy, StrategyArg::Sample) {
                let mut s = SamplingConfig::new(args.temperature.unwrap_or(1.0))?
                    .with_repetition_penalty(args.repetition_penalty.unwrap_or(1.0))?;
                if let Some(k) = args.top_k {
                    s = s.with_top_k(k)?;
                }
                if let Some(p) = args.top_p {
                    s = s.with_top_p(p)?;
                }
                cfg = GenerateConfig::sample(max_new, s);
            }
            cfg.eos_token_ids = eos;
            cfg.pad_token_id = pad;
            let mut rng = EnvRng::seed_from_u64(args.seed.unwrap_or(0));
            // A model vocabulary larger than the tokenizer's (padded) must not produce the ids
            // the tokenizer cannot decode.
            let vocab = model.vocab_size();
            let g = if (tok.vocab_size() as i64) < vocab {
                let allowed = Tensor::arange(vocab, (tch::Kind::Int64, model.device()))
                    .lt(tok.vocab_size() as i64);
                generate_constrained(model, &tokens, Some(&mask), &allowed, &cfg, &mut rng)?
            } else {
                generate(model, &tokens, Some(&mask), &cfg, &mut rng)?
            };
            let n = g.tokens.size()[1];
            let ids = Vec::<i64>::try_from(g.tokens.reshape([-1]))?;
            let lps = Vec::<f64>::try_from(g.log_probs.to_kind(tch::Kind::Double).reshape([-1]))?;
            for (row, prompt) in args.prompt.iter().enumerate() {
                let len = g.lengths[row] as usize;
                let start = row * n as usize;
                let row_ids = &ids[start..start + len];
                println!("prompt: {prompt:?}");
                println!("completion: {:?}", decode(tok, row_ids)?);
                if args.show_logprobs {
                    for (id, lp) in row_ids.iter().zip(&lps[start..start + len]) {
                        println!("  {:>12} {lp:.4}", show_token(tok, *id));
                    }
                }
            }
        }
    }
    Ok(())
}

fn score(model: &Decoder, tok: &dyn Tokenizer, text: &str, show: bool) -> Result<()> {
    let ids = encode(tok, text)?;
    if ids.len() < 2 {
        bail!("--score {text:?}: need at least two tokens to score");
    }
    if ids.len() as i64 > model.context_len() {
        bail!(
            "--score {text:?}: {} tokens exceed the model's context of {}",
            ids.len(),
            model.context_len()
        );
    }
    let tokens = Tensor::from_slice(&ids).reshape([1, -1]);
    let scores = tch::no_grad(|| token_log_probs(model, &tokens, None))?;
    let lps = Vec::<f64>::try_from(scores.log_probs.to_kind(tch::Kind::Double).reshape([-1]))?;
    let nll = -lps.iter().sum::<f64>() / lps.len() as f64;
    println!(
        "score: {text:?}: perplexity {:.4}, mean surprisal {:.4} bits/token over {} tokens",
        nll.exp(),
        nats_to_bits(nll),
        lps.len()
    );
    if show {
        for (id, lp) in ids[1..].iter().zip(&lps) {
            println!(
                "  {:>12} surprisal {:.4} bits",
                show_token(tok, *id),
                nats_to_bits(-lp)
            );
        }
    }
    Ok(())
}

fn choices(model: &Decoder, tok: &dyn Tokenizer, args: &Args, prompts: &[Vec<i64>]) -> Result<()> {
    let options: Vec<Vec<i64>> = args
        .choices
        .iter()
        .map(|c| {
            let ids = tok.encode(c)?;
            if ids.is_empty() {
                bail!("--choices: an empty answer cannot be scored");
            }
            Ok(ids.into_iter().map(i64::from).collect())
        })
        .collect::<Result<_>>()?;
    let views: Vec<&[i64]> = options.iter().map(Vec::as_slice).collect();
    for (prompt_text, prompt) in args.prompt.iter().zip(prompts) {
        let mc = multiple_choice(model, prompt, &views)
            .with_context(|| format!("scoring the choices of {prompt_text:?}"))?;
        println!("prompt: {prompt_text:?}");
        for (i, c) in args.choices.iter().enumerate() {
            println!(
                "  {}{c:?}: mean log-prob {:.4}, total {:.4}",
                if i == mc.best { "* " } else { "  " },
                mc.mean_log_probs[i],
                mc.sum_log_probs[i]
            );
        }
        println!("answer: {:?}", args.choices[mc.best]);
    }
    Ok(())
}
