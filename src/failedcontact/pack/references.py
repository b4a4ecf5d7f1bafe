"""Check a validated pack's cross-references: ids, triggers, outcomes, contacts, sections."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from ..codes import Code
from ..errors import Diagnostic, did_you_mean, one_of
from ..model.calendar import unknown_region
from ..model.vocabulary import (
    CONTACT_OUTCOMES,
    SEEN_OUTCOMES,
    SHARED_ACTION_CATEGORIES,
    SHARED_ACTION_IDS,
    SHARED_PATTERN_IDS,
    ActionCategory,
    EventType,
)
from ..source.reader import Located, Path
from .document import ActionSpec, PackDocument, Window

FAILED_CONTACT = "failed_contact"
# A rule fired `on: [as_of]` starts its clock at `as_of`, from case facts alone.
AS_OF = "as_of"
DUTY_OVERDUE = "duty_overdue"  # a duty fell overdue (contract 1.2: a gap step)
EVENT_TYPES: tuple[str, ...] = tuple(event_type.value for event_type in EventType)
TRIGGERS: tuple[str, ...] = (FAILED_CONTACT, AS_OF, DUTY_OVERDUE, *EVENT_TYPES)


class _Report(Protocol):
    def __call__(
        self, code: str, message: str, path: Path, help: str | None = None, key: bool = False
    ) -> None: ...


_CITATION = re.compile(r"^(?P<pack>[a-z][a-z0-9_]*) (?P<section>[^,\s]+)")


@dataclass(frozen=True, slots=True)
class Dropped:
    """What the parts a pipeline dropped for their schema problems defined, by kind.

    They are written in the pack, so a reference to one resolves: the schema problem
    already explains the part, and a reference of another kind that happens to share its
    name is still checked.
    """

    actions: frozenset[str] = frozenset()
    contacts: frozenset[str] = frozenset()
    flags: frozenset[str] = frozenset()
    patterns: frozenset[str] = frozenset()
    sections: frozenset[str] = frozenset()


NOTHING_DROPPED = Dropped()


def check_references(
    source: Located, doc: PackDocument, dropped: Dropped = NOTHING_DROPPED
) -> list[Diagnostic]:
    """Every cross-reference problem in the pack, in document order (a reference to a
    `dropped` part resolves)."""
    problems: list[Diagnostic] = []

    def report(
        code: str, message: str, path: Path, help: str | None = None, key: bool = False
    ) -> None:
        problems.append(source.diagnostic(code, message, path, help, key))

    actions = {*doc.actions, *dropped.actions}
    _check_calendar(doc, report)
    _check_actions(doc, {*doc.contacts, *dropped.contacts}, report)
    _check_unique("rule", [r.id for r in doc.rules], ("rules",), report)
    _check_unique("pattern", [p.id for p in doc.patterns], ("patterns",), report)
    if doc.closure:
        _check_unique(
            "closure condition",
            [c.id for c in doc.closure.requires],
            ("closure", "requires"),
            report,
        )
        _check_closure_actions(doc, actions, report)
    _check_rules(doc, actions, report)
    _check_duties(doc, actions, report)
    _check_patterns(doc, report)
    _check_outcomes(doc, report)
    _check_citations(doc, dropped.sections, report)
    return problems


def _check_actions(doc: PackDocument, groups: set[str], report: _Report) -> None:
    """Action ids are shared or the pack's own; categories and contact groups resolve."""
    own_prefix = f"{doc.id}."
    for action_id in doc.actions:
        if action_id not in SHARED_ACTION_IDS and not action_id.startswith(own_prefix):
            report(
                Code.PACK_ACTION_ID,
                f"action `{action_id}` is neither a shared action id nor prefixed `{own_prefix}`",
                ("actions", action_id),
                did_you_mean(action_id, SHARED_ACTION_IDS)
                or f"name the pack's own actions `{own_prefix}{action_id.split('.')[-1]}` "
                "(and rename it wherever it is required)",
                key=True,
            )
    for action_id, action in doc.actions.items():
        _check_category(action_id, action, report)
        if action.contacts is not None and action.contacts not in groups:
            report(
                Code.PACK_UNKNOWN_CONTACTS,
                f"unknown contact group `{action.contacts}`",
                ("actions", action_id, "contacts"),
                did_you_mean(action.contacts, doc.contacts),
            )


