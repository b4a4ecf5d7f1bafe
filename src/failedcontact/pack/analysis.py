"""Static analysis of a compiled pack, exact over the finite fact domains.

Each rule's condition is compiled again against plain assignments of fact values, and every
assignment in the product of the domains of the facts it reads is tried: enums, booleans,
the values a pack mentions for text and set facts, and small integer ranges around the
numbers a pack mentions. That is exact for these facts. A `count` of earlier events depends on
the history, so each is treated as an unknown boolean: findings stay sound (a rule reported
as never firing cannot fire), but some involving counts may be missed.
"""

from __future__ import annotations

import difflib
import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from ..codes import Code
from ..errors import Diagnostic, Severity
from ..limits import ANALYSIS_BUDGET
from ..model.vocabulary import (
    OUTCOMES_BY_EVENT,
    SHARED_ACTION_ALIASES,
    SHARED_ACTION_CATEGORIES,
    SHARED_ACTION_IDS,
    Plan,
    ReferralKind,
    ReviewKind,
)
from ..source.reader import Located, Path
from .compiler import CompiledPack
from .conditions import (
    Assignment,
    AssignmentTest,
    Compiled,
    ConditionCompiler,
    Judged,
    tree_of,
)
from .document import Rule
from .facts import FACTS, Fact, Kind
from .references import AS_OF
from .tree import constants, uses_count

_LIMIT = 200_000  # assignments per question; above it the question is skipped, and said so
# Assignments tried in one pack's whole analysis; past it the rest is not analysed, and said
# so. A count, not a time, so `check` gives the same answer on every machine.
BUDGET = ANALYSIS_BUDGET


class _OutOfBudget(Exception):
    """The analysis budget is spent."""


_EVENT_FACTS = frozenset(
    {
        "event",
        "outcome",
        "failed_contact",
        "failed_contact_kind",
        "concern_level",
        "announced",
        "channel",
        "action",
        "out_of_hours",
        "absence_days",
        "referral_kind",
        "new_plan",
        "review_kind",
    }
)
_EXPANSIONS: dict[str, tuple[str, list[Any]]] = {
    "concern": ("concern_level", ["welfare", "significant_harm", "immediate_danger"]),
    "message": ("channel", ["letter", "text", "email", "card"]),
    "home_visit": ("announced", [True, False]),
    "call": ("out_of_hours", [True, False]),
    "referral": ("referral_kind", [k.value for k in ReferralKind]),
    "plan_change": ("new_plan", [p.value for p in Plan]),
    "review": ("review_kind", [k.value for k in ReviewKind]),
}
_OTHER = "\x00other"  # a text value no pack mentions


@dataclass(frozen=True, slots=True)
class Summary:
    """What the analysis covered."""

    analysed: int
    skipped: tuple[str, ...]  # rules and risk rules not analysed, with why


