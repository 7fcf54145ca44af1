#!/usr/bin/env python3
"""RL fine-tuning throughput of a GPT-2-shaped tiny model: TRL's PPO against tokengym, one run.

Usage (from the repository root; `make bench-trl` sets up `.venv-trl` and runs this):
    .venv-trl/bin/python benches/compare_trl.py [--batch 16] [--prompt-len 16] [--new-tokens 32]
        [--epochs 4] [--warmup 2] [--iters 8] [--rollout-reps 10] [--json FILE]
        [--skip-tokengym] [--bench-bin PATH]

Installs nothing and downloads nothing: the models are built from a local config and the
tokenizer from a local vocabulary. Both sides run on the CPU with one torch thread
(torch.set_num_threads(1), OMP_NUM_THREADS=1; tch::set_num_threads(1)).

The model (both sides): GPT-2 layout (learned positions, gelu_new, tied embeddings, biases,
dropout 0), n_embd 128, 4 layers, 4 heads, n_positions 128, vocabulary 256 (a character
vocabulary of 252 characters + <bos>, <eos>, <pad>, <unk>). Prompts: `--prompt-len` random
non-special tokens (all the same length, so no padding). Responses: exactly `--new-tokens`
sampled tokens (no stop token on either side), temperature 1, no top-k/top-p.

TRL side (trl 1.12.0, the last release with `trl.experimental.ppo`; 1.13+ dropped PPO):
  a. rollout: `trl.experimental.ppo.ppo_trainer.batch_generation` on the policy with the
     GenerationConfig PPOTrainer.train builds (max_new_tokens, temperature 1 + 1e-7, top_k 0,
     top_p 1, do_sample, no eos), i.e. `model.generate` with the KV cache and output scores;
     new tokens per second.
  b. PPO: `PPOTrainer` with policy = GPT2LMHeadModel, ref = a copy (TRL's default), value model
     and reward model = GPT2ForSequenceClassification(num_labels=1) of the same shape (random
     weights), batch `--batch` (per_device_train_batch_size, 1 minibatch, no gradient
     accumulation), `--epochs` PPO epochs (TRL's default 4), response_length `--new-tokens`,
     no sample generations, no logging integrations, no checkpoints. A callback takes the time at
     the end of every PPO iteration; the first `--warmup` iterations are left out and the rest
     give episodes (completions) per second. Module-level hooks time TRL's generation
     (`batch_generation`), its no-grad scoring (`forward` without grad + `get_reward`: reference,
     value and reward forward passes) and leave the rest of the iteration (GAE, the
     `--epochs` minibatch updates, logging, gc) as "update".
     PPOTrainer.train also calls gc.collect() twice per iteration; that time is part of the
     update phase and is printed on its own. For context the script also times the same
     `--epochs` policy + value-model forward/backward/AdamW steps in plain PyTorch.
tokengym side: `agents/lm/benches/lm_rl_speed.rs` (see its docs) with the same sizes, run as
`target/release/deps/lm_rl_speed-*` built by `cargo bench --no-run` (or `--bench-bin`), with
OMP_NUM_THREADS=1; it prints a JSON line that this script reads. It runs once before and once
after TRL, and the table holds the mean of the two (times averaged), so that a change of the
machine's load during the run does not favour one side.

`make bench-trl` pins trl 1.12.0 with transformers 5.24.0, accelerate 1.15.0 and datasets 5.2.0
(the versions this script was written against) and uses the torch 2.13 of `.libtorch/venv`.

Known differences, by design of each library (not tuned away):
  - TRL's value model is a separate GPT (its own trunk: one more forward and backward per
    minibatch); tokengym's value head sits on the policy's trunk.
  - TRL takes the rollout's log-probabilities from generate's scores; tokengym's Ppo::step
    recomputes them (with the values) in one no-grad forward pass.
  - TRL scores the batch with its reward model in one forward pass over the token ids;
    tokengym's RewardModel is a RewardFn scoring each completion from its decoded text (one
    forward pass per completion).
  - Neither side clips gradients (TRL's PPO loop never calls clip_grad_norm_; the bench sets
    max_grad_norm None).

Prints a Markdown table (TRL, tokengym, and the speed-up of tokengym = TRL time / tokengym time)
and optionally writes JSON.
"""
import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

