"""Compile a checked pack document into immutable objects the engine evaluates many times."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import time

from ..codes import Code
from ..errors import Diagnostic
from ..model.calendar import WorkingCalendar
from ..model.vocabulary import SHARED_ACTION_CATEGORIES, SHARED_ACTION_IDS, ActionCategory, RiskTier
from ..source.reader import Located, Path
from .clocks import Clocks, clocks
from .conditions import ALWAYS, Compiled, ConditionCompiler, Predicate, conjunction
from .document import (
    ActionSpec,
    CalendarDays,
    CaseTimescale,
    ClosureCondition,
    Deadline,
    Hours,
    Interval,
    Months,
    PackDocument,
    PatternSpec,
    Requirement,
    Rule,
    Weeks,
    Window,
    WorkingDays,
)
from .facts import CASE_FACTS, Context
from .references import AS_OF, DUTY_OVERDUE, EVENT_TYPES, FAILED_CONTACT, NOTHING_DROPPED, Dropped
from .tree import Node

_UNIT_WORDS = {
    "working_days": "working days",
    "hours": "hours",
    "calendar_days": "calendar days",
    "weeks": "weeks",
    "months": "calendar months",
}


@dataclass(frozen=True, slots=True)
class Timescale:
    """A compiled deadline: a unit (`working_days`, `hours`, `calendar_days`, `weeks`,
    `months`), `immediately` or `none`, with its amount."""

    kind: str
    amount: float = 0

    def describe(self, lead: str = "within") -> str:
        """Plain English, for the trace and the explain view."""
        words = _UNIT_WORDS.get(self.kind)
        if words is not None:
            amount = f"{self.amount:g}"
            return f"{lead} {amount} {words[:-1] if amount == '1' else words}"
        return "immediately" if self.kind == "immediately" else "no timescale set"


@dataclass(frozen=True, slots=True)
class CompiledRequirement:
    """An action as one rule requires it."""

    action: str
    title: str
    owner: str
    timescale: Timescale
    contacts: str | None
    category: ActionCategory
    completed_by: Compiled | None  # events besides an `action` record that complete it
    ended_when_seen: bool = False  # the child seen after the trigger ends it (contract 1.2)
    per_event: bool = False  # one instance per triggering event
    # A case's `timescale` event may set this action's deadline (`within`) or this duty's
    # interval (`every`): `accepts`, no longer than `longest` (None: no bound).
    accepts: bool = False
    longest: Timescale | None = None


@dataclass(frozen=True, slots=True, eq=False)
class CompiledDuty:
    """A recurring duty ready to evaluate at `as_of`."""

    id: str
    citation: str
    requirement: CompiledRequirement
    when: Compiled
    starts: Compiled | None
    by: Compiled
    note: str | None


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
    # the same split for a case with no plan history, where the plan is a case fact
    fixed_plan_tests: tuple[Predicate | None, Predicate | None]
    duty: str | None  # `on: [duty_overdue]`: the duty whose falling overdue fires it
    # Precomputed for the trace, which names them every time the rule fires.
    action_ids: tuple[str, ...] = ()
    explanation: str = ""  # "; <when>" and "; <note>" when there is one


# With no `plan_change` history the plan is `child.plan` throughout: a case fact too.
_FIXED_PLAN_FACTS = CASE_FACTS | {"plan"}


def split_by_case_facts(
    condition: Compiled, case_facts: frozenset[str] = CASE_FACTS
) -> tuple[Predicate | None, Predicate | None]:
    """Split a condition into the part that reads only case facts and the rest (None: true)."""
    if condition is ALWAYS:
        return None, None
    parts = condition.parts or (condition,)
    on_case = [p for p in parts if p.facts <= case_facts]
    on_moment = [p for p in parts if not p.facts <= case_facts]
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
    within_months: int | None
    next: Compiled | None
    then: Compiled | None


@dataclass(frozen=True, slots=True)
class CompiledClosure:
    """A closure condition ready to evaluate."""

    id: str
    title: str
    citation: str | None
    when: Compiled
    action: str | None = None  # the action whose record meets it (contract 1.2)


@dataclass(frozen=True, slots=True)
class CompiledPack:
    """Everything the engine needs, resolved and compiled; never re-validated."""

    document: PackDocument
    digest: str
    file: str
    calendar: WorkingCalendar
    failed_kind: dict[tuple[str, str], str]
    kind_names: dict[str, str]  # each failed-contact kind's name, for the trace
    rules_for_event: dict[tuple[str, bool], tuple[CompiledRule, ...]]
    rules_at_as_of: tuple[CompiledRule, ...]
    rules_on_overdue: tuple[CompiledRule, ...]  # gap steps: `on: [duty_overdue]`
    rules: tuple[CompiledRule, ...]
    duties: tuple[CompiledDuty, ...]
    risk: tuple[CompiledRisk, ...]
    risk_default: CompiledRisk
    patterns: tuple[CompiledPattern, ...]
    closure: tuple[CompiledClosure, ...] | None
    contacts: dict[str, dict[str, tuple[tuple[str, str], ...]]]
    flags: frozenset[str]
    action_ids: frozenset[str]
    # Every condition written in the pack, where it is written, in the pack's order: the
    # objects the rules, duties, patterns... hold. Each keeps its tree (`.tree`), for the
    # other visitors (static analysis, the durable lowering, strategies): none reads YAML.
    conditions: tuple[tuple[Path, Compiled], ...]
    clocks: Clocks  # what changes with time alone (pack/clocks.py)

    @property
    def trees(self) -> dict[Path, Node]:
        """Each written condition's tree by where it is written, derived from `conditions`.

        For a reader that has only a place; one with the rule, duty or pattern reads the
        tree from its condition (`rule.when.tree`).
        """
        return {path: c.tree for path, c in self.conditions if c.tree is not None}


def _timescale(deadline: Deadline | Interval) -> Timescale:
    if isinstance(deadline, WorkingDays):
        return Timescale("working_days", deadline.working_days)
    if isinstance(deadline, Hours):
        return Timescale("hours", deadline.hours)
    if isinstance(deadline, CalendarDays):
        return Timescale("calendar_days", deadline.calendar_days)
    if isinstance(deadline, Weeks):
        return Timescale("weeks", deadline.weeks)
    if isinstance(deadline, Months):
        return Timescale("months", deadline.months)
    return Timescale(deadline)


def _category(action_id: str, action: ActionSpec) -> ActionCategory:
    # A shared id's category is fixed; the reference check refuses an own id without one.
    return SHARED_ACTION_CATEGORIES.get(action_id) or action.category or ActionCategory.RECORD


# Steps that try to gain access end when the child is seen; the rest stay until done
# (docs/decisions.md, "What seeing the child ends").
ENDED_WHEN_SEEN_BY_DEFAULT = frozenset(
    {ActionCategory.VISIT, ActionCategory.APPOINTMENT, ActionCategory.CALL, ActionCategory.LETTER}
)


def _ended_when_seen(category: ActionCategory, action: ActionSpec) -> bool:
    if action.ended_when_seen is not None:
        return action.ended_when_seen
    return category in ENDED_WHEN_SEEN_BY_DEFAULT


def _case_timescale(spec: CaseTimescale | None) -> tuple[bool, Timescale | None]:
    """Whether a case may set the timescale, and the longest it may set."""
    if spec is None:
        return False, None
    return True, _timescale(spec.longest) if spec.longest is not None else None


def _closure_action(condition: ClosureCondition) -> str | None:
    """The action a closure condition names, or the one its `actions_done` test names."""
    if condition.action is not None:
        return condition.action
    when = condition.when
    if len(when) == 1 and isinstance(when.get("actions_done"), dict):
        test = when["actions_done"]
        if len(test) == 1 and isinstance(test.get("contains"), str):
            return str(test["contains"])
    return None


def compile_pack(
    source: Located, doc: PackDocument, digest: str, dropped: Dropped = NOTHING_DROPPED
) -> CompiledPack | list[Diagnostic]:
    """Compile every condition and resolve every reference (and what a `dropped` part
    defined); return diagnostics on failure."""
    kind_types = {
        kind_id: frozenset(outcome.split(".", 1)[0] for outcome in kind.outcomes)
        for kind_id, kind in doc.failed_contacts.items()
    }
    build = _Build(doc, ConditionCompiler(source, _domains(doc, dropped), kind_types))
    # Conditions compile in the pack's order (so do their diagnostics): evidence, rules,
    # risk, duties, patterns, closure.
    for action_id, action in doc.actions.items():
        if action.completed_by is not None:
            build.completed_by[action_id] = build.condition(
                action.completed_by, ("actions", action_id, "completed_by"), Context.PATTERN
            )
    rules = [build.rule(index, rule) for index, rule in enumerate(doc.rules)]
    risk = build.risk()
    duties = _duties(doc, build.condition, build.requirement)
    found = (_pattern(p, ("patterns", i), build.condition) for i, p in enumerate(doc.patterns))
    patterns = [p for p in found if p is not None]
    closure = build.closure()
    if build.conditions.diagnostics:
        return build.conditions.diagnostics
    calendar = _calendar(source, doc)
    if isinstance(calendar, Diagnostic):
        return [calendar]
    otherwise = doc.risk.otherwise
    as_of_rules: set[Path] = {("rules", r.order, "when") for r in rules if AS_OF in r.triggers}
    return CompiledPack(
        document=doc,
        digest=digest,
        file=source.file,
        calendar=calendar,
        kind_names={kind_id: kind.name for kind_id, kind in doc.failed_contacts.items()},
        failed_kind=_failed_kind(doc),
        rules_for_event=_rules_for_event(rules),
        rules_at_as_of=tuple(r for r in rules if AS_OF in r.triggers),
        rules_on_overdue=tuple(r for r in rules if DUTY_OVERDUE in r.triggers),
        rules=tuple(rules),
        duties=tuple(duties),
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
        contacts=_contacts(doc),
        flags=frozenset(doc.flags),
        action_ids=frozenset((*SHARED_ACTION_IDS, *doc.actions)),
        conditions=tuple(build.written),
        clocks=clocks(build.written, as_of_rules),
    )


def _calendar(source: Located, doc: PackDocument) -> WorkingCalendar | Diagnostic:
    hours = doc.calendar.working_hours
    try:
        return WorkingCalendar(
            doc.calendar.country, doc.calendar.subdivision, (_naive(hours.start), _naive(hours.end))
        )
    except ValueError as error:  # an unknown country or subdivision
        return source.diagnostic(Code.PACK_CALENDAR, str(error), ("calendar",))


def _domains(doc: PackDocument, dropped: Dropped) -> dict[str, tuple[str, ...]]:
    """The values each pack-defined fact can take, for conditions to check theirs against."""
    actions = tuple(dict.fromkeys((*SHARED_ACTION_IDS, *doc.actions, *sorted(dropped.actions))))
    return {
        "flags": (*doc.flags, *sorted(dropped.flags)),
        "failed_contact_kind": tuple(doc.failed_contacts),
        "action": actions,
        "patterns": (*(p.id for p in doc.patterns), *sorted(dropped.patterns)),
        "actions_done": actions,
    }


@dataclass(slots=True)
class _Build:
    """One pack's compilation under way: its condition compiler, conditions and evidence."""

    doc: PackDocument
    conditions: ConditionCompiler
    written: list[tuple[Path, Compiled]] = field(default_factory=list)
    completed_by: dict[str, Compiled] = field(default_factory=dict)

    def condition(self, node: object, path: Path, context: Context) -> Compiled:
        """Parse once and compile to a closure that keeps its tree for the other visitors."""
        compiled = self.conditions.tree(self.conditions.parse(node, path, context))
        if node is not None:
            self.written.append((path, compiled))
        return compiled

    def requirement(self, need: Requirement) -> CompiledRequirement | None:
        """A rule's or duty's required action, with the action's title, owner and deadline."""
        action = self.doc.actions.get(need.action)
        if action is None:
            return None  # reported by the reference check
        category = _category(need.action, action)
        accepts, longest = _case_timescale(action.case_timescale)
        return CompiledRequirement(
            action=need.action,
            title=action.title,
            owner=need.owner or action.owner,
            timescale=_timescale(need.deadline if need.deadline is not None else action.deadline),
            contacts=action.contacts,
            category=category,
            completed_by=self.completed_by.get(need.action),
            ended_when_seen=_ended_when_seen(category, action),
            per_event=action.per_event,
            accepts=accepts,
            longest=longest,
        )

    def rule(self, index: int, rule: Rule) -> CompiledRule:
        """One rule: its requirements, then its condition, split into case and moment tests."""
        requires = []
        for item in rule.require:
            compiled = self.requirement(
                item if isinstance(item, Requirement) else Requirement(action=item)
            )
            if compiled is not None:
                requires.append(compiled)
        # a rule only `as_of` (or a duty falling overdue) fires reads the case as it stands
        # then: no event, but the tier
        context = Context.AS_OF if rule.on in ((AS_OF,), (DUTY_OVERDUE,)) else Context.RULE
        when = self.condition(rule.when, ("rules", index, "when"), context)
        case_test, moment_test = split_by_case_facts(when)
        fixed_plan_tests = split_by_case_facts(when, _FIXED_PLAN_FACTS)
        return CompiledRule(
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
            fixed_plan_tests=fixed_plan_tests,
            duty=rule.duty,
            action_ids=tuple(r.action for r in requires),
            explanation=f"; {when.text}" + (f"; {rule.note}" if rule.note else ""),
        )

    def risk(self) -> tuple[CompiledRisk, ...]:
        """The risk rules, in the pack's order."""
        return tuple(
            CompiledRisk(
                f"risk.rules[{i}]",
                r.tier,
                self.condition(r.when, ("risk", "rules", i, "when"), Context.RISK),
                r.reason,
                r.citation,
            )
            for i, r in enumerate(self.doc.risk.rules)
        )

    def closure(self) -> tuple[CompiledClosure, ...] | None:
        """The conditions for closing the case (None: the pack sets none)."""
        if self.doc.closure is None:
            return None
        return tuple(
            CompiledClosure(
                c.id,
                c.title,
                c.citation,
                self.condition(c.when, ("closure", "requires", i, "when"), Context.CLOSURE),
                _closure_action(c),
            )
            for i, c in enumerate(self.doc.closure.requires)
        )


