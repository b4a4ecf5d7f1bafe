"""Consistency invariants every pack must satisfy, checked on generated cases.

Used by the property tests and by `failedcontact verify`, which searches for a violation
with hypothesis and shrinks it to a minimal case written out as a ready-to-run scenario.
"""

from __future__ import annotations

import json
import os
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from ..engine.loader import Pack
from ..errors import CaseError
from ..model.case import UK
from ..model.case_input import parse_case
from ..model.vocabulary import RISK_ORDER, SEEN_PAIRS, RiskTier
from ..pack.compiler import CompiledDuty
from ..pack.facts import Moment
from ..pack.tree import Test, walk
from ..source.fmt import layout
from ..source.locate import Origin, working_tree

Check = Callable[[Pack, dict[str, Any], datetime], str | None]
_ESCALATIONS = frozenset(
    {"report_significant_harm", "call_police", "consider_referral_to_social_care"}
)


def _json(pack: Pack, case: dict[str, Any], as_of: datetime) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(pack.assess(case, as_of).model_dump_json())
    return document


def _with_event(case: dict[str, Any], event: dict[str, Any]) -> dict[str, Any]:
    return {**case, "events": [*case["events"], event]}


def deterministic(pack: Pack, case: dict[str, Any], as_of: datetime) -> str | None:
    """Same input, same output, byte for byte, on both the typed and the JSON path."""
    first = pack.assess(case, as_of).model_dump_json()
    if pack.assess(case, as_of).model_dump_json() != first:
        return "two assessments of the same case differ"
    if pack.assess_json(json.dumps(case), as_of).decode("utf-8") != first:
        return "the JSON path and the typed path differ"
    return None


def order_independent(pack: Pack, case: dict[str, Any], as_of: datetime) -> str | None:
    """The order events arrive in does not matter (events at distinct instants)."""
    stamps = [e.at.timestamp() for e in parse_case(case).events]
    if len(set(stamps)) != len(stamps) or len(stamps) < 2:
        return None
    order = list(reversed(range(len(stamps))))
    reordered = {**case, "events": [case["events"][i] for i in order]}
    a, b = _json(pack, case, as_of), _json(pack, reordered, as_of)
    for key in ("risk_tier", "risk_reasons", "failed_contacts", "last_seen", "closure"):
        if a[key] != b[key]:
            return f"reversing the events changes `{key}`"

    # A trigger with no event (a rule on as_of) sorts as -1 in both.
    mine = sorted(
        (x["id"], x["due"], x["status"], -1 if (e := x["trigger"]["event"]) is None else e)
        for x in a["actions"]
    )
    theirs = sorted(
        (x["id"], x["due"], x["status"], -1 if (e := x["trigger"]["event"]) is None else order[e])
        for x in b["actions"]
    )
    if mine != theirs:
        return "reversing the events changes the actions"
    return None


def _failed_event(pack: Pack, at: datetime) -> dict[str, Any] | None:
    for event_type, outcome in sorted(pack.compiled.failed_kind):
        return {"at": at.isoformat(), "type": event_type, "outcome": outcome}
    return None


def failed_contact_monotone(pack: Pack, case: dict[str, Any], as_of: datetime) -> str | None:
    """Another failed contact never lowers the tier, the count or removes an escalation."""
    extra = _failed_event(pack, as_of)
    if extra is None:
        return None
    before, after = _json(pack, case, as_of), _json(pack, _with_event(case, extra), as_of)
    if RISK_ORDER[RiskTier(after["risk_tier"])] < RISK_ORDER[RiskTier(before["risk_tier"])]:
        return (
            f"another failed contact lowers the risk tier from `{before['risk_tier']}` "
            f"to `{after['risk_tier']}`"
        )
    if after["failed_contacts"] != before["failed_contacts"] + 1:
        return (
            f"another failed contact moves the count from {before['failed_contacts']} "
            f"to {after['failed_contacts']}"
        )
    lost = ({a["id"] for a in before["actions"]} & _ESCALATIONS) - {
        a["id"] for a in after["actions"]
    }
    if lost:
        return f"another failed contact removes the escalation {sorted(lost)}"
    return None


def seen_resets(pack: Pack, case: dict[str, Any], as_of: datetime) -> str | None:
    """Seeing the child ends the run: the count is 0 and `last_seen` is that visit."""
    seen = {"at": as_of.isoformat(), "type": "home_visit", "outcome": "child_seen"}
    after = _json(pack, _with_event(case, seen), as_of)
    if after["failed_contacts"] != 0:
        return "after the child is seen the count of failed contacts is not 0"
    # compare instants: aware datetimes in the repeated hour never compare equal across zones
    if datetime.fromisoformat(after["last_seen"]).timestamp() != as_of.timestamp():
        return "after the child is seen `last_seen` is not that visit"
    return None


def _timescale(pack: Pack, document: dict[str, Any], action: dict[str, Any]) -> str | None:
    for entry in document["trace"]:
        if (
            entry["step"] == "rule"
            and entry["event"] == action["trigger"]["event"]
            and action["id"] in entry["actions"]
        ):
            for rule in pack.compiled.rules:
                if rule.id == entry["id"]:
                    return next(r.timescale.kind for r in rule.requires if r.action == action["id"])
            for duty in pack.compiled.duties:
                if duty.id == entry["id"]:
                    return duty.requirement.timescale.kind
    return None


