"""A second, independent implementation of rule matching on durable-rules (optional extra).

The native engine matches rules with compiled closures. This backend lowers each rule's
trigger and condition into a generated durable-rules JSON ruleset, posts one event per moment
of the case (its facts computed natively), and reads back which rules matched. Everything
after matching (deadlines, statuses, risk, patterns, closure) is shared with the native
engine, so comparing the two backends checks the matching. `count` conditions are evaluated
natively and posted as facts: durable-rules has no notion of the earlier events.

durable-rules keeps rulesets in one process-wide host that cannot unregister them and is not
safe under concurrent use (see the project's notes): the host here runs no background
threads, every call holds one lock, each case uses its own session, deleted afterwards.
"""

from __future__ import annotations

import contextlib
import copy
import itertools
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..errors import BackendUnavailable
from ..model.case import Case
from ..pack.compiler import CompiledPack
from ..pack.conditions import ConditionCompiler, Predicate, fold_text, tree_of
from ..pack.facts import FACTS, Kind, Moment
from ..pack.tree import AllOf, AnyOf, Count, Node, Not, Operator, Test
from ..source.reader import Located, read_yaml

try:
    from durable import engine as _engine  # type: ignore[import-untyped]
except ImportError:  # the optional extra is not installed
    _engine = None

INSTALL_HINT = "the durable backend needs durable-rules: pip install 'failedcontact[durable]'"


def available() -> bool:
    """True when the optional durable-rules package is installed."""
    return _engine is not None


_LOCK = threading.Lock()
_STATE: dict[str, Any] = {"host": None, "rulesets": {}}
_SESSIONS = itertools.count(1)
_COMPARISONS = {
    Operator.AT_LEAST: "$gte",
    Operator.AT_MOST: "$lte",
    Operator.MORE_THAN: "$gt",
    Operator.LESS_THAN: "$lt",
}
_NEGATED = {"$gte": "$lt", "$lte": "$gt", "$gt": "$lte", "$lt": "$gte"}


@dataclass(slots=True)
class _Lowered:
    name: str
    definition: dict[str, Any]
    facts: tuple[str, ...]
    flags: dict[str, str]  # flag -> posted field
    counts: dict[str, Predicate]  # posted field -> native count test
    hits: set[tuple[int, int]]
    errors: list[BaseException]


class _Lowerer:
    """Lowers the pack's condition trees to durable-rules JSON expressions."""

    def __init__(self, pack: CompiledPack) -> None:
        self.pack = pack
        self.facts: set[str] = set()
        self.flags = {flag: f"flag_{i}" for i, flag in enumerate(sorted(pack.flags))}
        self.counts: dict[str, Predicate] = {}
        located = read_yaml("{}\n", "<durable>")
        assert isinstance(located, Located)
        document = pack.document
        self.compiler = ConditionCompiler(
            located,
            {
                "flags": tuple(document.flags),
                "failed_contact_kind": tuple(document.failed_contacts),
            },
            {
                k: frozenset(o.split(".", 1)[0] for o in v.outcomes)
                for k, v in document.failed_contacts.items()
            },
        )

    def condition(self, node: Node) -> dict[str, Any]:
        if isinstance(node, AllOf | AnyOf):
            parts = [self.condition(part) for part in node.parts]
            if len(parts) == 1:
                return parts[0]
            return {"$and" if isinstance(node, AllOf) else "$or": parts}
        if isinstance(node, Not):
            return _negate(self.condition(node.part))
        if isinstance(node, Count):
            # Counts are computed natively and posted as a field (not cross-checked).
            field = f"count_{len(self.counts)}"
            self.counts[field] = self.compiler.tree(node).test
            return {field: True}
        return self.test(node)

    def test(self, node: Test) -> dict[str, Any]:
        name, kind, op, values = node.fact.name, node.fact.kind, node.op, node.values
        if kind is Kind.SET:  # only `flags` is a set in rule conditions
            parts = [{self.flags[flag]: True} for flag in values]
            if len(parts) == 1:
                return parts[0]
            return {"$or" if op is Operator.CONTAINS_ANY else "$and": parts}
        self.facts.add(name)

        def norm(v: Any) -> Any:
            return fold_text(v) if kind is Kind.TEXT and isinstance(v, str) else v

        if op is Operator.IS_KNOWN:
            return {"$ex" if values[0] else "$nex": {name: 1}}
        if op is Operator.EQUALS:
            return {name: norm(values[0])}
        if op is Operator.IN:
            options = [{name: norm(v)} for v in values]
            return options[0] if len(options) == 1 else {"$or": options}
        if op is Operator.NOT_IN:
            return {"$and": [{"$ex": {name: 1}}, *({"$neq": {name: norm(v)}} for v in values)]}
        return {_COMPARISONS[op]: {name: values[0]}}

    def rule(self, index: int) -> dict[str, Any]:
        rule = self.pack.rules[index]
        triggers: list[dict[str, Any]] = [
            {"event": t} for t in sorted(rule.triggers) if t != "failed_contact"
        ]
        if "failed_contact" in rule.triggers:
            triggers.append({"failed_in_run": True})
        trigger = triggers[0] if len(triggers) == 1 else {"$or": triggers}
        tree = tree_of(rule.when)  # None only when the rule has no condition
        if tree is None:
            return trigger
        return {"$and": [trigger, self.condition(tree)]}