from cargo_bench import find_bench_bin

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")
os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")
warnings.filterwarnings("ignore", category=FutureWarning)

ROOT = Path(__file__).resolve().parent.parent
TRL_VERSION = "1.12.0"
VOCAB = 256
N_CHARS = 252
CONTEXT = 128


def alphabet():
    """The 252 characters of the tokengym bench's character tokenizer, in id order."""
    chars = [chr(c) for c in range(0x20, 0x7F)]
    chars += [chr(c) for c in range(0xA1, 0x100)]
    chars += [chr(c) for c in range(0x100, 0x180)]
    return chars[:N_CHARS]


def make_tokenizer():
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {c: i for i, c in enumerate(alphabet())}
    for i, s in enumerate(["<bos>", "<eos>", "<pad>", "<unk>"]):
        vocab[s] = N_CHARS + i
    tk = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    tk.pre_tokenizer = pre_tokenizers.Split("", behavior="isolated")
    tok = PreTrainedTokenizerFast(
        tokenizer_object=tk,
        bos_token="<bos>",
        eos_token="<eos>",
        pad_token="<pad>",
        unk_token="<unk>",
        padding_side="left",
    )
    assert len(tok) == VOCAB, len(tok)
    return tok


def gpt2_config(tok):
    from transformers import GPT2Config

    return GPT2Config(
        vocab_size=VOCAB,
        n_positions=CONTEXT,
        n_embd=128,
        n_layer=4,
        n_head=4,
        activation_function="gelu_new",
        resid_pdrop=0.0,
        embd_pdrop=0.0,
        attn_pdrop=0.0,
        tie_word_embeddings=True,
        bos_token_id=tok.bos_token_id,
        eos_token_id=tok.eos_token_id,
        pad_token_id=tok.pad_token_id,
        num_labels=1,
    )


