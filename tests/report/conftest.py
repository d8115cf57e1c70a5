"""Report fixtures: run folders, and a headless chromium (Debian's, driven by Playwright)."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from report_helpers import write_demo_run, write_eval_run, write_loop_run, write_train_run

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")


def find_chromium() -> str | None:
    """``SRLKIT_CHROMIUM``, else a system chromium on the usual paths or the PATH."""
    explicit = os.environ.get("SRLKIT_CHROMIUM")
    if explicit:
        return explicit if os.access(explicit, os.X_OK) else None
    for path in CHROMIUM_CANDIDATES:
        if os.access(path, os.X_OK):
            return path
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="session")
def browser():
    executable = find_chromium()
    if executable is None:
        pytest.skip(
            "no chromium found for the browser tests: `apt-get install chromium` (make test does "
            "it when apt is usable) or set SRLKIT_CHROMIUM to a chromium binary"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        yield browser
        browser.close()


class OpenedPage:
    """A report opened in chromium, with every console error and non-file request recorded."""

    def __init__(self, page):
        self.page = page
        self.errors: list[str] = []
        self.requests: list[str] = []
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on(
            "request",
            lambda r: (
                None
                if r.url.startswith(("file:", "data:", "blob:"))
                else self.requests.append(r.url)
            ),
        )

    def open(self, path: Path) -> OpenedPage:
        self.page.goto(path.resolve().as_uri())
        self.page.wait_for_selector("body[data-ready='1']", timeout=60_000)
        return self


@pytest.fixture
def open_report(browser):
    pages = []

    def opener(path: Path) -> OpenedPage:
        page = browser.new_page(viewport={"width": 1300, "height": 1000})
        pages.append(page)
        return OpenedPage(page).open(path)

    yield opener
    for page in pages:
        page.close()


@pytest.fixture(scope="session")
def runs(tmp_path_factory, shared_data) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("runs")
    return {
        "train": write_train_run(root / "srl"),
        "train2": write_train_run(root / "srl-b", seed=1),
        "eval": write_eval_run(root / "eval", shared_data),
        "demo": write_demo_run(root / "demo"),
        "loop": write_loop_run(root / "loop"),
    }
