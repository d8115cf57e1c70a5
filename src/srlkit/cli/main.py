"""Entry point of the ``srl`` command.

Each command group (``srl data``, ``srl train``, ...) is a module in this package exposing
``register(subparsers)``; every command parses its own options from a config dataclass
(:mod:`srlkit.cli.options`), and heavy imports (torch) happen inside the command handlers, so
``srl data ...`` and ``srl --help`` start fast.
"""

from __future__ import annotations

import argparse
import errno
import importlib
import logging
import sys
from collections.abc import Sequence

from srlkit import __version__
from srlkit.io import SrlkitError
from srlkit.redact import redact_text

# One line per command group; the module defines ``register(subparsers)``.
COMMAND_MODULES: tuple[str, ...] = (
    "srlkit.cli.data",
    "srlkit.cli.eval",
    "srlkit.cli.train",
    "srlkit.cli.demo",
    "srlkit.cli.loop",
    "srlkit.cli.report",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="srl",
        description="srlkit: Supervised Reinforcement Learning from expert trajectories.",
    )
    parser.add_argument("--version", action="version", version=f"srlkit {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log at DEBUG level")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
    )
    try:
        if args.command == "train":
            from srlkit.training.launch_check import check_gpu_launch

            check_gpu_launch()
        code = int(args.func(args) or 0)
        _close_process_group()
        return code
    except SrlkitError as exc:
        # Bad input or a bad option is the user's to fix: one clear line, no traceback, and no
        # credential (a URL or server message may hold one).
        print(f"srl: error: {redact_text(str(exc))}", file=sys.stderr)
        return 2
    except OSError as exc:
        message = _environment_error(exc)
        if message is None:
            raise
        print(f"srl: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("srl: interrupted", file=sys.stderr)
        return 130


def _close_process_group() -> None:
    """End a distributed run's process group (``torchrun`` / ``accelerate launch``) before exit.

    Left to the interpreter's exit-time destructors, gloo's threads can abort a rank after a
    finished run ("terminate called without an active exception", exit code -6), which
    turns a good run into a failed launch. Every rank waits for the others first, so none tears
    the group down under a peer still using it. Only on success: a failed rank stops its peers
    through the launcher.
    """
    torch = sys.modules.get("torch")
    distributed = getattr(torch, "distributed", None)
    if distributed is None or not distributed.is_available() or not distributed.is_initialized():
        return
    distributed.barrier()
    distributed.destroy_process_group()


_ENVIRONMENT_ERRNOS = {
    errno.ENOSPC: "no space left on the device",
    errno.EDQUOT: "disk quota exceeded",
    errno.EROFS: "the file system is read-only",
    errno.EACCES: "permission denied",
}


def _environment_error(exc: OSError) -> str | None:
    """One line for an OS error the user fixes outside srlkit (disk full, read-only, permissions)."""
    what = _ENVIRONMENT_ERRNOS.get(exc.errno)
    if what is None:
        return None
    where = f"{exc.filename}: " if exc.filename else ""
    return f"{where}{what}; fix that and re-run the same command (finished work is kept)"


if __name__ == "__main__":
    sys.exit(main())
