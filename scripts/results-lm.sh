#!/usr/bin/env bash
# Reproduces the RL-for-language-models rows of RESULTS.md on the CPU: pre-trains the GPT on the
# shipped corpus once (runs/results-lm/lm, seed 0), fine-tunes it with rl-lm on the three
# demonstrations with seeds 0, 1, 2, draws one curve PNG per demonstration in docs/results/ and
# prints a markdown table of the summaries. A run whose summary.json exists is not run again
# (delete its folder to redo it), so an interrupted call picks up where it stopped.
#
#   scripts/results-lm.sh                         # everything (about an hour)
#   ROWS="sentiment" SEEDS="0" scripts/results-lm.sh
#   JOBS=2 scripts/results-lm.sh                  # two runs at a time
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-runs/results-lm}
SEEDS=${SEEDS:-"0 1 2"}
ROWS=${ROWS:-"sentiment sentiment-weak-kl arithmetic preference"}
JOBS=${JOBS:-1}
cargo build --release -q -p tokengym-experiments --bin pretrain-lm --bin rl-lm --bin plot
LM="$OUT/lm"
if [ ! -f "$LM/checkpoint/model.safetensors" ]; then
    target/release/pretrain-lm --steps 2600 --seed 0 --out "$LM" --threads 1 --quiet --overwrite
fi

# The settings of each demonstration (see RESULTS.md for why).
args_of() {
    case "$1" in
        sentiment) echo "--task sentiment --algo ppo --lr 1e-4 --kl-beta 0.1 --steps 300 --batch 32 --max-new-tokens 32" ;;
        sentiment-weak-kl) echo "--task sentiment --algo ppo --lr 5e-5 --kl-beta 0.05 --steps 150 --batch 32 --max-new-tokens 32" ;;
        arithmetic) echo "--task arithmetic --algo group --group-size 16 --batch 128 --prompts 64 --max-operand 9 --lr 3e-4 --kl-beta 0.02 --steps 300 --max-new-tokens 4" ;;
        preference) echo "--task preference --algo ppo --lr 1e-4 --kl-beta 0.1 --steps 200 --batch 32 --max-new-tokens 32" ;;
        *) echo "unknown row $1" >&2; exit 1 ;;
    esac
}

for row in $ROWS; do
    for seed in $SEEDS; do
        [ -f "$OUT/$row-s$seed/summary.json" ] && continue
        # shellcheck disable=SC2046
        target/release/rl-lm --checkpoint "$LM/checkpoint" $(args_of "$row") --seed "$seed" \
            --out "$OUT/$row-s$seed" --overwrite --threads 1 --quiet &
        while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do wait -n; done
    done
done
wait

mkdir -p docs/results
for row in $ROWS; do
    dirs=()
    for seed in $SEEDS; do dirs+=("$OUT/$row-s$seed"); done
    target/release/plot "${dirs[@]}" -o "docs/results/rl-lm-$row.png" --metric lm --window 10
done

echo
echo "| row | algo | beta | seed | reward start → end (eval prompts) | training prompts | KL end | entropy | ref. perplexity start → end | extra | s |"
echo "|---|---|---:|---:|---|---|---:|---|---|---|---:|"
for row in $ROWS; do
    for seed in $SEEDS; do
        python3 - "$OUT/$row-s$seed/summary.json" "$row" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
row = sys.argv[2]
extra = ""
rm = s.get("reward_model") or {}
if s["task"] == "preference":
    extra = (f"RM acc. {rm.get('held_out_accuracy', float('nan')):.2f}; lexicon "
             f"{s['lexicon_reward_start']:.2f} → {s['lexicon_reward_end']:.2f}")
print(f"| {row} | {s['algo']} | {s['kl_beta']} | {s['seed']} "
      f"| {s['mean_reward_start']:.3f} → {s['mean_reward_end']:.3f} "
      f"| {s['train_prompts_reward_start']:.3f} → {s['train_prompts_reward_end']:.3f} "
      f"| {s['kl_end']:.2f} | {s['entropy_start']:.2f} → {s['entropy_end']:.2f} "
      f"| {s['ref_perplexity_start']:.2f} → {s['ref_perplexity_end']:.2f} | {extra} "
      f"| {s['wall_seconds']:.0f} |")
PY
    done
done