def _check_rules(doc: PackDocument, actions: set[str], report: _Report) -> None:
    """Each rule's triggers are known and the actions it requires are defined."""
    for index, rule in enumerate(doc.rules):
        for t_index, trigger in enumerate(rule.on):
            if trigger not in TRIGGERS:
                report(
                    Code.PACK_UNKNOWN_TRIGGER,
                    f"unknown trigger `{trigger}`",
                    ("rules", index, "on", t_index),
                    did_you_mean(trigger, TRIGGERS) or f"expected one of {one_of(TRIGGERS)}",
                )
        _check_gap_rule(doc, index, report)
        for r_index, item in enumerate(rule.require):
            action_id = item if isinstance(item, str) else item.action
            if action_id not in actions:
                report(
                    Code.PACK_UNKNOWN_ACTION,
                    f"rule `{rule.id}` requires unknown action `{action_id}`",
                    ("rules", index, "require", r_index),
                    did_you_mean(action_id, doc.actions) or "define it under `actions`",
                )


def _check_closure_actions(doc: PackDocument, actions: set[str], report: _Report) -> None:
    """A closure condition's `action` is one the pack defines: a case system makes it a task."""
    assert doc.closure is not None
    for index, condition in enumerate(doc.closure.requires):
        if condition.action is not None and condition.action not in actions:
            report(
                Code.PACK_UNKNOWN_ACTION,
                f"closure condition `{condition.id}` names unknown action `{condition.action}`",
                ("closure", "requires", index, "action"),
                did_you_mean(condition.action, actions) or "define it under `actions`",
            )


def _check_gap_rule(doc: PackDocument, index: int, report: _Report) -> None:
    """A rule `on: [duty_overdue]` names a duty of the pack, and only such a rule does."""
    rule = doc.rules[index]
    duties = [d.id for d in doc.duties]
    gap = DUTY_OVERDUE in rule.on
    if gap and rule.on != (DUTY_OVERDUE,):
        report(Code.PACK_UNKNOWN_DUTY, f"rule `{rule.id}`: `duty_overdue` is its only trigger, "
               "since its clock starts when the duty falls overdue", ("rules", index, "on"),
               "write another rule for the other triggers")  # fmt: skip
    if gap and rule.duty not in duties:
        where = ("rules", index, "duty") if rule.duty is not None else ("rules", index)
        report(Code.PACK_UNKNOWN_DUTY, f"rule `{rule.id}` is `on: [duty_overdue]` but names "
               + (f"unknown duty `{rule.duty}`" if rule.duty else "no `duty`"), where,
               did_you_mean(rule.duty or "", duties) or f"the pack's duties: {one_of(duties)}"
               if duties else "define the duty under `duties`")  # fmt: skip
    if not gap and rule.duty is not None:
        report(Code.PACK_UNKNOWN_DUTY, f"rule `{rule.id}` names duty `{rule.duty}` but is not "
               "`on: [duty_overdue]`", ("rules", index, "duty"))  # fmt: skip


def _check_duties(doc: PackDocument, actions: set[str], report: _Report) -> None:
    """Duty ids are unique and each names a defined action."""
    _check_unique("duty", [d.id for d in doc.duties], ("duties",), report)
    for index, duty in enumerate(doc.duties):
        if duty.action not in actions:
            report(
                Code.PACK_UNKNOWN_ACTION,
                f"duty `{duty.id}` names unknown action `{duty.action}`",
                ("duties", index, "action"),
                did_you_mean(duty.action, doc.actions) or "define it under `actions`",
            )


