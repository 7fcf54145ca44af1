# tokengym: the two commands a newcomer needs are `make demo` (the main job) and `make test`.
# Each target builds what it needs the first time, libtorch included (see `libtorch` below).

CARGO ?= cargo
RUN_DIR ?= runs/demo

.PHONY: demo test test-no-libtorch lint package bench bench-gymnasium bench-sb3 bench-trl bench-hf libtorch

## The main job: train PPO on CartPole-v1 (the tuned preset, 100k steps, seed 0) and write the
## reward curve runs/demo/reward.png (plus metrics.csv, checkpoint/, summary.json). A rerun
## replaces the previous demo run (--overwrite).
demo: libtorch
	$(CARGO) run --release -q -p tokengym-experiments --bin train -- \
		--env CartPole-v1 --algo ppo --seed 0 --out $(RUN_DIR) --overwrite

## Every test of the workspace: unit, integration (incl. the Gymnasium replays) and doc tests.
test: libtorch
	$(CARGO) test --workspace

## No libtorch where none is needed: tokengym and tokengym-envs never depend on tch, nor does
## tokengym-agents without its `tch` feature (PPO/REINFORCE on the native CPU backend, tabular,
## planning, bandits), which is built, linted and tested with LIBTORCH pointing at nothing.
## `make test` runs the whole workspace (with libtorch).
test-no-libtorch:
	@for p in "tokengym" "tokengym-envs" "tokengym-agents --no-default-features"; do \
		! $(CARGO) tree -q -p $$p -e normal,build | grep -q -E "^.*(tch|torch-sys) v" \
			|| { echo "$$p depends on tch" >&2; exit 1; }; \
	done
	LIBTORCH=/nonexistent-libtorch $(CARGO) test -p tokengym-agents --no-default-features
	LIBTORCH=/nonexistent-libtorch $(CARGO) clippy -p tokengym-agents --no-default-features --all-targets -- -D warnings

## Formatting and lints, as CI checks them.
lint: libtorch
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

## The core crates are ready to publish: `cargo package` builds tokengym and tokengym-envs from
## their packaged sources (the crates that link libtorch need LIBTORCH to verify; see README).
package:
	$(CARGO) package -q -p tokengym -p tokengym-envs --allow-dirty

## Hugging Face folders against transformers in one run: prefill and KV-cache decode tokens/s of a
## random Llama of SmolLM2-135M's shape (f32, one CPU thread each) and the peak memory of loading
## a random bf16 model of Qwen2.5-0.5B's shape (both made in a temporary folder, ~1.6 GB). The first
## time it makes .venv-hf (transformers 5.24.0 over the torch of .libtorch/venv).
bench-hf: libtorch
	test -x .venv-hf/bin/python || \
		bash scripts/torch-venv.sh .venv-hf transformers==5.24.0 tokenizers safetensors jinja2
	$(CARGO) bench -q -p tokengym-lm --bench hf_speed --no-run
	.venv-hf/bin/python benches/compare_transformers.py

## libtorch for tch: installed into .libtorch/ the first time (PyPI's torch==2.13.0, ~4.7 GB, about a
## minute); a no-op afterwards. An existing LIBTORCH in the environment is used instead.
libtorch:
	@bash scripts/setup-libtorch.sh

## Throughput of every environment (tokengym only).
bench:
	$(CARGO) bench -p tokengym-envs --bench throughput

## Throughput against Gymnasium 1.4 in one run (installs gymnasium into .venv-bench the first time).
bench-gymnasium:
	test -x .venv-bench/bin/python || (python3 -m venv .venv-bench && .venv-bench/bin/pip install -q gymnasium==1.4.0)
	.venv-bench/bin/python benches/compare_gymnasium.py

## PPO training speed on CartPole-v1 against Stable-Baselines3 (3 seeds, 100k steps, one CPU
## thread each). The first time it makes .venv-sb3, which sees the torch of .libtorch/venv
## through a .pth file (no second torch download) and gets stable-baselines3 and gymnasium.
bench-sb3: libtorch
	test -x .venv-sb3/bin/python || \
		bash scripts/torch-venv.sh .venv-sb3 "stable-baselines3==2.9.*" gymnasium==1.4.0
	$(CARGO) build --release -q -p tokengym-experiments --bin train
	.venv-sb3/bin/python benches/compare_sb3.py

## RL fine-tuning throughput of a GPT-2-shaped tiny model against TRL's PPO (rollout tokens/s,
## PPO iterations/s; one CPU thread each). The first time it makes .venv-trl, which sees the torch
## of .libtorch/venv through a .pth file and gets trl 1.12.0 (the last release with
## trl.experimental.ppo) with the transformers, accelerate and datasets it was measured with.
bench-trl: libtorch
	test -x .venv-trl/bin/python || bash scripts/torch-venv.sh .venv-trl \
		trl==1.12.0 transformers==5.24.0 accelerate==1.15.0 datasets==5.2.0
	$(CARGO) bench -q -p tokengym-lm --bench lm_rl_speed --no-run
	.venv-trl/bin/python benches/compare_trl.py
