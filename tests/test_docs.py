"""The docs stay true: generated pages are current, and the new-area walkthrough works."""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest
from typer.testing import CliRunner

from failedcontact.cli import app

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


@pytest.mark.parametrize("page", ["reference", "cli", "scenarios", "errors"])
def test_generated_pages_are_current(page: str) -> None:
    generator = runpy.run_path(str(DOCS / "gen_reference.py"))
    expected = generator[page]()
    committed = (DOCS / f"{page}.md").read_text(encoding="utf-8")
    assert committed == expected, f"docs/{page}.md is stale: run `python docs/gen_reference.py`"


def test_every_fact_operator_and_trigger_is_in_the_reference() -> None:
    from failedcontact.pack.conditions import OPERATORS
    from failedcontact.pack.facts import FACTS
    from failedcontact.pack.references import TRIGGERS

    text = (DOCS / "reference.md").read_text(encoding="utf-8")
    missing = [name for name in (*FACTS, *OPERATORS, *TRIGGERS) if f"`{name}`" not in text]
    assert not missing


def test_adding_an_area_as_the_guide_says_needs_no_python(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Follow docs/policy-leads.md in a clone: copy the closest pack, rename, add scenarios
    that name the pack by its id, check, test and assess, all by id."""
    text = (ROOT / "policies" / "pan_beds.yaml").read_text(encoding="utf-8")
    pack = tmp_path / "policies" / "west_shire.yaml"
    pack.parent.mkdir()
    pack.write_text(
        text.replace("pan_beds", "west_shire")
        .replace("area: Pan Bedfordshire (Bedford Borough, Central Bedfordshire, Luton)",
                 "area: West Shire"),
        encoding="utf-8",
    )  # fmt: skip
    scenarios = tmp_path / "policies" / "tests" / "west_shire"
    scenarios.mkdir(parents=True)
    for source in sorted((ROOT / "policies" / "tests" / "pan_beds").glob("*.yaml")):
        copied = scenarios / source.name
        copied.write_text(
            source.read_text(encoding="utf-8")
            .replace("pan_beds ", "west_shire ")
            .replace("pan_beds.", "west_shire.")
            .replace("pack: pan_beds", "pack: west_shire"),
            encoding="utf-8",
        )
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    check = runner.invoke(app, ["check", "--strict", "west_shire"])
    assert check.exit_code == 0, check.stdout + check.stderr
    run = runner.invoke(app, ["test", "--min-coverage", "100", str(scenarios)])
    assert run.exit_code == 0, run.stdout + run.stderr
    assert "pack west_shire: policies/west_shire.yaml (the working tree's copy)" in run.stdout
    assess = runner.invoke(app, ["assess", "--pack", "west_shire", "--as-of",
                                 "2026-11-25T09:00:00Z",
                                 str(ROOT / "examples" / "second_no_access.json")])  # fmt: skip
    assert assess.exit_code == 0 and '"id":"west_shire"' in assess.stdout.replace(" ", "")


def _source_outside_the_catalogue() -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "src").rglob("*.py")
                     if p.name != "codes.py")  # fmt: skip


def _emitted_codes() -> set[str]:
    """Every diagnostic code the source can emit: each `Code.<NAME>` it names."""
    import re

    from failedcontact.codes import Code

    return {
        Code[name].value
        for name in re.findall(r"\bCode\.([A-Z_]+)\b", _source_outside_the_catalogue())
    }


def test_codes_are_named_constants_never_string_literals() -> None:
    """A code written as text could drift from the catalogue without any test noticing."""
    import re

    pattern = r'"((?:pack|analysis|scenario|mapping|case|service)\.[a-z-]+)"'
    assert re.findall(pattern, _source_outside_the_catalogue()) == []


def test_every_emitted_code_is_in_the_catalogue_and_every_listed_code_is_emitted() -> None:
    from failedcontact.codes import CODES

    emitted = _emitted_codes()
    assert emitted - {str(code) for code in CODES} == set(), "codes missing from codes.py"
    assert {str(code) for code in CODES} - emitted == set(), "codes listed but never emitted"
    assert all(meaning.endswith(".") for meaning in CODES.values())


def test_every_code_has_one_explanation() -> None:
    from failedcontact.codes import CODES, Code

    assert set(Code) == set(CODES)
