#!/usr/bin/env python3
"""PPO training speed on CartPole-v1: Stable-Baselines3 against tokengym, on this machine.

Usage (from the repository root; `make bench-sb3` sets up `.venv-sb3` and builds `train`):
    .venv-sb3/bin/python benches/compare_sb3.py [--seeds 3] [--steps 100000] [--json FILE]

For each seed it
  1. trains SB3's PPO with rl-baselines3-zoo's CartPole-v1 settings (8 envs via make_vec_env,
     n_steps 32, batch 256, gae_lambda 0.8, gamma 0.98, 20 epochs, ent_coef 0, learning rate
     linear from 1e-3, clip range linear from 0.2) on the CPU with one torch thread, times
     `learn()` alone and evaluates 20 deterministic episodes;
  2. runs tokengym's `target/release/train --env CartPole-v1 --algo ppo --seed S --out DIR
     --device cpu --config experiments/configs/ppo/CartPole-v1.toml` (the same settings) with
     RAYON_NUM_THREADS=1 and OMP_NUM_THREADS=1, and reads `wall_seconds` and `eval_mean_return`
     from DIR/summary.json.
Then it prints a Markdown table per seed, the mean wall-clock seconds and returns of both, and
the ratio of the mean wall-clock seconds (SB3 / tokengym). `--steps` other than the preset's
budget runs tokengym on a copy of the preset with that budget. `--skip-tokengym` times SB3 only.
"""
import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PRESET = ROOT / "experiments" / "configs" / "ppo" / "CartPole-v1.toml"
ENV_ID = "CartPole-v1"


def linear(initial):
    """rl-zoo's lin_X: the value decays linearly from `initial` to 0 over training."""
    return lambda progress_remaining: progress_remaining * initial


def run_sb3(seed, steps, eval_episodes):
    import torch
    from stable_baselines3 import PPO
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.evaluation import evaluate_policy

    torch.set_num_threads(1)
    env = make_vec_env(ENV_ID, n_envs=8, seed=seed)
    model = PPO(
        "MlpPolicy",
        env,
        n_steps=32,
        batch_size=256,
        gae_lambda=0.8,
        gamma=0.98,
        n_epochs=20,
        ent_coef=0.0,
        learning_rate=linear(1e-3),
        clip_range=linear(0.2),
        seed=seed,
        device="cpu",
        verbose=0,
    )
    start = time.perf_counter()
    model.learn(total_timesteps=steps)
    wall = time.perf_counter() - start
    eval_env = make_vec_env(ENV_ID, n_envs=1, seed=seed + 10_000)
    mean, std = evaluate_policy(
        model, eval_env, n_eval_episodes=eval_episodes, deterministic=True
    )
    env.close()
    eval_env.close()
    return {
        "seed": seed,
        "wall_seconds": wall,
        "eval_mean_return": float(mean),
        "eval_std_return": float(std),
    }


def config_for(steps, tmp):
    """The CartPole PPO preset, with its budget replaced when `steps` differs."""
    text = PRESET.read_text()
    budget = re.search(r"^total_steps\s*=\s*(\d+)\s*$", text, re.MULTILINE)
    if budget is None:
        sys.exit(f"compare_sb3: {PRESET} has no `total_steps = N` line")
    if int(budget.group(1)) == steps:
        return PRESET
    path = Path(tmp) / "CartPole-v1.toml"
    path.write_text(text[: budget.start()] + f"total_steps = {steps}" + text[budget.end() :])
    return path


def run_tokengym(binary, seed, config, out):
    env = dict(os.environ, RAYON_NUM_THREADS="1", OMP_NUM_THREADS="1")
    cmd = [
        str(binary),
        "--env", ENV_ID,
        "--algo", "ppo",
        "--seed", str(seed),
        "--out", str(out),
        "--device", "cpu",
        "--config", str(config),
    ]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(
            f"\ncompare_sb3: {' '.join(cmd)} failed with exit code {done.returncode}:\n"
            f"{done.stderr.strip()}"
        )
    summary_path = Path(out) / "summary.json"
    try:
        summary = json.loads(summary_path.read_text())
        return {
            "seed": seed,
            "wall_seconds": float(summary["wall_seconds"]),
            "eval_mean_return": float(summary["eval_mean_return"]),
            "eval_std_return": float(summary.get("eval_std_return", float("nan"))),
        }
    except (OSError, ValueError, KeyError) as e:
        sys.exit(f"compare_sb3: cannot read wall_seconds/eval_mean_return from {summary_path}: {e}")


