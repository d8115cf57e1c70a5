#!/usr/bin/env bash
# SRL on verl for software agents: SWE-smith step instances (prepare_data.sh of the TRL recipe)
# -> verl parquet -> GRPO with the SRL keep rule -> HF folder to serve to a scaffold (docs/agents.md).
#   bash recipes/qwen2.5-coder-7b-instruct/srl_swe/prepare_data.sh    # -> runs/data/swe_smith
#   bash recipes/verl/qwen2.5-coder-7b-instruct/srl_swe/train.sh [hydra overrides]
# Run in the environment of `make venv-verl` (PYTHON=.venv-verl/bin/python). docs/verl.md.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
source "$HERE/../../common.sh"
export_once runs/data/swe_smith runs/verl/swe_smith
run_verl "$HERE" config "$@"
merge_latest runs/verl/qwen2.5-coder-7b-instruct/srl_swe runs/verl/qwen2.5-coder-7b-instruct/srl_swe/hf
echo "next: srl eval-steps runs/verl/qwen2.5-coder-7b-instruct/srl_swe/hf runs/data/swe_smith"
