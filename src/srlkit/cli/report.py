"""``srl report RUN_DIR... [--out FILE.html]``: one self-contained HTML page about runs.

The options are :class:`srlkit.report.ReportConfig`, parsed like every srl command
(:mod:`srlkit.cli.options`): the leading run folders are positional and go to ``run_dirs``,
and ``--config report.yaml`` reads the same names from a file.
"""

from __future__ import annotations

from typing import Any

from srlkit.cli.options import Command, add_commands


def run_report_command(config: Any) -> int:
    from srlkit.report import run_report

    path = run_report(config)
    print(f"report: {path}")
    return 0


COMMANDS = {
    "report": Command(
        "srl report",
        "write one self-contained HTML report (curves, tables, rollout browser) for run folders",
        "srlkit.report:ReportConfig",
        run_report_command,
        positionals=("run_dirs",),
        required=("run_dirs",),
    ),
}


def register(subparsers: Any) -> None:
    add_commands(subparsers, COMMANDS)
