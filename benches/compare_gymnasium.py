#!/usr/bin/env python3
"""Environment throughput: tokengym against Gymnasium 1.4, measured in one run on this machine.

Usage (from the repository root):
    python3 -m venv .venv-bench && .venv-bench/bin/pip install gymnasium==1.4.0
    .venv-bench/bin/python benches/compare_gymnasium.py [--seconds 2]

It times Gymnasium (single envs with random actions, raw `env.unwrapped` and through `gym.make`;
8 CartPoles in the sync vector env and in Gymnasium's native vectorised CartPole), then runs
`cargo bench -p tokengym-envs --bench throughput` which prints the same measurements for tokengym,
and prints steps/s and the ratio for each pair. Both sides sample random actions from the action
space and reset when an episode ends, so the loops do the same work.
"""
import argparse
import json
import subprocess
import sys
import time

import gymnasium as gym
import numpy as np

IDS = ["CartPole-v1", "MountainCar-v0", "MountainCarContinuous-v0", "Acrobot-v1", "Pendulum-v1"]


def time_single(env, seconds):
    env.reset(seed=0)
    env.action_space.seed(0)
    sample = env.action_space.sample
    steps = 0
    start = time.perf_counter()
    deadline = start + seconds
    while True:
        for _ in range(1000):
            _, _, terminated, truncated, _ = env.step(sample())
            if terminated or truncated:
                env.reset()
        steps += 1000
        if time.perf_counter() >= deadline:
            break
    return steps / (time.perf_counter() - start)


def time_vector(envs, seconds):
    envs.reset(seed=0)
    envs.action_space.seed(0)
    sample = envs.action_space.sample
    n = envs.num_envs
    steps = 0
    start = time.perf_counter()
    deadline = start + seconds
    while True:
        for _ in range(200):
            envs.step(sample())
        steps += 200 * n
        if time.perf_counter() >= deadline:
            break
    return steps / (time.perf_counter() - start)


def gymnasium_results(seconds):
    out = {}
    for env_id in IDS:
        env = gym.make(env_id)
        out[f"{env_id} raw"] = time_single(env.unwrapped, seconds)
        out[f"{env_id} make"] = time_single(env, seconds)
        env.close()
    sync = gym.make_vec("CartPole-v1", num_envs=8, vectorization_mode="sync")
    out["CartPole-v1 x8 sync"] = time_vector(sync, seconds)
    sync.close()
    native = gym.make_vec("CartPole-v1", num_envs=8, vectorization_mode="vector_entry_point")
    out["CartPole-v1 x8 native"] = time_vector(native, seconds)
    native.close()
    return out


def tokengym_results(seconds):
    cmd = ["cargo", "bench", "-q", "-p", "tokengym-envs", "--bench", "throughput", "--",
           "--seconds", str(seconds), "--json"]
    proc = subprocess.run(cmd, check=True, capture_output=True, text=True)
    for line in proc.stdout.splitlines():
        if line.startswith("{"):
            return json.loads(line)
    sys.exit("the throughput bench printed no JSON line:\n" + proc.stdout + proc.stderr)


# Which tokengym measurement is compared with which Gymnasium one.
PAIRS = [(f"{i} {k}", f"{i} {k}") for i in IDS for k in ("raw", "make")] + [
    ("CartPole-v1 x8 sync", "CartPole-v1 x8 sync"),
    ("CartPole-v1 x8 parallel", "CartPole-v1 x8 native"),
    ("CartPole-v1 x8 make_vec", "CartPole-v1 x8 sync"),
]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="time per measurement")
    args = parser.parse_args()
    print(f"gymnasium {gym.__version__}, numpy {np.__version__}", flush=True)
    theirs = gymnasium_results(args.seconds)
    ours = tokengym_results(args.seconds)
    print(f"{'tokengym':32} {'steps/s':>14} | {'gymnasium':28} {'steps/s':>12} | ratio")
    for mine, ref in PAIRS:
        if mine not in ours:
            continue
        a, b = ours[mine], theirs[ref]
        print(f"{mine:32} {a:14,.0f} | {ref:28} {b:12,.0f} | {a / b:7.1f}x")


if __name__ == "__main__":
    main()
