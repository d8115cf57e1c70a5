"""``srl report RUN_DIR... [--out FILE.html]``: one self-contained HTML page about runs.

The options are :class:`srlkit.report.ReportConfig`, parsed with ``HfArgumentParser`` (so
``--config report.yaml`` works as for every other command); the leading run folders are
positional for convenience and go to ``--run_dirs``.
"""

from __future__ import annotations

import argparse
from dataclasses import fields
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from srlkit.report import ReportConfig

HELP = "write one self-contained HTML report (curves, tables, rollout browser) for run folders"


def _parser():
    from transformers import HfArgumentParser

    from srlkit.report import ReportConfig

    return HfArgumentParser(
        ReportConfig,
        prog="srl report",
        usage="srl report RUN_DIR... [--out FILE.html] [--option value ...] [--config FILE.yaml]",
        description=HELP,
    )


def _read_config(path: str) -> dict[str, Any]:
    """A YAML file of ``option: value`` for ``srl report``; unknown options are an error."""
    import yaml

    from srlkit.io import DataError
    from srlkit.report import ReportConfig

    try:
        with open(path, encoding="utf-8") as f:
            data = yaml.safe_load(f) or {}
    except FileNotFoundError:
        raise DataError(path, "config file not found") from None
    except yaml.YAMLError as exc:
        raise DataError(path, f"invalid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise DataError(path, "expected a YAML mapping of option: value")
    unknown = sorted(set(data) - {f.name for f in fields(ReportConfig)})
    if unknown:
        raise DataError(path, f"unknown option(s) for `srl report`: {', '.join(unknown)}")
    return data


def parse_report_args(argv: list[str]) -> ReportConfig:
    """``[RUN_DIR ...] [--config FILE.yaml] [--option value ...]`` -> ``ReportConfig``."""
    from srlkit.io import DataError

    argv = list(argv)
    positional = []
    while argv and not argv[0].startswith("-"):
        positional.append(argv.pop(0))
    parser = _parser()
    if "--config" in argv:
        i = argv.index("--config")
        if i + 1 >= len(argv):
            raise DataError(None, "--config needs a path to a YAML file")
        parser.set_defaults(**_read_config(argv[i + 1]))
        del argv[i : i + 2]
    if positional:
        argv = ["--run_dirs", *positional, *argv]
    (config,) = parser.parse_args_into_dataclasses(args=argv)
    return config


class _PassThroughParser(argparse.ArgumentParser):
    """Leaves every token after ``srl report`` to the config's own parser (HfArgumentParser)."""

    def parse_known_args(self, args=None, namespace=None):
        namespace = namespace if namespace is not None else argparse.Namespace()
        for key, value in self._defaults.items():  # set_defaults(func=...)
            setattr(namespace, key, value)
        namespace.report_argv = list(args or [])
        return namespace, []


def register(subparsers: Any) -> None:
    # argparse builds every sub-command with one parser class; this one needs the pass-through
    # class (built from the config dataclass only when the command runs, so `srl --help` stays fast).
    default_class = subparsers._parser_class
    subparsers._parser_class = _PassThroughParser
    try:
        parser = subparsers.add_parser("report", help=HELP, add_help=False)
    finally:
        subparsers._parser_class = default_class
    parser.set_defaults(func=handle_report)


def handle_report(args: argparse.Namespace) -> int:
    argv = list(args.report_argv)
    if not argv or argv[0] in ("-h", "--help"):
        _parser().print_help()
        return 0 if argv else 2
    from srlkit.report import run_report

    path = run_report(parse_report_args(argv))
    print(f"report: {path}")
    return 0
