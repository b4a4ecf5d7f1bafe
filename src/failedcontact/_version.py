"""The installed distribution's version, and the versions an assessment records."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("failedcontact")
except PackageNotFoundError:  # a source tree that was never installed
    __version__ = "0+unknown"

# What else decides an answer besides the pack and the case: the engine and the bank holidays.
ENGINE_VERSIONS: dict[str, str] = {"library": __version__, "holidays": version("holidays")}