def run_trl(args):
    import numpy as np
    import torch
    from datasets import Dataset
    from transformers import (
        GenerationConfig,
        GPT2ForSequenceClassification,
        GPT2LMHeadModel,
        PrinterCallback,
        ProgressCallback,
        TrainerCallback,
    )
    from trl.experimental.ppo import PPOConfig, PPOTrainer
    from trl.experimental.ppo import ppo_trainer as ppo_mod

    torch.set_num_threads(1)
    torch.manual_seed(0)
    tok = make_tokenizer()
    cfg = gpt2_config(tok)
    policy = GPT2LMHeadModel(cfg)
    n_params = sum(p.numel() for p in policy.parameters())
    rng = np.random.default_rng(7)
    prompts = rng.integers(0, N_CHARS, size=(64, args.prompt_len)).tolist()

    # (a) rollout tokens/s, the way PPOTrainer.train generates.
    policy.generation_config.eos_token_id = None
    gen_cfg = GenerationConfig(
        max_new_tokens=args.new_tokens,
        temperature=1.0 + 1e-7,
        top_k=0.0,
        top_p=1.0,
        do_sample=True,
    )
    policy.eval()
    b = args.batch

    def one_rollout(i):
        rows = [prompts[(i * b + j) % len(prompts)] for j in range(b)]
        queries = torch.tensor(rows, dtype=torch.long)
        out, _ = ppo_mod.batch_generation(policy, queries, 64, tok.pad_token_id, gen_cfg)
        got = out.shape[1] - args.prompt_len
        if got != args.new_tokens:
            sys.exit(f"compare_trl: TRL generated {got} tokens, expected {args.new_tokens}")

    for i in range(args.warmup):
        one_rollout(i)
    start = time.perf_counter()
    for i in range(args.rollout_reps):
        one_rollout(i)
    rollout_s = time.perf_counter() - start
    rollout_tps = b * args.new_tokens * args.rollout_reps / rollout_s

    # (b) whole PPO iterations.
    value_model = GPT2ForSequenceClassification(cfg)
    reward_model = GPT2ForSequenceClassification(cfg)
    n_iters = args.warmup + args.iters
    dataset = Dataset.from_dict({"input_ids": prompts})
    phase = {"generation": 0.0, "scoring": 0.0}

    def timed(fn, key, only_no_grad=False):
        def wrapper(*a, **kw):
            if only_no_grad and torch.is_grad_enabled():
                return fn(*a, **kw)
            t0 = time.perf_counter()
            try:
                return fn(*a, **kw)
            finally:
                phase[key] += time.perf_counter() - t0

        return wrapper

    phase["gc"] = 0.0

    class TimedGc:
        """PPOTrainer.train calls gc.collect() twice per iteration; its share of "update"."""

        @staticmethod
        def collect(*a):
            import gc

            t0 = time.perf_counter()
            try:
                return gc.collect(*a)
            finally:
                phase["gc"] += time.perf_counter() - t0

    ppo_mod.gc = TimedGc
    ppo_mod.batch_generation = timed(ppo_mod.batch_generation, "generation")
    ppo_mod.forward = timed(ppo_mod.forward, "scoring", only_no_grad=True)
    ppo_mod.get_reward = timed(ppo_mod.get_reward, "scoring")

    marks = []

    class Clock(TrainerCallback):
        def on_train_begin(self, *_a, **_k):
            marks.append((time.perf_counter(), dict(phase)))

        def on_step_end(self, *_a, **_k):
            marks.append((time.perf_counter(), dict(phase)))

    with tempfile.TemporaryDirectory(prefix="tg-compare-trl-") as tmp:
        ppo_args = PPOConfig(
            output_dir=tmp,
            per_device_train_batch_size=b,
            gradient_accumulation_steps=1,
            num_mini_batches=1,
            num_ppo_epochs=args.epochs,
            total_episodes=b * n_iters,
            response_length=args.new_tokens,
            temperature=1.0,
            stop_token=None,
            num_sample_generations=0,
            learning_rate=3e-6,
            kl_coef=0.05,
            report_to="none",
            save_strategy="no",
            disable_tqdm=True,
            use_cpu=True,
            seed=0,
            bf16=False,
            fp16=False,
        )
        trainer = PPOTrainer(
            args=ppo_args,
            processing_class=tok,
            model=policy,
            ref_model=None,
            reward_model=reward_model,
            train_dataset=dataset,
            value_model=value_model,
            eval_dataset=dataset,
        )
        for cb in (PrinterCallback, ProgressCallback):
            trainer.remove_callback(cb)
        trainer.add_callback(Clock())
        t0 = time.perf_counter()
        trainer.train()
        total_s = time.perf_counter() - t0
    if len(marks) != n_iters + 1:
        sys.exit(f"compare_trl: expected {n_iters} TRL iterations, timed {len(marks) - 1}")
    (t_a, p_a), (t_b, p_b) = marks[args.warmup], marks[-1]
    iter_s = (t_b - t_a) / args.iters
    gen_s = (p_b["generation"] - p_a["generation"]) / args.iters
    scoring_s = (p_b["scoring"] - p_a["scoring"]) / args.iters
    gc_s = (p_b["gc"] - p_a["gc"]) / args.iters
    import transformers
    import trl

    return {
        "policy_params": n_params,
        "attn_implementation": getattr(policy.config, "_attn_implementation", None),
        "rollout_tokens_per_s": rollout_tps,
        "ppo_episodes_per_s": b / iter_s,
        "ppo_iteration_s": iter_s,
        "generation_s": gen_s,
        "scoring_s": scoring_s,
        "update_s": iter_s - gen_s - scoring_s,
        "gc_s": gc_s,
        "train_total_s": total_s,
        "versions": {
            "trl": trl.__version__,
            "transformers": transformers.__version__,
            "torch": torch.__version__,
        },
    }