def deadlines_sound(pack: Pack, case: dict[str, Any], as_of: datetime) -> str | None:
    """Every `due` is at or after its trigger; day-based ones end on a working day."""
    document = _json(pack, case, as_of)
    calendar = pack.compiled.calendar
    for action in document["actions"]:
        if action["due"] is None:
            continue
        due = datetime.fromisoformat(action["due"])
        if due.timestamp() < datetime.fromisoformat(action["trigger"]["at"]).timestamp():
            return f"`{action['id']}` is due before its trigger"
        if _timescale(pack, document, action) == "working_days":
            local = due.astimezone(UK)
            if not calendar.is_working_day(local.date()) or (local.hour, local.minute) != (23, 59):
                return f"`{action['id']}` is due at {action['due']}, not the end of a working day"
    return None


def as_of_monotone(pack: Pack, case: dict[str, Any], as_of: datetime) -> str | None:
    """Moving `as_of` later never moves a deadline earlier; done stays done; overdue on time."""
    later = as_of + timedelta(days=3, hours=5)
    a, b = _json(pack, case, as_of), _json(pack, case, later)
    after = {x["id"]: x for x in b["actions"]}
    stamps = [e.at.timestamp() for e in parse_case(case).events]
    quiet = not any(as_of.timestamp() < t <= later.timestamp() for t in stamps)
    for action in a["actions"]:
        other = after.get(action["id"])
        if other is None:
            continue
        if action["due"] and other["due"]:
            due_a, due_b = (
                datetime.fromisoformat(x).timestamp() for x in (action["due"], other["due"])
            )
            if due_b < due_a:
                return f"`{action['id']}` is due earlier when `as_of` moves later"
        if quiet and action["status"] == "done" and other["status"] != "done":
            return f"`{action['id']}` stops being done when `as_of` moves later"
        if quiet and other["due"] and other["status"] != "done":
            overdue = later.timestamp() > datetime.fromisoformat(other["due"]).timestamp()
            if overdue != (other["status"] == "overdue"):
                return f"`{action['id']}` status is `{other['status']}` with `due` {other['due']}"
    return None


# Every event that means the child was seen (the contract's list, in a fixed order).
_SEEN_EVENTS = tuple({"type": t, "outcome": o} for t, o in sorted(SEEN_PAIRS))


def duty_fresh_after_visit(pack: Pack, case: dict[str, Any], as_of: datetime) -> str | None:
    """A recurring duty is never overdue right after an event that discharges it."""
    by_action: dict[str, list[CompiledDuty]] = {}
    for duty in pack.compiled.duties:
        by_action.setdefault(duty.requirement.action, []).append(duty)
    for seen in _SEEN_EVENTS if by_action else ():
        with_seen = _with_event(case, {"at": as_of.isoformat(), **seen})
        parsed = parse_case(with_seen)
        event = parsed.events[-1]
        moment = Moment(
            event, len(parsed.events) - 1, event.at, event.at.timestamp(), None, 0, False
        )
        listed = _json(pack, with_seen, as_of)["actions"]
        for action in listed:
            duties = by_action.get(action["id"], [])
            # Whichever of the action's duties applies, this event discharges it.
            discharged = duties and all(d.by.test(parsed, moment) for d in duties)
            if action["recurring"] and discharged and action["status"] == "overdue":
                return f"recurring `{action['id']}` is overdue right after a {seen['outcome']}"
    return None


def _quiet_event_type(pack: Pack) -> str | None:
    """An event type no rule, pattern or closure condition of the pack looks at.

    None for a pack with duties: a duty with no `starts` event runs from the start of the
    first episode, which is the first event of any type.
    """
    compiled = pack.compiled
    if compiled.duties:
        return None
    read = {t for r in compiled.rules for t in r.triggers}
    for _, condition in compiled.conditions:
        for node in walk(condition.tree):
            if isinstance(node, Test):
                if node.fact.name == "event":
                    read.update(str(v) for v in node.values)
                elif node.fact.event_type is not None:
                    read.add(node.fact.event_type)
    for candidate in ("message", "address_change", "support_request", "service_refused"):
        if candidate not in read:
            return candidate
    return None


def irrelevant_event_changes_nothing(
    pack: Pack, case: dict[str, Any], as_of: datetime
) -> str | None:
    """An event of a type the pack never looks at, before the history starts, changes nothing."""
    kind = _quiet_event_type(pack)
    if kind is None:
        return None
    events = parse_case(case).events
    start = min([e.at for e in events] + [as_of]) - timedelta(days=30)
    extra: dict[str, Any] = {"at": start.isoformat(), "type": kind}
    if kind == "message":
        extra["channel"] = "letter"
    a, b = _json(pack, case, as_of), _json(pack, _with_event(case, extra), as_of)
    # The first episode begins at the first event, so an earlier event moves its start by
    # definition; what the episode decides (closure evidence) must still not change.
    for key in ("trace", "episode"):
        a.pop(key), b.pop(key)
    if a != b:
        changed = sorted(k for k in a if a[k] != b[k])
        return f"a `{kind}` event before the history starts changes {changed}"
    return None


