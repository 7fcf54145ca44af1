#!/usr/bin/env bash
# Reproduces the classic-control agent rows of RESULTS.md: every (algorithm, environment) preset
# trained with seeds 0, 1, 2 (CPU, native backend), then one reward-curve PNG per row in
# docs/results/ and a markdown table of the final deterministic evaluations on stdout.
#
#   scripts/results.sh                 # all rows
#   ROWS="ppo:CartPole-v1" SEEDS="0" scripts/results.sh
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-runs/results}
SEEDS=${SEEDS:-"0 1 2"}
ROWS=${ROWS:-"ppo:CartPole-v1 reinforce:CartPole-v1 ppo:Acrobot-v1 ppo:MountainCar-v0 ppo:Pendulum-v1 ppo:MountainCarContinuous-v0"}
cargo build --release -q -p tokengym-experiments --bin train --bin plot
for row in $ROWS; do
    algo=${row%%:*}
    env=${row#*:}
    dirs=()
    for seed in $SEEDS; do
        dir="$OUT/$algo-$env-s$seed"
        target/release/train --algo "$algo" --env "$env" --seed "$seed" --out "$dir" \
            --device cpu --quiet --overwrite
        dirs+=("$dir")
    done
    target/release/plot "${dirs[@]}" -o "docs/results/$algo-$env.png" --title "$algo on $env"
    target/release/plot "${dirs[@]}" -o "docs/results/$algo-$env-eval.png" --metric eval \
        --title "$algo on $env: deterministic evaluation"
done
echo
echo "| env | algo | seed | steps | episodes | train s | eval return (20 episodes) |"
echo "|---|---|---:|---:|---:|---:|---:|"
for row in $ROWS; do
    algo=${row%%:*}
    env=${row#*:}
    for seed in $SEEDS; do
        python3 - "$OUT/$algo-$env-s$seed/summary.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
print(f"| {s['env']} | {s['algo']} | {s['seed']} | {s['total_steps']} | {s['total_episodes']} "
      f"| {s['wall_seconds']:.1f} | {s['eval_mean_return']:.1f} ± {s['eval_std_return']:.1f} |")
PY
    done
done
