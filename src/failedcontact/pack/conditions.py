"""Compile parsed condition trees into closures, once: the visitor the engine runs."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from operator import attrgetter
from typing import Any, cast

from ..errors import Diagnostic
from ..model.calendar import months_before
from ..model.case import Case
from ..source.reader import Located, Path
from .facts import Context, Getter, Kind, Moment
from .tree import (
    COMBINATORS,
    OPERATORS,
    AllOf,
    AnyOf,
    ConditionParser,
    Count,
    Node,
    Not,
    Operator,
    Scope,
    Test,
    event_types,
    shape,
)

__all__ = ["ALWAYS", "COMBINATORS", "OPERATORS", "Compiled", "ConditionCompiler", "conjunction"]

# A compiled condition's test as the engine calls it: the case and a `Moment`.
Predicate = Callable[[Case, Moment], bool]
# Static analysis judges the same conditions on an assignment of fact values (and of each
# count's unknown answer, `count:<path>`), with no case: see `Judged`.
Assignment = Mapping[str, object]
AssignmentTest = Callable[[None, Assignment], bool]
# The boundary between the two: one closure serves both callers, and the compiled build
# (mypyc) checks a function's declared argument types on every call, so the closures in
# this module declare theirs untyped. These two aliases are the only `Any` in a condition's
# type; what leaves the module is typed `Predicate` (`Compiled`) or `AssignmentTest`
# (`Judged`), and `ConditionCompiler.judge` is the one place that tells them apart.
CaseArg = Any
MomentArg = Any

_DAY = 86400.0
COUNT_SCOPES = tuple(scope.value for scope in Scope)
_COUNT_WORDS = {
    Operator.EQUALS: "exactly",
    Operator.AT_LEAST: "at least",
    Operator.AT_MOST: "at most",
    Operator.MORE_THAN: "more than",
    Operator.LESS_THAN: "fewer than",
}
_RELATIONS: dict[Operator, Callable[[Any, Any], bool]] = {
    Operator.EQUALS: lambda got, bound: got == bound,
    Operator.AT_LEAST: lambda got, bound: got >= bound,
    Operator.AT_MOST: lambda got, bound: got <= bound,
    Operator.MORE_THAN: lambda got, bound: got > bound,
    Operator.LESS_THAN: lambda got, bound: got < bound,
}
_NUMBER_WORDS = {
    Operator.AT_LEAST: "at least",
    Operator.AT_MOST: "at most",
    Operator.MORE_THAN: "more than",
    Operator.LESS_THAN: "less than",
}
_SCOPE_WORDS = {
    Scope.HISTORY: "",
    Scope.RUN: " in the current run",
    Scope.EPISODE: " in the current episode",
    Scope.SINCE_FAILED_CONTACT: " since the latest failed contact",
}
_SCOPE_START: dict[Scope, Callable[[Moment], int]] = {
    Scope.HISTORY: lambda moment: 0,
    Scope.RUN: lambda moment: moment.run_start,
    Scope.EPISODE: lambda moment: moment.episode_start,
    Scope.SINCE_FAILED_CONTACT: lambda moment: moment.failed_position + 1,
}


def fold_text(value: str) -> str:
    """Text as packs compare it: case and runs of white space ignored."""
    return " ".join(value.split()).casefold()


def _always(case: CaseArg, moment: MomentArg) -> bool:
    return True


@dataclass(frozen=True, slots=True)
class Compiled:
    """A compiled condition: the closure, a plain-English description and the facts it reads."""

    test: Predicate
    text: str
    facts: frozenset[str] = frozenset()
    parts: tuple[Compiled, ...] = ()  # the conjuncts of an `all`, for splitting
    event_types: frozenset[str] | None = None  # only events of these types can match
    # The parsed condition it was compiled from, for the visitors that are not the engine
    # (descriptions, static analysis, the durable lowering). None only for `ALWAYS`.
    tree: Node | None = None


ALWAYS = Compiled(_always, "always")


@dataclass(frozen=True, slots=True)
class Judged:
    """A condition compiled for static analysis: its test takes no case and an assignment."""

    test: AssignmentTest
    text: str
    facts: frozenset[str]  # the facts it reads, and `count:<path>` for each count in it


def tree_of(condition: Compiled) -> Node | None:
    """A compiled condition's tree: None for `ALWAYS` alone.

    Refuses a condition compiled without its tree, which a description would read as
    "always" and a lowering would drop.
    """
    if condition.tree is None and condition is not ALWAYS:
        raise ValueError(f"the condition `{condition.text}` was compiled without its tree")
    return condition.tree


@dataclass(slots=True)
class ConditionCompiler:
    """Parses one pack's conditions into trees and compiles trees into closures."""

    source: Located
    domains: Mapping[str, tuple[str, ...]]
    kind_types: Mapping[str, frozenset[str]] = field(default_factory=dict)
    # Static analysis compiles the same trees to read assignments of fact values (`judge`).
    assignments: bool = False
    parser: ConditionParser = field(init=False)
    # One memo key per distinct condition (by shape): a plain object hashes cheaply.
    tokens: dict[tuple[Any, ...], object] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self.parser = ConditionParser(self.source, self.domains)

    @property
    def diagnostics(self) -> list[Diagnostic]:
        """Every problem the parser found so far."""
        return self.parser.diagnostics

    def parse(self, node: Any, path: Path, context: Context) -> Node | None:
        """Parse a condition found at `path` (None: absent, or reported as a diagnostic)."""
        return self.parser.parse(node, path, context)

    def compile(self, node: Any, path: Path, context: Context) -> Compiled:
        """Parse and compile a condition found at `path`, recording every problem."""
        return self.tree(self.parse(node, path, context))

    def judge(self, node: Node | None) -> Judged:
        """Compile a parsed condition for static analysis (a compiler made with `assignments`)."""
        assert self.assignments, "a compiler for the engine reads cases, not assignments"
        compiled = self.tree(node)
        # Its closures read assignments (`_assigned`) and take untyped arguments (`CaseArg`):
        # called as an `AssignmentTest`, they do what their code says.
        return Judged(cast(AssignmentTest, compiled.test), compiled.text, compiled.facts)

    def tree(self, node: Node | None) -> Compiled:
        """Compile a parsed condition (None: always true) into a closure that keeps the tree."""
        compiled = self._closure(node)
        if compiled is ALWAYS or compiled.tree is node:
            return compiled  # ALWAYS stays the one object the engine tells by identity
        return replace(compiled, tree=node)

    def _closure(self, node: Node | None) -> Compiled:
        if node is None:
            return ALWAYS
        if isinstance(node, AllOf):
            return _all([self.tree(p) for p in node.parts])
        if isinstance(node, AnyOf):
            return _any([self.tree(p) for p in node.parts])
        if isinstance(node, Not):
            inner = self.tree(node.part)
            test = inner.test

            def negated(case: CaseArg, moment: MomentArg) -> bool:
                return not test(case, moment)

            return Compiled(negated, f"not ({inner.text})", inner.facts)
        if isinstance(node, Count):
            return self._count(node)
        return self._test(node)

    def _token(self, node: Node) -> object:
        return self.tokens.setdefault(shape(node), object())

    def _count(self, node: Count) -> Compiled:
        """`count`: how many earlier events (up to the moment) match a selector."""
        select = self.tree(node.of)
        after = self.tree(node.since) if node.since is not None else None
        description = _count_text(node, select, after)
        if self.assignments:
            # Static analysis: a count depends on the history, so it is an unknown boolean.
            variable = f"count:{'.'.join(str(p) for p in node.path)}"

            def unknown(case: CaseArg, assignment: MomentArg) -> bool:
                return bool(assignment.get(variable))

            return Compiled(unknown, description, frozenset({variable}))
        # This count's entry in an assessment's memo, and its parts': a condition counted
        # in several rules is matched against the timeline once per assessment.
        select_key = self._token(node.of)
        since_key = self._token(node.since) if node.since is not None else None
        counted = _counter(node, select, after, select_key, since_key)
        return Compiled(counted, description, select.facts | {"count"})

    def _test(self, node: Test) -> Compiled:
        fact, op, values = node.fact, node.op, list(node.values)
        get = _assigned(fact.name) if self.assignments else fact.getter
        name = fact.name
        facts = frozenset({name})
        if op is Operator.IS_KNOWN:
            want = values[0]

            def known(case: CaseArg, moment: MomentArg) -> bool:
                return (get(case, moment) is not None) is want

            return Compiled(known, f"{name} is {'known' if want else 'unknown'}", facts)
        if fact.kind is Kind.TEXT:
            folded = frozenset(fold_text(v) for v in values)

            def text_in(case: CaseArg, moment: MomentArg) -> bool:
                got = get(case, moment)
                return got is not None and fold_text(got) in folded

            if op is Operator.NOT_IN:
                compiled = Compiled(
                    _known_and_not(text_in, get), f"{name} not in {_show(values)}", facts
                )
            else:
                compiled = Compiled(text_in, f"{name} is {_show(values)}", facts)
        elif fact.attribute is not None and not self.assignments:
            compiled = _build_on_moment(op, name, fact.attribute, values, facts) or _build(
                op, name, get, values, facts
            )
        else:
            compiled = _build(op, name, get, values, facts)
        types = event_types(node, self.kind_types)
        return compiled if types is None else replace(compiled, event_types=types)


