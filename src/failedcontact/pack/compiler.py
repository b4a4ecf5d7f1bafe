"""Compile a checked pack document into immutable objects the engine evaluates many times."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time

from ..calendar import WorkingCalendar
from ..errors import Diagnostic
from ..vocabulary import SHARED_ACTION_IDS, RiskTier
from .conditions import ALWAYS, Compiled, ConditionCompiler, Predicate, conjunction
from .document import Deadline, Hours, PackDocument, Requirement, WorkingDays
from .facts import CASE_FACTS, Context
from .reader import Located
from .references import FAILED_CONTACT, TRIGGERS

EVENT_TYPES = (*(t for t in TRIGGERS if t != FAILED_CONTACT), "action")


@dataclass(frozen=True, slots=True)
class Timescale:
    """A compiled deadline: `working_days`, `hours`, `immediately` or `none`, with its amount."""

    kind: str
    amount: float = 0

    def describe(self) -> str:
        """Plain English, for the trace and the explain view."""
        if self.kind == "working_days":
            return f"within {int(self.amount)} working days"
        if self.kind == "hours":
            return f"within {self.amount:g} hours"
        return "immediately" if self.kind == "immediately" else "no timescale set"


@dataclass(frozen=True, slots=True)
class CompiledRequirement:
    """An action as one rule requires it."""

    action: str
    title: str
    owner: str
    timescale: Timescale
    contacts: str | None


@dataclass(frozen=True, slots=True, eq=False)
class CompiledRule:
    """A rule ready to evaluate; its test is split into a once-per-case and a per-event part."""

    id: str
    citation: str
    triggers: frozenset[str]
    when: Compiled
    requires: tuple[CompiledRequirement, ...]
    note: str | None
    order: int
    case_test: Predicate | None
    moment_test: Predicate | None
    once: bool


def split_by_case_facts(condition: Compiled) -> tuple[Predicate | None, Predicate | None]:
    """Split a condition into the part that reads only case facts and the rest (None: true)."""
    if condition is ALWAYS:
        return None, None
    parts = condition.parts or (condition,)
    on_case = [p for p in parts if p.facts <= CASE_FACTS]
    on_moment = [p for p in parts if not p.facts <= CASE_FACTS]
    return _conjoin(on_case), _conjoin(on_moment)


def _conjoin(parts: list[Compiled]) -> Predicate | None:
    if not parts:
        return None
    if len(parts) == 1:
        return parts[0].test
    return conjunction(tuple(p.test for p in parts))


@dataclass(frozen=True, slots=True)
class CompiledRisk:
    """A risk-tier rule ready to evaluate."""

    id: str
    tier: RiskTier
    when: Compiled
    reason: str
    citation: str | None


@dataclass(frozen=True, slots=True)
class CompiledPattern:
    """A pattern ready to evaluate (`count` or `sequence`)."""

    id: str
    title: str
    citation: str | None
    kind: str
    select: Compiled
    at_least: int
    within_days: int | None
    in_run: bool
    next: Compiled | None
    then: Compiled | None


@dataclass(frozen=True, slots=True)
class CompiledClosure:
    """A closure condition ready to evaluate."""

    id: str
    title: str
    citation: str | None
    when: Compiled


@dataclass(frozen=True, slots=True)
class CompiledPack:
    """Everything the engine needs, resolved and compiled; never re-validated."""

    document: PackDocument
    digest: str
    file: str
    calendar: WorkingCalendar
    failed_kind: dict[tuple[str, str], str]
    rules_for_event: dict[tuple[str, bool], tuple[CompiledRule, ...]]
    rules: tuple[CompiledRule, ...]
    risk: tuple[CompiledRisk, ...]
    risk_default: CompiledRisk
    patterns: tuple[CompiledPattern, ...]
    closure: tuple[CompiledClosure, ...] | None
    contacts: dict[str, dict[str, tuple[tuple[str, str], ...]]]
    flags: frozenset[str]
    action_ids: frozenset[str]


def _timescale(deadline: Deadline) -> Timescale:
    if isinstance(deadline, WorkingDays):
        return Timescale("working_days", deadline.working_days)
    if isinstance(deadline, Hours):
        return Timescale("hours", deadline.hours)
    return Timescale(deadline)


def compile_pack(
    source: Located, doc: PackDocument, digest: str
) -> CompiledPack | list[Diagnostic]:
    """Compile every condition and resolve every reference; return diagnostics on failure."""
    domains = {
        "flags": tuple(doc.flags),
        "failed_contact_kind": tuple(doc.failed_contacts),
        "action": tuple(dict.fromkeys((*SHARED_ACTION_IDS, *doc.actions))),
        "patterns": tuple(p.id for p in doc.patterns),
        "actions_done": tuple(dict.fromkeys((*SHARED_ACTION_IDS, *doc.actions))),
    }
    kind_types = {
        kind_id: frozenset(outcome.split(".", 1)[0] for outcome in kind.outcomes)
        for kind_id, kind in doc.failed_contacts.items()
    }
    conditions = ConditionCompiler(source, domains, kind_types)
    rules = []
    for index, rule in enumerate(doc.rules):
        requires = []
        for item in rule.require:
            need = item if isinstance(item, Requirement) else Requirement(action=item)
            action = doc.actions.get(need.action)
            if action is None:
                continue  # reported by the reference check
            requires.append(
                CompiledRequirement(
                    action=need.action,
                    title=action.title,
                    owner=need.owner or action.owner,
                    timescale=_timescale(
                        need.deadline if need.deadline is not None else action.deadline
                    ),
                    contacts=action.contacts,
                )
            )
        when = conditions.compile(rule.when, ("rules", index, "when"), Context.RULE)
        case_test, moment_test = split_by_case_facts(when)
        rules.append(
            CompiledRule(
                id=rule.id,
                citation=rule.citation,
                triggers=frozenset(rule.on),
                when=when,
                requires=tuple(requires),
                note=rule.note,
                order=index,
                case_test=case_test,
                moment_test=moment_test,
                once=rule.once,
            )
        )
    risk = tuple(
        CompiledRisk(
            f"risk.rules[{i}]",
            r.tier,
            conditions.compile(r.when, ("risk", "rules", i, "when"), Context.RISK),
            r.reason,
            r.citation,
        )
        for i, r in enumerate(doc.risk.rules)
    )
    otherwise = doc.risk.otherwise
    patterns = []
    for index, pattern in enumerate(doc.patterns):
        path = ("patterns", index)
        if pattern.count is not None:
            count = pattern.count
            patterns.append(
                CompiledPattern(
                    pattern.id,
                    pattern.title,
                    pattern.citation,
                    "count",
                    conditions.compile(count.of, (*path, "count", "of"), Context.PATTERN),
                    count.at_least,
                    count.within_days,
                    count.in_run,
                    None,
                    None,
                )
            )
        elif pattern.sequence is not None:
            seq = pattern.sequence
            patterns.append(
                CompiledPattern(
                    pattern.id,
                    pattern.title,
                    pattern.citation,
                    "sequence",
                    conditions.compile(seq.first, (*path, "sequence", "first"), Context.PATTERN),
                    1,
                    seq.within_days,
                    False,
                    conditions.compile(seq.next, (*path, "sequence", "next"), Context.PATTERN),
                    conditions.compile(seq.then, (*path, "sequence", "then"), Context.PATTERN),
                )
            )
    closure = None
    if doc.closure is not None:
        closure = tuple(
            CompiledClosure(
                c.id,
                c.title,
                c.citation,
                conditions.compile(c.when, ("closure", "requires", i, "when"), Context.CLOSURE),
            )
            for i, c in enumerate(doc.closure.requires)
        )
    if conditions.diagnostics:
        return conditions.diagnostics
    # Which rules an event can trigger, by its type and whether it is a failed contact
    # in the current run; pack order is kept so the first rule wins a shared action.
    rules_for_event = {
        (event_type, counts): tuple(
            r
            for r in rules
            if event_type in r.triggers or (counts and FAILED_CONTACT in r.triggers)
        )
        for event_type in EVENT_TYPES
        for counts in (False, True)
    }
    hours = doc.calendar.working_hours
    try:
        calendar = WorkingCalendar(
            doc.calendar.country, doc.calendar.subdivision, (_naive(hours.start), _naive(hours.end))
        )
    except ValueError as error:
        return [source.diagnostic("pack.calendar", str(error), ("calendar",))]
    return CompiledPack(
        document=doc,
        digest=digest,
        file=source.file,
        calendar=calendar,
        failed_kind={
            tuple(outcome.split(".", 1)): kind_id  # type: ignore[misc]
            for kind_id, kind in doc.failed_contacts.items()
            for outcome in kind.outcomes
        },
        rules_for_event=rules_for_event,
        rules=tuple(rules),
        risk=risk,
        risk_default=CompiledRisk(
            "risk.otherwise",
            otherwise.tier,
            Compiled(lambda c, m: True, "no risk rule matched"),
            otherwise.reason,
            otherwise.citation,
        ),
        patterns=tuple(patterns),
        closure=closure,
        contacts={
            group: {
                area: tuple((c.name, c.phone) for c in people) for area, people in by_area.items()
            }
            for group, by_area in doc.contacts.items()
        },
        flags=frozenset(doc.flags),
        action_ids=frozenset((*SHARED_ACTION_IDS, *doc.actions)),
    )


def _naive(value: time) -> time:
    return value.replace(tzinfo=None)
