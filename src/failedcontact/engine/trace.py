"""The trace of an assessment: one step each for what the engine noted, fired or found."""

from __future__ import annotations

from typing import Any

from ..pack.compiler import CompiledPack
from ..pack.facts import Moment


def trace_step(step: str, id: str, event: int | None, why: str, actions: list[str],
               citation: str | None) -> dict[str, Any]:  # fmt: skip
    """One step of the trace, as the contract writes it."""
    return {"step": step, "id": id, "event": event, "why": why, "actions": actions,
            "citation": citation}  # fmt: skip


def describe(moment: Moment, pack: CompiledPack) -> str:
    """The event a rule fired at, in words: its index, type, outcome and run."""
    outcome = moment.outcome
    shown = f"{moment.type}, {outcome}" if outcome else moment.type
    what = f"event {moment.index} ({shown})"
    if moment.kind is not None:
        name = pack.kind_names[moment.kind]
        return f"{what} is failed contact {moment.run_count} of the current run ({name})"
    if moment.type == "concern":
        return f"{what}, level {moment.event.level}"
    return what
