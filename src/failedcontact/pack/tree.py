"""Parse pack conditions once into frozen, typed nodes that carry their source location.

This is the only module that reads a condition as YAML data. Compiling to closures, static
analysis, the durable-rules lowering, descriptions, `diff` and the values strategies draw
from are all visitors over the nodes defined here.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from ..codes import Code
from ..errors import Diagnostic, did_you_mean, one_of
from ..model.vocabulary import OUTCOMES_BY_EVENT
from ..source.reader import Located, Path
from .facts import FACTS, Context, Fact, Kind


class Operator(StrEnum):
    """How a fact is tested."""

    EQUALS = "equals"
    IN = "in"
    NOT_IN = "not_in"
    AT_LEAST = "at_least"
    AT_MOST = "at_most"
    MORE_THAN = "more_than"
    LESS_THAN = "less_than"
    CONTAINS = "contains"
    CONTAINS_ANY = "contains_any"
    IS_KNOWN = "is_known"


OPERATORS: dict[Operator, str] = {
    Operator.EQUALS: "the fact equals the value (a bare value means the same)",
    Operator.IN: "the fact is one of the listed values",
    Operator.NOT_IN: "the fact is known and none of the listed values",
    Operator.AT_LEAST: "a number fact is at least the value",
    Operator.AT_MOST: "a number fact is at most the value",
    Operator.MORE_THAN: "a number fact is more than the value",
    Operator.LESS_THAN: "a number fact is less than the value",
    Operator.CONTAINS: "a set fact (flags, patterns) holds the value, or every listed value",
    Operator.CONTAINS_ANY: "a set fact holds at least one of the listed values",
    Operator.IS_KNOWN: "the fact has a value (`true`) or has none (`false`)",
}
_FOR_KIND: dict[Kind, frozenset[Operator]] = {
    Kind.ENUM: frozenset({Operator.EQUALS, Operator.IN, Operator.NOT_IN, Operator.IS_KNOWN}),
    Kind.TEXT: frozenset({Operator.EQUALS, Operator.IN, Operator.NOT_IN, Operator.IS_KNOWN}),
    Kind.BOOL: frozenset({Operator.EQUALS, Operator.IS_KNOWN}),
    Kind.INT: frozenset(set(Operator) - {Operator.CONTAINS, Operator.CONTAINS_ANY}),
    Kind.SET: frozenset({Operator.CONTAINS, Operator.CONTAINS_ANY}),
}
_MANY = frozenset({Operator.IN, Operator.NOT_IN, Operator.CONTAINS_ANY})
# Relations a `count` may bound its total with.
COUNT_BOUNDS = (
    Operator.EQUALS,
    Operator.AT_LEAST,
    Operator.AT_MOST,
    Operator.MORE_THAN,
    Operator.LESS_THAN,
)


class Scope(StrEnum):
    """Which events a `count` looks at, up to the moment evaluated."""

    HISTORY = "history"  # every event so far (in a closure condition, the episode's)
    RUN = "run"  # since the child was last seen
    EPISODE = "episode"  # since the current episode began
    SINCE_FAILED_CONTACT = "since_failed_contact"  # after the latest failed contact


COMBINATORS = ("all", "any", "not", "count")
_WINDOW_UNITS = ("days", "months", "years")


@dataclass(frozen=True, slots=True)
class Test:
    """A fact tested with one operator; `values` are the operands as written."""

    fact: Fact
    op: Operator
    values: tuple[Any, ...]
    listed: bool  # the operand was written as a list (`contains: [a, b]`)
    path: Path


@dataclass(frozen=True, slots=True)
class AllOf:
    """Every part holds (a mapping's keys, or `all`)."""

    parts: tuple[Node, ...]
    path: Path


@dataclass(frozen=True, slots=True)
class AnyOf:
    """At least one part holds (`any`)."""

    parts: tuple[Node, ...]
    path: Path


@dataclass(frozen=True, slots=True)
class Not:
    """The part does not hold (`not`)."""

    part: Node
    path: Path


@dataclass(frozen=True, slots=True)
class Count:
    """How many events in a scope and window, up to the moment, match `of`."""

    of: Node
    bounds: tuple[tuple[Operator, int], ...]
    scope: Scope
    days: int | None
    months: int | None
    path: Path
    # In a closure condition every count stays inside the current episode (contract 1.1).
    in_episode: bool = False
    # Only events after the latest event matching this (up to the moment) are counted.
    since: Node | None = None


Node = Test | AllOf | AnyOf | Not | Count


def shape(node: Node) -> tuple[Any, ...]:
    """A condition's meaning without its place in the file: equal for equal conditions."""
    if isinstance(node, Test):
        return ("test", node.fact.name, node.op, node.values)
    if isinstance(node, AllOf | AnyOf):
        return (type(node).__name__, tuple(shape(part) for part in node.parts))
    if isinstance(node, Not):
        return ("not", shape(node.part))
    since = shape(node.since) if node.since is not None else None
    return ("count", shape(node.of), node.bounds, node.scope, node.days, node.months,
            node.in_episode, since)  # fmt: skip


def walk(node: Node | None) -> Iterator[Node]:
    """Every node of a tree, parents before children."""
    if node is None:
        return
    yield node
    if isinstance(node, AllOf | AnyOf):
        for part in node.parts:
            yield from walk(part)
    elif isinstance(node, Not):
        yield from walk(node.part)
    elif isinstance(node, Count):
        yield from walk(node.of)
        yield from walk(node.since)


def constants(node: Node | None, found: dict[str, set[Any]]) -> None:
    """Collect the values each fact is compared with anywhere in a tree."""
    for part in walk(node):
        if isinstance(part, Test) and part.op is not Operator.IS_KNOWN:
            found.setdefault(part.fact.name, set()).update(part.values)


def uses_count(node: Node | None) -> bool:
    """Whether a tree counts events (static analysis treats a count as unknown)."""
    return any(isinstance(part, Count) for part in walk(node))


def event_types(node: Test, kind_types: Mapping[str, frozenset[str]]) -> frozenset[str] | None:
    """Which event types a positive test on an event fact can match (None: any).

    `kind_types` names the event types each of the pack's failed-contact kinds counts.
    """
    name = node.fact.name
    owner = node.fact.event_type
    if owner is not None:
        # Only that event type has the fact; `is_known: false` holds on every other.
        unknown = node.op is Operator.IS_KNOWN and node.values == (False,)
        return None if unknown else frozenset({owner})
    if node.op not in (Operator.EQUALS, Operator.IN):
        return None
    values = node.values
    if name == "event":
        return frozenset(str(v) for v in values)
    if name == "outcome":
        return frozenset(
            t for t, outcomes in OUTCOMES_BY_EVENT.items() for v in values if v in outcomes
        )
    if name == "failed_contact" and values == (True,):
        return frozenset().union(*kind_types.values())
    if name == "failed_contact_kind":
        return frozenset().union(*(kind_types.get(str(v), frozenset()) for v in values))
    return None


@dataclass(slots=True)
class ConditionParser:
    """Parses one pack's conditions; pack-specific domains fill the open enums."""

    source: Located
    domains: Mapping[str, tuple[str, ...]]
    diagnostics: list[Diagnostic] = field(default_factory=list)

    def parse(self, node: Any, path: Path, context: Context) -> Node | None:
        """Parse `node` found at `path`; None for an absent condition or one with errors."""
        if node is None:
            return None
        before = len(self.diagnostics)
        tree = self._condition(node, tuple(path), context)
        return tree if len(self.diagnostics) == before else None

    def _error(
        self, code: str, message: str, path: Path, help: str | None = None, key: bool = False
    ) -> None:
        self.diagnostics.append(self.source.diagnostic(code, message, path, help, key))

    def _condition(self, node: Any, path: Path, context: Context) -> Node | None:
        if not isinstance(node, dict) or not node:
            self._error(
                Code.PACK_CONDITION,
                "a condition must be a non-empty mapping of fact to test, or `all`, `any` or `not`",
                path,
            )
            return None
        parts = [self._entry(str(key), value, (*path, key), context) for key, value in node.items()]
        return _join(parts, path)

    def _entry(self, key: str, value: Any, path: Path, context: Context) -> Node | None:
        if key in ("all", "any"):
            if not isinstance(value, list) or not value:
                self._error(
                    Code.PACK_CONDITION, f"`{key}` takes a non-empty list of conditions", path
                )
                return None
            parts = [self._condition(item, (*path, i), context) for i, item in enumerate(value)]
            if any(p is None for p in parts):
                return None
            kept = tuple(p for p in parts if p is not None)
            return AllOf(kept, path) if key == "all" else AnyOf(kept, path)
        if key == "not":
            inner = self._condition(value, path, context)
            return None if inner is None else Not(inner, path)
        if key == "count":
            return self._count(value, path, context)
        fact = FACTS.get(key)
        if fact is None:
            self._error(
                Code.PACK_UNKNOWN_FACT,
                f"unknown fact `{key}`",
                path,
                did_you_mean(key, [*FACTS, *COMBINATORS])
                or "see the fact reference in docs/reference.md",
                key=True,
            )
            return None
        if context not in fact.contexts:
            places = [_CONTEXT_PLACES[c] for c in Context if c in fact.contexts]
            where = " or ".join([", ".join(places[:-1]), places[-1]] if len(places) > 1 else places)
            self._error(
                Code.PACK_FACT_CONTEXT,
                f"fact `{key}` cannot be used in {_context_words(context, path)}",
                path,
                f"`{key}` can be used in {where}",
                key=True,
            )
            return None
        tests = value if isinstance(value, dict) else {"equals": value}
        if not tests:
            self._error(Code.PACK_CONDITION, f"fact `{key}` needs a test", path)
            return None
        parts = [
            self._test(fact, str(op), arg, (*path, op) if isinstance(value, dict) else path)
            for op, arg in tests.items()
        ]
        return _join(parts, path)

    def _count(self, value: Any, path: Path, context: Context) -> Node | None:
        if not self._count_keys(value, path):
            return None
        select = self._condition(value["of"], (*path, "of"), Context.PATTERN)
        since = (
            self._condition(value["since"], (*path, "since"), Context.PATTERN)
            if "since" in value
            else None
        )
        if "since" in value and since is None:
            return None
        scope = self._count_scope(value, path, context)
        if scope is None:
            return None
        window = self._count_window(value, path)
        if window is None:
            return None
        days, months = window
        bounds = self._count_bounds(value, path)
        if bounds is None or select is None:
            return None
        in_episode = context is Context.CLOSURE
        return Count(select, bounds, scope, days, months, path, in_episode, since)

    def _count_keys(self, value: Any, path: Path) -> bool:
        """Whether `count` is a mapping with `of` and only keys it knows (else say why)."""
        if not isinstance(value, dict) or "of" not in value:
            self._error(
                Code.PACK_CONDITION,
                "`count` takes a mapping with `of` (which events), a bound such as "
                "`at_least`, and optionally `scope`, `since` and `within_days` or `within`",
                path,
            )
            return False
        allowed = ("of", "scope", "since", "within_days", "within", *COUNT_BOUNDS)
        for key in value:
            if key not in allowed:
                self._error(
                    Code.PACK_UNKNOWN_OPERATOR,
                    f"unknown `count` key `{key}`",
                    (*path, key),
                    did_you_mean(str(key), allowed) or f"expected one of {one_of(allowed)}",
                    key=True,
                )
                return False
        return True

    def _count_scope(self, value: dict[str, Any], path: Path, context: Context) -> Scope | None:
        scope_text = value.get("scope", "history")
        if scope_text not in tuple(Scope):
            self._error(
                Code.PACK_UNKNOWN_VALUE,
                f"`{scope_text}` is not a count scope",
                (*path, "scope"),
                did_you_mean(str(scope_text), tuple(Scope))
                or f"expected one of {one_of(tuple(Scope))}",
            )
            return None
        scope = Scope(scope_text)
        if scope is Scope.HISTORY and context is Context.CLOSURE:
            scope = Scope.EPISODE  # closure answers for the current episode (contract 1.1)
        return scope

    def _count_window(
        self, value: dict[str, Any], path: Path
    ) -> tuple[int | None, int | None] | None:
        """The count's window as (days, calendar months), either or both None; None if bad."""
        days = value.get("within_days")
        if days is not None and not _positive(days):
            self._error(
                Code.PACK_CONDITION_TYPE,
                "`within_days` takes a whole number of days, at least 1",
                (*path, "within_days"),
            )
            return None
        if "within" not in value:
            return days, None
        window = value["within"]
        if (
            days is not None
            or not isinstance(window, dict)
            or len(window) != 1
            or next(iter(window)) not in _WINDOW_UNITS
            or not _positive(next(iter(window.values())))
        ):
            self._error(
                Code.PACK_WINDOW,
                "`within` takes one of `{days: N}`, `{months: N}` or `{years: N}` "
                "(and replaces `within_days`)",
                (*path, "within"),
            )
            return None
        unit, amount = next(iter(window.items()))
        if unit == "days":
            return amount, None
        return None, amount * 12 if unit == "years" else amount

    def _count_bounds(
        self, value: dict[str, Any], path: Path
    ) -> tuple[tuple[Operator, int], ...] | None:
        bounds = tuple((Operator(op), value[op]) for op in COUNT_BOUNDS if op in value)
        if not bounds:
            self._error(Code.PACK_CONDITION, "`count` needs a bound such as `at_least: 2`", path)
            return None
        for op, bound in bounds:
            if not isinstance(bound, int) or isinstance(bound, bool) or bound < 0:
                self._error(Code.PACK_CONDITION_TYPE, f"`{op}` takes a whole number", (*path, op))
                return None
        return bounds

    def _domain(self, fact: Fact) -> tuple[str, ...] | None:
        return self.domains.get(fact.name, fact.domain)

    def _check_value(self, fact: Fact, value: Any, path: Path) -> bool:
        kind = fact.kind
        if kind is Kind.BOOL:
            ok = isinstance(value, bool)
            expected = "`true` or `false`"
        elif kind is Kind.INT:
            ok = isinstance(value, int) and not isinstance(value, bool)
            expected = "a whole number"
        else:
            ok = isinstance(value, str)
            expected = "text"
        if not ok:
            self._error(
                Code.PACK_CONDITION_TYPE,
                f"fact `{fact.name}` takes {expected}, not `{value}`",
                path,
            )
            return False
        domain = self._domain(fact)
        if kind in (Kind.ENUM, Kind.SET) and domain is not None and value not in domain:
            self._error(
                Code.PACK_UNKNOWN_VALUE,
                f"`{value}` is not a value of `{fact.name}`",
                path,
                did_you_mean(value, domain) or f"expected one of {one_of(domain)}",
            )
            return False
        return True

    def _test(self, fact: Fact, op_text: str, arg: Any, path: Path) -> Node | None:
        if op_text not in tuple(Operator):
            self._error(
                Code.PACK_UNKNOWN_OPERATOR,
                f"unknown operator `{op_text}`",
                path,
                did_you_mean(op_text, tuple(Operator)) or f"expected one of {one_of(OPERATORS)}",
                key=True,
            )
            return None
        op = Operator(op_text)
        allowed = _FOR_KIND[fact.kind]
        if op not in allowed:
            self._error(
                Code.PACK_OPERATOR_TYPE,
                f"operator `{op}` does not apply to `{fact.name}` ({fact.kind.value})",
                path,
                f"`{fact.name}` takes {one_of(sorted(o.value for o in allowed))}",
                key=True,
            )
            return None
        if op is Operator.IS_KNOWN:
            if not isinstance(arg, bool):
                self._error(Code.PACK_CONDITION_TYPE, "`is_known` takes `true` or `false`", path)
                return None
            return Test(fact, op, (arg,), False, path)
        listed = op in _MANY or (op is Operator.CONTAINS and isinstance(arg, list))
        if listed and (not isinstance(arg, list) or not arg):
            self._error(Code.PACK_CONDITION_TYPE, f"`{op}` takes a non-empty list", path)
            return None
        values = tuple(arg) if listed else (arg,)
        if not all([self._check_value(fact, v, path) for v in values]):
            return None
        return Test(fact, op, values, listed, path)


def _positive(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def _join(parts: list[Node | None], path: Path) -> Node | None:
    if any(p is None for p in parts):
        return None
    kept = tuple(p for p in parts if p is not None)
    return kept[0] if len(kept) == 1 else AllOf(kept, path)


# Where a condition is written, in a policy lead's words: for "cannot be used in ..." and
# "can be used in ..." (a duty's `by` is tested against one event at a time, as a pattern is).
_CONTEXT_PLACES = {
    Context.RULE: "a rule's `when`",
    Context.PATTERN: "conditions on one event (patterns, a `count`'s `of`, a duty's `starts` "
    "and `by`, `completed_by`)",
    Context.RISK: "risk rules",
    Context.CLOSURE: "closure conditions",
    Context.AS_OF: "a rule on `as_of`",
    Context.DUTY: "a duty's `when`",
}
_SECTION_WORDS = {
    "rules": "a rule's `when`",
    "patterns": "a pattern",
    "actions": "an action's `completed_by`",
    "risk": "a risk rule",
    "closure": "a closure condition",
}


def _context_words(context: Context, path: Path) -> str:
    """Where the condition at `path` is written: `a duty's `by``, `a count's `of``..."""
    for part in ("of", "since"):
        if part in path:
            return f"a `count`'s `{part}`, which tests one event at a time"
    if context is Context.AS_OF:
        return "a rule on `as_of`, which has no event"
    if path and path[0] == "duties" and len(path) > 2:
        return f"a duty's `{path[2]}`, which tests one event at a time"
    if path and str(path[0]) in _SECTION_WORDS:
        return _SECTION_WORDS[str(path[0])]
    return f"{_a(context.value)} condition"


def _a(word: str) -> str:
    """`a rule`, `an as_of`: the article a context's name takes in a message."""
    return f"an {word}" if word[:1] in "aeiou" else f"a {word}"
