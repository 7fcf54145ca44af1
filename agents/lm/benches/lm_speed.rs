//! Speed of the decoder (GPT shapes) on one CPU thread (or `LM_BENCH_DEVICE=cuda`):
//!
//! - training tokens/s: `DecoderConfig::tiny(256)` (d 128, 4 layers, 4 heads, context 64, RoPE,
//!   tied embeddings), batches of 16 x 64 random tokens, next-token loss, AdamW;
//! - generation: batch 8, a 16-token prompt, 64 new greedy tokens, with the KV cache versus
//!   recomputing the whole prefix at every step (context 128 for this part so that prompt +
//!   new tokens fit); new tokens/s and the ratio.
//!
//! Run with `cargo bench -p tokengym-agents --bench lm_speed`. The same training loop in
//! PyTorch is `benches/lm_pytorch.py`.

use std::time::Instant;

use tch::nn::{OptimizerConfig, VarStore};
use tch::{Device, Kind, Tensor};
use tokengym_lm::error::Result;
use tokengym_lm::model::{CausalLm, Decoder, DecoderConfig};

const VOCAB: i64 = 256;
const BATCH: i64 = 16;
const SEQ: i64 = 64;
const GEN_BATCH: i64 = 8;
const PROMPT: i64 = 16;
const NEW: i64 = 64;

fn device() -> Device {
    match std::env::var("LM_BENCH_DEVICE").as_deref() {
        Ok("cuda") => Device::Cuda(0),
        _ => Device::Cpu,
    }
}

fn sync(device: Device) {
    if let Device::Cuda(i) = device {
        tch::Cuda::synchronize(i as i64);
    }
}

fn train(device: Device, warmup: usize, steps: usize) -> Result<f64> {
    let vs = VarStore::new(device);
    let model = Decoder::new(&vs.root(), DecoderConfig::tiny(VOCAB))?;
    let mut opt = tch::nn::AdamW::default().build(&vs, 3e-4)?;
    let data = Tensor::randint(VOCAB, [BATCH, SEQ + 1], (Kind::Int64, device));
    let (x, y) = (data.narrow(1, 0, SEQ), data.narrow(1, 1, SEQ));
    let mut step = || -> Result<f64> {
        let loss = model.loss(&x, &y, None, true)?;
        opt.backward_step(&loss);
        Ok(loss.double_value(&[]))
    };
    for _ in 0..warmup {
        step()?;
    }
    sync(device);
    let start = Instant::now();
    let mut last = 0.0;
    for _ in 0..steps {
        last = step()?;
    }
    sync(device);
    let secs = start.elapsed().as_secs_f64();
    println!("  (final loss {last:.3} after {} steps)", warmup + steps);
    Ok((BATCH * SEQ) as f64 * steps as f64 / secs)
}

fn generate(model: &Decoder, prompt: &Tensor, cached: bool) -> Result<Tensor> {
    tch::no_grad(|| {
        if cached {
            let mut cache = model.empty_cache(GEN_BATCH)?;
            let mut logits = model.logits_cached(prompt, None, &mut cache)?;
            let mut out = Vec::with_capacity(NEW as usize);
            for _ in 0..NEW {
                let next = logits.select(1, -1).argmax(-1, true);
                logits = model.logits_cached(&next, None, &mut cache)?;
                out.push(next);
            }
            Ok(Tensor::cat(&out, 1))
        } else {
            let mut seq = prompt.shallow_clone();
            for _ in 0..NEW {
                let next = model.logits(&seq, None)?.select(1, -1).argmax(-1, true);
                seq = Tensor::cat(&[seq, next], 1);
            }
            Ok(seq.narrow(1, PROMPT, NEW))
        }
    })
}

fn main() -> Result<()> {
    tch::set_num_threads(1);
    tch::manual_seed(0);
    let device = device();
    println!(
        "lm_speed on {device:?}, {} torch thread(s)",
        tch::get_num_threads()
    );

    let tps = train(device, 3, 20)?;
    println!("train: {tps:.0} tokens/s (batch {BATCH}x{SEQ}, d128 L4 H4, AdamW)");

    let vs = VarStore::new(device);
    let cfg = DecoderConfig {
        context_len: 128,
        ..DecoderConfig::tiny(VOCAB)
    };
    let model = Decoder::new(&vs.root(), cfg)?;
    let prompt = Tensor::randint(VOCAB, [GEN_BATCH, PROMPT], (Kind::Int64, device));
    let mut rates = [0.0; 2];
    let mut outputs = Vec::new();
    for (i, cached) in [false, true].into_iter().enumerate() {
        let _warm = generate(&model, &prompt, cached)?;
        sync(device);
        let start = Instant::now();
        let reps = 3;
        let mut out = None;
        for _ in 0..reps {
            out = Some(generate(&model, &prompt, cached)?);
        }
        sync(device);
        let secs = start.elapsed().as_secs_f64() / reps as f64;
        rates[i] = (GEN_BATCH * NEW) as f64 / secs;
        outputs.extend(out);
        println!(
            "generate {} cache: {:.0} new tokens/s ({:.1} ms per {NEW}-token batch of {GEN_BATCH})",
            if cached { "with   " } else { "without" },
            rates[i],
            secs * 1e3
        );
    }
    let same = outputs.len() == 2 && outputs[0].equal(&outputs[1]);
    println!(
        "KV cache speed-up: {:.2}x (same tokens: {same})",
        rates[1] / rates[0]
    );
    Ok(())
}