def _assigned(name: str) -> Getter:
    """A fact read from an assignment of fact values (static analysis), not a case."""

    def read(case: CaseArg, assignment: MomentArg) -> Any:
        return assignment.get(name)

    return read


def _count_text(node: Count, select: Compiled, after: Compiled | None) -> str:
    """How a count condition reads in explanations."""
    where = _SCOPE_WORDS[node.scope]
    within = f" within {node.days} days" if node.days else ""
    months = node.months
    if months:
        within = (
            f" within {months // 12} calendar years"
            if months % 12 == 0
            else f" within {months} calendar months"
        )
    text = ", ".join(f"{_COUNT_WORDS[op]} {bound}" for op, bound in node.bounds)
    if after is not None:
        where += f" after the latest event where {after.text}"
    return f"events where {select.text}{where}{within} number {text}"


def _counter(
    node: Count, select: Compiled, after: Compiled | None, of_key: object, since_key: object | None
) -> Predicate:
    """A count condition's test: from the assessment's memo, or a scan outside one."""
    test, types = select.test, select.event_types
    relations = tuple(_RELATIONS[op] for op, _ in node.bounds)
    limits = tuple(bound for _, bound in node.bounds)
    start_of = _SCOPE_START[node.scope]
    in_episode = node.in_episode
    window = node.days * _DAY if node.days else None
    months = node.months
    since = after.test if after is not None else None
    since_types = after.event_types if after is not None else None
    key = object()

    def index(case: CaseArg, moment: MomentArg) -> _CountIndex:
        """Built once per assessment from the shared timeline index: the positions
        matching `of` and `since`, found among only the events of the types they test."""
        memo = moment.memo
        assert memo is not None
        found: _CountIndex | None = memo.get(key)
        if found is None:
            shared = _timeline_index(moment.timeline, memo)
            matched = _positions(case, shared, memo, of_key, test, types)
            latest: list[int] = []
            if since is not None and since_key is not None:
                latest = _positions(case, shared, memo, since_key, since, since_types)
            found = memo[key] = _CountIndex(matched, latest, shared.stamps)
        return found

    def counted(case: CaseArg, moment: MomentArg) -> bool:
        start = start_of(moment)
        if in_episode and start < moment.episode_start:
            start = moment.episode_start
        position = moment.position
        if window is not None:
            earliest: float | None = moment.stamp - window
        elif months is not None:
            earliest = months_before(moment.stamp, months)
        else:
            earliest = None
        if moment.memo is None:  # outside an assessment (tests, tools): scan directly
            total = _scan(case, moment, start, earliest, test, types, since, since_types)
        else:
            found = index(case, moment)
            if since is not None:
                before = bisect_right(found.since, position)
                if before and found.since[before - 1] >= start:
                    start = found.since[before - 1] + 1
            if earliest is not None:
                start = max(start, bisect_right(found.stamps, earliest))
            total = (
                bisect_right(found.matched, position) - bisect_left(found.matched, start)
                if position >= start
                else 0
            )
        return all(rel(total, limit) for rel, limit in zip(relations, limits, strict=True))

    return counted