class _Space:
    def __init__(self, pack: CompiledPack, source: Located) -> None:
        self.pack = pack
        doc = pack.document
        self.constants: dict[str, set[Any]] = {}
        for rule in pack.rules:
            constants(rule.when.tree, self.constants)
        for risk in pack.risk:
            constants(risk.when.tree, self.constants)
        domains = {
            "flags": tuple(doc.flags),
            "failed_contact_kind": tuple(doc.failed_contacts),
            "patterns": tuple(p.id for p in doc.patterns),
        }
        self.compiler = ConditionCompiler(source, domains, assignments=True)
        self.remaining = BUDGET

    def compile(self, condition: Compiled) -> Judged:
        """Compile a condition's tree again, to judge it on assignments of fact values."""
        return self.compiler.judge(tree_of(condition))

    def domain(self, fact: Fact, failed: bool | None = None) -> list[Any]:
        mentioned = self.constants.get(fact.name, set())
        if fact.kind is Kind.BOOL:
            return [True, False]
        if fact.kind is Kind.INT:
            # Comparisons with constants change truth only at the constants: each constant,
            # its neighbours and the lowest value stand for every number (exact, and small
            # however large the constants are).
            low = 1 if (fact.name == "failed_contacts" and failed) else 0
            points = {low}
            for value in mentioned:
                if isinstance(value, int) and not isinstance(value, bool):
                    points.update(v for v in (value - 1, value, value + 1) if v >= low)
            values: list[Any] = sorted(points)
            return values + ([None] if fact.name in ("age_years", "absence_days") else [])
        if fact.kind is Kind.SET:
            items = sorted(str(v) for v in mentioned)
            return [
                frozenset(c)
                for r in range(len(items) + 1)
                for c in itertools.combinations(items, r)
            ]
        if fact.kind is Kind.ENUM and fact.domain is not None:
            return [*fact.domain, None] if fact.name in _EVENT_FACTS else list(fact.domain)
        return [*sorted(str(v) for v in mentioned), _OTHER, None]

    def _domain_of(self, name: str, failed: bool | None) -> list[Any]:
        if name.startswith("count:"):
            return [True, False]  # a count over the history: either answer is possible
        return self.domain(FACTS[name], failed)

    def shapes(self, triggers: frozenset[str] | None) -> list[dict[str, Any]]:
        """The event facts of every kind of event that can trigger; [{}] for no event."""
        if triggers is None:
            return [{}]
        failed_kind = self.pack.failed_kind
        found: list[dict[str, Any]] = []
        for trigger in sorted(triggers):
            pairs: list[tuple[str, str | None]]
            if trigger == AS_OF:
                # Fired at as_of: no event, so every event fact is unknown.
                found.append({"event": None, "outcome": None, "failed_contact": False,
                              "failed_contact_kind": None, "via_failed": False})  # fmt: skip
                continue
            if trigger == "failed_contact":
                pairs = [(t, o) for t, o in failed_kind]
            else:
                pairs = [(trigger, o) for o in OUTCOMES_BY_EVENT.get(trigger, (None,))]
            for event_type, outcome in pairs:
                kind = failed_kind.get((event_type, outcome)) if outcome else None
                base = {
                    "event": event_type,
                    "outcome": outcome,
                    "failed_contact": kind is not None,
                    "failed_contact_kind": kind,
                    "via_failed": trigger == "failed_contact",
                }
                for extra in self._expand(event_type):
                    found.append({**base, **extra})
        return found

    def _expand(self, event_type: str) -> list[dict[str, Any]]:
        if event_type in _EXPANSIONS:
            name, values = _EXPANSIONS[event_type]
            return [{name: v} for v in values]
        if event_type == "action":
            mentioned = sorted(str(v) for v in self.constants.get("action", set()))
            return [{"action": v} for v in [*mentioned, _OTHER]]
        if event_type == "worker_absence":
            return [{"absence_days": v} for v in self.domain(FACTS["absence_days"])]
        return [{}]

    def assignments(
        self, facts: frozenset[str], shapes: list[dict[str, Any]]
    ) -> Iterator[dict[str, Any]] | None:
        free = sorted(f for f in facts if f not in _EVENT_FACTS)
        size = len(shapes)
        for name in free:
            size *= self._domain_size(name)
            if size > _LIMIT:
                return None

        def generate() -> Iterator[dict[str, Any]]:
            for shape in shapes:
                failed = bool(shape.get("failed_contact")) if shape else None
                domains = [self._domain_of(name, failed) for name in free]
                for values in itertools.product(*domains):
                    self.remaining -= 1
                    if self.remaining < 0:
                        raise _OutOfBudget
                    yield {**shape, **dict(zip(free, values, strict=True))}

        return generate()

    def _domain_size(self, name: str) -> int:
        """How many values a fact's domain has, without building a set fact's power set."""
        if not name.startswith("count:") and FACTS[name].kind is Kind.SET:
            return int(2 ** len(self.constants.get(name, set())))
        return len(self._domain_of(name, True))


# A rule as the analysis judges it: its place, as written, its condition compiled for
# assignments, the event shapes that trigger it and its (action, deadline, owner) needs.
_Judging = tuple[int, Rule, Judged, list[dict[str, Any]], set[tuple[str, str, str]]]


def _holds(test: AssignmentTest, assignment: Assignment) -> bool:
    return test(None, assignment)


