"""Build the one C extension: the exact, GIL-free difflib ratio used by the step reward.

Everything else about the package lives in pyproject.toml; setuptools merges the two, so
``pip install -e .`` on a machine with a C compiler and the Python headers builds it.
Without them the package still works: srlkit.rewards.similarity falls back to difflib.
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "srlkit.rewards._csimilarity",
            sources=["src/srlkit/rewards/_csimilarity.c"],
            extra_compile_args=["-O3"],
        )
    ]
)
