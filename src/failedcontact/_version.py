"""The installed distribution's version."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("failedcontact")
except PackageNotFoundError:  # a source tree that was never installed
    __version__ = "0+unknown"