@dataclass(frozen=True, slots=True)
class _CountIndex:
    """One count's view of one assessment's timeline."""

    matched: list[int]  # positions of the events the count selects, ascending
    since: list[int]  # positions of the events its `since` selects, ascending
    stamps: list[float]  # each event's timestamp, in timeline order


@dataclass(frozen=True, slots=True)
class _TimelineIndex:
    """Shared by every count of one assessment: positions by event type, and timestamps."""

    timeline: list[Moment]
    by_type: dict[str | None, list[int]]
    stamps: list[float]


_TIMELINE = object()  # the shared index's entry in an assessment's memo


def _timeline_index(timeline: list[Moment], memo: dict[object, Any]) -> _TimelineIndex:
    """The assessment's shared index of its timeline, built on first use."""
    found: _TimelineIndex | None = memo.get(_TIMELINE)
    if found is None:
        by_type: dict[str | None, list[int]] = {}
        for position, moment in enumerate(timeline):
            by_type.setdefault(moment.type, []).append(position)
        stamps = [moment.stamp for moment in timeline]
        found = memo[_TIMELINE] = _TimelineIndex(timeline, by_type, stamps)
    return found


def _positions(
    case: Case,
    shared: _TimelineIndex,
    memo: dict[object, Any],
    key: object,
    test: Predicate,
    types: frozenset[str] | None,
) -> list[int]:
    """The positions whose moments pass `test`, trying only events of `types` (None: all).

    So a count of one kind of event costs what that kind's events cost, not the history's.
    """
    found: list[int] | None = memo.get(key)
    if found is None:
        timeline = shared.timeline
        if types is None:
            found = [p for p, moment in enumerate(timeline) if test(case, moment)]
        else:
            lists = [shared.by_type.get(t, []) for t in types]
            candidates = lists[0] if len(lists) == 1 else sorted(p for ps in lists for p in ps)
            found = [p for p in candidates if test(case, timeline[p])]
        memo[key] = found
    return found


