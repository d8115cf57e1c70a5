"""What a result was measured on: CPU, kernel path, threads and library versions.

The demo's numbers depend on the floating-point path (a 1,000-step warm start at a large
learning rate produced three different students on three kernel paths of one CPU), so every
``results.json`` names the machine and the stack it came from, and the docs quote numbers only
together with it.
"""

from __future__ import annotations

import os
import platform
import time
from importlib import metadata
from typing import Any

LIBRARIES = ("torch", "transformers", "trl", "accelerate", "datasets", "numpy", "srlkit")
KERNEL_VARIABLES = ("ATEN_CPU_CAPABILITY", "ONEDNN_MAX_CPU_ISA", "MKL_ENABLE_INSTRUCTIONS")


def cpu_model() -> str:
    """The CPU's model name (``/proc/cpuinfo`` on Linux, ``platform.processor()`` elsewhere)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def versions() -> dict[str, str]:
    found = {}
    for name in LIBRARIES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


def describe() -> dict[str, Any]:
    """CPU, cores, torch's CPU capability and threads, kernel overrides, versions, date."""
    import torch

    return {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "torch_cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "torch_threads": torch.get_num_threads(),
        "kernel_overrides": {k: os.environ[k] for k in KERNEL_VARIABLES if k in os.environ},
        "python": platform.python_version(),
        "versions": versions(),
        "date": time.strftime("%Y-%m-%d", time.gmtime()),
    }