def fmt(x, digits=2):
    return "-" if x is None else f"{x:.{digits}f}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=3, help="seeds 0..N-1 (default 3)")
    parser.add_argument("--steps", type=int, default=100_000, help="training budget (env steps)")
    parser.add_argument("--eval-episodes", type=int, default=20)
    parser.add_argument("--train-bin", type=Path, default=ROOT / "target" / "release" / "train")
    parser.add_argument("--skip-tokengym", action="store_true", help="time SB3 only")
    parser.add_argument("--json", type=Path, help="also write the results as JSON here")
    args = parser.parse_args()
    if args.seeds < 1 or args.steps < 1 or args.eval_episodes < 1:
        sys.exit("compare_sb3: --seeds, --steps and --eval-episodes must be positive")
    if not args.skip_tokengym and not args.train_bin.is_file():
        sys.exit(
            f"compare_sb3: {args.train_bin} not found: build it with "
            "`cargo build --release -p tokengym-experiments --bin train` (or pass --skip-tokengym)"
        )

    import gymnasium
    import stable_baselines3
    import torch

    sb3, ours = [], []
    with tempfile.TemporaryDirectory(prefix="tg-compare-sb3-") as tmp:
        config = config_for(args.steps, tmp)
        for seed in range(args.seeds):
            sb3.append(run_sb3(seed, args.steps, args.eval_episodes))
            print(f"seed {seed}: SB3 {sb3[-1]['wall_seconds']:.2f} s", end="", flush=True)
            if not args.skip_tokengym:
                ours.append(run_tokengym(args.train_bin, seed, config, Path(tmp) / f"s{seed}"))
                print(f", tokengym {ours[-1]['wall_seconds']:.2f} s", end="")
            print(flush=True)

    def mean(rows, key):
        return statistics.fmean(r[key] for r in rows) if rows else None

    print()
    print(f"PPO on {ENV_ID}, {args.steps} steps, {args.eval_episodes} deterministic eval episodes, "
          "one CPU thread each")
    print()
    print("| seed | SB3 s | SB3 eval return | tokengym s | tokengym eval return | SB3 s / tokengym s |")
    print("|---:|---:|---:|---:|---:|---:|")
    for i, s in enumerate(sb3):
        o = ours[i] if ours else None
        ratio = s["wall_seconds"] / o["wall_seconds"] if o and o["wall_seconds"] > 0 else None
        print(
            f"| {s['seed']} | {fmt(s['wall_seconds'])} | {fmt(s['eval_mean_return'], 1)} | "
            f"{fmt(o and o['wall_seconds'])} | {fmt(o and o['eval_mean_return'], 1)} | {fmt(ratio)} |"
        )
    sb3_wall, our_wall = mean(sb3, "wall_seconds"), mean(ours, "wall_seconds")
    speedup = sb3_wall / our_wall if our_wall else None
    print(
        f"| mean | {fmt(sb3_wall)} | {fmt(mean(sb3, 'eval_mean_return'), 1)} | {fmt(our_wall)} | "
        f"{fmt(mean(ours, 'eval_mean_return'), 1)} | {fmt(speedup)} |"
    )
    print()
    if speedup is not None:
        print(f"mean wall-clock seconds SB3 / tokengym: {speedup:.2f}")

    if args.json:
        result = {
            "env": ENV_ID,
            "steps": args.steps,
            "eval_episodes": args.eval_episodes,
            "seeds": args.seeds,
            "sb3": sb3,
            "tokengym": ours,
            "sb3_mean_wall_seconds": sb3_wall,
            "tokengym_mean_wall_seconds": our_wall,
            "sb3_mean_eval_return": mean(sb3, "eval_mean_return"),
            "tokengym_mean_eval_return": mean(ours, "eval_mean_return"),
            "wall_seconds_ratio_sb3_over_tokengym": speedup,
            "versions": {
                "python": platform.python_version(),
                "stable_baselines3": stable_baselines3.__version__,
                "gymnasium": gymnasium.__version__,
                "torch": torch.__version__,
            },
            "machine": platform.processor() or platform.machine(),
        }
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2) + "\n")
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