def _scan(
    case: Case,
    moment: Moment,
    start: int,
    earliest: float | None,
    test: Predicate,
    types: Any,
    since: Predicate | None,
    since_types: Any,
) -> int:
    """The same count by walking the timeline (used outside an assessment)."""
    timeline = moment.timeline
    if since is not None:
        for position in range(moment.position, start - 1, -1):
            earlier = timeline[position]
            if (since_types is None or earlier.type in since_types) and since(case, earlier):
                start = position + 1
                break
    total = 0
    for earlier in timeline[start : moment.position + 1]:
        if types is not None and earlier.type not in types:
            continue
        if earliest is not None and earlier.stamp <= earliest:
            continue
        if test(case, earlier):
            total += 1
    return total


def _known_and_not(test: Predicate, get: Callable[[Case, Moment], Any]) -> Predicate:
    def check(case: CaseArg, moment: MomentArg) -> bool:
        return get(case, moment) is not None and not test(case, moment)

    return check


def _show(values: list[Any]) -> str:
    shown = [f"`{str(v).lower() if isinstance(v, bool) else v}`" for v in values]
    return shown[0] if len(shown) == 1 else "one of " + ", ".join(shown)


def _build_on_moment(
    op: Operator, name: str, attribute: str, values: list[Any], facts: frozenset[str]
) -> Compiled | None:
    """The commonest tests on a fact a `Moment` holds, reading the attribute in C.

    The same answers as `_build` with the fact's getter (None for the other operators).
    """
    read = attrgetter(attribute)
    if op is Operator.EQUALS and len(values) == 1:
        want = values[0]

        def equals(case: CaseArg, moment: MomentArg) -> bool:
            got = read(moment)
            return got is not None and got == want

        return Compiled(equals, f"{name} is {_show(values)}", facts)
    if op is Operator.IN:
        members = frozenset(values)

        def member(case: CaseArg, moment: MomentArg) -> bool:
            return read(moment) in members

        return Compiled(member, f"{name} is {_show(values)}", facts)
    if op in _NUMBER_WORDS:
        bound: int = values[0]
        relation, words = _RELATIONS[op], _NUMBER_WORDS[op]

        def numeric(case: CaseArg, moment: MomentArg) -> bool:
            got = read(moment)
            return got is not None and relation(got, bound)

        return Compiled(numeric, f"{name} {words} {bound}", facts)
    return None


