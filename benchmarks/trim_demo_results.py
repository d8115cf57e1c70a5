"""Copy a demo ``results.json`` into docs/results/ without the per-step training histories.

The histories stay in the run folders (``seed-<s>/runs/<method>/metrics.jsonl``); every number
the docs quote (accuracies, contrasts, calibration, machine, versions, commands) is kept.

    python benchmarks/trim_demo_results.py runs/demo/results.json docs/results/NAME.json
"""

import json
import sys


def main(source: str, target: str) -> None:
    with open(source, encoding="utf-8") as f:
        results = json.load(f)
    for seed in results["seeds"].values():
        for method in seed.values():
            if isinstance(method, dict):
                method.pop("history", None)
    with open(target, "w", encoding="utf-8") as f:
        json.dump(results, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
