"""Evaluate a compiled pack against one case at one instant: pure, deterministic, thread-safe.

The engine works on timestamps and plain data; `evaluate` returns the assessment as a plain,
JSON-ready dict, from which `assess` builds the typed `Assessment` and `assess_json` writes
JSON text directly. The phases are in their own modules: `timeline` (the moments and the
rules they fire), `findings` (risk, patterns, closure), `actions` (what is required, when
it is due and its status) and `trace`; this module runs them in order and is the engine's
interface.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import orjson

from .._version import ENGINE_VERSIONS
from ..model.assessment import Assessment, from_plain
from ..model.calendar import WorkingCalendar
from ..model.case import UK, Case
from ..model.vocabulary import CONTRACT_VERSION
from ..pack.compiler import CompiledPack
from ..pack.facts import Moment, Summary
from .actions import due_at, required_actions
from .changes import next_change
from .findings import assess_risk, closure_verdict, find_patterns
from .timeline import (
    Fired,
    Timeline,
    check_case_against_pack,
    check_plan_agrees,
    check_timescales,
    considered_events,
    fire,
    fire_at_as_of,
    summarise,
    timeline,
)

__all__ = [
    "Matcher",
    "assess",
    "assess_to_json",
    "check_case_against_pack",
    "due_at",
    "evaluate",
]

Matcher = Callable[[CompiledPack, Case, list[Moment], int], set[tuple[int, int]]]


def evaluate(
    pack: CompiledPack,
    case: Case,
    as_of: datetime,
    calendar: WorkingCalendar | None = None,
    matcher: Matcher | None = None,
    *,
    changes: bool = True,
) -> dict[str, Any]:
    """Assess `case` under `pack` at `as_of` and return the contract's JSON document as data.

    `changes=False` leaves `next_change` null (it is what working it out assesses again).
    Events after `as_of` have not happened yet and are not counted (the trace says so).
    `matcher`, when given, decides which rules each moment triggers instead of the compiled
    tests: it returns (moment position, rule order) pairs. The durable-rules backend uses it.
    """
    cal = calendar if calendar is not None else pack.calendar
    if case.flags and not pack.flags.issuperset(case.flags):
        check_case_against_pack(pack, case)  # raises, naming every problem
    now = as_of.timestamp()
    trace: list[dict[str, Any]] = []
    considered, stamps = considered_events(pack, case, now, trace)
    summary = Summary(as_of, 0, False, None)
    memo: dict[object, Any] = {}
    summary.memo = memo  # this assessment's count indexes (see conditions.py)
    line = timeline(pack, case, considered, stamps, summary, cal)
    moments = line.moments
    if line.timescales:
        check_timescales(pack, case, line)
    check_plan_agrees(case, line)
    matched = matcher(pack, case, moments, line.last_seen_position) if matcher is not None else None
    per_event: list[Fired] = []
    fired = fire(pack, case, line, summary, matched, trace, per_event)
    last_seen = summarise(summary, line, case, considered)
    found = find_patterns(pack, case, moments, line.last_seen_position, now, trace)
    summary.patterns = frozenset(p["id"] for p in found)
    # The tier is known before the rules `on: [as_of]` run (they may read it); its trace
    # entries keep their place after theirs.
    risk_trace: list[dict[str, Any]] = []
    tier, reasons = assess_risk(pack, case, summary, risk_trace)
    summary.risk_tier = tier
    fire_at_as_of(pack, case, summary, fired, trace)
    trace += risk_trace
    actions = required_actions(pack, case, summary, fired, line, now, cal, trace, per_event)
    closure = closure_verdict(pack, case, summary, actions, line.episode_done, trace)
    document = _document(pack, case, as_of, tier, reasons, line, last_seen, actions, found,
                         closure, trace)  # fmt: skip
    if changes:
        document["next_change"] = next_change(
            pack, case, document, line, summary, considered, stamps,
            lambda at: evaluate(pack, case, at, calendar, matcher, changes=False),
        )  # fmt: skip
    # Moments point at their timeline and share the memo, so each assessment leaves
    # reference cycles behind: emptying both frees it at once instead of at the next
    # collection (fewer collections, and its memory reused while still in cache).
    memo.clear()
    moments.clear()
    return document


def assess(
    pack: CompiledPack,
    case: Case,
    as_of: datetime,
    calendar: WorkingCalendar | None = None,
    matcher: Matcher | None = None,
) -> Assessment:
    """Assess one case and return the typed `Assessment`."""
    return from_plain(evaluate(pack, case, as_of, calendar, matcher))


def assess_to_json(
    pack: CompiledPack, case: Case, as_of: datetime, calendar: WorkingCalendar | None = None
) -> bytes:
    """Assess one case and return the contract's JSON document as UTF-8 bytes."""
    return orjson.dumps(evaluate(pack, case, as_of, calendar))


def _document(
    pack: CompiledPack,
    case: Case,
    as_of: datetime,
    tier: str,
    reasons: list[str],
    line: Timeline,
    last_seen: datetime | None,
    actions: list[dict[str, Any]],
    patterns: list[dict[str, Any]],
    closure: dict[str, Any] | None,
    trace: list[dict[str, Any]],
) -> dict[str, Any]:
    """The contract's assessment document, as data."""
    if line.moments:
        opened = line.moments[line.episode_start]
        episode = {"started": opened.at.astimezone(UK), "event": opened.index}
    else:
        episode = {"started": as_of, "event": None}
    document = pack.document
    return {
        "contract": CONTRACT_VERSION,
        "case_id": case.case_id,
        "as_of": as_of,  # as the caller gave it (a naive one was read as UK local time)
        "pack": {"id": document.id, "version": document.version, "digest": pack.digest},
        "engine": dict(ENGINE_VERSIONS),
        "risk_tier": tier,
        "risk_reasons": reasons,
        "failed_contacts": line.run_count,
        "last_seen": last_seen.astimezone(UK) if last_seen is not None else None,
        "actions": actions,
        "patterns": patterns,
        "closure": closure,
        "episode": episode,
        "next_change": None,  # set once the rest of the answer is known
        "trace": trace,
    }
