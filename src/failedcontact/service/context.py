"""What every route of one app shares."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from ..runs.decision_log import DecisionLog
from .auth import authorise
from .metrics import Metrics
from .settings import Settings
from .shelves import ShelfHolder


@dataclass(frozen=True, slots=True)
class Service:
    """What every route of one app shares: its settings, packs, metrics and decision log."""

    settings: Settings
    shelves: ShelfHolder
    metrics: Metrics
    decisions: DecisionLog | None

    def authorise(self, request: Request, admin: bool = False) -> None:
        """Raise a 401 or 403 problem unless the request's bearer token may do this."""
        authorise(self.settings, request, admin)
