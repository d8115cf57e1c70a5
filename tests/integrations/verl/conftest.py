"""verl's own classes are tested in .venv-verl (`make test-verl`, run by `make test`).

verl 0.9.1 needs transformers < 5.11 and the main environment has 5.25, so its tests run in a
second environment (docs/verl.md). Where verl is missing they are skipped with a reason that
says so; under `make test-verl` (SRLKIT_REQUIRE_VERL=1) a missing verl fails them instead.
"""

from __future__ import annotations

import importlib.util
import os

import pytest


@pytest.fixture(scope="module")
def verl_installed() -> None:
    if importlib.util.find_spec("verl") is not None:
        return
    message = "verl is not installed here: `make test-verl` runs this test in .venv-verl"
    if os.environ.get("SRLKIT_REQUIRE_VERL") == "1":
        pytest.fail(message)
    pytest.skip(message)
