"""srlkit on verl (the engine the SRL paper's authors trained with), without a fork of verl.

Three parts, each usable alone:

* :mod:`.export`: step instances and RLVR problems -> parquet rows in verl's data schema
  (``srl data export BUILD --format verl``); plain Python and pyarrow, no verl needed.
* :mod:`srlkit.rewards.verl`: the step and outcome rewards behind verl's custom-reward hook.
* :mod:`.sampler`: the paper's dynamic-sampling rule (keep a group iff the population std of
  its rewards exceeds epsilon) as a verl replay buffer, so verl's own refill loop applies it.

verl is heavy (Ray, its own transformers range), so it is imported only where needed, through
:func:`require_verl`, which turns a missing install into one line saying how to get it.
"""

from __future__ import annotations

import importlib
from types import ModuleType

# The verl release the integration was written against and tested with (docs/verl.md);
# pyproject's `verl` extra allows this range.
TESTED_VERL = "0.9.1"
INSTALL_HINT = "pip install 'srlkit[verl]' (or `make venv-verl`, see docs/verl.md)"


def require_verl(module: str = "verl") -> ModuleType:
    """Import ``module`` of verl, or raise ImportError in one line that says how to install it.

    >>> require_verl("verl.no_such_module")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ImportError: ...
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        missing = getattr(exc, "name", None) or module
        raise ImportError(
            f"{module} could not be imported (missing: {missing}); srlkit's verl integration "
            f"needs verl {TESTED_VERL}: {INSTALL_HINT}"
        ) from None