def _schema_problem(schema: dict[str, Any], text: str) -> str | None:
    import jsonschema

    for error in jsonschema.Draft202012Validator(schema).iter_errors(json.loads(text)):
        return str(error.message)
    return None


def schema_round_trip(pack: Pack, case: dict[str, Any], as_of: datetime) -> str | None:
    """The assessment validates against the published JSON Schema and round-trips."""
    from ..model.assessment import Assessment

    text = pack.assess(case, as_of).model_dump_json()
    problem = _schema_problem(Assessment.model_json_schema(mode="serialization"), text)
    if problem:
        return f"the assessment does not match its schema: {problem}"
    if Assessment.model_validate_json(text).model_dump_json() != text:
        return "the assessment does not round-trip through JSON"
    return None


INVARIANTS: dict[str, Check] = {
    "deterministic": deterministic,
    "order-independent": order_independent,
    "failed-contact-monotone": failed_contact_monotone,
    "seen-resets": seen_resets,
    "deadlines-sound": deadlines_sound,
    "as-of-monotone": as_of_monotone,
    "irrelevant-event": irrelevant_event_changes_nothing,
    "schema-round-trip": schema_round_trip,
    "duty-fresh-after-visit": duty_fresh_after_visit,
}


@dataclass(frozen=True, slots=True)
class Violation:
    """A minimal counterexample to one invariant."""

    invariant: str
    message: str
    case: dict[str, Any]
    as_of: datetime


def find_violations(
    pack: Pack,
    examples: int = 200,
    seed: int = 0,
    only: list[str] | None = None,
    progress: Callable[[str, int], None] | None = None,
) -> list[Violation]:
    """Search for a violation of each invariant; shrink each one found to a minimal case.

    `progress(invariant, cases_tried)` is called after every case tried.
    """
    from hypothesis import HealthCheck, find, settings
    from hypothesis.errors import NoSuchExample

    from .strategies import case_and_as_of

    found = []
    config = settings(
        max_examples=examples, database=None, deadline=None, suppress_health_check=list(HealthCheck)
    )
    for name, check in INVARIANTS.items():
        if only and name not in only:
            continue

        tried = 0

        def violated(
            example: tuple[dict[str, Any], datetime], check: Check = check, name: str = name
        ) -> bool:
            nonlocal tried
            tried += 1
            if progress is not None:
                progress(name, tried)
            try:
                return check(pack, *example) is not None
            except CaseError:
                return False

        try:
            case, as_of = find(
                case_and_as_of(pack, 25), violated, settings=config, random=random.Random(seed)
            )
        except NoSuchExample:
            continue
        message = check(pack, case, as_of) or "violated"
        found.append(Violation(name, message, case, as_of))
    return found


def write_scenario(pack: Pack, violation: Violation, folder: Path) -> Path:
    """Write a counterexample as a regression scenario: it fails until the pack is fixed.

    The scenario expects the violated invariant to hold for the shrunk case, so `test` on it
    fails against the broken pack and passes once the pack is fixed.
    """
    import io

    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{pack.id}-{violation.invariant}.yaml"
    events = CommentedSeq()
    # only what differs from the defaults, so the case reads as what matters
    lean = parse_case(violation.case).model_dump(mode="json", exclude_defaults=True)
    for event in violation.case["events"]:
        flow = CommentedMap(event)
        flow.fa.set_flow_style()
        events.append(flow)
    case = CommentedMap({**lean, "events": events})
    scenario = CommentedMap(
        name=f"{violation.invariant} holds (verify found: {violation.message})",
        section=f"{pack.id} (consistency invariant `{violation.invariant}`)",
        as_of=violation.as_of.isoformat(),
        case=case,
        expect={"holds": [violation.invariant]},
    )
    body = CommentedMap(pack=_pack_reference(pack, folder), scenarios=[scenario])
    out = io.StringIO()
    layout().dump(body, out)
    tree = working_tree(folder)
    schema = tree.parent / "schemas" / "scenario.schema.json" if tree is not None else None
    header = (
        f"# Found by `failedcontact verify`: {violation.message}.\n"
        "# It fails until the pack is fixed; then keep it with the pack's scenarios.\n"
    )
    if schema is not None and schema.is_file():
        header = f"# yaml-language-server: $schema={_relative(schema, folder)}\n" + header
    path.write_text(header + out.getvalue(), encoding="utf-8")
    return path


def _pack_reference(pack: Pack, folder: Path) -> str:
    """How the scenario names the pack: a bundled id, or the file relative to the scenario."""
    if pack.source is None or pack.source.origin is Origin.BUNDLED:
        return pack.id
    return _relative(pack.source.path, folder)


def _relative(path: Path, folder: Path) -> str:
    return Path(os.path.relpath(path.resolve(), folder.resolve())).as_posix()