def _check_patterns(doc: PackDocument, report: _Report) -> None:
    """Pattern ids are shared or the pack's own, windows are sound, one kind each."""
    own_prefix = f"{doc.id}."
    for index, pattern in enumerate(doc.patterns):
        if pattern.count is not None:
            _check_window(pattern.count.within_days, pattern.count.within,
                          ("patterns", index, "count"), report)  # fmt: skip
        if pattern.id not in SHARED_PATTERN_IDS and not pattern.id.startswith(own_prefix):
            report(
                Code.PACK_PATTERN_ID,
                f"pattern `{pattern.id}` is neither a shared pattern id "
                f"nor prefixed `{own_prefix}`",
                ("patterns", index, "id"),
                did_you_mean(pattern.id, SHARED_PATTERN_IDS)
                or f"name the pack's own patterns `{own_prefix}{pattern.id.split('.')[-1]}`",
            )
        if (pattern.count is None) == (pattern.sequence is None):
            report(
                Code.PACK_PATTERN_KIND,
                f"pattern `{pattern.id}` needs exactly one of `count` or `sequence`",
                ("patterns", index),
            )


def _check_category(action_id: str, action: ActionSpec, report: _Report) -> None:
    fixed = SHARED_ACTION_CATEGORIES.get(action_id)
    if fixed is not None:
        if action.category is not None and action.category is not fixed:
            report(
                Code.PACK_CATEGORY,
                f"shared action `{action_id}` has category `{fixed.value}`, "
                f"not `{action.category.value}`",
                ("actions", action_id, "category"),
                f"drop `category` or write `{fixed.value}`",
            )
    elif action.category is None:
        report(
            Code.PACK_MISSING_CATEGORY,
            f"action `{action_id}` needs a `category`",
            ("actions", action_id),
            f"expected one of {one_of([c.value for c in ActionCategory])}",
            key=True,
        )


def _check_window(days: int | None, window: Window | None, path: Path, report: _Report) -> None:
    if window is None:
        return
    given = [name for name in ("days", "months", "years") if getattr(window, name) is not None]
    if len(given) != 1:
        report(
            Code.PACK_WINDOW,
            "a window gives exactly one of `days`, `months` or `years`",
            (*path, "within"),
        )
    if days is not None:
        report(
            Code.PACK_WINDOW,
            "give `within_days` or `within`, not both",
            (*path, "within"),
        )


def _check_calendar(doc: PackDocument, report: _Report) -> None:
    country, subdivision = doc.calendar.country, doc.calendar.subdivision
    unknown = unknown_region(country, subdivision)
    if unknown is None:
        return
    what, known = unknown
    if what == "country":
        report(
            Code.PACK_CALENDAR,
            f"`{country}` is not a country the holidays package knows",
            ("calendar", "country"),
            did_you_mean(country, known),
        )
    else:
        report(
            Code.PACK_CALENDAR,
            f"`{subdivision}` is not a subdivision of `{country}`",
            ("calendar", "subdivision"),
            did_you_mean(str(subdivision), known) or f"expected one of {one_of(known)}",
        )


def _check_unique(what: str, ids: list[str], path: Path, report: _Report) -> None:
    seen: set[str] = set()
    for index, item in enumerate(ids):
        if item in seen:
            report(
                Code.PACK_DUPLICATE_ID,
                f"{what} id `{item}` is used more than once",
                (*path, index),
                "give each one its own id",
            )
        seen.add(item)


