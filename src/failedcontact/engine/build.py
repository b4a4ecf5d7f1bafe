"""Which build of the engine is installed: compiled with mypyc, or pure Python."""

from __future__ import annotations

from importlib import import_module
from importlib.machinery import EXTENSION_SUFFIXES

from .._compiled import COMPILED_MODULES


def engine_build() -> str:
    """`compiled` when every module of the compiled set is a mypyc extension, else `pure Python`.

    The two give the same answers; the compiled build is faster (hatch_build.py). A partly
    compiled install cannot come from the build hook, so it reads as pure Python.
    """
    files = [str(import_module(name).__file__) for name in COMPILED_MODULES]
    compiled = all(file.endswith(tuple(EXTENSION_SUFFIXES)) for file in files)
    return "compiled" if compiled else "pure Python"