def _build(
    op: Operator,
    name: str,
    get: Callable[[Case, Moment], Any],
    values: list[Any],
    facts: frozenset[str],
) -> Compiled:
    if op is Operator.EQUALS and len(values) == 1:
        want = values[0]

        def equals(case: CaseArg, moment: MomentArg) -> bool:
            got = get(case, moment)
            return got is not None and got == want

        return Compiled(equals, f"{name} is {_show(values)}", facts)
    if op in (Operator.IN, Operator.NOT_IN):
        members = frozenset(values)

        def member(case: CaseArg, moment: MomentArg) -> bool:
            return get(case, moment) in members

        if op is Operator.NOT_IN:
            return Compiled(_known_and_not(member, get), f"{name} not in {_show(values)}", facts)
        return Compiled(member, f"{name} is {_show(values)}", facts)
    if op in (Operator.CONTAINS, Operator.CONTAINS_ANY):
        wanted = frozenset(values)
        if op is Operator.CONTAINS:

            def holds_all(case: CaseArg, moment: MomentArg) -> bool:
                got = get(case, moment)
                return got is not None and wanted.issubset(got)

            return Compiled(holds_all, f"{name} include {_show(values)}", facts)

        def holds_any(case: CaseArg, moment: MomentArg) -> bool:
            got = get(case, moment)
            return got is not None and not wanted.isdisjoint(got)

        return Compiled(holds_any, f"{name} include {_show(values)}", facts)
    bound: int = values[0]
    relation, words = _RELATIONS[op], _NUMBER_WORDS[op]

    def numeric(case: CaseArg, moment: MomentArg) -> bool:
        got = get(case, moment)
        return got is not None and relation(got, bound)

    return Compiled(numeric, f"{name} {words} {bound}", facts)


def conjunction(tests: tuple[Predicate, ...]) -> Predicate:
    """A predicate true when every test is (the tests run in order, stopping at a false)."""

    def every(case: CaseArg, moment: MomentArg) -> bool:
        for test in tests:  # noqa: SIM110 - a plain loop is faster than all() on a generator
            if not test(case, moment):
                return False
        return True

    return every


def _all(parts: list[Compiled]) -> Compiled:
    flat: list[Compiled] = []
    for part in parts:
        if part is not ALWAYS:
            flat.extend(part.parts or (part,))
    if not flat:
        return ALWAYS
    if len(flat) == 1:
        return flat[0]
    every = conjunction(tuple(p.test for p in flat))
    constrained = [p.event_types for p in (*parts, *flat) if p.event_types is not None]
    types = frozenset.intersection(*constrained) if constrained else None
    return Compiled(
        every,
        " and ".join(_group(p.text) for p in flat),
        frozenset().union(*(p.facts for p in flat)),
        tuple(flat),
        types,
    )


def _any(parts: list[Compiled]) -> Compiled:
    if any(p is ALWAYS for p in parts):
        return ALWAYS
    tests = tuple(p.test for p in parts)

    def some(case: CaseArg, moment: MomentArg) -> bool:
        for test in tests:  # noqa: SIM110 - a plain loop is faster than any() on a generator
            if test(case, moment):
                return True
        return False

    types = None
    if all(p.event_types is not None for p in parts):
        types = frozenset().union(*(p.event_types or () for p in parts))
    return Compiled(
        some,
        " or ".join(_group(p.text) for p in parts),
        frozenset().union(*(p.facts for p in parts)),
        (),
        types,
    )


def _group(text: str) -> str:
    return f"({text})" if " and " in text or " or " in text else text
