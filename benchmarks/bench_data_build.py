"""Benchmark: building step instances from agent trajectories (speed and streaming memory).

What it measures, all in one run:

1. Throughput. The SWE-Gym and SWE-smith sample files are replicated to N trajectories (5,000
   by default; each copy gets a marker in its task, so de-duplication keeps it). Then
   ``build_dataset`` (JSONL output) runs on them in a child process pinned to one CPU core.
   Instances per second are reported on CPU time, because wall time on a shared machine
   depends on what else runs. The obvious alternative runs on a 1,000-trajectory cut in the
   same run: load every trajectory into a list, build every instance, then write them with
   ``json.dumps``.
2. Streaming. Peak resident memory (``ru_maxrss`` of a fresh child process) of both
   approaches on M and 4*M trajectories. Streaming means the peak does not grow with input.
3. The s1K file: wall and CPU time of the default build (with parquet) of its 1,000 records.
4. Optionally (``--compare-src``), before/after in the same run: the JSONL build of the N
   trajectories alternately with another source tree (e.g. an older commit exported with
   ``git archive``) and with this one, ``--repeats`` times each. On a shared machine the CPU
   time of one run moves by 10-30% with the other jobs, so only interleaved runs compare.

    python benchmarks/bench_data_build.py                   # full run, a few minutes
    python benchmarks/bench_data_build.py --trajectories 1000 --memory-base 200   # quick
    mkdir -p /tmp/before && git archive 3d981d7 src | tar -x -C /tmp/before   # then:
    python benchmarks/bench_data_build.py --compare-src /tmp/before/src --repeats 3
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from common import SHARED_DATA

REPO = Path(__file__).resolve().parents[1]
SHARED = SHARED_DATA
SOURCES = ["swe_gym_openhands_sampled_trajectories", "swe_smith_trajectories"]


def replicate(out: Path, n: int) -> int:
    """Write ``n`` trajectories as JSONL by cycling through the real sample records."""
    records = []
    for folder in SOURCES:
        for path in sorted((SHARED / folder).glob("*.json")):
            records.extend(json.loads(path.read_text(encoding="utf-8")))
    with open(out, "w", encoding="utf-8") as f:
        for i in range(n):
            rec = dict(records[i % len(records)])
            messages = [dict(m) for m in rec["messages"]]
            first_user = next(j for j, m in enumerate(messages) if m["role"] == "user")
            messages[first_user]["content"] = (
                f"{messages[first_user]['content']}\n(copy {i // len(records)})"
            )
            rec["messages"] = messages
            rec["instance_id"] = f"{rec.get('instance_id', 'traj')}-copy{i}"
            f.write(json.dumps(rec, ensure_ascii=False) + "\n")
    return len(records)


def _pin_one_core() -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})


def srlkit_build(path: str, out: str, parquet: bool) -> int:
    from srlkit.data.build import BuildConfig, build_dataset

    stats = build_dataset([path], out, BuildConfig(parquet=parquet))
    return sum(s.instances for s in stats.splits.values())


def naive_build(path: str, out: str, parquet: bool) -> int:
    """Load all, build all, then write: what one writes first with the same loaders."""
    from srlkit.data.instances import build_instances
    from srlkit.data.loaders import load_trajectories
    from srlkit.io import write_jsonl

    trajectories = load_trajectories(path)
    instances = [inst for t in trajectories for inst in build_instances(t)]
    write_jsonl(Path(out) / "train.jsonl", (inst.to_dict() for inst in instances))
    return len(instances)


def _child(
    kind: str, path: str, out: str, parquet: bool, queue: mp.Queue, src: str | None = None
) -> None:
    _pin_one_core()
    if src:  # another source tree of srlkit (the "before" of a comparison) takes precedence
        sys.path.insert(0, src)
    fn = srlkit_build if kind == "srlkit" else naive_build
    wall, cpu = time.perf_counter(), time.process_time()
    n = fn(path, out, parquet)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    queue.put(
        {
            "instances": n,
            "wall_s": round(wall, 2),
            "cpu_s": round(cpu, 2),
            "peak_rss_mb": round(peak_mb, 1),
        }
    )


def measure(
    kind: str, path: Path, work: Path, parquet: bool = False, src: str | None = None
) -> dict:
    """Run one build in a fresh process (clean peak-memory reading) and clean its output."""
    out = work / f"out-{kind}-{path.stem}"
    queue: mp.Queue = mp.get_context("spawn").Queue()
    proc = mp.get_context("spawn").Process(
        target=_child, args=(kind, str(path), str(out), parquet, queue, src)
    )
    proc.start()
    result = queue.get()
    proc.join()
    shutil.rmtree(out, ignore_errors=True)
    result["per_cpu_s"] = round(result["instances"] / max(result["cpu_s"], 1e-9))
    print(f"  {kind:<7} {path.name:<22} {json.dumps(result)}", flush=True)
    return result


def compare_sources(before_src: str, path: Path, work: Path, repeats: int) -> dict:
    """JSONL build of ``path`` with ``before_src`` and with this tree, interleaved ``repeats``
    times; the medians of instances per CPU second and their ratio."""
    runs: dict[str, list[int]] = {"before": [], "after": []}
    for _ in range(repeats):
        for label, src in (("before", before_src), ("after", None)):
            print(f"  [{label}]", end="", flush=True)
            runs[label].append(measure("srlkit", path, work, src=src)["per_cpu_s"])
    medians = {label: round(statistics.median(values)) for label, values in runs.items()}
    return {
        "before_src": before_src,
        "per_cpu_s": runs,
        "median_per_cpu_s": medians,
        "speedup": round(medians["after"] / medians["before"], 2),
    }


def core_speed_reference() -> float:
    """CPU seconds of ``sum(range(10**7))``, best of 3: a pure-Python yardstick to compare machines."""
    best = float("inf")
    for _ in range(3):
        start = time.process_time()
        sum(range(10**7))
        best = min(best, time.process_time() - start)
    return round(best, 3)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--trajectories", type=int, default=5000, help="throughput input size (default 5000)"
    )
    parser.add_argument(
        "--baseline-trajectories",
        type=int,
        default=1000,
        help="size both approaches are compared on",
    )
    parser.add_argument(
        "--memory-base", type=int, default=500, help="M: memory is measured at M and 4*M"
    )
    parser.add_argument(
        "--compare-src",
        help="another srlkit source tree (the 'src' folder): before/after in the same run",
    )
    parser.add_argument(
        "--repeats", type=int, default=3, help="interleaved runs per tree with --compare-src"
    )
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    results: dict = {"command": " ".join([Path(sys.executable).name, *sys.argv])}
    results["core_speed_ref_cpu_s"] = core_speed_reference()
    print(f"core speed reference: sum(range(10**7)) takes {results['core_speed_ref_cpu_s']} CPU s")
    with tempfile.TemporaryDirectory(prefix="srl-bench-") as tmp:
        work = Path(tmp)
        sizes = {
            "n": args.trajectories,
            "base": args.baseline_trajectories,
            "m": args.memory_base,
            "m4": 4 * args.memory_base,
        }
        files = {}
        for key, n in sizes.items():
            files[key] = work / f"agents_{n}.jsonl"
            unique = replicate(files[key], n)
        mb = {k: round(p.stat().st_size / 1e6, 1) for k, p in files.items()}
        print(
            f"inputs: {unique} distinct real trajectories replicated; sizes {sizes}; MB {mb}",
            flush=True,
        )
        print("throughput (one core):", flush=True)
        results["throughput"] = {
            "srlkit_n": measure("srlkit", files["n"], work),
            "srlkit_n_with_parquet": measure("srlkit", files["n"], work, parquet=True),
            "srlkit_base": measure("srlkit", files["base"], work),
            "naive_base": measure("naive", files["base"], work),
        }
        print("memory (peak RSS, fresh process each):", flush=True)
        results["memory"] = {
            "srlkit_m": measure("srlkit", files["m"], work),
            "srlkit_4m": measure("srlkit", files["m4"], work),
            "srlkit_parquet_m": measure("srlkit", files["m"], work, parquet=True),
            "srlkit_parquet_4m": measure("srlkit", files["m4"], work, parquet=True),
            "naive_m": measure("naive", files["m"], work),
            "naive_4m": measure("naive", files["m4"], work),
        }
        if args.compare_src:
            print("before/after, same run, interleaved (JSONL, one core):", flush=True)
            results["compare"] = compare_sources(args.compare_src, files["n"], work, args.repeats)
        print("s1K (1,000 records, default build with parquet):", flush=True)
        results["s1k"] = measure(
            "srlkit", SHARED / "s1k_questions" / "s1k.json", work, parquet=True
        )
    t, m = results["throughput"], results["memory"]
    results["summary"] = {
        "instances_per_cpu_second": t["srlkit_n"]["per_cpu_s"],
        "instances_per_cpu_second_with_parquet": t["srlkit_n_with_parquet"]["per_cpu_s"],
        "speedup_vs_naive": round(t["srlkit_base"]["per_cpu_s"] / t["naive_base"]["per_cpu_s"], 2),
        "srlkit_peak_growth_4x": round(
            m["srlkit_4m"]["peak_rss_mb"] / m["srlkit_m"]["peak_rss_mb"], 2
        ),
        "srlkit_parquet_peak_growth_4x": round(
            m["srlkit_parquet_4m"]["peak_rss_mb"] / m["srlkit_parquet_m"]["peak_rss_mb"], 2
        ),
        "naive_peak_growth_4x": round(
            m["naive_4m"]["peak_rss_mb"] / m["naive_m"]["peak_rss_mb"], 2
        ),
        "core_speed_ref_cpu_s": results["core_speed_ref_cpu_s"],
        "s1k_wall_s": results["s1k"]["wall_s"],
        "s1k_cpu_s": results["s1k"]["cpu_s"],
    }
    if "compare" in results:
        results["summary"]["compare_median_per_cpu_s"] = results["compare"]["median_per_cpu_s"]
        results["summary"]["compare_speedup"] = results["compare"]["speedup"]
    print(json.dumps(results["summary"], indent=2))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
