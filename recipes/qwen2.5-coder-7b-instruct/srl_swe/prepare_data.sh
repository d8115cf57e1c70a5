#!/usr/bin/env bash
# Data step of the SRL software-agent recipe: SWE-smith trajectories -> step instances.
#
#   bash recipes/qwen2.5-coder-7b-instruct/srl_swe/prepare_data.sh [RAW] [OUT]
#   bash recipes/qwen2.5-coder-7b-instruct/srl_swe/prepare_data.sh path/to/swe_smith/ runs/data/swe_smith
#
# Without network, give RAW: a local SWE-smith file or folder (JSONL / JSON, as the dataset
# ships it); nothing is downloaded then.
#
# RAW (default runs/data/swe_smith_raw.jsonl): SWE-smith trajectories, a file or a folder.
#   When it does not exist it is downloaded once with `datasets` (the one step that needs the
#   Hugging Face hub): split SWE_SMITH_SPLIT (default "xml": actions written as
#   <function=...> blocks, the format this recipe trains; the paper's 5,000 trajectories are the
#   dataset's first release, its former "train" split), resolved runs only.
# OUT (default runs/data/swe_smith): the build folder (train/validation JSONL + parquet,
#   stats.json). Re-running with the same inputs rebuilds the same files.
set -euo pipefail

case "${1:-}" in
  -h|--help) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
esac

RAW="${1:-runs/data/swe_smith_raw.jsonl}"
OUT="${2:-runs/data/swe_smith}"
PYTHON="${PYTHON:-python}"
SPLIT="${SWE_SMITH_SPLIT:-xml}"

if [ ! -e "$RAW" ]; then
  mkdir -p "$(dirname "$RAW")"
  "$PYTHON" - "$RAW" "$SPLIT" <<'PY'
import os
import sys

out, split = sys.argv[1], sys.argv[2]
try:
    from datasets import load_dataset

    rows = load_dataset("SWE-bench/SWE-smith-trajectories", split=split)
except Exception as exc:  # no network, no hub, no datasets: one line, and the way around it
    reason = str(exc).splitlines()[0][:160] if str(exc) else type(exc).__name__
    print(
        f"prepare_data.sh: could not download SWE-bench/SWE-smith-trajectories ({reason}); "
        f"without network give a local file or folder: prepare_data.sh PATH [OUT]",
        file=sys.stderr,
    )
    sys.exit(2)
if "resolved" in rows.column_names:
    rows = rows.filter(lambda r: bool(r["resolved"]))  # the paper: verified trajectories only
rows.to_json(out + ".tmp", lines=True)
os.replace(out + ".tmp", out)  # atomic: an interrupted download leaves no half file
print(f"{len(rows)} trajectories -> {out}")
PY
fi

# Paper: the context is the issue plus the last two (action, observation) rounds; 30 held-out
# trajectories for validation; the target is the action only (srlkit's default for agents).
# Ours: every step is a target (the paper's "k in 1..N-1" would never train `submit`), the
# trajectory's own system prompt (its tool documentation, which the scaffold also shows) follows
# ours, observations keep head and tail up to 4,000 characters.
"$PYTHON" -m srlkit.cli.main data build "$RAW" --out "$OUT" \
  --history_rounds 2 \
  --validation_size 30 \
  --targets all \
  --include_source_system true \
  --max_observation_chars 4000
