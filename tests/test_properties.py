"""Invariants every pack must satisfy, checked on generated cases for every bundled pack.

The default `quick` hypothesis profile keeps this to seconds (CI runs `ci`, four times the
cases); run `HYPOTHESIS_PROFILE=nightly pytest tests/test_properties.py` for a thousand cases
per invariant and pack.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import failedcontact as fc
from failedcontact.pack.pipeline import run_pipeline
from failedcontact.source.locate import bundled_dir
from failedcontact.testing.strategies import case_and_as_of
from failedcontact.testing.verify import INVARIANTS

PACKS = {pack_id: fc.load_pack(pack_id) for pack_id in fc.bundled_ids()}
COOKBOOK = Path(__file__).resolve().parents[1] / "docs" / "cookbook"
# Recipes whose constructs the bundled packs do not all use: duties, clocks from actions.
RECIPES = {
    name: fc.load_pack(COOKBOOK / f"{name}.yaml")
    for name in ("visit_frequency", "deadline_from_action", "fact_at_as_of", "episodes")
}


@pytest.mark.parametrize("invariant", sorted(INVARIANTS))
@pytest.mark.parametrize("pack_id", sorted(PACKS))
@given(data=st.data())
def test_invariant_holds(pack_id: str, invariant: str, data: st.DataObject) -> None:
    pack = PACKS[pack_id]
    case, as_of = data.draw(case_and_as_of(pack, 25))
    assert INVARIANTS[invariant](pack, case, as_of) is None


@pytest.mark.parametrize("invariant", sorted(INVARIANTS))
@pytest.mark.parametrize("recipe", sorted(RECIPES))
@given(data=st.data())
def test_invariant_holds_on_cookbook_recipes(
    recipe: str, invariant: str, data: st.DataObject
) -> None:
    pack = RECIPES[recipe]
    case, as_of = data.draw(case_and_as_of(pack, 25))
    assert INVARIANTS[invariant](pack, case, as_of) is None


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=20,
)


@given(value=JSON)
def test_any_json_gives_a_case_or_a_case_error(value: Any) -> None:
    with contextlib.suppress(fc.CaseError):
        fc.parse_case(json.dumps(value))


@given(text=st.text(max_size=200))
def test_any_text_gives_a_case_or_a_case_error(text: str) -> None:
    with contextlib.suppress(fc.CaseError):
        fc.parse_case(text)


@given(data=st.data())
def test_mangled_cases_raise_only_case_errors(data: st.DataObject) -> None:
    pack = PACKS["suffolk"]
    case, as_of = data.draw(case_and_as_of(pack, 5))
    path = data.draw(st.sampled_from(["service", "child", "household", "flags", "events"]))
    case = {**case, path: data.draw(JSON)}
    with contextlib.suppress(fc.CaseError):
        pack.assess(case, as_of)


YAML_ATOMS = st.sampled_from(
    [
        "id",
        "rules",
        "when",
        "on",
        "- ",
        ": ",
        "{",
        "}",
        "[",
        "]",
        "\n",
        "  ",
        "plan",
        "failed_contacts",
        "1",
        "null",
        "!!x",
        "&a",
        "*a",
        "#",
        '"',
        "require",
        "actions",
        "risk",
    ]
)


@given(parts=st.lists(YAML_ATOMS, max_size=40))
def test_any_yaml_gives_a_pack_or_diagnostics(parts: list[str]) -> None:
    result = run_pipeline("".join(parts), "random.yaml")
    # either it loads, or it says why, at a real place in the file
    assert (result.compiled is None) == bool(result.errors)
    assert all(d.line >= 1 and d.column >= 1 for d in result.diagnostics)


@given(data=st.data())
def test_mutated_bundled_pack_gives_a_pack_or_diagnostics(data: st.DataObject) -> None:
    text = (bundled_dir() / "north_lincs.yaml").read_text(encoding="utf-8")
    lines = text.splitlines()
    for _ in range(data.draw(st.integers(1, 4))):
        index = data.draw(st.integers(0, len(lines) - 1))
        lines[index] = data.draw(
            st.sampled_from(
                ["", "  bogus: 1", "    - x", lines[index][::-1], lines[index].replace(":", "")]
            )
        )
    result = run_pipeline("\n".join(lines), "mutated.yaml")
    assert (result.compiled is None) == bool(result.errors)
    assert all(d.line >= 1 and d.column >= 1 for d in result.diagnostics)


def _scanning_classes() -> tuple[type, type]:
    """Moment and Summary whose memo is always None: every count scans the timeline."""
    from failedcontact.pack.facts import Moment, Summary

    class ScanMoment(Moment):
        __slots__ = ()
        memo = property(lambda self: None, lambda self, value: None)

    class ScanSummary(Summary):
        __slots__ = ()
        memo = property(lambda self: None, lambda self, value: None)

    return ScanMoment, ScanSummary


@pytest.mark.parametrize("pack_id", sorted(PACKS) + sorted(RECIPES))
@given(data=st.data())
def test_indexed_counts_give_the_same_assessment_as_scanning(
    pack_id: str, data: st.DataObject
) -> None:
    """Counts and their `since` parts are indexed once per assessment and shared between
    equal conditions; scanning the timeline at every moment must give the same answer."""
    from failedcontact.engine import evaluate as engine

    pack = PACKS.get(pack_id) or RECIPES[pack_id]
    case, as_of = data.draw(case_and_as_of(pack, 40))
    parsed = fc.parse_case(case)
    indexed = engine.evaluate(pack.compiled, parsed, as_of)
    scan_moment, scan_summary = _scanning_classes()
    with pytest.MonkeyPatch.context() as patched:
        patched.setattr(engine, "Moment", scan_moment)
        patched.setattr(engine, "Summary", scan_summary)
        scanned = engine.evaluate(pack.compiled, parsed, as_of)
    assert indexed == scanned
