"""Small things that bite (issue 31): a readable `Pack` repr, and `as_of` as text or naive."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

import failedcontact as fc

from .conftest import ROOT

CASE = (ROOT / "examples" / "second_no_access.json").read_text(encoding="utf-8")


def test_a_packs_repr_names_the_release_and_is_short(north_lincs: fc.Pack) -> None:
    text = repr(north_lincs)
    assert len(text) < 300
    assert text.startswith(
        f"Pack(id='north_lincs', version='{north_lincs.version}', digest='sha256:"
    )


def test_as_of_may_be_iso_text(north_lincs: fc.Pack) -> None:
    aware = datetime(2026, 11, 25, 9, tzinfo=UTC)
    want = north_lincs.assess_json(CASE, aware)
    assert north_lincs.assess_json(CASE, "2026-11-25T09:00:00+00:00") == want  # type: ignore[arg-type]
    assert north_lincs.assess_json(CASE, "2026-11-25T09:00:00") == want  # type: ignore[arg-type]
    with pytest.raises(fc.CaseError, match="as_of: expected an ISO 8601"):
        north_lincs.assess_json(CASE, "next tuesday")  # type: ignore[arg-type]


def test_a_naive_as_of_is_uk_local_time_as_documented(north_lincs: fc.Pack) -> None:
    summer = datetime(2026, 7, 1, 9)
    local = summer.replace(tzinfo=ZoneInfo("Europe/London"))
    assert north_lincs.assess_json(CASE, summer) == north_lincs.assess_json(CASE, local)
    contract = (ROOT / "docs" / "contract.md").read_text(encoding="utf-8")
    assert "a naive\n`as_of` is read as UK local time" in contract


def test_the_contract_docs_example_has_todays_contract_and_fields(north_lincs: fc.Pack) -> None:
    import json

    text = (ROOT / "docs" / "contract.md").read_text(encoding="utf-8")
    block = text.split("## Assessment (output)", 1)[1].split("```json", 1)[1].split("```", 1)[0]
    example = json.loads(block.replace('"digest": "sha256:..."', '"digest": "x"'))
    actual = north_lincs.assess(json.loads(CASE), datetime(2026, 11, 25, 9, tzinfo=UTC))
    document = actual.model_dump(mode="json")
    assert example["contract"] == document["contract"]
    assert set(example) == set(document) - {"engine"}  # engine: additive, not the contract's
    assert set(example["actions"][0]) == set(document["actions"][0])
