"""Compile structured YAML conditions into closures, once, with located diagnostics."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from ..calendar import months_before
from ..case import Case
from ..errors import Diagnostic, did_you_mean, one_of
from ..vocabulary import AppointmentOutcome, CallOutcome, HomeVisitOutcome
from .facts import FACTS, Context, Fact, Getter, Kind, Moment
from .reader import Located, Path

Predicate = Callable[[Case, Moment], bool]

COMBINATORS = ("all", "any", "not", "count")
# history: every event so far (in a closure condition, the current episode's: contract 1.1);
# run: since the child was last seen; episode: since the current episode began;
# since_failed_contact: after the latest failed contact.
COUNT_SCOPES = ("history", "run", "episode", "since_failed_contact")
_WINDOW_UNITS = ("days", "months", "years")
_COUNT_BOUNDS = ("equals", "at_least", "at_most", "more_than", "less_than")
_DAY = 86400.0
OPERATORS: dict[str, str] = {
    "equals": "the fact equals the value (a bare value means the same)",
    "in": "the fact is one of the listed values",
    "not_in": "the fact is known and none of the listed values",
    "at_least": "a number fact is at least the value",
    "at_most": "a number fact is at most the value",
    "more_than": "a number fact is more than the value",
    "less_than": "a number fact is less than the value",
    "contains": "a set fact (flags, patterns) holds the value, or every listed value",
    "contains_any": "a set fact holds at least one of the listed values",
    "is_known": "the fact has a value (`true`) or has none (`false`)",
}
_FOR_KIND: dict[Kind, frozenset[str]] = {
    Kind.ENUM: frozenset({"equals", "in", "not_in", "is_known"}),
    Kind.TEXT: frozenset({"equals", "in", "not_in", "is_known"}),
    Kind.BOOL: frozenset({"equals", "is_known"}),
    Kind.INT: frozenset(
        {"equals", "in", "not_in", "at_least", "at_most", "more_than", "less_than", "is_known"}
    ),
    Kind.SET: frozenset({"contains", "contains_any"}),
}


_TYPE_OF_FACT: dict[str, frozenset[str]] = {
    "concern_level": frozenset({"concern"}),
    "channel": frozenset({"message"}),
    "action": frozenset({"action"}),
    "announced": frozenset({"home_visit"}),
    "referral_kind": frozenset({"referral"}),
    "new_plan": frozenset({"plan_change"}),
    "review_kind": frozenset({"review"}),
}
_OUTCOMES_OF: dict[str, frozenset[str]] = {
    "home_visit": frozenset(o.value for o in HomeVisitOutcome),
    "appointment": frozenset(o.value for o in AppointmentOutcome),
    "call": frozenset(o.value for o in CallOutcome),
}


_RELATIONS: dict[str, Callable[[int, int], bool]] = {
    "equals": lambda got, bound: got == bound,
    "at_least": lambda got, bound: got >= bound,
    "at_most": lambda got, bound: got <= bound,
    "more_than": lambda got, bound: got > bound,
    "less_than": lambda got, bound: got < bound,
}
_WORDS = {
    "equals": "exactly",
    "at_least": "at least",
    "at_most": "at most",
    "more_than": "more than",
    "less_than": "fewer than",
}


def fold_text(value: str) -> str:
    """Text as packs compare it: case and runs of white space ignored."""
    return " ".join(value.split()).casefold()


def _always(case: Case, moment: Moment) -> bool:
    return True


@dataclass(frozen=True, slots=True)
class Compiled:
    """A compiled condition: the closure, a plain-English description and the facts it reads."""

    test: Predicate
    text: str
    facts: frozenset[str] = frozenset()
    parts: tuple[Compiled, ...] = ()  # the conjuncts of an `all`, for splitting
    event_types: frozenset[str] | None = None  # only events of these types can match


ALWAYS = Compiled(_always, "always")


@dataclass(slots=True)
class ConditionCompiler:
    """Compiles conditions of one pack; pack-specific domains fill the open enums."""

    source: Located
    domains: Mapping[str, tuple[str, ...]]
    kind_types: Mapping[str, frozenset[str]] = field(default_factory=dict)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    # Static analysis compiles the same conditions against assignments of fact values.
    reader: Callable[[Fact], Getter] | None = None

    def compile(self, node: Any, path: Path, context: Context) -> Compiled:
        """Compile `node` found at `path`, recording every problem found."""
        if node is None:
            return ALWAYS
        return self._condition(node, tuple(path), context)

    def _error(
        self, code: str, message: str, path: Path, help: str | None = None, key: bool = False
    ) -> Compiled:
        self.diagnostics.append(self.source.diagnostic(code, message, path, help, key))
        return ALWAYS

    def _condition(self, node: Any, path: Path, context: Context) -> Compiled:
        if not isinstance(node, dict) or not node:
            return self._error(
                "pack.condition",
                "a condition must be a non-empty mapping of fact to test, or `all`, `any` or `not`",
                path,
            )
        parts = [self._entry(str(key), value, (*path, key), context) for key, value in node.items()]
        return _all(parts)

    def _entry(self, key: str, value: Any, path: Path, context: Context) -> Compiled:
        if key in ("all", "any"):
            if not isinstance(value, list) or not value:
                return self._error(
                    "pack.condition", f"`{key}` takes a non-empty list of conditions", path
                )
            parts = [self._condition(item, (*path, i), context) for i, item in enumerate(value)]
            return _all(parts) if key == "all" else _any(parts)
        if key == "not":
            inner = self._condition(value, path, context)
            test = inner.test

            def negated(case: Case, moment: Moment) -> bool:
                return not test(case, moment)

            return Compiled(negated, f"not ({inner.text})", inner.facts)
        if key == "count":
            return self._count(value, path, context)
        fact = FACTS.get(key)
        if fact is None:
            return self._error(
                "pack.unknown-fact",
                f"unknown fact `{key}`",
                path,
                did_you_mean(key, [*FACTS, *COMBINATORS])
                or "see the fact reference in docs/reference.md",
                key=True,
            )
        if context not in fact.contexts:
            where = ", ".join(sorted(c.value for c in fact.contexts))
            return self._error(
                "pack.fact-context",
                f"fact `{key}` cannot be used in a {context.value} condition",
                path,
                f"it is available in: {where}",
                key=True,
            )
        tests = value if isinstance(value, dict) else {"equals": value}
        if not tests:
            return self._error("pack.condition", f"fact `{key}` needs a test", path)
        leaf = _all(
            [
                self._test(fact, op, arg, (*path, op) if isinstance(value, dict) else path)
                for op, arg in tests.items()
            ]
        )
        if leaf is ALWAYS:
            return leaf
        types = self._event_types(fact, tests)
        return leaf if types is None else replace(leaf, event_types=types)

    def _event_types(self, fact: Fact, tests: dict[str, Any]) -> frozenset[str] | None:
        """Which event types a positive test on an event fact can match (None: any)."""
        fixed = _TYPE_OF_FACT.get(fact.name)
        if fixed is not None:
            return fixed
        values: list[Any] = []
        for op, arg in tests.items():
            if op == "equals":
                values.append(arg)
            elif op == "in" and isinstance(arg, list):
                values.extend(arg)
            else:
                return None
        if fact.name == "event":
            return frozenset(str(v) for v in values)
        if fact.name == "outcome":
            return frozenset(
                t for t, outcomes in _OUTCOMES_OF.items() for v in values if v in outcomes
            )
        if fact.name == "failed_contact" and values == [True]:
            return frozenset().union(*self.kind_types.values())
        if fact.name == "failed_contact_kind":
            return frozenset().union(*(self.kind_types.get(str(v), frozenset()) for v in values))
        return None

    def _count(self, value: Any, path: Path, context: Context) -> Compiled:
        """`count`: how many earlier events (up to the moment) match a selector."""
        if not isinstance(value, dict) or "of" not in value:
            return self._error(
                "pack.condition",
                "`count` takes a mapping with `of` (which events), a bound such as "
                "`at_least`, and optionally `scope` and `within_days` or `within`",
                path,
            )
        allowed = ("of", "scope", "within_days", "within", *_COUNT_BOUNDS)
        for key in value:
            if key not in allowed:
                return self._error(
                    "pack.unknown-operator",
                    f"unknown `count` key `{key}`",
                    (*path, key),
                    did_you_mean(str(key), allowed) or f"expected one of {one_of(allowed)}",
                    key=True,
                )
        select = self._condition(value["of"], (*path, "of"), Context.PATTERN)
        scope = value.get("scope", "history")
        if scope not in COUNT_SCOPES:
            return self._error(
                "pack.unknown-value",
                f"`{scope}` is not a count scope",
                (*path, "scope"),
                f"expected one of {one_of(COUNT_SCOPES)}",
            )
        days = value.get("within_days")
        if days is not None and not _positive(days):
            return self._error(
                "pack.condition-type", "`within_days` takes a whole number of days, at least 1",
                (*path, "within_days"),
            )  # fmt: skip
        months = None
        if "within" in value:
            window = value["within"]
            if (
                days is not None
                or not isinstance(window, dict)
                or len(window) != 1
                or next(iter(window)) not in _WINDOW_UNITS
                or not _positive(next(iter(window.values())))
            ):
                return self._error(
                    "pack.window",
                    "`within` takes one of `{days: N}`, `{months: N}` or `{years: N}` "
                    "(and replaces `within_days`)",
                    (*path, "within"),
                )
            unit, amount = next(iter(window.items()))
            if unit == "days":
                days = amount
            else:
                months = amount * 12 if unit == "years" else amount
        bounds = [(op, value[op]) for op in _COUNT_BOUNDS if op in value]
        if not bounds:
            return self._error(
                "pack.condition", "`count` needs a bound such as `at_least: 2`", path
            )
        for op, bound in bounds:
            if not isinstance(bound, int) or isinstance(bound, bool) or bound < 0:
                return self._error(
                    "pack.condition-type", f"`{op}` takes a whole number", (*path, op)
                )
        window = days * _DAY if days else None
        if scope == "history" and context is Context.CLOSURE:
            scope = "episode"  # closure answers for the current episode (contract 1.1)
        where = _SCOPE_WORDS[scope]
        within = f" within {days} days" if days else ""
        if months:
            within = (
                f" within {months // 12} calendar years"
                if months % 12 == 0
                else f" within {months} calendar months"
            )
        text = ", ".join(f"{_WORDS[op]} {bound}" for op, bound in bounds)
        description = f"events where {select.text}{where}{within} number {text}"
        if self.reader is not None:
            # Static analysis: a count depends on the history, so it is an unknown boolean.
            variable = f"count:{'.'.join(str(p) for p in path)}"

            def unknown(case: Case, assignment: Any) -> bool:
                return bool(assignment.get(variable))

            return Compiled(unknown, description, frozenset({variable}))
        test, types = select.test, select.event_types
        relations = tuple(_RELATIONS[op] for op, _ in bounds)
        limits = tuple(bound for _, bound in bounds)

        start_of = _SCOPE_START[scope]

        def counted(case: Case, moment: Moment) -> bool:
            start = start_of(moment)
            if window is not None:
                earliest: float | None = moment.stamp - window
            elif months is not None:
                earliest = months_before(moment.stamp, months)
            else:
                earliest = None
            total = 0
            for earlier in moment.timeline[start : moment.position + 1]:
                if types is not None and earlier.type not in types:
                    continue
                if earliest is not None and earlier.stamp <= earliest:
                    continue
                if test(case, earlier):
                    total += 1
            return all(rel(total, limit) for rel, limit in zip(relations, limits, strict=True))

        return Compiled(counted, description, select.facts | {"count"})

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
                "pack.condition-type", f"fact `{fact.name}` takes {expected}, not `{value}`", path
            )
            return False
        domain = self._domain(fact)
        if kind in (Kind.ENUM, Kind.SET) and domain is not None and value not in domain:
            self._error(
                "pack.unknown-value",
                f"`{value}` is not a value of `{fact.name}`",
                path,
                did_you_mean(value, domain) or f"expected one of {one_of(domain)}",
            )
            return False
        return True

    def _test(self, fact: Fact, op: str, arg: Any, path: Path) -> Compiled:
        if op not in OPERATORS:
            return self._error(
                "pack.unknown-operator",
                f"unknown operator `{op}`",
                path,
                did_you_mean(op, OPERATORS) or f"expected one of {one_of(OPERATORS)}",
                key=True,
            )
        if op not in _FOR_KIND[fact.kind]:
            return self._error(
                "pack.operator-type",
                f"operator `{op}` does not apply to `{fact.name}` ({fact.kind.value})",
                path,
                f"`{fact.name}` takes {one_of(sorted(_FOR_KIND[fact.kind]))}",
                key=True,
            )
        get = fact.getter if self.reader is None else self.reader(fact)
        name = fact.name
        facts = frozenset({name})
        if op == "is_known":
            if not isinstance(arg, bool):
                return self._error(
                    "pack.condition-type", "`is_known` takes `true` or `false`", path
                )
            want = arg

            def known(case: Case, moment: Moment) -> bool:
                return (get(case, moment) is not None) is want

            return Compiled(known, f"{name} is {'known' if want else 'unknown'}", facts)
        many = op in ("in", "not_in", "contains_any") or (
            op == "contains" and isinstance(arg, list)
        )
        values = arg if many else [arg]
        if many and (not isinstance(arg, list) or not arg):
            return self._error("pack.condition-type", f"`{op}` takes a non-empty list", path)
        if not all([self._check_value(fact, v, path) for v in values]):
            return ALWAYS
        if fact.kind is Kind.TEXT:
            folded = frozenset(fold_text(v) for v in values)

            def text_in(case: Case, moment: Moment) -> bool:
                got = get(case, moment)
                return got is not None and fold_text(got) in folded

            if op == "not_in":
                return Compiled(
                    _known_and_not(text_in, get), f"{name} not in {_show(values)}", facts
                )
            return Compiled(text_in, f"{name} is {_show(values)}", facts)
        return _build(op, name, get, values, arg, facts)


def _positive(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


_SCOPE_WORDS = {
    "history": "",
    "run": " in the current run",
    "episode": " in the current episode",
    "since_failed_contact": " since the latest failed contact",
}
_SCOPE_START: dict[str, Callable[[Moment], int]] = {
    "history": lambda moment: 0,
    "run": lambda moment: moment.run_start,
    "episode": lambda moment: moment.episode_start,
    "since_failed_contact": lambda moment: moment.failed_position + 1,
}


def _known_and_not(test: Predicate, get: Callable[[Case, Moment], Any]) -> Predicate:
    def check(case: Case, moment: Moment) -> bool:
        return get(case, moment) is not None and not test(case, moment)

    return check


def _show(values: list[Any]) -> str:
    shown = [f"`{str(v).lower() if isinstance(v, bool) else v}`" for v in values]
    return shown[0] if len(shown) == 1 else "one of " + ", ".join(shown)


def _build(
    op: str,
    name: str,
    get: Callable[[Case, Moment], Any],
    values: list[Any],
    arg: Any,
    facts: frozenset[str],
) -> Compiled:
    if op == "equals" and len(values) == 1:
        want = values[0]

        def equals(case: Case, moment: Moment) -> bool:
            got = get(case, moment)
            return got is not None and got == want

        return Compiled(equals, f"{name} is {_show(values)}", facts)
    if op in ("in", "not_in"):
        members = frozenset(values)

        def member(case: Case, moment: Moment) -> bool:
            return get(case, moment) in members

        if op == "not_in":
            return Compiled(_known_and_not(member, get), f"{name} not in {_show(values)}", facts)
        return Compiled(member, f"{name} is {_show(values)}", facts)
    if op in ("contains", "contains_any"):
        wanted = frozenset(values)
        if op == "contains":

            def holds_all(case: Case, moment: Moment) -> bool:
                got = get(case, moment)
                return got is not None and wanted.issubset(got)

            return Compiled(holds_all, f"{name} include {_show(values)}", facts)

        def holds_any(case: Case, moment: Moment) -> bool:
            got = get(case, moment)
            return got is not None and not wanted.isdisjoint(got)

        return Compiled(holds_any, f"{name} include {_show(values)}", facts)
    bound: int = arg
    compare: dict[str, tuple[Callable[[int, int], bool], str]] = {
        "at_least": (lambda got, b: got >= b, "at least"),
        "at_most": (lambda got, b: got <= b, "at most"),
        "more_than": (lambda got, b: got > b, "more than"),
        "less_than": (lambda got, b: got < b, "less than"),
    }
    relation, words = compare[op]

    def numeric(case: Case, moment: Moment) -> bool:
        got = get(case, moment)
        return got is not None and relation(got, bound)

    return Compiled(numeric, f"{name} {words} {bound}", facts)


def conjunction(tests: tuple[Predicate, ...]) -> Predicate:
    """A predicate true when every test is (the tests run in order, stopping at a false)."""

    def every(case: Case, moment: Moment) -> bool:
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

    def some(case: Case, moment: Moment) -> bool:
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
