"""The committed JSON Schemas accept what the contract allows, with format checking on.

Every bundled example and every scenario case is valid against schemas/case.schema.json,
and each one's assessment against schemas/assessment.schema.json, as a generated client's
validator (format checking on) reads them: a time without an offset is UK local time, and
every output instant is `format: date-time`.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from failedcontact.engine.loader import Pack, load_pack
from failedcontact.errors import CaseError
from failedcontact.model.case_input import parse_case
from failedcontact.testing.scenarios import Scenario, discover, load_scenarios

ROOT = Path(__file__).resolve().parents[1]
SCHEMAS = ROOT / "schemas"
FORMATS = jsonschema.Draft202012Validator.FORMAT_CHECKER


def _validator(name: str) -> jsonschema.Draft202012Validator:
    schema = json.loads((SCHEMAS / f"{name}.schema.json").read_text(encoding="utf-8"))
    return jsonschema.Draft202012Validator(schema, format_checker=FORMATS)


CASE = _validator("case")
ASSESSMENT = _validator("assessment")


def _examples() -> list[tuple[str, dict[str, Any]]]:
    found = [(p.name, json.loads(p.read_text("utf-8"))) for p in ROOT.glob("examples/*.json")]
    lines = (ROOT / "examples" / "cases.jsonl").read_text(encoding="utf-8").splitlines()
    found += [(f"cases.jsonl:{n}", json.loads(t)) for n, t in enumerate(lines, 1) if t.strip()]
    return sorted(found, key=lambda item: item[0])


def _scenarios() -> list[Scenario]:
    folders = (ROOT / "policies" / "tests", ROOT / "docs" / "cookbook" / "tests")
    found = []
    for folder in folders:
        for path in discover(folder):
            if "broken" in path.parts:
                continue
            found += [s for s in load_scenarios(path) if s.case is not None]
    return found


EXAMPLES = _examples()
SCENARIOS = [s for s in _scenarios() if s.expect.error is None and s.expect.pack_error is None]


@cache
def _pack(key: str, near: Path) -> Pack:
    return load_pack(key, near=near)


def test_the_format_checker_checks_date_times() -> None:
    # without rfc3339-validator, jsonschema skips `date-time` silently and this file proves nothing
    assert not FORMATS.conforms("2026-11-23T10:00:00", "date-time")
    assert FORMATS.conforms("2026-11-23T10:00:00+00:00", "date-time")


@pytest.mark.parametrize(("name", "case"), EXAMPLES, ids=[n for n, _ in EXAMPLES])
def test_the_schema_and_the_engine_agree_on_every_example(name: str, case: dict[str, Any]) -> None:
    try:
        parse_case(json.dumps(case))
    except CaseError:  # a deliberately bad example (cases.jsonl shows an error record)
        assert not CASE.is_valid(case), f"{name}: the engine refuses it, the schema accepts it"
        return
    CASE.validate(case)


def test_an_offset_less_time_is_valid_and_a_date_alone_is_not() -> None:
    event = {"type": "support_request"}
    CASE.validate({"case_id": "x", "events": [{**event, "at": "2026-11-23T10:00:00"}]})
    CASE.validate({"case_id": "x", "events": [{**event, "at": "2026-11-23T10:00:00.5+01:00"}]})
    for wrong in ("2026-11-23", "23/11/2026 10:00", "2026-11-23T10:00:00 BST"):
        with pytest.raises(jsonschema.ValidationError):
            CASE.validate({"case_id": "x", "events": [{**event, "at": wrong}]})


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.id for s in SCENARIOS])
def test_every_scenario_case_and_its_assessment_match_the_schemas(scenario: Scenario) -> None:
    assert scenario.case is not None and scenario.as_of is not None
    case = json.loads(json.dumps(scenario.case, default=lambda v: v.isoformat()))
    CASE.validate(case)
    pack = _pack(scenario.pack, scenario.file.parent)
    try:
        assessment = pack.assess(parse_case(case), scenario.as_of)
    except CaseError:  # the pack's own check (a flag it does not declare): not a schema matter
        return
    ASSESSMENT.validate(assessment.model_dump(mode="json"))


def test_output_instants_are_date_times() -> None:
    schema = json.loads((SCHEMAS / "assessment.schema.json").read_text(encoding="utf-8"))
    assert schema["properties"]["as_of"]["format"] == "date-time"
    due = schema["$defs"]["RequiredAction"]["properties"]["due"]["anyOf"][0]
    assert due == {"type": "string", "format": "date-time"}
    assert schema["$defs"]["Trigger"]["properties"]["at"]["format"] == "date-time"
    assert {"type": "string", "format": "date-time"} in schema["properties"]["last_seen"]["anyOf"]