def _check_outcomes(doc: PackDocument, report: _Report) -> None:
    owner: dict[str, str] = {}
    for kind_id, kind in doc.failed_contacts.items():
        for index, outcome in enumerate(kind.outcomes):
            path = ("failed_contacts", kind_id, "outcomes", index)
            if outcome not in CONTACT_OUTCOMES:
                report(
                    Code.PACK_UNKNOWN_OUTCOME,
                    f"unknown outcome `{outcome}`",
                    path,
                    did_you_mean(outcome, CONTACT_OUTCOMES)
                    or "outcomes are written `type.outcome`, for example `home_visit.no_response`",
                )
            elif outcome in SEEN_OUTCOMES:
                report(
                    Code.PACK_SEEN_OUTCOME,
                    f"`{outcome}` means the child was seen and cannot count as a failed contact",
                    path,
                )
            elif outcome in owner:
                report(
                    Code.PACK_DUPLICATE_OUTCOME,
                    f"`{outcome}` is already counted as `{owner[outcome]}`",
                    path,
                    "an outcome belongs to one kind",
                )
            else:
                owner[outcome] = kind_id


def _citations(doc: PackDocument) -> Iterable[tuple[Path, str | None]]:
    for kind_id, kind in doc.failed_contacts.items():
        yield ("failed_contacts", kind_id, "citation"), kind.citation
    for index, risk in enumerate(doc.risk.rules):
        yield ("risk", "rules", index, "citation"), risk.citation
    yield ("risk", "otherwise", "citation"), doc.risk.otherwise.citation
    for action_id, action in doc.actions.items():
        yield ("actions", action_id, "citation"), action.citation
    for index, rule in enumerate(doc.rules):
        yield ("rules", index, "citation"), rule.citation
    for index, pattern in enumerate(doc.patterns):
        yield ("patterns", index, "citation"), pattern.citation
    for index, duty in enumerate(doc.duties):
        yield ("duties", index, "citation"), duty.citation
    if doc.closure:
        yield ("closure", "citation"), doc.closure.citation
        for index, condition in enumerate(doc.closure.requires):
            yield ("closure", "requires", index, "citation"), condition.citation


def _renamed_from(doc: PackDocument, report: _Report) -> set[str]:
    """Other pack ids that several citations start with (a copied pack whose id was
    changed): each reported once, at its first citation."""
    found: dict[str, list[Path]] = {}
    for path, citation in _citations(doc):
        match = _CITATION.match(citation or "")
        if match is not None and match["pack"] != doc.id:
            found.setdefault(match["pack"], []).append(path)
    renamed = {other for other, paths in found.items() if len(paths) > 1}
    for other in sorted(renamed):
        report(
            Code.PACK_CITATION,
            f"{len(found[other])} citations start with `{other}`, not this pack's id `{doc.id}`",
            found[other][0],
            f"replace `{other} ` with `{doc.id} ` in every citation; `failedcontact new-area "
            f"{doc.id} --from {other}` starts a new area with every id renamed",
        )
    return renamed


def cited_sections(doc: PackDocument) -> Iterable[tuple[str, str]]:
    """(pack part, section id) for every well-formed citation in the pack."""
    for path, citation in _citations(doc):
        if citation is None:
            continue
        match = _CITATION.match(citation)
        if match is not None and match["pack"] == doc.id:
            yield ".".join(str(p) for p in path[:-1]), match["section"]


def _check_citations(doc: PackDocument, dropped: frozenset[str], report: _Report) -> None:
    sections = [s.id for s in doc.source.sections]
    renamed = _renamed_from(doc, report)
    for path, citation in _citations(doc):
        if citation is None:
            continue
        match = _CITATION.match(citation)
        if match is not None and match["pack"] in renamed:
            continue  # said once, for all of them
        if match is None or match["pack"] != doc.id:
            report(
                Code.PACK_CITATION,
                f"citation `{citation}` does not start with the pack id and a section",
                path,
                f"write it as `{doc.id} <section>, <detail>`",
            )
        elif match["section"] not in sections and match["section"] not in dropped:
            report(
                Code.PACK_UNKNOWN_SECTION,
                f"citation names section `{match['section']}`, which is not in `source.sections`",
                path,
                did_you_mean(match["section"], sections) or f"expected one of {one_of(sections)}",
            )
