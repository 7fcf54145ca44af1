#!/usr/bin/env python3
"""Hugging Face model folders: tokengym against transformers, in one run (`make bench-hf`).

Usage (from the repository root; `make bench-hf` sets up `.venv-hf` and runs this):
    .venv-hf/bin/python benches/compare_transformers.py [--batch 4] [--prompt-len 64]
        [--new-tokens 32] [--reps 3] [--warmup 1] [--skip-memory] [--json FILE]
        [--bench-bin PATH]

Downloads nothing: both models are randomly initialised from a config written here and saved
with `save_pretrained` into a temporary folder (deleted at the end).

1. Speed. A Llama-shaped model of SmolLM2-135M's shape (hidden 576, 30 layers, 9 heads, 3
   key/value heads, MLP 1536, vocabulary 49152, tied embeddings, rope_theta 100000), f32, on the
   CPU with one thread on both sides (torch.set_num_threads(1); tch::set_num_threads(1)).
   The same random prompts (`--batch` rows of `--prompt-len` ids) on both sides:
   - prefill: one forward pass over the prompts that fills the KV cache (prompt tokens/s);
   - decode: `--new-tokens` greedy tokens, the first from the prefill's logits and the rest one
     forward pass of one token each through the cache (new tokens/s, prefill not counted).
   transformers runs the same loop by hand (`model(input_ids, cache=DynamicCache())`, argmax,
   feed back; transformers 5.24 names the cache argument `cache`) with `attn_implementation` "eager" and "sdpa". tokengym:
   `agents/lm/benches/hf_speed.rs` (a `cargo bench --no-run` executable). Order: tokengym, eager,
   sdpa, tokengym again; the tokengym figure is the mean of its two runs (times averaged), so a
   change of the machine's load during the run does not favour one side. The greedy tokens of
   both sides are compared (random weights leave near ties, so an occasional difference late in
   a row is possible; it is reported, not hidden).
2. Memory. A model of Qwen2.5-0.5B's shape (hidden 896, 24 layers, 14 heads, 2 key/value heads,
   MLP 4864, vocabulary 151936, q/k/v biases, tied embeddings; 494M parameters), bf16, about
   1 GB on disk. Each side loads it in its stored dtype in a fresh process
   (`load_decoder(dir, Cpu, None)`; `AutoModelForCausalLM.from_pretrained(dir, dtype=bfloat16)`)
   and reports resident memory before, at the peak of, and after loading (VmRSS / VmHWM of
   /proc/self/status, Linux only), beside the size of the weights.

Prints Markdown tables and optionally writes JSON.
"""
import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from cargo_bench import find_bench_bin

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")

ROOT = Path(__file__).resolve().parent.parent


def memory():
    """(VmRSS, VmHWM) of this process in bytes."""
    fields = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = int(rest.split()[0]) * 1024
    return fields["VmRSS"], fields["VmHWM"]


def llama_config():
    from transformers import LlamaConfig

    return LlamaConfig(
        vocab_size=49152,
        hidden_size=576,
        intermediate_size=1536,
        num_hidden_layers=30,
        num_attention_heads=9,
        num_key_value_heads=3,
        max_position_embeddings=2048,
        rope_theta=100000.0,
        rms_norm_eps=1e-5,
        tie_word_embeddings=True,
        bos_token_id=0,
        eos_token_id=0,
    )


def qwen_config():
    from transformers import Qwen2Config

    return Qwen2Config(
        vocab_size=151936,
        hidden_size=896,
        intermediate_size=4864,
        num_hidden_layers=24,
        num_attention_heads=14,
        num_key_value_heads=2,
        max_position_embeddings=32768,
        rope_theta=1000000.0,
        rms_norm_eps=1e-6,
        tie_word_embeddings=True,
        use_sliding_window=False,
        bos_token_id=151643,
        eos_token_id=151645,
    )


def save_random(config, cls_name, dtype, out):
    import torch
    import transformers

    torch.manual_seed(0)
    torch.set_default_dtype(dtype)
    try:
        model = getattr(transformers, cls_name)(config).eval()
    finally:
        torch.set_default_dtype(torch.float32)
    model.save_pretrained(out)
    del model


