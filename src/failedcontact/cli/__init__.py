"""The `failedcontact` command line: one module per command group, the app that gathers them."""

from .commands import app, main

__all__ = ["app", "main"]
