"""Run the command line with `python -m failedcontact`."""

from .cli import main

main()