def _failed_kind(doc: PackDocument) -> dict[tuple[str, str], str]:
    """The failed-contact kind of each (event type, outcome) the pack counts."""
    return {
        tuple(outcome.split(".", 1)): kind_id  # type: ignore[misc]
        for kind_id, kind in doc.failed_contacts.items()
        for outcome in kind.outcomes
    }


def _rules_for_event(
    rules: list[CompiledRule],
) -> dict[tuple[str, bool], tuple[CompiledRule, ...]]:
    """Which rules an event can trigger, by its type and whether it is a failed contact in
    the current run; pack order is kept so the first rule wins a shared action."""
    return {
        (event_type, counts): tuple(
            r
            for r in rules
            if event_type in r.triggers or (counts and FAILED_CONTACT in r.triggers)
        )
        for event_type in EVENT_TYPES
        for counts in (False, True)
    }


def _contacts(doc: PackDocument) -> dict[str, dict[str, tuple[tuple[str, str], ...]]]:
    """Each contact group's (name, phone) pairs by local authority."""
    return {
        group: {area: tuple((c.name, c.phone) for c in people) for area, people in by_area.items()}
        for group, by_area in doc.contacts.items()
    }


_Condition = Callable[[object, Path, Context], Compiled]


def _duties(
    doc: PackDocument,
    condition: _Condition,
    requirement: Callable[[Requirement], CompiledRequirement | None],
) -> list[CompiledDuty]:
    duties = []
    for index, duty in enumerate(doc.duties):
        path = ("duties", index)
        compiled = requirement(Requirement(action=duty.action, deadline=duty.every))
        if compiled is not None:  # a duty's own bound on a case's `every`, not the action's
            accepts, longest = _case_timescale(duty.case_timescale)
            compiled = replace(compiled, accepts=accepts, longest=longest, ended_when_seen=False)
        when = condition(duty.when, (*path, "when"), Context.DUTY)
        starts = (
            None
            if duty.starts is None
            else condition(duty.starts, (*path, "starts"), Context.PATTERN)
        )
        by = condition(duty.by, (*path, "by"), Context.PATTERN)
        if compiled is not None:
            duties.append(
                CompiledDuty(duty.id, duty.citation, compiled, when, starts, by, duty.note)
            )
    return duties


def _pattern(pattern: PatternSpec, path: Path, condition: _Condition) -> CompiledPattern | None:
    if pattern.count is not None:
        count = pattern.count
        return CompiledPattern(
            pattern.id,
            pattern.title,
            pattern.citation,
            "count",
            condition(count.of, (*path, "count", "of"), Context.PATTERN),
            count.at_least,
            count.within_days or (count.within.days if count.within else None),
            count.in_run,
            _months(count.within),
            None,
            None,
        )
    seq = pattern.sequence
    if seq is None:
        return None  # neither `count` nor `sequence`: the reference check reports it
    return CompiledPattern(
        pattern.id,
        pattern.title,
        pattern.citation,
        "sequence",
        condition(seq.first, (*path, "sequence", "first"), Context.PATTERN),
        1,
        seq.within_days,
        False,
        None,
        condition(seq.next, (*path, "sequence", "next"), Context.PATTERN),
        condition(seq.then, (*path, "sequence", "then"), Context.PATTERN),
    )


def _months(window: Window | None) -> int | None:
    if window is None:
        return None
    if window.years is not None:
        return window.years * 12
    return window.months


def _naive(value: time) -> time:
    return value.replace(tzinfo=None)
