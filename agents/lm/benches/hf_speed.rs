//! Speed and loading memory of a Hugging Face model folder, the tokengym half of
//! `benches/compare_transformers.py` (`make bench-hf`), which builds the folders and runs
//! `transformers` on the same inputs in the same run.
//!
//! Two modes, each printing one JSON line last:
//!
//! - `--model DIR --prompts FILE [--new-tokens N] [--reps R] [--warmup W] [--threads T]`:
//!   loads the folder in its stored dtype, reads the prompt ids (a JSON list of equal-length
//!   lists), then times **prefill** (one forward pass over the prompts that fills the KV cache)
//!   and **decode** (`N` greedy steps of one token each through the cache), `R` times after `W`
//!   warm-up runs. Reports prompt tokens/s, new tokens/s and the greedy tokens of the last run.
//! - `--load DIR`: loads the folder in its stored dtype and reports the resident memory before
//!   loading, its peak during loading, after it and after one forward pass of 8 tokens (from
//!   `/proc/self/status`, Linux only), with the size of the weight files.
//!
//! `cargo bench` passes `--bench`, which is ignored.

use std::path::PathBuf;
use std::time::Instant;

use tch::{Device, Kind, Tensor};
use tokengym_lm::error::{Error, Result};
use tokengym_lm::model::folder::weight_files;
use tokengym_lm::model::{CausalLm, load_decoder};

#[derive(Debug)]
struct Args {
    model: Option<PathBuf>,
    load: Option<PathBuf>,
    prompts: Option<PathBuf>,
    new_tokens: usize,
    reps: usize,
    warmup: usize,
    threads: i32,
}

fn parse_args() -> Result<Args> {
    let mut a = Args {
        model: None,
        load: None,
        prompts: None,
        new_tokens: 32,
        reps: 3,
        warmup: 1,
        threads: 1,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        if flag == "--bench" {
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
            "--model" => a.model = Some(value.into()),
            "--load" => a.load = Some(value.into()),
            "--prompts" => a.prompts = Some(value.into()),
            "--new-tokens" => a.new_tokens = num(&value)?,
            "--reps" => a.reps = num(&value)?,
            "--warmup" => a.warmup = num(&value)?,
            "--threads" => a.threads = num(&value)? as i32,
            _ => return Err(Error::InvalidArgument(format!("unknown flag {flag}"))),
        }
    }
    Ok(a)
}

/// `VmRSS` and `VmHWM` of this process in bytes.
fn memory() -> Result<(u64, u64)> {
    let status = std::fs::read_to_string("/proc/self/status")
        .map_err(|e| Error::InvalidArgument(format!("/proc/self/status: {e}")))?;
    let field = |key: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|rest| {
                rest.trim()
                    .trim_end_matches("kB")
                    .trim()
                    .parse::<u64>()
                    .ok()
            })
            .map(|kb| kb * 1024)
            .ok_or_else(|| Error::InvalidArgument(format!("no {key} in /proc/self/status")))
    };
    Ok((field("VmRSS:")?, field("VmHWM:")?))
}

fn load_memory(dir: &std::path::Path) -> Result<()> {
    // Start libtorch's allocator and thread pools before the baseline.
    let _ = Tensor::zeros([1], (Kind::Float, Device::Cpu)).sum(Kind::Float);
    let file_bytes: u64 = weight_files(dir)?
        .iter()
        .map(|p| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0))
        .sum();
    let (before, _) = memory()?;
    let start = Instant::now();
    let (vs, model) = load_decoder(dir, Device::Cpu, None)?;
    let secs = start.elapsed().as_secs_f64();
    let (after, peak) = memory()?;
    let ids = Tensor::arange_start(1, 9, (Kind::Int64, Device::Cpu)).view([1, 8]);
    let _logits = tch::no_grad(|| model.logits(&ids, None))?;
    let (after_forward, peak_forward) = memory()?;
    let params: i64 = vs
        .trainable_variables()
        .iter()
        .map(Tensor::numel)
        .sum::<usize>() as i64;
    println!(
        "load {}: {params} parameters ({:?}), weights {:.0} MB; resident {:.0} MB before, \
         peak {:.0} MB, {:.0} MB after ({:.1} s)",
        dir.display(),
        model.config().family,
        file_bytes as f64 / 1e6,
        before as f64 / 1e6,
        peak as f64 / 1e6,
        after as f64 / 1e6,
        secs
    );
    println!(
        "{}",
        serde_json::json!({
            "params": params,
            "weight_bytes": file_bytes,
            "rss_before": before,
            "rss_peak": peak,
            "rss_after": after,
            "rss_after_forward": after_forward,
            "rss_peak_forward": peak_forward,
            "load_secs": secs,
        })
    );
    Ok(())
}