def bare_torch_update(args, reps=3):
    """Seconds of `--epochs` plain-PyTorch updates on the rollout's shape: a forward/backward of
    a GPT2LMHeadModel (policy) and a GPT2ForSequenceClassification trunk + score (value), then
    AdamW. What TRL's update phase costs without TRL (context for the table, not a TRL number)."""
    import torch
    from transformers import GPT2ForSequenceClassification, GPT2LMHeadModel

    torch.manual_seed(1)
    tok = make_tokenizer()
    cfg = gpt2_config(tok)
    policy, value = GPT2LMHeadModel(cfg), GPT2ForSequenceClassification(cfg)
    params = list(policy.parameters()) + list(value.parameters())
    opt = torch.optim.AdamW(params, lr=3e-6)
    seq = torch.randint(0, N_CHARS, (args.batch, args.prompt_len + args.new_tokens))
    t = args.prompt_len

    def update():
        for _ in range(args.epochs):
            logits = policy(input_ids=seq).logits[:, t - 1 : -1]
            logp = torch.log_softmax(logits, -1).gather(-1, seq[:, t:, None]).squeeze(-1)
            hidden = value.transformer(input_ids=seq).last_hidden_state
            v = value.score(hidden)[:, t - 1 : -1].squeeze(-1)
            loss = -logp.mean() + 0.1 * v.square().mean()
            loss.backward()
            opt.step()
            opt.zero_grad()

    update()
    start = time.perf_counter()
    for _ in range(reps):
        update()
    return (time.perf_counter() - start) / reps


def run_tokengym(args, binary):
    env = dict(os.environ, OMP_NUM_THREADS="1", RAYON_NUM_THREADS="1")
    cmd = [
        str(binary),
        "--batch", str(args.batch),
        "--prompt-len", str(args.prompt_len),
        "--new-tokens", str(args.new_tokens),
        "--epochs", str(args.epochs),
        "--minibatch", str(args.batch),
        "--warmup", str(args.warmup),
        "--iters", str(args.iters),
        "--rollout-reps", str(args.rollout_reps),
        "--threads", "1",
        "--json",
    ]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=ROOT)
    if done.returncode != 0:
        sys.exit(f"compare_trl: {' '.join(cmd)} failed ({done.returncode}):\n{done.stderr.strip()}")
    lines = [l for l in done.stdout.splitlines() if l.startswith("{")]
    if not lines:
        sys.exit(f"compare_trl: no JSON line in the bench output:\n{done.stdout}")
    return json.loads(lines[-1])


