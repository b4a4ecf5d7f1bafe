"""Seeded random case histories for the decision-log, replay and service tests."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

_VISITS = ["no_response", "child_seen", "doorstep", "access_refused", "child_not_seen"]
_APPOINTMENTS = ["attended", "not_brought", "rearranged_by_family", "cancelled_by_family"]


def random_case(rng: random.Random, number: int = 0) -> dict[str, Any]:
    """A case of 0 to 12 events between September and November 2026."""
    start = datetime(2026, 9, 1, 9, tzinfo=UTC)
    events: list[dict[str, Any]] = []
    for _ in range(rng.randint(0, 12)):
        at = (start + timedelta(hours=rng.randint(0, 24 * 80))).isoformat()
        kind = rng.random()
        if kind < 0.55:
            events.append({"at": at, "type": "home_visit", "outcome": rng.choice(_VISITS)})
        elif kind < 0.75:
            events.append({"at": at, "type": "appointment", "outcome": rng.choice(_APPOINTMENTS)})
        elif kind < 0.82:
            events.append({"at": at, "type": "concern", "level": "significant_harm"})
        elif kind < 0.9:
            events.append({"at": at, "type": "action", "action": "offer_further_appointment"})
        else:
            events.append({"at": at, "type": "address_change"})
    return {
        "case_id": f"R-{number}",
        "child": {"plan": rng.choice(["none", "early_help", "child_in_need", "child_protection"])},
        "household": {"landlord": rng.choice(["Ongo Homes", None])},
        "events": sorted(events, key=lambda event: event["at"]),
    }