def run_json(cmd):
    env = dict(os.environ, OMP_NUM_THREADS="1")
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=ROOT)
    if done.returncode != 0:
        sys.exit(f"compare_transformers: {' '.join(map(str, cmd))} failed:\n{done.stderr.strip()}")
    lines = [l for l in done.stdout.splitlines() if l.startswith("{")]
    if not lines:
        sys.exit(f"compare_transformers: no JSON line in:\n{done.stdout}")
    return json.loads(lines[-1])


def transformers_speed(model_dir, prompts, args, attn):
    import torch
    from transformers import AutoModelForCausalLM, DynamicCache

    torch.set_num_threads(1)
    model = AutoModelForCausalLM.from_pretrained(model_dir, attn_implementation=attn).eval()
    ids = torch.tensor(prompts)

    def run():
        with torch.no_grad():
            cache = DynamicCache()
            start = time.perf_counter()
            out = model(input_ids=ids, cache=cache, use_cache=True)
            nxt = out.logits[:, -1].argmax(-1, keepdim=True)
            prefill = time.perf_counter() - start
            start = time.perf_counter()
            tokens = [nxt]
            for _ in range(args.new_tokens - 1):
                out = model(input_ids=nxt, cache=cache, use_cache=True)
                nxt = out.logits[:, -1].argmax(-1, keepdim=True)
                tokens.append(nxt)
            return prefill, time.perf_counter() - start, torch.cat(tokens, 1)

    for _ in range(args.warmup):
        run()
    prefill = decode = 0.0
    tokens = None
    for _ in range(args.reps):
        p, d, tokens = run()
        prefill += p
        decode += d
    b, t = ids.shape
    return {
        "prefill_tokens_per_s": b * t * args.reps / prefill,
        "decode_tokens_per_s": b * (args.new_tokens - 1) * args.reps / decode,
        "prefill_ms": prefill * 1e3 / args.reps,
        "decode_ms": decode * 1e3 / args.reps,
        "tokens": tokens.tolist(),
    }


def load_child(model_dir):
    """Run in a fresh process: loads the folder with transformers and prints memory as JSON."""
    import torch
    from transformers import AutoModelForCausalLM

    torch.zeros(1).sum()
    weights = sum(p.stat().st_size for p in Path(model_dir).glob("*.safetensors"))
    before, _ = memory()
    start = time.perf_counter()
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.bfloat16)
    secs = time.perf_counter() - start
    after, peak = memory()
    with torch.no_grad():
        model(input_ids=torch.arange(1, 9).reshape(1, 8))
    after_forward, peak_forward = memory()
    params = sum(p.numel() for p in model.parameters())
    print(json.dumps({
        "params": params,
        "weight_bytes": weights,
        "rss_before": before,
        "rss_peak": peak,
        "rss_after": after,
        "rss_after_forward": after_forward,
        "rss_peak_forward": peak_forward,
        "load_secs": secs,
    }))


def mean_speed(a, b):
    """Two runs of one side: times averaged, rates through the averaged times."""
    out = dict(a)
    for kind, ms in (("prefill", "prefill_ms"), ("decode", "decode_ms")):
        key = f"{kind}_tokens_per_s"
        t_a, t_b = 1.0 / a[key], 1.0 / b[key]
        out[key] = 2.0 / (t_a + t_b)
        out[ms] = (a[ms] + b[ms]) / 2
    return out


