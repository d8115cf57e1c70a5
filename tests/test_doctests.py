"""Every ``>>>`` example in the package runs with the suite (one test per module that has any).

A test module rather than ``--doctest-modules``: pytest's doctest collection also imports every
test folder's ``conftest.py`` as a module named ``conftest``, which collides between folders.
"""

from __future__ import annotations

import doctest
import importlib
import importlib.util
import pkgutil

import pytest

import srlkit

FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
# Modules that subclass an optional engine's classes and so import it: walked only where it is
# installed (the engine's own tests cover them there, e.g. `make test-verl` in .venv-verl).
NEEDS_ENGINE = {"srlkit.integrations.verl.sampler": "verl"}


def _modules_with_examples() -> list[str]:
    names = []
    finder = doctest.DocTestFinder()
    for info in pkgutil.walk_packages(srlkit.__path__, "srlkit."):
        engine = NEEDS_ENGINE.get(info.name)
        if engine and importlib.util.find_spec(engine) is None:
            continue
        module = importlib.import_module(info.name)
        if any(test.examples for test in finder.find(module)):
            names.append(info.name)
    return names


MODULES = _modules_with_examples()


def test_doctests_are_found():
    assert len(MODULES) >= 17, MODULES  # the examples of at least the 17 modules that had them


@pytest.mark.parametrize("name", MODULES)
def test_module_examples(name):
    module = importlib.import_module(name)
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    for test in doctest.DocTestFinder().find(module):
        runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name}"
