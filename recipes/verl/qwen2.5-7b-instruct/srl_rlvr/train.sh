#!/usr/bin/env bash
# SRL -> RLVR on verl: the SRL recipe (its config, its own run folder), its last checkpoint merged
# to a Hugging Face folder, then RLVR (rlvr.yaml) from it on the checkable s1K golds.
#   srl data build ../shared/data/s1k_questions/s1k.json --out runs/data/s1k
#   srl data rewrite --inputs ../shared/data/s1k_questions/s1k.json --out runs/teacher/s1k --golds_only true
#   bash recipes/verl/qwen2.5-7b-instruct/srl_rlvr/train.sh
# Run in the environment of `make venv-verl` (PYTHON=.venv-verl/bin/python). docs/verl.md.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
source "$HERE/../../common.sh"
RUN=runs/verl/qwen2.5-7b-instruct/srl_rlvr
export_once runs/data/s1k runs/verl/s1k
export_once runs/teacher/s1k/rlvr.jsonl runs/verl/s1k_rlvr --task rlvr
export_once ../shared/data/math500/test.jsonl runs/verl/math500 --task rlvr
run_verl "$HERE/../srl" config trainer.default_local_dir="$RUN/srl" \
  trainer.experiment_name=qwen2.5-7b-instruct-srl_rlvr-srl "$@"
merge_latest "$RUN/srl" "$RUN/srl_hf"
run_verl "$HERE" rlvr "$@"
merge_latest "$RUN/rlvr" "$RUN/rlvr_hf"
echo "next: srl eval $RUN/rlvr_hf --benchmarks aime24,aime25,amc23,minerva --data_dir ../shared/data"
