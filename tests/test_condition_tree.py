"""Conditions are parsed once into typed nodes; every other module is a visitor over them."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

import failedcontact as fc
from failedcontact.engine import durable
from failedcontact.pack import tree as nodes
from failedcontact.pack.compiler import CompiledPack
from failedcontact.pack.conditions import ALWAYS, Compiled, tree_of
from failedcontact.pack.facts import Context
from failedcontact.pack.tree import (
    AllOf,
    AnyOf,
    ConditionParser,
    Count,
    Not,
    Operator,
    Scope,
    constants,
    uses_count,
    walk,
)
from failedcontact.source.reader import Located, read_yaml
from failedcontact.views.describe import describer_for

from .conftest import ROOT

SRC = Path(fc.__file__).resolve().parent
PARSER = SRC / "pack" / "tree.py"
# Reading a condition as YAML data: indexing or probing its keys, or asking if it is a dict.
_CONDITION_KEYS = r"(all|any|not|count|of|scope|within|within_days|first|next|then)"
RAW_ACCESS = [
    re.compile(rf"\[\s*[\"']{_CONDITION_KEYS}[\"']\s*\]"),
    re.compile(rf"\.get\(\s*[\"']{_CONDITION_KEYS}[\"']"),
    re.compile(rf"[\"']{_CONDITION_KEYS}[\"']\s+(not\s+)?in\s"),
    re.compile(rf"\bin\s*\(\s*[\"']{_CONDITION_KEYS}[\"']"),
    re.compile(r"\{\s*[\"'](not|count|of)[\"']\s*:"),  # building one to re-parse
]
# Modules that handle conditions in any form must not even test for a raw mapping.
CONDITION_MODULES = ["conditions", "compiler", "analysis", "diff", "durable", "engine",
                     "strategies", "verify"]  # fmt: skip


def _modules() -> list[Path]:
    return sorted(p for p in SRC.rglob("*.py") if p != PARSER)


@pytest.mark.parametrize("module", _modules(), ids=lambda p: str(p.relative_to(SRC)))
def test_no_module_but_the_parser_reads_a_condition_mapping(module: Path) -> None:
    text = module.read_text(encoding="utf-8")
    found = [m.group(0) for pattern in RAW_ACCESS for m in pattern.finditer(text)]
    if module.stem in CONDITION_MODULES:
        found += re.findall(r"isinstance\([^)]*,\s*dict\)", text)
    assert not found, f"{module.name} reads raw condition data: {found}"


def test_the_grep_would_catch_the_old_walkers() -> None:
    # lines of the walkers this module replaced (analysis, durable, the compiler)
    old = [
        'if key in ("all", "any"):',
        'mentioned_values(value.get("of"), found)',
        'return "count" in node or any(_uses_count(v) for v in node.values())',
        'self.compiler.compile({"count": value}, (), Context.RULE)',
        'select = self._condition(value["of"], (*path, "of"), Context.PATTERN)',
    ]
    caught = [line for line in old if any(p.search(line) for p in RAW_ACCESS)]
    assert caught == old


YAML = """\
when:
  all:
    - failed_contacts: {at_least: 2}
    - any:
        - plan: {in: [child_in_need, child_protection]}
        - not: {landlord: Ongo Homes}
    - count: {of: {event: call, outcome: no_answer}, at_least: 3, within: {months: 6}}