def analyse(pack: CompiledPack, source: Located) -> tuple[list[Diagnostic], Summary]:
    """Every analysis finding for a pack that compiled, and what was (not) analysed."""
    doc = pack.document
    space = _Space(pack, source)
    found: list[Diagnostic] = []
    skipped: list[str] = []

    def report(code: str, severity: Severity, message: str, path: Path, help: str) -> None:
        line, column = source.where_key(path)
        found.append(Diagnostic(code, message, source.file, line, column, help, severity))

    rules: list[_Judging] = []
    for index, (rule, built) in enumerate(zip(doc.rules, pack.rules, strict=True)):
        compiled = space.compile(built.when)
        needs = {(r.action, r.timescale.describe(), r.owner) for r in built.requires}
        rules.append((index, rule, compiled, space.shapes(frozenset(rule.on)), needs))

    try:
        satisfiable = _satisfiable(rules, space, report, skipped)
        _pairs(rules, satisfiable, space, report)
        _risk(pack, space, report, skipped)
    except _OutOfBudget:
        satisfiable = {}
        skipped.append(f"the rest of the analysis (budget of {BUDGET:,} combinations spent)")
        report(
            Code.ANALYSIS_BUDGET,
            Severity.WARNING,
            f"the static analysis stopped after {BUDGET:,} combinations; rules after that "
            "point were not checked for contradictions, overlaps or shadowing",
            (),
            "the pack still loads and assesses; split very large conditions or packs",
        )
    _unused(pack, report)
    _own_means_shared(pack, report)
    return found, Summary(len(satisfiable) + len(doc.risk.rules), tuple(skipped))


def _satisfiable(
    rules: list[_Judging], space: _Space, report: Callable[..., None], skipped: list[str]
) -> dict[int, bool]:
    satisfiable: dict[int, bool] = {}
    for index, rule, compiled, shapes, _ in rules:
        points = space.assignments(compiled.facts, shapes)
        if points is None:
            skipped.append(f"rule `{rule.id}` (too many combinations)")
            continue
        satisfiable[index] = any(_holds(compiled.test, a) for a in points)
        if not satisfiable[index]:
            report(
                Code.ANALYSIS_UNSATISFIABLE,
                Severity.ERROR,
                f"rule `{rule.id}` can never fire: no case and trigger satisfy its condition",
                ("rules", index, "when"),
                "check for contradictory tests, such as two different values of one fact "
                "or a count its triggers rule out",
            )
    return satisfiable


def _covers(shape: dict[str, Any], triggers: list[str]) -> bool:
    if shape["event"] is None:
        return AS_OF in triggers
    return shape["event"] in triggers or (
        shape.get("via_failed", False) and "failed_contact" in triggers
    )


def _pairs(
    rules: list[_Judging],
    satisfiable: dict[int, bool],
    space: _Space,
    report: Callable[..., None],
) -> None:
    for (i, a, ca, shapes_a, needs_a), (j, b, cb, _, needs_b) in itertools.permutations(rules, 2):
        if not satisfiable.get(i) or not satisfiable.get(j):
            continue
        facts = ca.facts | cb.facts
        if i < j:
            clash = sorted(
                {x[0] for x in needs_a}
                & {x[0] for x in needs_b} - {x[0] for x in needs_a & needs_b}
            )
            shared = [s for s in shapes_a if _covers(s, list(b.on))]
            points = space.assignments(facts, shared) if clash and shared else None
            if points is not None and any(
                _holds(ca.test, p) and _holds(cb.test, p) for p in points
            ):
                report(
                    Code.ANALYSIS_CONFLICT,
                    Severity.WARNING,
                    f"rules `{a.id}` and `{b.id}` can fire together but give "
                    f"{', '.join(f'`{c}`' for c in clash)} a different deadline or owner",
                    ("rules", j, "require"),
                    f"the first in the pack (`{a.id}`) wins; make them agree or exclusive",
                )
        if needs_a <= needs_b:
            points = space.assignments(facts, shapes_a)
            if points is None:
                continue
            subsumed = all(
                _covers(p, list(b.on)) and _holds(cb.test, p) for p in points if _holds(ca.test, p)
            )
            if subsumed and (i > j or not needs_b <= needs_a or ca.text != cb.text):
                report(
                    Code.ANALYSIS_SUBSUMED,
                    Severity.WARNING,
                    f"rule `{a.id}` is subsumed by `{b.id}`: whenever it fires, `{b.id}` "
                    "fires too and requires the same actions",
                    ("rules", i),
                    f"remove `{a.id}` or narrow `{b.id}`",
                )


