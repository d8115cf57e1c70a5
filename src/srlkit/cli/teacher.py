"""``srl data generate`` and ``srl data rewrite``: expert trajectories from a teacher model.

srl data generate --inputs ../shared/data/math500/test.jsonl --out runs/teacher/math500 \\
    --teacher http://localhost:8000/v1 --teacher_model Qwen/Qwen2.5-72B-Instruct --num_samples 4
srl data rewrite --inputs ../shared/data/s1k_questions/s1k.json --out runs/teacher/s1k \\
    --teacher https://api.openai.com/v1 --teacher_model gpt-4.1 --api_key_env OPENAI_API_KEY
srl data rewrite --config recipes/teacher/rewrite_s1k.yaml --concurrency 64

Options are the fields of :class:`srlkit.teacher.config.GenerateConfig` / ``RewriteConfig``,
parsed with ``HfArgumentParser``; ``--config FILE.yaml`` sets any of them, flags win.
The library functions are :func:`srlkit.teacher.run.run_teacher`.
"""

from __future__ import annotations

import argparse
import logging
import sys
from typing import Any

from srlkit.io import DataError

COMMANDS = {
    "generate": "a teacher writes N solutions per problem as numbered steps; keep those that verify",
    "rewrite": "a teacher rewrites existing solutions into numbered steps; keep faithful ones",
}


class _PassThroughParser(argparse.ArgumentParser):
    """Leaves every token after ``srl data generate|rewrite`` to the config's own parser."""

    def parse_known_args(self, args=None, namespace=None):
        namespace = namespace if namespace is not None else argparse.Namespace()
        for key, value in self._defaults.items():
            setattr(namespace, key, value)
        namespace.teacher_argv = list(args or [])
        return namespace, []


def register_data_commands(sub: argparse._SubParsersAction) -> None:
    """Add ``generate`` and ``rewrite`` to the ``srl data`` sub-commands."""
    saved = sub._parser_class
    sub._parser_class = _PassThroughParser  # only for these two: the rest of `srl data` is argparse
    try:
        for name, help_text in COMMANDS.items():
            p = sub.add_parser(name, help=help_text, add_help=False)
            p.set_defaults(func=handle_teacher, teacher_command=name)
    finally:
        sub._parser_class = saved


def _config_class(command: str) -> type:
    from srlkit.teacher.config import GenerateConfig, RewriteConfig

    return GenerateConfig if command == "generate" else RewriteConfig


def parse_teacher_config(command: str, argv: list[str]) -> Any:
    """``[--config FILE.yaml] [--field value ...]`` -> the command's config dataclass."""
    import yaml
    from transformers import HfArgumentParser

    cls = _config_class(command)
    parser = HfArgumentParser(cls, prog=f"srl data {command}", description=COMMANDS[command])
    argv = list(argv)
    if "--config" in argv:
        i = argv.index("--config")
        if i + 1 >= len(argv):
            raise DataError(None, "--config needs a path to a YAML file")
        path = argv[i + 1]
        del argv[i : i + 2]
        try:
            with open(path, encoding="utf-8") as f:
                data = yaml.safe_load(f) or {}
        except FileNotFoundError:
            raise DataError(path, "config file not found") from None
        except yaml.YAMLError as exc:
            raise DataError(path, f"invalid YAML: {exc}") from None
        if not isinstance(data, dict):
            raise DataError(
                path, f"expected a mapping of option: value, found {type(data).__name__}"
            )
        known = {a.dest for a in parser._actions}
        unknown = sorted(set(data) - known)
        if unknown:
            raise DataError(
                path, f"unknown option(s) for `srl data {command}`: {', '.join(unknown)}"
            )
        parser.set_defaults(**data)
    (config,) = parser.parse_args_into_dataclasses(args=argv)
    return config


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


def handle_teacher(args: argparse.Namespace) -> int:
    from srlkit.teacher.run import CACHE_FILE, RLVR_FILE, STATS_FILE, TRAJECTORIES_FILE, run_teacher
    from srlkit.teacher.teachers import TeacherError

    config = parse_teacher_config(args.teacher_command, args.teacher_argv)
    for name in ("httpx", "httpx2", "openai"):  # one INFO line per request otherwise
        logging.getLogger(name).setLevel(logging.WARNING)
    try:
        config.validate()
        stats = run_teacher(config)
    except ValueError as exc:
        if isinstance(exc, DataError):
            raise
        raise DataError("command line", str(exc)) from None
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
