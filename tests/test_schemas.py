"""The committed JSON Schemas under schemas/ match the models (regenerate with the CLI)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from failedcontact.interop.mapping import mapping_schema
from failedcontact.model.assessment import Assessment
from failedcontact.model.case import Case
from failedcontact.pack.document import PackDocument
from failedcontact.testing.scenario_model import ScenarioFile

SCHEMAS = Path(__file__).resolve().parents[1] / "schemas"


@pytest.mark.parametrize(
    ("name", "generated"),
    [
        ("case", Case.model_json_schema()),
        ("assessment", Assessment.model_json_schema(mode="serialization")),
        ("pack", PackDocument.model_json_schema()),
        ("scenario", ScenarioFile.model_json_schema()),
        ("mapping", mapping_schema()),
    ],
    ids=["case", "assessment", "pack", "scenario", "mapping"],
)
def test_committed_schema_is_current(name: str, generated: dict[str, object]) -> None:
    committed = json.loads((SCHEMAS / f"{name}.schema.json").read_text(encoding="utf-8"))
    assert committed == generated, (
        f"schemas/{name}.schema.json is out of date: run "
        f"`failedcontact schema {name} > schemas/{name}.schema.json`"
    )


def test_bundled_packs_point_editors_at_the_schema() -> None:
    for pack in (SCHEMAS.parent / "policies").glob("*.yaml"):
        first = pack.read_text(encoding="utf-8").splitlines()[0]
        assert first == "# yaml-language-server: $schema=../schemas/pack.schema.json", pack


SCENARIO_FILES = sorted(
    path
    for folder in (
        SCHEMAS.parent / "policies" / "tests",
        SCHEMAS.parent / "docs" / "cookbook" / "tests",
    )
    for path in folder.rglob("*.yaml")
    if "broken" not in path.parts
)


@pytest.mark.parametrize("path", SCENARIO_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_scenario_files_point_editors_at_the_schema_and_match_it(path: Path) -> None:
    import jsonschema
    from ruamel.yaml import YAML

    text = path.read_text(encoding="utf-8")
    target = (path.parent / text.splitlines()[0].split("$schema=", 1)[1]).resolve()
    assert target == SCHEMAS / "scenario.schema.json", path
    schema = json.loads(target.read_text(encoding="utf-8"))
    data = json.loads(json.dumps(YAML(typ="safe", pure=True).load(text), default=str))
    jsonschema.Draft202012Validator(schema).validate(data)


@pytest.mark.parametrize("path", sorted((SCHEMAS.parent / "mappings").glob("*.yaml")),
                         ids=lambda p: p.name)  # fmt: skip
def test_bundled_mappings_point_editors_at_the_schema_and_match_it(path: Path) -> None:
    import jsonschema
    from ruamel.yaml import YAML

    text = path.read_text(encoding="utf-8")
    assert text.splitlines()[0] == "# yaml-language-server: $schema=../schemas/mapping.schema.json"
    schema = json.loads((SCHEMAS / "mapping.schema.json").read_text(encoding="utf-8"))
    data = YAML(typ="safe", pure=True).load(text)
    jsonschema.Draft202012Validator(schema).validate(data)
    broken = dict(data, colour="red")
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(schema).validate(broken)