def _negate(expression: dict[str, Any]) -> dict[str, Any]:
    [(key, value)] = expression.items()
    if key == "$and":
        return {"$or": [_negate(part) for part in value]}
    if key == "$or":
        return {"$and": [_negate(part) for part in value]}
    if key == "$ex":
        return {"$nex": value}
    if key == "$nex":
        return {"$ex": value}
    if key == "$neq":
        return expression_eq(value)
    if key in _NEGATED:
        [(field, bound)] = value.items()
        return {"$or": [{"$nex": {field: 1}}, {_NEGATED[key]: {field: bound}}]}
    # plain equality: unknown, or known and different
    return {"$or": [{"$nex": {key: 1}}, {"$neq": {key: value}}]}


def expression_eq(value: dict[str, Any]) -> dict[str, Any]:
    """`$neq` negated: the field equals the value (so it is known)."""
    [(field, target)] = value.items()
    return {field: target}


def _lower(pack: CompiledPack) -> _Lowered:
    lowerer = _Lowerer(pack)
    document = pack.document
    safe = "".join(c if c.isalnum() else "_" for c in f"{document.id}_{document.version}")
    name = f"failedcontact_{safe}_{pack.digest.removeprefix('sha256:')[:16]}"
    lowered = _Lowered(name, {}, (), lowerer.flags, {}, set(), [])
    definition: dict[str, Any] = {}
    for index, rule in enumerate(pack.rules):
        expression = lowerer.rule(index)
        definition[f"r_{index}"] = {
            "all": [{"m": expression}],
            "run": _consequent(lowered, rule.order),
        }
    # Every fact must match some rule: deleting a session that holds a fact no rule matched
    # crashed the process (durable-rules 2.0.28, measured here), so one rule matches all.
    definition["every_moment"] = {"all": [{"m": {"$ex": {"pos": 1}}}], "run": _ignore}
    lowered.definition = definition
    lowered.facts = tuple(sorted(lowerer.facts))
    lowered.counts = lowerer.counts
    return lowered


def _ignore(c: Any) -> None:
    """The catch-all rule's consequent: nothing to record."""


def _consequent(lowered: _Lowered, order: int) -> Callable[[Any], None]:
    def run(c: Any) -> None:
        try:
            lowered.hits.add((int(c.m.pos), order))
        except BaseException as error:  # durable would keep it in the session state
            lowered.errors.append(error)

    return run


def _host() -> Any:
    if _STATE["host"] is None:

        class _QuietHost(_engine.Host):  # type: ignore[misc]
            def _run(self) -> None:
                """No background polling threads: they race the caller (see the notes)."""

        _STATE["host"] = _QuietHost()
    return _STATE["host"]


def _message(
    lowered: _Lowered, case: Case, moment: Moment, session: str, in_run: bool
) -> dict[str, Any]:
    message: dict[str, Any] = {
        "sid": session,
        "id": f"{session}.{moment.position}",
        "pos": moment.position,
        "event": moment.type,
        "failed_in_run": in_run,
    }
    for name in lowered.facts:
        value = FACTS[name].getter(case, moment)
        if value is None:
            continue
        if FACTS[name].kind is Kind.TEXT:
            value = fold_text(str(value))
        elif isinstance(value, str):
            value = str(value)  # enum members to plain text
        message[name] = value
    for flag, field in lowered.flags.items():
        message[field] = flag in case.flags
    for field, test in lowered.counts.items():
        message[field] = bool(test(case, moment))
    return message


def match(
    pack: CompiledPack, case: Case, moments: list[Moment], last_seen_position: int
) -> set[tuple[int, int]]:
    """Which rules each moment triggers, decided by durable-rules."""
    if _engine is None:
        raise BackendUnavailable(INSTALL_HINT)
    with _LOCK:
        host = _host()
        lowered = _STATE["rulesets"].get(pack.digest)
        if lowered is None:
            lowered = _lower(pack)
            # registering mutates the definition it is given: keep ours intact
            host.set_rulesets({lowered.name: copy.deepcopy(lowered.definition)})
            _STATE["rulesets"][pack.digest] = lowered
        session = f"s{next(_SESSIONS)}"
        _STATE["last_session"] = session
        lowered.hits, lowered.errors = set(), []
        try:
            for moment in moments:  # one at a time, in time order (post_batch reorders)
                in_run = moment.kind is not None  # every failed contact fires (contract 1.2)
                with contextlib.suppress(_engine.MessageNotHandledException):
                    host.assert_fact(lowered.name, _message(lowered, case, moment, session, in_run))
            if lowered.errors:
                raise lowered.errors[0]
            return set(lowered.hits)
        finally:
            if moments:  # a session exists only once something was asserted in it
                host.delete_state(lowered.name, session)