def _risk(
    pack: CompiledPack, space: _Space, report: Callable[..., None], skipped: list[str]
) -> None:
    doc = pack.document
    compiled = [space.compile(risk.when) for risk in pack.risk]
    for j, later in enumerate(doc.risk.rules):
        for i in range(j):
            earlier = doc.risk.rules[i]
            if earlier.tier == later.tier:
                continue
            points = space.assignments(compiled[i].facts | compiled[j].facts, [{}])
            if points is None:
                continue
            if all(_holds(compiled[i].test, p) for p in points if _holds(compiled[j].test, p)):
                report(
                    Code.ANALYSIS_SHADOWED_RISK,
                    Severity.WARNING,
                    f"risk rule {j} (`{later.tier.value}`) is shadowed by risk rule {i} "
                    f"(`{earlier.tier.value}`): whenever it matches, the earlier one does",
                    ("risk", "rules", j),
                    "move it before the broader rule, or remove it",
                )
                break


def shared_meaning(name: str) -> str | None:
    """The shared action id an own action's name (after its prefix) means, if any."""
    if name in SHARED_ACTION_CATEGORIES:
        return name
    for shared, aliases in SHARED_ACTION_ALIASES.items():
        if name in aliases:
            return shared
    close = difflib.get_close_matches(name, SHARED_ACTION_IDS, n=1, cutoff=0.85)
    return close[0] if close else None


def _own_means_shared(pack: CompiledPack, report: Callable[..., None]) -> None:
    prefix = f"{pack.document.id}."
    for action_id in pack.document.actions:
        if not action_id.startswith(prefix):
            continue
        shared = shared_meaning(action_id.removeprefix(prefix))
        if shared is not None:
            report(
                Code.ANALYSIS_OWN_MEANS_SHARED,
                Severity.WARNING,
                f"action `{action_id}` means the same as the shared action `{shared}`",
                ("actions", action_id),
                f"use `{shared}` so case systems keyed on shared ids see it, "
                "with this pack's title, owner and deadline",
            )


def _unused(pack: CompiledPack, report: Callable[..., None]) -> None:
    doc = pack.document
    required = {r.action for rule in pack.rules for r in rule.requires}
    required |= {duty.requirement.action for duty in pack.duties}
    mentioned: dict[str, set[Any]] = {}
    for _, condition in pack.conditions:
        constants(condition.tree, mentioned)
    done = mentioned.get("actions_done", set()) | mentioned.get("action", set())
    for action_id, action in doc.actions.items():
        if action_id not in required and action_id not in done:
            report(
                Code.ANALYSIS_UNUSED_ACTION,
                Severity.WARNING,
                f"action `{action_id}` is defined but no rule requires it",
                ("actions", action_id),
                "require it from a rule, or remove it",
            )
        if action.citation is None:
            report(
                Code.ANALYSIS_NO_CITATION,
                Severity.WARNING,
                f"action `{action_id}` has no citation",
                ("actions", action_id),
                f"cite the section it encodes, such as `{doc.id} <section>`",
            )
    used_groups = {a.contacts for a in doc.actions.values() if a.contacts}
    for group in doc.contacts:
        if group not in used_groups:
            report(
                Code.ANALYSIS_UNUSED_CONTACTS,
                Severity.WARNING,
                f"contact group `{group}` is not used by any action",
                ("contacts", group),
                "attach it to an action with `contacts:`, or remove it",
            )
    read_flags = mentioned.get("flags", set())
    for flag in doc.flags:
        if flag not in read_flags:
            report(
                Code.ANALYSIS_UNUSED_FLAG,
                Severity.WARNING,
                f"flag `{flag}` is declared but no condition reads it",
                ("flags", flag),
                "test it in a condition, or remove it",
            )


def inexact(pack: CompiledPack) -> list[str]:
    """Rules and risk rules whose analysis treats a `count` as an unknown boolean."""
    found = [f"rule `{rule.id}`" for rule in pack.rules if uses_count(rule.when.tree)]
    found += [
        f"risk rule {index}" for index, risk in enumerate(pack.risk) if uses_count(risk.when.tree)
    ]
    return found
