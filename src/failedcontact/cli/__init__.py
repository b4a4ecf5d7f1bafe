"""The `failedcontact` command line: one module per command group, the app that gathers them."""

from ._app import app, main

# Each module adds its commands to `app` as it is imported: this order is `--help`'s.
from . import assess, packs, testing, new_area, handbook, serve, replay, fmt  # noqa: F401  isort: skip

__all__ = ["app", "main"]