def average_runs(runs):
    """Times averaged arithmetically, rates harmonically (i.e. through their times)."""
    out = dict(runs[0])
    for key, value in runs[0].items():
        if not isinstance(value, float):
            continue
        values = [r[key] for r in runs]
        if key.endswith("_per_s"):
            out[key] = len(values) / sum(1.0 / v for v in values)
        else:
            out[key] = sum(values) / len(values)
    out["runs"] = runs
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--prompt-len", type=int, default=16)
    p.add_argument("--new-tokens", type=int, default=32)
    p.add_argument("--epochs", type=int, default=4)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--iters", type=int, default=8)
    p.add_argument("--rollout-reps", type=int, default=10)
    p.add_argument("--bench-bin", type=Path, help="a built lm_rl_speed bench binary")
    p.add_argument("--skip-tokengym", action="store_true", help="time TRL only")
    p.add_argument("--json", type=Path, help="also write the results as JSON here")
    args = p.parse_args()
    if min(args.batch, args.prompt_len, args.new_tokens, args.epochs, args.warmup,
           args.iters, args.rollout_reps) < 1:
        sys.exit("compare_trl: every size must be >= 1")
    if args.prompt_len + args.new_tokens > CONTEXT:
        sys.exit(f"compare_trl: prompt length + new tokens must fit the context of {CONTEXT}")

    binary = None
    if not args.skip_tokengym:
        binary = args.bench_bin or find_bench_bin("tokengym-lm", "lm_rl_speed")
    # tokengym runs before and after TRL and the two are averaged, so that a change of the
    # machine's load during the run does not favour one side.
    runs = []
    if binary is not None:
        print("tokengym lm_rl_speed (1/2) ...", flush=True)
        runs.append(run_tokengym(args, binary))
    print(f"TRL {TRL_VERSION} PPO ...", flush=True)
    trl_res = run_trl(args)
    trl_res["bare_torch_update_s"] = bare_torch_update(args)
    ours = None
    if binary is not None:
        print("tokengym lm_rl_speed (2/2) ...", flush=True)
        runs.append(run_tokengym(args, binary))
        ours = average_runs(runs)

    rows = [
        ("rollout, new tokens/s", "rollout_tokens_per_s", 0, True),
        ("PPO iteration, episodes/s", "ppo_episodes_per_s", 2, True),
        ("PPO iteration, ms", "ppo_iteration_s", 1, False),
        ("  generation, ms", "generation_s", 1, False),
        ("  reward model (tokengym) / ref+value+reward scoring (TRL), ms", None, 1, False),
        ("  update phase, ms", "update_s", 1, False),
    ]
    print()
    print(
        f"GPT-2 layout d128 L4 H4 ctx {CONTEXT} vocab {VOCAB}, batch {args.batch}, prompt "
        f"{args.prompt_len} tokens, {args.new_tokens} new tokens, {args.epochs} PPO epochs x 1 "
        f"minibatch, {args.warmup} warm-up + {args.iters} timed iterations, CPU, 1 thread each"
    )
    print()
    print("| metric | TRL | tokengym | TRL time / tokengym time |")
    print("|---|---:|---:|---:|")

    def cell(x, d):
        return "-" if x is None else f"{x:.{d}f}"

    for label, key, d, is_rate in rows:
        if key is None:
            t = trl_res["scoring_s"] * 1e3
            o = None if ours is None else (ours["reward_s"] + ours["scoring_s"]) * 1e3
            label = "  no-grad scoring (ref, value, reward), ms"
        else:
            scale = 1.0 if is_rate else 1e3
            t = trl_res[key] * scale
            o = None if ours is None else ours[key] * scale
        if o is None or o == 0 or t == 0:
            ratio = None
        else:
            ratio = o / t if is_rate else t / o
        print(f"| {label} | {cell(t, d)} | {cell(o, d)} | {cell(ratio, 2)} |")
    print()
    print(
        f"policy parameters: TRL {trl_res['policy_params']}, "
        f"tokengym {ours['policy_params'] if ours else '-'}; "
        f"TRL attention: {trl_res['attn_implementation']}; versions {trl_res['versions']}"
    )
    print(
        f"TRL update phase includes {trl_res['gc_s'] * 1e3:.1f} ms of gc.collect() per iteration; "
        f"the same {args.epochs} policy + value-model updates in plain PyTorch take "
        f"{trl_res['bare_torch_update_s'] * 1e3:.1f} ms"
    )
    if ours is not None:
        each = ", ".join(f"{r['ppo_iteration_s'] * 1e3:.1f}" for r in ours["runs"])
        print(f"tokengym PPO iteration ms before / after TRL: {each} (the table has the mean)")
        print(
            f"tokengym split: reward model {ours['reward_s'] * 1e3:.1f} ms, Ppo::step no-grad "
            f"scoring ~{ours['scoring_s'] * 1e3:.1f} ms"
        )
        print(
            f"ratios (tokengym / TRL): rollout {ours['rollout_tokens_per_s'] / trl_res['rollout_tokens_per_s']:.2f}x, "
            f"PPO iteration {ours['ppo_episodes_per_s'] / trl_res['ppo_episodes_per_s']:.2f}x"
        )
    if args.json:
        result = {
            "sizes": {k: getattr(args, k) for k in
                      ("batch", "prompt_len", "new_tokens", "epochs", "warmup", "iters",
                       "rollout_reps")},
            "trl": trl_res,
            "tokengym": ours,
            "python": platform.python_version(),
            "machine": platform.processor() or platform.machine(),
            "cpus": os.cpu_count(),
            "loadavg": os.getloadavg(),
        }
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2) + "\n")
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
