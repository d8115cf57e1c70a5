"""``srl report``: one self-contained HTML page for one or several run folders.

Why one file with everything inline (plotly.js, the page's script and style, the data): a
report is mailed, attached to an issue or opened on a cluster's login node without network;
nothing in it may fetch anything. The data is a JSON block the page's script reads; the
rollout and sample browsers render only the rows in view, page by page, so a report with
10,000 rollouts opens as fast as one with ten (see ``tests/report``).

>>> run_report(ReportConfig(run_dirs=["runs/srl"]))  # doctest: +SKIP
PosixPath('runs/srl/report.html')
"""

from __future__ import annotations

import html
import json
import logging
import math
import time
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from srlkit.io import DataError, atomic_write
from srlkit.report.payload import build_payload
from srlkit.report.runs import Run, load_run

logger = logging.getLogger(__name__)

REPORT_FILE = "report.html"


@dataclass
class ReportConfig:
    """Options of ``srl report``; every field is also a ``--flag`` and a YAML key."""

    run_dirs: list[str] = field(
        default_factory=list,
        metadata={
            "help": "Run folders: `srl train` output (metrics.jsonl, rollouts.jsonl), `srl eval` output "
            "(summary.json, samples/), `srl demo` or `srl loop` output, or a folder of such runs (a pipeline). "
            "Several runs are overlaid in one page."
        },
    )
    out: str | None = field(
        default=None,
        metadata={"help": f"HTML file to write. Default: {REPORT_FILE} in the first run folder."},
    )
    labels: list[str] | None = field(
        default=None,
        metadata={"help": "A label per run folder, in order (default: the folder names)."},
    )
    title: str | None = field(default=None, metadata={"help": "Page title."})
    max_rollouts: int = field(
        default=20_000,
        metadata={
            "help": "Most rollouts embedded; beyond that, groups evenly spread over the run are kept "
            "(the page says how many were left out)."
        },
    )
    max_samples: int = field(
        default=20_000,
        metadata={"help": "Most evaluation samples embedded (evenly spread, as for rollouts)."},
    )

    def __post_init__(self):
        if isinstance(self.run_dirs, str):
            self.run_dirs = [self.run_dirs]
        for name in ("max_rollouts", "max_samples"):
            value = getattr(self, name)
            if type(value) is not int or value < 0:
                raise DataError(None, f"--{name} must be a whole number >= 0, not {value!r}")
        if self.labels is not None and len(self.labels) != len(self.run_dirs):
            raise DataError(
                None, f"--labels: {len(self.labels)} labels for {len(self.run_dirs)} run folders"
            )


def _asset(name: str) -> str:
    return resources.files("srlkit.report").joinpath("assets", name).read_text(encoding="utf-8")


def _plotly_js() -> str:
    try:
        from plotly.offline import get_plotlyjs
    except ImportError:
        raise DataError(
            None, "srl report needs plotly (a dependency of srlkit): pip install plotly"
        ) from None
    return get_plotlyjs()


def _finite(data: object) -> object:
    """``data`` with NaN and infinities as None: JSON has neither, and a metric may hold them."""
    if isinstance(data, float):
        return data if math.isfinite(data) else None
    if isinstance(data, dict):
        return {k: _finite(v) for k, v in data.items()}
    if isinstance(data, (list, tuple)):
        return [_finite(v) for v in data]
    return data


def _script_json(data: object) -> str:
    """JSON safe inside a <script> element (no ``</script>`` or ``<!--`` can close it early)."""
    text = json.dumps(_finite(data), ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.replace("<", "\\u003c").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def valid_text(text: str) -> str:
    r"""``text`` as valid Unicode: a folder name or ``--title`` that is not UTF-8 reaches Python
    as lone surrogates, which no file can hold; their bytes are decoded with U+FFFD for what is
    not UTF-8 (the rest of the name stays readable).

    >>> valid_text("run-\udcff-1") == "run-\ufffd-1"
    True
    """
    try:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    except UnicodeEncodeError:  # a surrogate that is no escaped byte (JSON "\ud800")
        return text.encode("utf-8", "replace").decode("utf-8")


def render_html(payload: dict) -> str:
    """The page: style, plotly.js, the data and the page's script, all inline."""
    title = html.escape(payload["title"])
    return valid_text(
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{title}</title><style>{_asset('report.css')}</style></head>"
        f"<body><header><h1>{title}</h1><div id='runs'></div></header>"
        "<nav id='toc'></nav><main id='main'></main>"
        f"<script type='application/json' id='srl-data'>{_script_json(payload)}</script>"
        f"<script>{_plotly_js()}</script>"
        f"<script>{_asset('report.js')}</script>"
        "</body></html>\n"
    )


def _default_title(runs: list[Run]) -> str:
    # A loop's rounds (label "loop/round-1") are named by the loop itself.
    runs = [r for r in runs if not any(r.label.startswith(o.label + "/") for o in runs)]
    if len(runs) == 1:
        return f"srl report: {runs[0].label} ({runs[0].kind})"
    return "srl report: " + ", ".join(r.label for r in runs)


def run_report(config: ReportConfig) -> Path:
    """Read the run folders, write the page; returns its path."""
    if not config.run_dirs:
        raise DataError(None, "srl report needs at least one run folder")
    started = time.monotonic()
    labels = config.labels or [None] * len(config.run_dirs)
    runs = [run for path, label in zip(config.run_dirs, labels) for run in load_run(path, label)]
    payload = build_payload(
        runs, config.title or _default_title(runs), config.max_rollouts, config.max_samples
    )
    out = Path(config.out) if config.out else Path(config.run_dirs[0]) / REPORT_FILE
    if out.is_dir():
        raise DataError(out, "--out is a folder; give the HTML file to write (e.g. report.html)")
    if out.parent.exists() and not out.parent.is_dir():
        raise DataError(out.parent, "is a file, so --out cannot be written under it")
    out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(out) as f:
        f.write(render_html(payload))
    logger.info(
        "wrote %s (%d runs, %d of %d rollouts, %d samples) in %.1f s",
        out,
        len(runs),
        sum(len(g["rollouts"]) for g in payload["groups"]),
        payload["total_rollouts"],
        len(payload["samples"]),
        time.monotonic() - started,
    )
    return out
