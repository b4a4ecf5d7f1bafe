"""Conditions are parsed once into typed nodes; every other module is a visitor over them."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

import failedcontact as fc
from failedcontact.pack import tree as nodes
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


def test_the_compiled_pack_keeps_every_condition_tree() -> None:
    pack = fc.load_pack("suffolk")
    document = pack.document
    paths = set(pack.compiled.trees)
    assert {("rules", i, "when") for i, r in enumerate(document.rules) if r.when} <= paths
    assert closure_paths(document) <= paths


def closure_paths(document: object) -> set[tuple[object, ...]]:
    closure = getattr(document, "closure", None)
    if closure is None:
        return set()
    return {("closure", "requires", i, "when") for i in range(len(closure.requires))}
