"""``srl data generate`` and ``srl data rewrite``: expert trajectories from a teacher model.

srl data generate --inputs ../shared/data/math500/test.jsonl --out runs/teacher/math500 \\
    --teacher http://localhost:8000/v1 --teacher_model Qwen/Qwen2.5-72B-Instruct --num_samples 4
srl data rewrite --inputs ../shared/data/s1k_questions/s1k.json --out runs/teacher/s1k \\
    --teacher https://api.openai.com/v1 --teacher_model gpt-4.1 --api_key_env OPENAI_API_KEY
srl data rewrite --config recipes/teacher/rewrite_s1k.yaml --concurrency 64

Options are the fields of :class:`srlkit.teacher.config.GenerateConfig` / ``RewriteConfig``,
parsed like every srl command (:mod:`srlkit.cli.options`); ``--config FILE.yaml`` sets any of
them, flags win.
The library functions are :func:`srlkit.teacher.run.run_teacher`.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

from srlkit.io import ConfigError, DataError

HELP = {
    "generate": "a teacher writes N solutions per problem as numbered steps; keep those that verify",
    "rewrite": "a teacher rewrites existing solutions into numbered steps; keep faithful ones",
}


def format_teacher_stats(stats: dict[str, Any]) -> str:
    """The stats of a run as a few lines: problems, samples (in = kept + dropped), requests, tokens."""
    p, s, r = stats["problems"], stats["samples"], stats["requests"]
    lines = [
        f"problems   read {p['read']}, skipped {sum(p['skipped'].values())}, asked {p['asked']}",
        "  gold     " + ", ".join(f"{k} {v}" for k, v in p["gold"].items()),
        f"samples    {s['in']} = kept {s['kept']} + dropped {s['dropped_total']}",
    ]
    for reason, n in s["dropped"].items():
        lines.append(
            f"  dropped  {reason:<15} {n}  e.g. {', '.join(s['drop_examples'].get(reason, [])[:3])}"
        )
    lines.append(
        f"requests   {r['total']}: cached {r['cached']}, asked {r['asked']}, failed {sum(r['failed'].values())}"
        + (f", retries {r['retries']}" if r["retries"] else "")
    )
    lines.append(
        f"tokens     prompt {r['prompt_tokens']}, completion {r['completion_tokens']} (this run)"
    )
    lines.append(f"rlvr       {p['rlvr_written']} problems with a checkable gold")
    return "\n".join(lines)


def run_teacher_command(config: Any) -> int:
    """``srl data generate|rewrite`` with parsed options (registered in :mod:`srlkit.cli.data`)."""
    from srlkit.teacher.run import CACHE_FILE, RLVR_FILE, STATS_FILE, TRAJECTORIES_FILE, run_teacher
    from srlkit.teacher.teachers import TeacherError

    for name in ("httpx", "httpx2", "openai"):  # one INFO line per request otherwise
        logging.getLogger(name).setLevel(logging.WARNING)
    try:
        config.validate()
        stats = run_teacher(config)
    except ValueError as exc:
        if isinstance(exc, DataError):
            raise
        raise ConfigError(str(exc)) from None
    except TeacherError as exc:
        print(f"srl: error: {exc}", file=sys.stderr)
        return 1
    print(format_teacher_stats(stats))
    out = config.out.rstrip("/")
    if config.golds_only:
        print(f"\nwrote {out}/{RLVR_FILE}, {STATS_FILE} (gold verdicts cached in {CACHE_FILE})")
        return 0
    print(f"\nwrote {out}/{TRAJECTORIES_FILE}, {RLVR_FILE}, {STATS_FILE} (cache: {CACHE_FILE})")
    print(f"next: srl data build {out}/{TRAJECTORIES_FILE} --out {out}/build")
    return 0
