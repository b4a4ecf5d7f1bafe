"""The installed distribution's version, and the versions an assessment records."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("failedcontact")
except PackageNotFoundError:  # a source tree that was never installed
    __version__ = "0+unknown"

# What else decides an answer besides the pack and the case: the engine and the bank holidays.
ENGINE_VERSIONS: dict[str, str] = {"library": __version__, "holidays": version("holidays")}


def engine_build() -> str:
    """`compiled` when the installed engine was compiled with mypyc, else `pure Python`.

    The two give the same answers; the compiled build is faster (hatch_build.py).
    """
    from importlib.machinery import EXTENSION_SUFFIXES

    from . import engine

    compiled = any(str(engine.__file__).endswith(suffix) for suffix in EXTENSION_SUFFIXES)
    return "compiled" if compiled else "pure Python"