"""


def _parse(text: str = YAML, context: Context = Context.RULE) -> tuple[object, Located]:
    source = read_yaml(text, "demo.yaml")
    assert isinstance(source, Located)
    parser = ConditionParser(source, {})
    tree = parser.parse(source.data["when"], ("when",), context)
    assert not parser.diagnostics, [d.render() for d in parser.diagnostics]
    return tree, source


def test_parse_gives_typed_frozen_nodes_with_locations() -> None:
    tree, source = _parse()
    assert isinstance(tree, AllOf)
    first, either, count = tree.parts
    assert isinstance(first, nodes.Test)
    assert (first.fact.name, first.op, first.values) == ("failed_contacts", Operator.AT_LEAST, (2,))
    assert isinstance(either, AnyOf) and isinstance(either.parts[1], Not)
    assert isinstance(count, Count)
    assert (count.scope, count.months, count.days) == (Scope.HISTORY, 6, None)
    # every node knows where it was written: the `count` is on line 7
    assert source.where_key(count.path)[0] == 7
    landlord = either.parts[1].part
    assert isinstance(landlord, nodes.Test) and source.where(landlord.path)[0] == 6
    with pytest.raises(dataclasses.FrozenInstanceError):
        first.values = (3,)  # type: ignore[misc]


def test_visitors_walk_constants_and_counts() -> None:
    tree, _ = _parse()
    kinds = [type(node).__name__ for node in walk(tree)]  # type: ignore[arg-type]
    assert kinds.count("Test") == 5 and kinds[0] == "AllOf"
    found: dict[str, set[object]] = {}
    constants(tree, found)  # type: ignore[arg-type]
    assert found["plan"] == {"child_in_need", "child_protection"}
    assert found["landlord"] == {"Ongo Homes"}
    assert found["outcome"] == {"no_answer"}
    assert uses_count(tree)  # type: ignore[arg-type]


def test_history_scope_means_the_episode_in_a_closure_condition() -> None:
    text = "when: {count: {of: {event: call}, at_least: 1}}\n"
    rule_tree, _ = _parse(text, Context.RULE)
    closure_tree, _ = _parse(text, Context.CLOSURE)
    assert isinstance(rule_tree, Count) and rule_tree.scope is Scope.HISTORY
    assert isinstance(closure_tree, Count) and closure_tree.scope is Scope.EPISODE


PACKS = [*fc.bundled_ids(), *(str(p) for p in sorted((ROOT / "docs" / "cookbook").glob("*.yaml")))]


def _held(pack: CompiledPack) -> list[tuple[str, Compiled | None, object]]:
    """Every condition the compiled objects hold: (what, the condition, as written)."""
    doc = pack.document
    held: list[tuple[str, Compiled | None, object]] = []
    for rule, rule_spec in zip(pack.rules, doc.rules, strict=True):
        held.append((f"rule {rule.id}", rule.when, rule_spec.when))
    for risk, risk_spec in zip(pack.risk, doc.risk.rules, strict=True):
        held.append((risk.id, risk.when, risk_spec.when))
    for duty, duty_spec in zip(pack.duties, doc.duties, strict=True):
        held.append((f"duty {duty.id}.when", duty.when, duty_spec.when))
        held.append((f"duty {duty.id}.starts", duty.starts, duty_spec.starts))
        held.append((f"duty {duty.id}.by", duty.by, duty_spec.by))
    for pattern in pack.patterns:
        # what a pattern of its kind needs is required by the schema: present is written
        for part in (pattern.select, pattern.next, pattern.then):
            held.append((f"pattern {pattern.id}", part, part))
    closing = doc.closure.requires if doc.closure else ()
    for closure, closure_spec in zip(pack.closure or (), closing, strict=True):
        held.append((f"closure {closure.id}", closure.when, closure_spec.when))
    requirements = [r for rule in pack.rules for r in rule.requires]
    for requirement in requirements + [d.requirement for d in pack.duties]:
        evidence = doc.actions[requirement.action].completed_by
        held.append((f"{requirement.action}.completed_by", requirement.completed_by, evidence))
    return held


@pytest.mark.parametrize("path", PACKS, ids=lambda p: Path(p).name)
def test_every_compiled_condition_holds_its_tree(path: str) -> None:
    pack = fc.load_pack(path).compiled
    held = _held(pack)
    for what, condition, written in held:
        if written is None:
            assert condition is None or condition is ALWAYS, what
            continue
        assert condition is not None and condition is not ALWAYS, what
        assert condition.tree is not None, f"{what} has no tree"
        assert tree_of(condition) is condition.tree
    # the pack's list of conditions is the objects themselves, each with its tree
    listed = {id(c) for _, c in pack.conditions}
    assert {id(c) for _, c, w in held if w is not None} <= listed
    assert all(c.tree is not None for _, c in pack.conditions)
    assert pack.trees == {p: c.tree for p, c in pack.conditions}


@pytest.mark.parametrize("path", PACKS, ids=lambda p: Path(p).name)
def test_a_rule_with_a_condition_is_never_described_or_lowered_as_always(path: str) -> None:
    pack = fc.load_pack(path).compiled
    describer = describer_for(pack.document)
    lowerer = durable._Lowerer(pack)
    for index, (rule, written) in enumerate(zip(pack.rules, pack.document.rules, strict=True)):
        lowered = lowerer.rule(index)
        if written.when is None:
            assert describer.condition(rule.when) == "always"
            continue
        assert describer.condition(rule.when) != "always", rule.id
        assert "$and" in lowered and len(lowered["$and"]) == 2, rule.id


def test_a_condition_without_its_tree_is_refused_not_read_as_always() -> None:
    pack = fc.load_pack("suffolk").compiled
    index = next(i for i, r in enumerate(pack.rules) if r.when is not ALWAYS)
    rule = pack.rules[index]
    bare = dataclasses.replace(rule, when=dataclasses.replace(rule.when, tree=None))
    broken = dataclasses.replace(pack, rules=(*pack.rules[:index], bare, *pack.rules[index + 1 :]))
    with pytest.raises(ValueError, match="without its tree"):
        describer_for(pack.document).condition(bare.when)
    with pytest.raises(ValueError, match="without its tree"):
        durable._Lowerer(broken).rule(index)
    assert tree_of(ALWAYS) is None