fn read_prompts(path: &std::path::Path) -> Result<Tensor> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::InvalidArgument(format!("{}: {e}", path.display())))?;
    let rows: Vec<Vec<i64>> = serde_json::from_str(&text)
        .map_err(|e| Error::InvalidArgument(format!("{}: {e}", path.display())))?;
    let width = rows.first().map_or(0, Vec::len);
    if width == 0 || rows.iter().any(|r| r.len() != width) {
        return Err(Error::InvalidArgument(format!(
            "{}: prompts must be non-empty lists of one length",
            path.display()
        )));
    }
    let flat: Vec<i64> = rows.concat();
    Ok(Tensor::from_slice(&flat).view([rows.len() as i64, width as i64]))
}

fn speed(dir: &std::path::Path, args: &Args) -> Result<()> {
    let prompts_path = args
        .prompts
        .as_ref()
        .ok_or_else(|| Error::InvalidArgument("--model needs --prompts FILE".into()))?;
    let prompt = read_prompts(prompts_path)?;
    let (batch, prompt_len) = (prompt.size()[0], prompt.size()[1]);
    let (_vs, model) = load_decoder(dir, Device::Cpu, None)?;
    let new = args.new_tokens as i64;
    let run = || -> Result<(f64, f64, Tensor)> {
        tch::no_grad(|| {
            let mut cache = model.empty_cache(batch)?;
            let start = Instant::now();
            let mut logits = model.logits_cached(&prompt, None, &mut cache)?;
            let mut next = logits.select(1, -1).argmax(-1, true);
            let prefill = start.elapsed().as_secs_f64();
            let start = Instant::now();
            let mut out = Vec::with_capacity(args.new_tokens);
            out.push(next.shallow_clone());
            for _ in 1..new {
                logits = model.logits_cached(&next, None, &mut cache)?;
                next = logits.select(1, -1).argmax(-1, true);
                out.push(next.shallow_clone());
            }
            Ok((prefill, start.elapsed().as_secs_f64(), Tensor::cat(&out, 1)))
        })
    };
    for _ in 0..args.warmup {
        let _ = run()?;
    }
    let (mut prefill, mut decode, mut tokens) = (0.0, 0.0, None);
    for _ in 0..args.reps {
        let (p, d, t) = run()?;
        prefill += p;
        decode += d;
        tokens = Some(t);
    }
    let reps = args.reps as f64;
    let prefill_tps = (batch * prompt_len) as f64 * reps / prefill;
    // The first new token comes from the prefill's logits; the decode loop makes the rest.
    let decode_tps = (batch * (new - 1)) as f64 * reps / decode;
    let tokens = tokens.map_or_else(Vec::new, |t| {
        (0..batch)
            .map(|i| Vec::<i64>::try_from(t.get(i)).unwrap_or_default())
            .collect()
    });
    println!(
        "{}: prefill {prefill_tps:.0} prompt tokens/s, decode {decode_tps:.1} new tokens/s \
         (batch {batch}, prompt {prompt_len}, {new} new tokens, {} thread(s))",
        dir.display(),
        tch::get_num_threads()
    );
    println!(
        "{}",
        serde_json::json!({
            "prefill_tokens_per_s": prefill_tps,
            "decode_tokens_per_s": decode_tps,
            "prefill_ms": prefill * 1e3 / reps,
            "decode_ms": decode * 1e3 / reps,
            "tokens": tokens,
        })
    );
    Ok(())
}

fn main() -> Result<()> {
    let args = parse_args()?;
    tch::set_num_threads(args.threads);
    match (&args.model, &args.load) {
        (Some(dir), None) => speed(dir, &args),
        (None, Some(dir)) => load_memory(dir),
        _ => Err(Error::InvalidArgument(
            "give either --model DIR --prompts FILE or --load DIR".into(),
        )),
    }
}
