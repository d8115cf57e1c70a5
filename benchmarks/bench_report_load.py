"""Load time of an `srl report` page with many rollouts, lazy rendering against rendering every row.

Builds a training run with ``--rollouts`` rollouts (``tests/report/report_helpers.py``: made-up
completions, real ``srl_step`` rewards and rollout records), writes its report, and opens it
in headless chromium (Debian's, through Playwright) ``--repeats`` times. Measured per open:

* ``ready_s``: navigation start to the page's script done (plots drawn, first 60 rows shown);
* ``all_rows_s``: the obvious alternative, every rollout row in the DOM at once (measured by
  asking the same page to render all of its rows after it is ready).

Optionally saves a screenshot of a report with one rollout opened (``--screenshot``; the one
in docs/report.md is made this way, from ``--screenshot-run`` when given, e.g. a demo folder).

    .venv/bin/python benchmarks/bench_report_load.py --rollouts 10000 --repeats 3
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "report"))

from report_helpers import write_train_run

from conftest import find_chromium
from srlkit.report import ReportConfig, run_report

RENDER_ALL = """() => new Promise(resolve => {
  const t0 = performance.now();
  const list = document.getElementById('rollout-list');
  const step = () => { const more = list.querySelector('button.more');
    if (more) { more.click(); step(); }
    else { void document.body.offsetHeight; resolve(performance.now() - t0); } };  // with layout
  step();
})"""


def open_times(browser, page_path: Path) -> dict:
    page = browser.new_page(viewport={"width": 1300, "height": 1000})
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    start = time.perf_counter()
    page.goto(page_path.resolve().as_uri())
    page.wait_for_selector("body[data-ready='1']", timeout=120_000)
    ready = time.perf_counter() - start
    rows = page.locator("#rollout-list details").count()
    marks = page.evaluate(
        "Object.fromEntries(performance.getEntriesByType('mark').map(m => [m.name, m.startTime]))"
    )
    all_ms = page.evaluate(RENDER_ALL)
    total_rows = page.locator("#rollout-list details").count()
    page.close()
    stages = {  # where the time went, from the page's own performance marks (seconds)
        "html_and_plotly_js": marks["srl:start"] / 1000,
        "parse_data": (marks["srl:data"] - marks["srl:start"]) / 1000,
        "plots_and_tables": (marks["srl:plots"] - marks["srl:data"]) / 1000,
        "rollout_browser": (marks["srl:ready"] - marks["srl:plots"]) / 1000,
    }
    return {
        "ready_s": ready,
        "stages_s": stages,
        "rows_at_ready": rows,
        "all_rows_s": ready + all_ms / 1000,
        "render_all_extra_s": all_ms / 1000,
        "rows_total": total_rows,
        "errors": errors,
    }


def screenshot(browser, page_path: Path, out: Path) -> list[Path]:
    """Two PNGs: the page's top (curves) as ``out``, and an opened rollout as ``out``-rollout."""
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    page.goto(page_path.resolve().as_uri())
    page.wait_for_selector("body[data-ready='1']")
    page.screenshot(path=str(out))
    page.select_option("#f-format", "ok")  # a rollout that passed the format check: highlighted
    page.fill("#f-reward-min", "0.6")
    first = page.locator("#rollout-list details.rollout").first
    first.locator("summary").click()
    first.locator(".detail").wait_for()
    page_y = "e => e.getBoundingClientRect().top + window.scrollY"  # page, not viewport, offsets
    top = page.locator("#rollouts").evaluate(page_y)
    bottom = first.evaluate(page_y) + first.evaluate("e => e.getBoundingClientRect().height")
    height = bottom + 150 - top
    rollout = out.with_name(out.stem + "-rollout.png")
    page.screenshot(
        path=str(rollout), full_page=True, clip={"x": 0, "y": top, "width": 1280, "height": height}
    )
    page.close()
    return [out, rollout]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rollouts", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--screenshot", type=Path, default=None, help="save a PNG of a report here")
    parser.add_argument("--screenshot-run", type=Path, default=None, help="run folder to picture")
    parser.add_argument("--output", type=Path, default=None, help="write the results as JSON here")
    opts = parser.parse_args()
    executable = find_chromium()
    if executable is None:
        sys.exit("no chromium found: apt-get install chromium, or set SRLKIT_CHROMIUM")
    from playwright.sync_api import sync_playwright

    G, groups = 8, 10
    steps = max(1, opts.rollouts // (G * groups))
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        run = write_train_run(Path(tmp) / "run", steps=steps, groups=groups, G=G)
        started = time.perf_counter()
        page_path = run_report(ReportConfig(run_dirs=[str(run)]))
        build_s = time.perf_counter() - started
        browser = p.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        opens = [open_times(browser, page_path) for _ in range(opts.repeats)]
        if opts.screenshot:
            shot_run = opts.screenshot_run or run
            shot_page = run_report(
                ReportConfig(
                    run_dirs=[str(shot_run)], out=str(Path(tmp) / "shot.html"), labels=["demo"]
                )
            )
            screenshot(browser, shot_page, opts.screenshot)
        browser.close()
        report = {
            "rollouts": opens[0]["rows_total"],
            "page_mb": page_path.stat().st_size / 1e6,
            "build_s": build_s,
            "median_ready_s": statistics.median(o["ready_s"] for o in opens),
            "median_all_rows_s": statistics.median(o["all_rows_s"] for o in opens),
            "opens": opens,
        }
    report["all_rows_over_lazy"] = report["median_all_rows_s"] / report["median_ready_s"]
    print(json.dumps(report, indent=2))
    if opts.output:
        opts.output.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
