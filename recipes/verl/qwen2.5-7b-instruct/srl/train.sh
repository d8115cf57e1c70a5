#!/usr/bin/env bash
# SRL on verl: s1K step instances -> verl parquet -> GRPO with the SRL keep rule -> HF folder.
#   srl data build ../shared/data/s1k_questions/s1k.json --out runs/data/s1k    # once
#   bash recipes/verl/qwen2.5-7b-instruct/srl/train.sh [hydra overrides, e.g. trainer.nnodes=2]
# Run in the environment of `make venv-verl` (PYTHON=.venv-verl/bin/python). docs/verl.md.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
source "$HERE/../../common.sh"
export_once runs/data/s1k runs/verl/s1k
run_verl "$HERE" config "$@"
merge_latest runs/verl/qwen2.5-7b-instruct/srl runs/verl/qwen2.5-7b-instruct/srl/hf
echo "next: srl eval runs/verl/qwen2.5-7b-instruct/srl/hf --benchmarks aime24,aime25,amc23,minerva --data_dir ../shared/data"