def same_prefix(x, y):
    """Per row, how many leading tokens agree."""
    return [next((i for i, (u, v) in enumerate(zip(r, s)) if u != v), len(r)) for r, s in zip(x, y)]


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--batch", type=int, default=4)
    p.add_argument("--prompt-len", type=int, default=64)
    p.add_argument("--new-tokens", type=int, default=32)
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--skip-memory", action="store_true")
    p.add_argument("--skip-speed", action="store_true")
    p.add_argument("--json", type=Path)
    p.add_argument("--bench-bin", type=Path)
    p.add_argument("--load-child", type=Path, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.load_child:
        return load_child(args.load_child)
    if min(args.batch, args.prompt_len, args.reps, args.warmup) < 1 or args.new_tokens < 2:
        sys.exit("compare_transformers: sizes must be positive and --new-tokens at least 2")

    import torch
    import transformers

    binary = args.bench_bin or find_bench_bin("tokengym-lm", "hf_speed")
    result = {
        "machine": platform.processor() or platform.machine(),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "threads": 1,
    }
    with tempfile.TemporaryDirectory(prefix="bench-hf-") as tmp:
        if not args.skip_speed:
            llama = Path(tmp) / "llama"
            save_random(llama_config(), "LlamaForCausalLM", torch.float32, llama)
            gen = torch.Generator().manual_seed(1)
            prompts = torch.randint(1, 49152, (args.batch, args.prompt_len), generator=gen).tolist()
            prompt_file = Path(tmp) / "prompts.json"
            prompt_file.write_text(json.dumps(prompts))
            ours_cmd = [
                binary, "--model", llama, "--prompts", prompt_file,
                "--new-tokens", str(args.new_tokens), "--reps", str(args.reps),
                "--warmup", str(args.warmup), "--threads", "1",
            ]
            first = run_json(ours_cmd)
            eager = transformers_speed(llama, prompts, args, "eager")
            sdpa = transformers_speed(llama, prompts, args, "sdpa")
            second = run_json(ours_cmd)
            ours = mean_speed(first, second)
            ours["runs"] = [{k: v for k, v in r.items() if k != "tokens"} for r in (first, second)]
            result["speed"] = {
                "model": "Llama, SmolLM2-135M shape, f32",
                "batch": args.batch,
                "prompt_len": args.prompt_len,
                "new_tokens": args.new_tokens,
                "tokengym": ours,
                "transformers_eager": eager,
                "transformers_sdpa": sdpa,
                "same_greedy_prefix_vs_sdpa": same_prefix(ours["tokens"], sdpa["tokens"]),
            }
            print(f"\nspeed: Llama of SmolLM2-135M's shape, f32, CPU, one thread; batch {args.batch}, "
                  f"prompt {args.prompt_len}, {args.new_tokens} greedy new tokens (transformers "
                  f"{transformers.__version__}, torch {torch.__version__})\n")
            print("| | prefill prompt tokens/s | decode new tokens/s |")
            print("|---|---:|---:|")
            for name, r in (("transformers eager", eager), ("transformers sdpa", sdpa),
                            ("tokengym", ours)):
                print(f"| {name} | {r['prefill_tokens_per_s']:.0f} | {r['decode_tokens_per_s']:.1f} |")
            for name, r in (("eager", eager), ("sdpa", sdpa)):
                print(f"| tokengym / transformers {name} | "
                      f"{ours['prefill_tokens_per_s'] / r['prefill_tokens_per_s']:.2f}x | "
                      f"{ours['decode_tokens_per_s'] / r['decode_tokens_per_s']:.2f}x |")
            agree = result["speed"]["same_greedy_prefix_vs_sdpa"]
            print(f"\ngreedy tokens equal to transformers sdpa's for the first {agree} of "
                  f"{args.new_tokens} per row")

        if not args.skip_memory:
            qwen = Path(tmp) / "qwen"
            save_random(qwen_config(), "Qwen2ForCausalLM", torch.bfloat16, qwen)
            theirs = run_json([sys.executable, __file__, "--load-child", qwen])
            ours_mem = run_json([binary, "--load", qwen])
            result["memory"] = {"model": "Qwen2, Qwen2.5-0.5B shape, bf16",
                                "tokengym": ours_mem, "transformers": theirs}
            gb = 1e9
            print(f"\nmemory: loading a random bf16 model of Qwen2.5-0.5B's shape "
                  f"({ours_mem['params'] / 1e6:.0f}M parameters, weights "
                  f"{ours_mem['weight_bytes'] / gb:.2f} GB), fresh process each\n")
            print("| | resident before | after loading | peak while loading | after a forward "
                  "pass | peak, forward included | load s |")
            print("|---|---:|---:|---:|---:|---:|---:|")
            for name, r in (("transformers", theirs), ("tokengym", ours_mem)):
                print(f"| {name} | {r['rss_before'] / gb:.2f} GB | {r['rss_after'] / gb:.2f} GB | "
                      f"{r['rss_peak'] / gb:.2f} GB | {r['rss_after_forward'] / gb:.2f} GB | "
                      f"{r['rss_peak_forward'] / gb:.2f} GB | {r['load_secs']:.1f} |")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2) + "\n")
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
