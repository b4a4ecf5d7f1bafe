"""Compile a checked pack document into immutable objects the engine evaluates many times."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time

from ..calendar import WorkingCalendar
from ..errors import Diagnostic
from ..vocabulary import SHARED_ACTION_IDS, RiskTier
from .conditions import Compiled, ConditionCompiler
from .document import Deadline, Hours, PackDocument, Requirement, WorkingDays
from .facts import Context
from .reader import Located
from .references import FAILED_CONTACT


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


@dataclass(frozen=True, slots=True)
class CompiledRule:
    """A rule ready to evaluate."""

    id: str
    citation: str
    triggers: frozenset[str]
    when: Compiled
    requires: tuple[CompiledRequirement, ...]
    note: str | None


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
    rules_by_trigger: dict[str, tuple[CompiledRule, ...]]
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
    conditions = ConditionCompiler(source, domains)
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
        rules.append(
            CompiledRule(
                id=rule.id,
                citation=rule.citation,
                triggers=frozenset(rule.on),
                when=conditions.compile(rule.when, ("rules", index, "when"), Context.RULE),
                requires=tuple(requires),
                note=rule.note,
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
    by_trigger: dict[str, list[CompiledRule]] = {}
    for compiled in rules:
        for trigger in sorted(compiled.triggers):
            by_trigger.setdefault(trigger, []).append(compiled)
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
        rules_by_trigger={k: tuple(v) for k, v in by_trigger.items()},
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


__all__ = ["FAILED_CONTACT", "CompiledPack", "compile_pack"]
