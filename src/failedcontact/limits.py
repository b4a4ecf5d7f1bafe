"""Input limits, each raisable through an environment variable (docs/reliability.md)."""

from __future__ import annotations

import os


def _limit(name: str, default: int) -> int:
    """`FAILEDCONTACT_<NAME>` as a positive whole number, else the default."""
    text = os.environ.get(f"FAILEDCONTACT_{name}")
    if text is None:
        return default
    if not text.strip().isdigit() or int(text) < 1:
        raise ValueError(f"FAILEDCONTACT_{name} must be a whole number of at least 1, not `{text}`")
    return int(text)


MAX_PACK_BYTES = _limit("MAX_PACK_BYTES", 5_000_000)
MAX_DEPTH = _limit("MAX_DEPTH", 64)
MAX_ALIASES = _limit("MAX_ALIASES", 200)
MAX_NODES = _limit("MAX_NODES", 500_000)
MAX_CASE_BYTES = _limit("MAX_CASE_BYTES", 64 * 1024 * 1024)
ANALYSIS_BUDGET = _limit("ANALYSIS_BUDGET", 3_000_000)
